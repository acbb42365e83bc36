//! Factors that work by sending a code: a phone for SMS (confirmed with the code it receives)
//! and codes by e-mail to the account's address. Both are added after the password.

use authify_store::factors::{self as store, NewFactor};
use authify_store::transaction;
use chrono::{DateTime, Utc};

use super::Account;
use super::factors::activate;
use crate::authn::Client;
use crate::costs::Charge;
use crate::db_time;
use crate::error::AdminError;
use crate::manage::Actor;
use crate::mfa::codes::{self, CODE_TRIES, CODE_TTL_SECS};
use crate::mfa::phone::Phone;
use crate::notify::Notice;

impl Account {
    /// Adds a phone for SMS codes (unconfirmed), after the password, and sends it a code.
    pub async fn phone_start(
        &self,
        actor: &Actor,
        raw: &str,
        password: &str,
        client: &Client,
        now: DateTime<Utc>,
    ) -> Result<String, AdminError> {
        Self::own(actor)?;
        if !self.inner.mfa.sms {
            return Err(AdminError::Conflict(
                "this Authify has no SMS gateway (AUTHIFY_SMS_WEBHOOK_URL); use an authenticator app".into(),
            ));
        }
        let phone = Phone::parse(raw).map_err(AdminError::Invalid)?;
        self.inner.mfa.costs.check_number(phone.as_str())?;
        // SECURITY: adding a factor needs the password (a stolen session must not plant one), and
        // counts toward the account's attempts (no SMS flood to any number).
        self.reconfirm(actor, password, now).await?;
        // SECURITY: the SMS is paid for by the operator: per number, account, client address,
        // country and in all (SMS pumping), before anything is stored.
        let paid = self
            .inner
            .mfa
            .costs
            .charge(Charge::sms(phone.as_str(), actor.user.id).from_address(client.ip.as_deref()))
            .await?;
        let (mfa, user) = (self.inner.mfa.clone(), actor.user.clone());
        let code = codes::six_digits()?;
        let sent = code.clone();
        let to = phone.as_str().to_owned();
        let masked = self
            .db
            .run(move |conn| {
                transaction(conn, |conn| {
                    store::delete_unconfirmed(conn, user.id, "sms")?;
                    if store::list_factors(conn, user.id)?
                        .iter()
                        .any(|f| f.kind == "sms")
                    {
                        return Err(AdminError::Conflict(
                            "a phone is already set up; remove it first to use another".into(),
                        ));
                    }
                    let id = store::insert_factor(
                        conn,
                        &NewFactor {
                            user_id: user.id,
                            kind: "sms",
                            label: phone.as_str(),
                            secret: None,
                            phone: Some(phone.as_str()),
                            device_hash: None,
                            pending_for: None,
                            confirmed: false,
                            created_at: db_time(now),
                        },
                    )?;
                    store::insert_challenge(
                        conn,
                        None,
                        id,
                        &codes::hash(&mfa.master, &format!("factor:{id}"), &code),
                        db_time(now),
                        db_time(now + chrono::Duration::seconds(CODE_TTL_SECS)),
                    )?;
                    Ok(Phone::masked(phone.as_str()))
                })
            })
            .await?;
        // Queued once the challenge is committed.
        paid.send(Notice::Sms {
            to,
            message: format!(
                "Your Authify code to add this phone is {sent}. It expires in 5 minutes."
            ),
        });
        Ok(masked)
    }

    /// Confirms the phone with the code it received; returns recovery codes when it is the
    /// first factor.
    pub async fn phone_confirm(
        &self,
        actor: &Actor,
        code: String,
        client: Client,
        now: DateTime<Utc>,
    ) -> Result<Vec<String>, AdminError> {
        Self::own(actor)?;
        self.throttle().attempt(&actor.user.email).await?;
        let (mfa, user) = (self.inner.mfa.clone(), actor.user.clone());
        self.db
            .run(move |conn| {
                transaction(conn, |conn| {
                    let factor = store::list_factors(conn, user.id)?
                        .into_iter()
                        .find(|f| f.kind == "sms" && !f.confirmed)
                        .ok_or_else(|| {
                            AdminError::NotFound("no phone is being added; start again".into())
                        })?;
                    let challenge =
                        store::find_challenge(conn, None, Some(factor.id), db_time(now))?
                            .ok_or_else(|| {
                                AdminError::Invalid(
                                    "the code has expired; add the phone again for a new one"
                                        .into(),
                                )
                            })?;
                    if !codes::matches(
                        &mfa.master,
                        &format!("factor:{}", factor.id),
                        &code,
                        &challenge.code_hash,
                    ) {
                        if store::count_challenge_try(conn, challenge.id)? >= CODE_TRIES {
                            store::delete_challenge(conn, challenge.id)?;
                        }
                        return Ok(None);
                    }
                    store::delete_challenge(conn, challenge.id)?;
                    activate(conn, &user, &factor, &client, &mfa, now).map(Some)
                })
            })
            .await?
            .ok_or_else(|| AdminError::Invalid("that code is not correct".into()))
    }

    /// Turns on codes by e-mail (to the account's address), after the password.
    pub async fn email_factor(
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
                    if store::list_factors(conn, user.id)?
                        .iter()
                        .any(|f| f.kind == "email")
                    {
                        return Err(AdminError::Conflict("e-mail codes are already on".into()));
                    }
                    let id = store::insert_factor(
                        conn,
                        &NewFactor {
                            user_id: user.id,
                            kind: "email",
                            label: &user.email,
                            secret: None,
                            phone: None,
                            device_hash: None,
                            pending_for: None,
                            confirmed: false,
                            created_at: db_time(now),
                        },
                    )?;
                    let factor = store::find_factor(conn, user.id, id)?
                        .ok_or_else(|| AdminError::Internal("factor vanished".into()))?;
                    activate(conn, &user, &factor, &client, &mfa, now)
                })
            })
            .await
    }
}
