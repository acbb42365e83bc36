//! E-mail verification (`AUTHIFY_EMAIL_VERIFICATION`): a link mailed at sign-up and on a change
//! of address proves the user controls it; tokens say so (`email_verified`). Like a reset
//! link: 256 bits stored as SHA-256, single use, bound to the address it went to (a change of
//! address since kills it), its GET only shows a button (mail scanners follow links) and its
//! POST spends it. With `required`, an unverified account cannot sign in; the refusal mails a
//! new link (at most twice a minute per account).

use authify_store::email_tokens;
use authify_store::{transaction, users};
use chrono::{DateTime, Duration, Utc};

use super::Account;
use crate::authn::{AuthnError, Client};
use crate::costs::{Charge, Paid};
use crate::manage::audit::Entry;
use crate::notify::Notice;
use crate::sessions::token_hash;
use crate::{db_time, random};

/// How long a verification link works.
pub const VERIFY_TTL_HOURS: i64 = 24;
const PURPOSE: &str = "verify";

/// `AUTHIFY_EMAIL_VERIFICATION`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum EmailVerification {
    /// No verification mails; `email_verified` stays false.
    Off,
    /// Links are mailed; tokens say whether one was followed.
    #[default]
    Optional,
    /// As optional, and an unverified account cannot sign in.
    Required,
}

impl Account {
    /// Mails a link to verify the current address of the user `user_id`, unless verification
    /// is off, the address is verified already, the account is disabled, or the account's
    /// budget (two a minute) is spent. Nothing of this is an error: the caller's page is the
    /// same either way.
    pub async fn verification_send(
        &self,
        user_id: i64,
        client_ip: Option<&str>,
        now: DateTime<Utc>,
    ) -> Result<(), AuthnError> {
        if self.inner.settings.email_verification == EmailVerification::Off {
            return Ok(());
        }
        let user = self
            .db
            .run(move |conn| users::get_user(conn, user_id))
            .await?;
        if user.email_verified || user.disabled {
            return Ok(());
        }
        // SECURITY: a mailbox gets at most two links a minute, whoever asks.
        if self
            .throttle()
            .scoped("verify", 2, 0)
            .attempt(&user.email)
            .await
            .is_err()
        {
            return Ok(());
        }
        // SECURITY: and the operator's mail budgets (per recipient, per client, in all).
        let paid = self
            .inner
            .mfa
            .costs
            .charge(Charge::owner_mail(&user.email).from_address(client_ip))
            .await?;
        self.verification_mail(user.id, user.email, paid, now).await
    }

    /// Mails a verification link to `email` for `user_id`, the budgets already `paid` (a
    /// sign-up charges them before the account is made).
    async fn verification_mail(
        &self,
        id: i64,
        email: String,
        paid: Paid,
        now: DateTime<Utc>,
    ) -> Result<(), AuthnError> {
        let token = random::token::<32>()?;
        let hash = token_hash(&token);
        let to = email.clone();
        self.db
            .run(move |conn| {
                email_tokens::insert_email_token(
                    conn,
                    &hash,
                    PURPOSE,
                    id,
                    &email,
                    db_time(now),
                    db_time(now + Duration::hours(VERIFY_TTL_HOURS)),
                )
            })
            .await?;
        let link = format!(
            "{}/email/verify?token={token}",
            self.inner.settings.public_url
        );
        paid.send(Notice::Mail {
            to,
            template: "verify",
            values: serde_json::json!({ "link": link, "hours": VERIFY_TTL_HOURS }),
        });
        Ok(())
    }

    /// The link of a new account made by sign-up with `email`, its budgets `paid`.
    pub(crate) async fn verification_after_sign_up(
        &self,
        email: &str,
        paid: Paid,
        now: DateTime<Utc>,
    ) -> Result<(), AuthnError> {
        if self.inner.settings.email_verification == EmailVerification::Off {
            return Ok(());
        }
        let email = email.to_owned();
        let user = self
            .db
            .run(move |conn| users::find_user_by_email(conn, &email))
            .await?;
        match user {
            Some(u) if !u.email_verified && !u.disabled => {
                self.verification_mail(u.id, u.email, paid, now).await
            }
            _ => Ok(()),
        }
    }

    /// Deletes the sign-ups whose address was not verified within
    /// `AUTHIFY_UNVERIFIED_ACCOUNT_DAYS`: only accounts made by sign-up while verification was
    /// required (marked then; such an account cannot sign in, so it holds an address and a row
    /// for nothing), never one an administrator made, an older one, or one whose address
    /// changed later. Returns how many.
    pub async fn delete_unverified(&self, now: DateTime<Utc>) -> Result<usize, AuthnError> {
        let days = self.inner.settings.unverified_account_days;
        if days == 0 {
            return Ok(0);
        }
        self.db
            .run(move |conn| {
                transaction(conn, |conn| {
                    let n = users::delete_unverified_signups(conn, db_time(now))?;
                    if n > 0 {
                        Entry::new("user.unverified_deleted", db_time(now))
                            .details(serde_json::json!({ "accounts": n, "days": days }))
                            .record(conn)?;
                    }
                    Ok::<_, AuthnError>(n)
                })
            })
            .await
    }

    /// The address a live verification link is for (opening it spends nothing), or `None`.
    pub async fn verify_check(
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
                Ok((user.email == link.email).then_some(link.email))
            })
            .await
    }

    /// Spends the link and marks its address verified; false when the link is dead (expired,
    /// used, or the account's address changed since).
    pub async fn verify_finish(
        &self,
        token: &str,
        client: Client,
        now: DateTime<Utc>,
    ) -> Result<bool, AuthnError> {
        let hash = token_hash(token);
        self.db
            .run(move |conn| {
                transaction(conn, |conn| {
                    let at = db_time(now);
                    let Some(link) = email_tokens::find_email_token(conn, &hash, PURPOSE, at)?
                    else {
                        return Ok::<_, AuthnError>(false);
                    };
                    // SECURITY: spent by a conditional update, and verifies only the address the
                    // link was sent to, if the account still uses it.
                    if !email_tokens::spend_email_token(conn, link.id, at)?
                        || !users::set_email_verified(conn, link.user_id, &link.email)?
                    {
                        return Ok(false);
                    }
                    let user = users::get_user(conn, link.user_id)?;
                    Entry::new("user.verify_email", at)
                        .ip(client.ip.as_deref())
                        .by_user(&user)
                        .record(conn)?;
                    Ok(true)
                })
            })
            .await
    }
}
