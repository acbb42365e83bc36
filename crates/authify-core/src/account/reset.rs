//! Password reset by mail (`/password/forgot`, `/password/reset`), the original Authify's done
//! safely:
//! - asking gives the same answer for every address, known or not, and is throttled per address
//!   and per client (nobody can flood a mailbox);
//! - the link carries a 256-bit token stored as its SHA-256, lives 30 minutes and works once;
//! - opening the link only checks it (mail scanners follow links); setting the new password
//!   spends it, in the same transaction that changes the hash, ends every session of the user
//!   (back-channel logouts included) and spends the user's other reset links;
//! - the user is told by mail that the password changed.

use authify_domain::{Email, Password};
use authify_store::email_tokens;
use authify_store::{transaction, users};
use chrono::{DateTime, Duration, Utc};

use super::Account;
use crate::authn::{AuthnError, Client};
use crate::costs::Charge;
use crate::manage::audit::Entry;
use crate::notify::Notice;
use crate::sessions::token_hash;
use crate::{db_time, random};

/// How long a reset link works.
pub const RESET_TTL_MINUTES: i64 = 30;
const PURPOSE: &str = "reset";

/// What setting a new password came to.
#[derive(Debug, PartialEq, Eq)]
pub enum ResetOutcome {
    /// Set; every session of the user ended.
    Done,
    /// The link expired, was used, or its account changed address or was disabled.
    Expired,
}

impl Account {
    /// Mails a reset link to `email` if an enabled account uses it. The caller shows the same
    /// page whatever happened; only an address that does not parse is refused.
    pub async fn reset_request(
        &self,
        email: &str,
        client: Client,
        now: DateTime<Utc>,
    ) -> Result<(), AuthnError> {
        let email = Email::parse(email).map_err(|e| AuthnError::BadRequest(e.to_string()))?;
        // SECURITY: per address (a mailbox gets at most a few links) and per client, known
        // address or not; a refused request answers like an accepted one.
        let budget = self.throttle().scoped("reset", 2, 10);
        if budget.attempt(email.as_str()).await.is_err()
            || budget.address_attempt(client.ip.as_deref()).await.is_err()
        {
            tracing::info!("password reset request over budget: nothing sent");
            return Ok(());
        }
        // SECURITY: the operator's mail budgets, charged for the address typed whether an
        // account uses it or not (the budgets must not tell which do); over them the answer is
        // the same as for an unknown address, the refusal logged and counted.
        let paid = match self
            .inner
            .mfa
            .costs
            .charge(Charge::mail(email.as_str()).from_address(client.ip.as_deref()))
            .await
        {
            Ok(paid) => paid,
            Err(e) => {
                tracing::info!(error = %e, "password reset link not mailed: over budget");
                return Ok(());
            }
        };
        let token = random::token::<32>()?;
        let hash = token_hash(&token);
        let sent_to = self
            .db
            .run(move |conn| {
                transaction(conn, |conn| {
                    let Some(user) =
                        users::find_user_by_email(conn, email.as_str())?.filter(|u| !u.disabled)
                    else {
                        return Ok::<_, AuthnError>(None);
                    };
                    let expires = now + Duration::minutes(RESET_TTL_MINUTES);
                    email_tokens::insert_email_token(
                        conn,
                        &hash,
                        PURPOSE,
                        user.id,
                        &user.email,
                        db_time(now),
                        db_time(expires),
                    )?;
                    Entry::new("user.password_reset_requested", db_time(now))
                        .ip(client.ip.as_deref())
                        .by_user(&user)
                        .record(conn)?;
                    Ok(Some(user.email))
                })
            })
            .await?;
        if let Some(to) = sent_to {
            let link = format!(
                "{}/password/reset?token={token}",
                self.inner.settings.public_url
            );
            paid.send(Notice::Mail {
                to,
                template: "password_reset",
                values: serde_json::json!({ "link": link, "minutes": RESET_TTL_MINUTES }),
            });
        }
        Ok(())
    }

