//! A user's own second factors, from `/account` and `/api/v1/me`: enrol TOTP, a phone for SMS
//! codes, e-mail codes (approver devices: `approvals`); remove them and renew recovery codes after
//! re-entering the password; answer push approval requests from a registered device. Every
//! change is audited in its transaction and the user is mailed when a factor is added or
//! removed. Recovery codes are made, and returned once, with the first factor.

use authify_domain::Password;
use authify_store::factors::{self as store, NewFactor};
use authify_store::models::Factor;
use authify_store::{DbConnection, transaction};
use chrono::{DateTime, Utc};
use serde::Serialize;

use super::Account;
use crate::authn::Client;
use crate::db_time;
use crate::error::AdminError;
use crate::manage::Actor;
use crate::mfa::MfaConfig;
use crate::mfa::codes;
use crate::mfa::phone::Phone;
use crate::mfa::totp::{Enrolment, TotpSecret};
use crate::notify::Notice;

/// A factor on the account page.
#[derive(Debug, Clone, Serialize)]
pub struct FactorView {
    /// Row id (for removal).
    pub id: i64,
    /// `totp`, `sms`, `email`, `approver`.
    pub kind: String,
    /// In words.
    pub label: String,
    /// Added on.
    pub created: String,
    /// This browser is this approver device.
    pub this_device: bool,
    /// A passkey: it may be renamed; `label` is then its own name.
    pub passkey: bool,
    /// A passkey's own name.
    pub name: String,
}

/// The account's second factors.
#[derive(Debug, Clone, Serialize)]
pub struct FactorsView {
    /// Confirmed factors.
    pub factors: Vec<FactorView>,
    /// Unused recovery codes.
    pub recovery_left: i64,
    /// Has an authenticator app.
    pub has_totp: bool,
    /// Has e-mail codes.
    pub has_email: bool,
    /// This browser approves sign-ins.
    pub this_device: bool,
    /// Phones may be added (an SMS gateway is configured).
    pub sms_enabled: bool,
    /// Passkeys may be registered (the public URL is a domain name).
    pub passkeys_enabled: bool,
}

fn kind_label(kind: &str) -> &'static str {
    match kind {
        "totp" => "Authenticator app",
        "sms" => "Text message",
        "email" => "E-mail codes",
        "passkey" => "Passkey",
        _ => "Approver device",
    }
}

fn factor_mail(user: &impl crate::person::Who, added: bool, what: &str) -> Notice {
    Notice::Mail {
        to: user.email().to_owned(),
        template: "factor_changed",
        values: serde_json::json!({
            "name": user.name(),
            "added": added,
            "verb": if added { "added" } else { "removed" },
            "what": what,
        }),
    }
}

/// How long an unconfirmed TOTP set-up may be confirmed.
const PENDING_TOTP_MINUTES: i64 = 10;

/// The unconfirmed TOTP set-up shown to `context` (a flow or a session), made when there is
/// none. A confirmed app must be removed first.
// SECURITY: a set-up belongs to the flow or session it was shown to and lives 10 minutes: someone
// who opened the set-up page elsewhere (a stolen password or session) cannot plant a secret
// the user would later be shown and confirm.
pub(crate) fn pending_totp(
    conn: &mut DbConnection,
    mfa: &MfaConfig,
    user: &impl crate::person::Who,
    context: &str,
    now: DateTime<Utc>,
) -> Result<Enrolment, AdminError> {
    let factors = store::list_factors(conn, user.id())?;
    if factors.iter().any(|f| f.kind == "totp" && f.confirmed) {
        return Err(AdminError::Conflict(
            "an authenticator app is already set up; remove it first to set up another".into(),
        ));
    }
    let fresh = db_time(now - chrono::Duration::minutes(PENDING_TOTP_MINUTES));
    let mine = factors.iter().find(|f| {
        f.kind == "totp" && f.pending_for.as_deref() == Some(context) && f.created_at > fresh
    });
    if mine.is_none() {
        store::delete_unconfirmed(conn, user.id(), "totp")?;
    }
    let secret = match mine {
        Some(f) => TotpSecret::open(
            &mfa.master,
            f.secret.as_deref().unwrap_or_default(),
            user.id(),
        )
        .map_err(|e| AdminError::Internal(e.to_string()))?,
        None => {
            let secret = TotpSecret::generate()?;
            let sealed = secret
                .seal(&mfa.master, user.id())
                .map_err(|e| AdminError::Internal(e.to_string()))?;
            store::insert_factor(
                conn,
                &NewFactor {
                    user_id: user.id(),
                    kind: "totp",
                    label: kind_label("totp"),
                    secret: Some(&sealed),
                    phone: None,
                    device_hash: None,
                    pending_for: Some(context),
                    confirmed: false,
                    created_at: db_time(now),
                },
            )?;
            secret
        }
    };
    secret
        .enrolment(&mfa.totp_issuer, user.email())
        .map_err(AdminError::Internal)
}

