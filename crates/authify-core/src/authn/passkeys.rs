//! Passkeys at sign-in: "Sign in with a passkey" (a discoverable credential of any user, no
//! e-mail or password first) and a passkey as the second factor after a password. The browser
//! asks for options (a challenge kept on the flow, server-side) and posts the assertion back;
//! the challenge is taken when answered, so it works once. A passkey with user verification is
//! two factors in one (`amr`: `hwk` or `swk`, `user`, `mfa`), so it signs in at once.

use std::sync::Arc;

use authify_jwt::Keyring;
use authify_store::models::{Factor, User};
use authify_store::passkeys as store;
use authify_store::{DbConnection, flows, transaction, users};
use chrono::{DateTime, Utc};
use webauthn_rs::prelude::{Passkey, PublicKeyCredential, Uuid, WebauthnError};

use super::FlowState;
use super::advance::{Action, Proof, StepContext};
use super::flow::Flow;
use super::second::waiting;
use super::{Authn, AuthnError, Client, Completion, Cookies};
use crate::db_time;
use crate::manage::audit::Entry;
use crate::mfa::AMR_MFA;
use crate::mfa::passkey::{CEREMONY_TTL_SECS, Ceremony, PasskeyRp, amr_of, credential_id_text};

/// The answer to a passkey assertion.
#[derive(Debug)]
pub enum PasskeyOutcome {
    /// Signed in.
    Done(Completion),
    /// Refused; the sentence says why (the same for an unknown passkey and a removed one).
    Refused(&'static str),
}

/// An unknown, removed or foreign passkey: one answer for all.
pub(super) const NOT_RECOGNISED: &str = "That passkey is not registered to an account here. Sign in with your password, or use another passkey.";
const START_AGAIN: &str = "This passkey request has expired. Try again.";
const FAILED: &str = "The passkey could not be verified. Try again, or sign in with your password.";

/// The user's registered passkeys, with their rows.
pub(crate) fn passkeys_of(
    conn: &mut DbConnection,
    user_id: i64,
) -> Result<Vec<(Factor, Passkey)>, AuthnError> {
    authify_store::factors::list_factors(conn, user_id)?
        .into_iter()
        .filter(|f| f.confirmed && f.kind == "passkey")
        .map(|f| {
            let key: Passkey = serde_json::from_str(f.credential.as_deref().unwrap_or_default())
                .map_err(|e| AuthnError::Internal(format!("passkey {}: {e}", f.id)))?;
            Ok((f, key))
        })
        .collect()
}

/// A user's WebAuthn user handle: their public id, a version-4 UUID.
pub(crate) fn user_handle(user: &impl crate::person::Who) -> Result<Uuid, AuthnError> {
    Uuid::parse_str(user.public_id()).map_err(|e| AuthnError::Internal(format!("user handle: {e}")))
}

/// The browser's live flow, whatever it waits for.
pub(super) fn live_flow(
    conn: &mut DbConnection,
    cookie: Option<&str>,
    now: DateTime<Utc>,
) -> Result<Flow, AuthnError> {
    let token = cookie.filter(|t| t.len() == 43).ok_or(AuthnError::NoFlow)?;
    let row = flows::find_flow(conn, &crate::sessions::token_hash(token), db_time(now))?
        .ok_or(AuthnError::NoFlow)?;
    Flow::try_from(row)
}

fn internal(e: impl std::fmt::Display) -> AuthnError {
    AuthnError::Internal(e.to_string())
}

/// Records a use: the counter and backup state the authenticator reported. A write that finds
/// the credential changed under it (the same passkey used twice at once) refuses the second.
fn record_use(
    conn: &mut DbConnection,
    factor: &Factor,
    mut key: Passkey,
    result: &webauthn_rs::prelude::AuthenticationResult,
) -> Result<bool, AuthnError> {
    if key.update_credential(result) != Some(true) {
        return Ok(true);
    }
    let text = serde_json::to_string(&key).map_err(internal)?;
    Ok(store::update_credential(
        conn,
        factor.id,
        factor.credential.as_deref().unwrap_or_default(),
        &text,
    )?)
}

/// Audits a refused assertion; a signature counter that went back is named (a cloned
/// authenticator).
fn refused(
    conn: &mut DbConnection,
    user: Option<&User>,
    reason: &str,
    client: &Client,
    now: DateTime<Utc>,
) -> Result<(), AuthnError> {
    crate::metrics::signin("passkey", false);
    let entry = Entry::new("signin.passkey", db_time(now))
        .failed()
        .ip(client.ip.as_deref())
        .details(serde_json::json!({ "reason": reason }));
    let entry = match user {
        Some(u) => entry.by_user(u),
        None => entry,
    };
    Ok(entry.record(conn)?)
}

fn why(e: &WebauthnError) -> &'static str {
    match e {
        // SECURITY: a counter at or below the stored one means two authenticators hold the
        // key (W3C WebAuthn §7.2 step 21): refused, and audited as such.
        WebauthnError::CredentialPossibleCompromise => {
            "possible cloned authenticator: the signature counter went back"
        }
        WebauthnError::UserNotVerified => "user verification missing",
        _ => "assertion did not verify",
    }
}

