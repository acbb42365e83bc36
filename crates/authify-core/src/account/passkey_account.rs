//! A user's own passkeys, from `/account`: register one (after the password; the ceremony's
//! state kept server-side on an unconfirmed factor row bound to the browser's session, 5
//! minutes), rename it. Removal is `remove_factor`, like any factor. The first passkey of an
//! account comes with recovery codes, like any first factor.

use authify_store::factors::{self as factors_store, NewFactor};
use authify_store::passkeys as store;
use authify_store::transaction;
use chrono::{DateTime, Utc};
use webauthn_rs::prelude::{PasskeyRegistration, RegisterPublicKeyCredential};

use super::Account;
use super::factors::{activate, session_context};
use crate::authn::Client;
use crate::authn::passkeys::{passkeys_of, user_handle};
use crate::db_time;
use crate::error::AdminError;
use crate::manage::Actor;
use crate::mfa::passkey::{CEREMONY_TTL_SECS, credential_id_text, with_resident_key};

/// The longest passkey name, in characters.
pub const PASSKEY_NAME_MAX: usize = 60;

/// A passkey's name, cleaned: control characters dropped, 1 to 60 characters.
fn passkey_name(name: &str) -> Result<String, AdminError> {
    let name: String = name.chars().filter(|c| !c.is_control()).collect();
    let name = name.trim();
    if name.is_empty() {
        return Err(AdminError::Invalid(
            "give the passkey a name, such as the device it lives on".into(),
        ));
    }
    if name.chars().count() > PASSKEY_NAME_MAX {
        return Err(AdminError::Invalid(format!(
            "a passkey name has at most {PASSKEY_NAME_MAX} characters"
        )));
    }
    Ok(name.to_owned())
}

fn internal(e: impl std::fmt::Display) -> AdminError {
    AdminError::Internal(e.to_string())
}

impl Account {
    /// Starts registering a passkey named `name` for the browser's session, after the password;
    /// returns the options for `navigator.credentials.create()`.
    pub async fn passkey_register_options(
        &self,
        actor: &Actor,
        session: Option<&str>,
        name: &str,
        password: &str,
        now: DateTime<Utc>,
    ) -> Result<serde_json::Value, AdminError> {
        Self::own(actor)?;
        let rp = self.authn().rp()?;
        let name = passkey_name(name)?;
        let context = session_context(session)?;
        // SECURITY: a passkey signs in on its own: a stolen session alone must not add one.
        self.reconfirm(actor, password, now).await?;
        let user = actor.user.clone();
        self.db
            .run(move |conn| {
                transaction(conn, |conn| {
                    factors_store::delete_unconfirmed(conn, user.id, "passkey")?;
                    let exclude = passkeys_of(conn, user.id)?
                        .into_iter()
                        .map(|(_, k)| k.cred_id().clone())
                        .collect();
                    let (options, state) = rp
                        .webauthn()
                        .start_passkey_registration(
                            user_handle(&user)?,
                            &user.email,
                            &user.name,
                            Some(exclude),
                        )
                        .map_err(internal)?;
                    let id = factors_store::insert_factor(
                        conn,
                        &NewFactor {
                            user_id: user.id,
                            kind: "passkey",
                            label: &name,
                            secret: None,
                            phone: None,
                            device_hash: None,
                            pending_for: Some(&context),
                            confirmed: false,
                            created_at: db_time(now),
                        },
                    )?;
                    let state = serde_json::to_string(&state).map_err(internal)?;
                    store::set_credential(conn, id, &state, None)?;
                    let options = serde_json::to_value(options).map_err(internal)?;
                    Ok(with_resident_key(options))
                })
            })
            .await
    }

    /// Finishes the registration begun in this session with the browser's attestation; returns
    /// the recovery codes when the passkey is the account's first factor (else empty).
    pub async fn passkey_register_finish(
        &self,
        actor: &Actor,
        session: Option<&str>,
        credential: RegisterPublicKeyCredential,
        client: Client,
        now: DateTime<Utc>,
    ) -> Result<Vec<String>, AdminError> {
        Self::own(actor)?;
        let rp = self.authn().rp()?;
        let context = session_context(session)?;
        let (mfa, user) = (self.inner.mfa.clone(), actor.user.clone());
        let outcome = self
            .db
            .run(move |conn| {
                transaction(conn, |conn| {
                    let fresh = db_time(now - chrono::Duration::seconds(CEREMONY_TTL_SECS));
                    let pending = store::find_pending(conn, user.id, "passkey", &context)?
                        .filter(|f| f.created_at > fresh)
                        .ok_or_else(|| {
                            AdminError::NotFound(
                                "no passkey is being registered in this browser; start again"
                                    .into(),
                            )
                        })?;
                    // The challenge works once: whatever the outcome, this set-up is over.
                    factors_store::delete_unconfirmed(conn, user.id, "passkey")?;
                    let state: PasskeyRegistration =
                        serde_json::from_str(pending.credential.as_deref().unwrap_or_default())
                            .map_err(internal)?;
                    let key = match rp
                        .webauthn()
                        .finish_passkey_registration(&credential, &state)
                    {
                        Ok(k) => k,
                        Err(e) => {
                            return Ok(Err(format!(
                                "the passkey could not be registered ({e}); try again"
                            )));
                        }
                    };
                    let id_text = credential_id_text(key.cred_id());
                    // SECURITY: a credential belongs to one account (W3C WebAuthn §7.1 step 22).
                    if store::credential_taken(conn, &id_text)? {
                        return Ok(Err("this passkey is already registered".into()));
                    }
                    let id = factors_store::insert_factor(
                        conn,
                        &NewFactor {
                            user_id: user.id,
                            kind: "passkey",
                            label: &pending.label,
                            secret: None,
                            phone: None,
                            device_hash: None,
                            pending_for: None,
                            confirmed: false,
                            created_at: db_time(now),
                        },
                    )?;
                    let text = serde_json::to_string(&key).map_err(internal)?;
                    store::set_credential(conn, id, &text, Some(&id_text))?;
                    let factor = factors_store::find_factor(conn, user.id, id)?
                        .ok_or_else(|| AdminError::Internal("factor vanished".into()))?;
                    activate(conn, &user, &factor, &client, &mfa, now).map(Ok)
                })
            })
            .await?;
        outcome.map_err(AdminError::Invalid)
    }

    /// Renames one of the user's passkeys.
    pub async fn rename_passkey(
        &self,
        actor: &Actor,
        id: i64,
        name: &str,
        now: DateTime<Utc>,
    ) -> Result<(), AdminError> {
        Self::own(actor)?;
        let name = passkey_name(name)?;
        let user = actor.user.clone();
        self.db
            .run(move |conn| {
                transaction(conn, |conn| {
                    if !store::rename_factor(conn, user.id, id, "passkey", &name)? {
                        return Err(AdminError::NotFound("no such passkey".into()));
                    }
                    crate::manage::audit::Entry::new("factor.rename", db_time(now))
                        .by_user(&user)
                        .target("user", &user.public_id, &user.email)
                        .details(serde_json::json!({ "kind": "passkey", "label": name }))
                        .record(conn)?;
                    Ok(())
                })
            })
            .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_passkey_name_is_trimmed_and_bounded() {
        assert_eq!(passkey_name("  Laptop\u{7}  ").unwrap(), "Laptop");
        assert!(passkey_name(" \n ").is_err());
        assert!(passkey_name(&"x".repeat(61)).is_err());
        assert_eq!(passkey_name(&"é".repeat(60)).unwrap().chars().count(), 60);
    }
}