/// The set-up context of a browser session (a TOTP set-up is confirmed only where it was shown).
pub(crate) fn session_context(session: Option<&str>) -> Result<String, AdminError> {
    session
        .map(|t| format!("session:{}", crate::sessions::token_hash(t)))
        .ok_or_else(|| {
            AdminError::Forbidden("set up an authenticator app from a signed-in browser".into())
        })
}

/// Whether the user has no confirmed factor yet.
fn first_factor(conn: &mut DbConnection, user_id: i64) -> Result<bool, AdminError> {
    Ok(!store::list_factors(conn, user_id)?
        .iter()
        .any(|f| f.confirmed))
}

/// New recovery codes for the user, stored hashed; returned once.
fn renew_recovery(
    conn: &mut DbConnection,
    mfa: &MfaConfig,
    user_id: i64,
) -> Result<Vec<String>, AdminError> {
    let fresh = codes::recovery_codes()?;
    let binding = codes::recovery_binding(user_id);
    let hashes: Vec<String> = fresh
        .iter()
        .map(|c| codes::hash(&mfa.master, &binding, c))
        .collect();
    store::replace_recovery_codes(conn, user_id, &hashes)?;
    Ok(fresh)
}

/// Confirms a factor; returns the recovery codes when it is the first.
pub(crate) fn activate(
    conn: &mut DbConnection,
    user: &impl crate::person::Who,
    factor: &Factor,
    client: &Client,
    mfa: &MfaConfig,
    now: DateTime<Utc>,
) -> Result<Vec<String>, AdminError> {
    let first = first_factor(conn, user.id())?;
    store::confirm_factor(conn, factor.id)?;
    let codes = if first {
        renew_recovery(conn, mfa, user.id())?
    } else {
        Vec::new()
    };
    crate::manage::audit::Entry::new("factor.add", db_time(now))
        .by_user(user)
        .ip(client.ip.as_deref())
        .target("user", user.public_id(), user.email())
        .details(serde_json::json!({ "kind": factor.kind, "label": factor.label }))
        .record(conn)?;
    mfa.costs
        .notify_owner_in(conn, factor_mail(user, true, &factor.label));
    Ok(codes)
}

/// Confirms the pending TOTP enrolment with a code. `None`: wrong code. `Some(codes)`: active,
/// with the recovery codes when it is the first factor (else empty).
pub(crate) fn confirm_totp(
    conn: &mut DbConnection,
    mfa: &MfaConfig,
    user: &impl crate::person::Who,
    context: &str,
    code: &str,
    client: &Client,
    now: DateTime<Utc>,
) -> Result<Option<Vec<String>>, AdminError> {
    let fresh = db_time(now - chrono::Duration::minutes(PENDING_TOTP_MINUTES));
    let Some(factor) = store::list_factors(conn, user.id())?.into_iter().find(|f| {
        f.kind == "totp"
            && !f.confirmed
            && f.pending_for.as_deref() == Some(context)
            && f.created_at > fresh
    }) else {
        return Err(AdminError::NotFound(
            "no authenticator app is being set up; start again".into(),
        ));
    };
    let secret = TotpSecret::open(
        &mfa.master,
        factor.secret.as_deref().unwrap_or_default(),
        user.id(),
    )
    .map_err(|e| AdminError::Internal(e.to_string()))?;
    let Some(step) = secret.check(code, now.timestamp()) else {
        return Ok(None);
    };
    store::advance_step(conn, factor.id, step)?;
    activate(conn, user, &factor, client, mfa, now).map(Some)
}

impl Account {
    pub(super) fn own(actor: &Actor) -> Result<(), AdminError> {
        actor.can_write()?;
        actor.own_account()
    }

    /// Checks the password before adding or removing a factor, or renewing recovery codes
    /// (throttled like a sign-in).
    pub(super) async fn reconfirm(
        &self,
        actor: &Actor,
        password: &str,
        now: DateTime<Utc>,
    ) -> Result<(), AdminError> {
        if self
            .confirm_password(&actor.user, Password::attempt(password))
            .await?
        {
            return Ok(());
        }
        actor
            .entry("factor.confirm", db_time(now))
            .failed()
            .save(&self.db)
            .await;
        Err(AdminError::WrongPassword)
    }