impl Authn {
    /// The relying party, or why passkeys are off.
    pub(crate) fn rp(&self) -> Result<PasskeyRp, AuthnError> {
        self.inner.mfa.passkeys.clone().ok_or_else(|| {
            AuthnError::BadRequest(
                "passkeys are not available on this server (its public URL is not a domain name)"
                    .into(),
            )
        })
    }

    /// Options for the browser's `navigator.credentials.get()`: for the second factor of a
    /// waiting sign-in, the user's passkeys; otherwise any discoverable passkey. The challenge
    /// replaces any earlier one of this flow.
    pub async fn passkey_options(
        &self,
        cookies: Cookies,
        now: DateTime<Utc>,
    ) -> Result<serde_json::Value, AuthnError> {
        let rp = self.rp()?;
        self.db
            .run(move |conn| {
                let flow = live_flow(conn, cookies.flow.as_deref(), now)?;
                let expires = (now + chrono::Duration::seconds(CEREMONY_TTL_SECS)).timestamp();
                let (options, ceremony) = match flow.user_id {
                    Some(_) => {
                        let (_, user, _) = waiting(
                            conn,
                            cookies.flow.as_deref(),
                            &[FlowState::SecondFactor],
                            now,
                        )?;
                        let keys: Vec<Passkey> = passkeys_of(conn, user.id)?
                            .into_iter()
                            .map(|(_, k)| k)
                            .collect();
                        if keys.is_empty() {
                            return Err(AuthnError::BadRequest(
                                "no passkey is registered to this account".into(),
                            ));
                        }
                        let (options, state) = rp
                            .webauthn()
                            .start_passkey_authentication(&keys)
                            .map_err(internal)?;
                        let options = serde_json::to_value(options).map_err(internal)?;
                        (options, Ceremony::PasskeyFactor { state, expires })
                    }
                    None => {
                        let (options, state) = rp
                            .webauthn()
                            .start_discoverable_authentication()
                            .map_err(internal)?;
                        let options = serde_json::to_value(options).map_err(internal)?;
                        (options, Ceremony::PasskeySignIn { state, expires })
                    }
                };
                let text = ceremony.to_json().map_err(AuthnError::Internal)?;
                store::set_ceremony(conn, flow.id, Some(&text))?;
                Ok(options)
            })
            .await
    }

    /// Checks the browser's assertion against the flow's challenge (taken: it works once) and
    /// signs in. Refusals are committed with their audit entry.
    pub async fn passkey_finish(
        &self,
        cookies: Cookies,
        credential: PublicKeyCredential,
        keys: Arc<Keyring>,
        client: Client,
        now: DateTime<Utc>,
    ) -> Result<PasskeyOutcome, AuthnError> {
        let rp = self.rp()?;
        let authn = self.clone();
        self.db
            .run(move |conn| {
                transaction(conn, |conn| {
                    let flow = live_flow(conn, cookies.flow.as_deref(), now)?;
                    let Some(text) = store::take_ceremony(conn, flow.id)? else {
                        return Ok(PasskeyOutcome::Refused(START_AGAIN));
                    };
                    let ceremony = Ceremony::from_json(&text).map_err(AuthnError::Internal)?;
                    let step = Step {
                        authn: &authn,
                        rp: &rp,
                        credential: &credential,
                        flow: &flow,
                        cookies: &cookies,
                        keys: &keys,
                        client: &client,
                        now,
                    };
                    match ceremony {
                        Ceremony::PasskeySignIn { state, expires } if expires > now.timestamp() => {
                            step.sign_in(conn, state)
                        }
                        Ceremony::PasskeyFactor { state, expires } if expires > now.timestamp() => {
                            step.factor(conn, &state)
                        }
                        Ceremony::Decoy { .. } => {
                            // Not a passkey ceremony: leave the passwordless wait as it was.
                            store::set_ceremony(conn, flow.id, Some(&text))?;
                            Ok(PasskeyOutcome::Refused(START_AGAIN))
                        }
                        _ => Ok(PasskeyOutcome::Refused(START_AGAIN)),
                    }
                })
            })
            .await
    }
}