    /// The address a live reset link is for (opening the link spends nothing), or `None`.
    pub async fn reset_check(
        &self,
        token: &str,
        now: DateTime<Utc>,
    ) -> Result<Option<String>, AuthnError> {
        let hash = token_hash(token);
        self.db
            .run(move |conn| {
                let Some(link) =
                    email_tokens::find_email_token(conn, &hash, PURPOSE, db_time(now))?
                else {
                    return Ok(None);
                };
                let user = users::get_user(conn, link.user_id)?;
                Ok((!user.disabled && user.email == link.email).then_some(user.email))
            })
            .await
    }

    /// Sets `password` through the reset link `token`: the link is spent, every session of the
    /// user ends, the user is told by mail. A password that does not fit the rules is a
    /// `BadRequest` and spends nothing.
    pub async fn reset_finish(
        &self,
        token: &str,
        password: &str,
        client: Client,
        now: DateTime<Utc>,
    ) -> Result<ResetOutcome, AuthnError> {
        let password =
            Password::new(password).map_err(|e| AuthnError::BadRequest(e.to_string()))?;
        let hash = token_hash(token);
        // Checked before hashing, so an expired link costs no argon2 run.
        let Some(_) = self.reset_check(token, now).await? else {
            return Ok(ResetOutcome::Expired);
        };
        self.throttle()
            .address_attempt(client.ip.as_deref())
            .await?;
        let new_hash = self.hasher.hash(password.expose().to_owned()).await?;
        let from = client.ip.clone();
        let changed = self
            .db
            .run(move |conn| {
                transaction(conn, |conn| {
                    let at = db_time(now);
                    let Some(link) = email_tokens::find_email_token(conn, &hash, PURPOSE, at)?
                    else {
                        return Ok::<_, AuthnError>(None);
                    };
                    let user = users::get_user(conn, link.user_id)?;
                    // SECURITY: spent by a conditional update: two submissions of one link
                    // change the password once.
                    if user.disabled
                        || user.email != link.email
                        || !email_tokens::spend_email_token(conn, link.id, at)?
                    {
                        return Ok(None);
                    }
                    users::update_user_password(conn, user.id, &new_hash)?;
                    email_tokens::spend_user_email_tokens(conn, user.id, PURPOSE, at)?;
                    let ended = crate::sessions::end_all(conn, &user, None, at)?;
                    // SECURITY: following the link proves the address. When that is the first
                    // proof, whoever held the account before may not have owned the address
                    // (pre-hijacking): the provider links and API keys made until now go, as
                    // ways in that bypass the new password. Second factors stay: removing them
                    // would let a mailbox thief strip them.
                    let (unlinked, revoked) = if user.email_verified {
                        (0, 0)
                    } else {
                        users::set_email_verified(conn, user.id, &user.email)?;
                        (
                            authify_store::upstream::delete_user_identities(conn, user.id)?,
                            authify_store::api_keys::revoke_user_api_keys(conn, user.id, at)?,
                        )
                    };
                    Entry::new("user.password_reset", at)
                        .ip(client.ip.as_deref())
                        .by_user(&user)
                        .details(serde_json::json!({
                            "sessions_ended": ended,
                            "providers_unlinked": unlinked,
                            "api_keys_revoked": revoked,
                        }))
                        .record(conn)?;
                    Ok(Some((user.email, unlinked, revoked)))
                })
            })
            .await?;
        let Some((to, unlinked, revoked)) = changed else {
            return Ok(ResetOutcome::Expired);
        };
        self.inner
            .mfa
            .costs
            .notify_owner(Notice::Mail {
                to,
                template: "password_changed",
                values: serde_json::json!({
                    "from": from,
                    "forgot": format!("{}/password/forgot", self.inner.settings.public_url),
                    "unlinked": unlinked,
                    "revoked": revoked,
                    "dropped": unlinked + revoked > 0,
                }),
            })
            .await;
        Ok(ResetOutcome::Done)
    }
}