    /// The account's factors; `device` is this browser's approver token.
    pub async fn factors(
        &self,
        user: &crate::Person,
        device: Option<String>,
    ) -> Result<FactorsView, AdminError> {
        let id = user.id;
        let device = device.map(|d| crate::sessions::token_hash(&d));
        let sms_enabled = self.inner.mfa.sms;
        let passkeys_enabled = self.inner.mfa.passkeys.is_some();
        self.db
            .run_quick(move |conn| {
                let all = store::list_factors(conn, id)?;
                let left = store::count_recovery_codes(conn, id)?;
                let factors: Vec<FactorView> = all
                    .iter()
                    .filter(|f| f.confirmed)
                    .map(|f| FactorView {
                        id: f.id,
                        kind: f.kind.clone(),
                        label: match f.kind.as_str() {
                            "sms" => format!(
                                "Text message to {}",
                                Phone::masked(f.phone.as_deref().unwrap_or_default())
                            ),
                            "totp" | "email" => kind_label(&f.kind).to_owned(),
                            "passkey" => format!("Passkey: {}", f.label),
                            _ => format!("Approver device: {}", f.label),
                        },
                        created: f.created_at.format("%Y-%m-%d").to_string(),
                        this_device: device.is_some() && f.device_hash == device,
                        passkey: f.kind == "passkey",
                        name: f.label.clone(),
                    })
                    .collect();
                Ok(FactorsView {
                    has_totp: factors.iter().any(|f| f.kind == "totp"),
                    has_email: factors.iter().any(|f| f.kind == "email"),
                    this_device: factors.iter().any(|f| f.this_device),
                    factors,
                    recovery_left: left,
                    sms_enabled,
                    passkeys_enabled,
                })
            })
            .await
    }

    /// Starts (or shows again) the TOTP enrolment of the account, in the browser's session
    /// (`session`: its cookie token).
    pub async fn totp_enrolment(
        &self,
        actor: &Actor,
        session: Option<&str>,
        now: DateTime<Utc>,
    ) -> Result<Enrolment, AdminError> {
        Self::own(actor)?;
        let context = session_context(session)?;
        let (mfa, user) = (self.inner.mfa.clone(), actor.user.clone());
        self.db
            .run(move |conn| {
                transaction(conn, |conn| pending_totp(conn, &mfa, &user, &context, now))
            })
            .await
    }

    /// Confirms the TOTP enrolment with a code; returns the recovery codes when it is the
    /// first factor (else empty).
    pub async fn totp_confirm(
        &self,
        actor: &Actor,
        session: Option<&str>,
        code: String,
        password: &str,
        client: Client,
        now: DateTime<Utc>,
    ) -> Result<Vec<String>, AdminError> {
        Self::own(actor)?;
        // SECURITY: adding a factor needs the password (throttled like a sign-in).
        self.reconfirm(actor, password, now).await?;
        let context = session_context(session)?;
        let (mfa, user) = (self.inner.mfa.clone(), actor.user.clone());
        self.db
            .run(move |conn| {
                transaction(conn, |conn| {
                    confirm_totp(conn, &mfa, &user, &context, &code, &client, now)
                })
            })
            .await?
            .ok_or_else(|| {
                AdminError::Invalid(
                    "that code is not correct; check the time on your device and try again".into(),
                )
            })
    }

    /// Removes a factor, after the password. Removing the last one also removes the recovery
    /// codes.
    pub async fn remove_factor(
        &self,
        actor: &Actor,
        id: i64,
        password: &str,
        client: Client,
        now: DateTime<Utc>,
    ) -> Result<(), AdminError> {
        Self::own(actor)?;
        self.reconfirm(actor, password, now).await?;
        let (mfa, user) = (self.inner.mfa.clone(), actor.user.clone());
        self.db
            .run(move |conn| {
                transaction(conn, |conn| {
                    let factor = store::find_factor(conn, user.id, id)?
                        .ok_or_else(|| AdminError::NotFound("no such factor".into()))?;
                    store::delete_factor(conn, user.id, id)?;
                    if first_factor(conn, user.id)? {
                        store::delete_all(conn, user.id)?;
                    }
                    crate::manage::audit::Entry::new("factor.remove", db_time(now))
                        .by_user(&user)
                        .ip(client.ip.as_deref())
                        .target("user", &user.public_id, &user.email)
                        .details(serde_json::json!({ "kind": factor.kind, "label": factor.label }))
                        .record(conn)?;
                    mfa.costs
                        .notify_owner_in(conn, factor_mail(&user, false, &factor.label));
                    Ok(())
                })
            })
            .await
    }

    /// New recovery codes (the old ones stop working), after the password.
    pub async fn renew_recovery_codes(
        &self,
        actor: &Actor,
        password: &str,
        client: Client,
        now: DateTime<Utc>,
    ) -> Result<Vec<String>, AdminError> {
        Self::own(actor)?;
        self.reconfirm(actor, password, now).await?;
        let (mfa, user) = (self.inner.mfa.clone(), actor.user.clone());
        self.db
            .run(move |conn| {
                transaction(conn, |conn| {
                    if first_factor(conn, user.id)? {
                        return Err(AdminError::Conflict(
                            "recovery codes come with a second factor; add one first".into(),
                        ));
                    }
                    let codes = renew_recovery(conn, &mfa, user.id)?;
                    crate::manage::audit::Entry::new("factor.recovery_codes", db_time(now))
                        .by_user(&user)
                        .ip(client.ip.as_deref())
                        .target("user", &user.public_id, &user.email)
                        .record(conn)?;
                    Ok(codes)
                })
            })
            .await
    }
}