/// One assertion being checked, inside the transaction.
struct Step<'a> {
    authn: &'a Authn,
    rp: &'a PasskeyRp,
    credential: &'a PublicKeyCredential,
    flow: &'a Flow,
    cookies: &'a Cookies,
    keys: &'a Keyring,
    client: &'a Client,
    now: DateTime<Utc>,
}

impl Step<'_> {
    /// A discoverable passkey: the user handle names the account, the credential id the key.
    fn sign_in(
        &self,
        conn: &mut DbConnection,
        state: webauthn_rs::prelude::DiscoverableAuthentication,
    ) -> Result<PasskeyOutcome, AuthnError> {
        if self.flow.user_id.is_some() {
            return Err(AuthnError::NoFlow);
        }
        let found = match self
            .rp
            .webauthn()
            .identify_discoverable_authentication(self.credential)
        {
            Ok((handle, id)) => {
                let id = credential_id_text(id);
                match users::find_user_by_public_id(conn, &handle.hyphenated().to_string())? {
                    Some(user) => passkeys_of(conn, user.id)?
                        .into_iter()
                        .find(|(f, _)| f.credential_id.as_deref() == Some(id.as_str()))
                        .map(|key| (user, key)),
                    None => None,
                }
            }
            Err(_) => None,
        };
        // SECURITY: an unknown user, a removed passkey and another account's passkey get the
        // same answer.
        let Some((user, (factor, key))) = found else {
            refused(conn, None, "passkey not registered", self.client, self.now)?;
            return Ok(PasskeyOutcome::Refused(NOT_RECOGNISED));
        };
        let result = match self.rp.webauthn().finish_discoverable_authentication_v2(
            self.credential,
            state,
            &key,
        ) {
            Ok(r) => r,
            Err(e) => {
                refused(conn, Some(&user), why(&e), self.client, self.now)?;
                return Ok(PasskeyOutcome::Refused(FAILED));
            }
        };
        self.done(conn, &user, &factor, key, &result)
    }

    /// A passkey as the second factor of the flow's user.
    fn factor(
        &self,
        conn: &mut DbConnection,
        state: &webauthn_rs::prelude::PasskeyAuthentication,
    ) -> Result<PasskeyOutcome, AuthnError> {
        let (_, user, _) = waiting(
            conn,
            self.cookies.flow.as_deref(),
            &[FlowState::SecondFactor],
            self.now,
        )?;
        let result = match self
            .rp
            .webauthn()
            .finish_passkey_authentication(self.credential, state)
        {
            Ok(r) => r,
            Err(e) => {
                refused(conn, Some(&user), why(&e), self.client, self.now)?;
                return Ok(PasskeyOutcome::Refused(FAILED));
            }
        };
        // Removed since the challenge was made: refused like an unknown one.
        let id = credential_id_text(result.cred_id());
        let Some((factor, key)) = passkeys_of(conn, user.id)?
            .into_iter()
            .find(|(f, _)| f.credential_id.as_deref() == Some(id.as_str()))
        else {
            refused(
                conn,
                Some(&user),
                "passkey not registered",
                self.client,
                self.now,
            )?;
            return Ok(PasskeyOutcome::Refused(NOT_RECOGNISED));
        };
        self.done(conn, &user, &factor, key, &result)
    }

    fn done(
        &self,
        conn: &mut DbConnection,
        user: &User,
        factor: &Factor,
        key: Passkey,
        result: &webauthn_rs::prelude::AuthenticationResult,
    ) -> Result<PasskeyOutcome, AuthnError> {
        if user.disabled {
            refused(conn, Some(user), "account disabled", self.client, self.now)?;
            return Ok(PasskeyOutcome::Refused(NOT_RECOGNISED));
        }
        if !record_use(conn, factor, key, result)? {
            refused(
                conn,
                Some(user),
                "used twice at once",
                self.client,
                self.now,
            )?;
            return Ok(PasskeyOutcome::Refused(FAILED));
        }
        let amr = amr_of(result);
        crate::metrics::signin("passkey", true);
        if !amr.iter().any(|a| a == AMR_MFA) {
            // webauthn-rs requires user verification for passkeys; never sign in without it.
            refused(
                conn,
                Some(user),
                "user verification missing",
                self.client,
                self.now,
            )?;
            return Ok(PasskeyOutcome::Refused(FAILED));
        }
        // With user verification a passkey is two factors: the sign-in completes.
        let cx = StepContext::new(self.cookies, self.keys, self.client, self.now);
        self.authn
            .advance(
                conn,
                self.flow,
                user,
                Proof::Complete(amr),
                Action::SignIn,
                cx,
            )?
            .completed()
            .map(PasskeyOutcome::Done)
    }
}
