//! Back-channel logout deliveries (OpenID Back-Channel Logout 1.0). When a session ends, every
//! application that received a token in it and registered a `backchannel_logout_uri` gets a row
//! in `logout_outbox`, written in the transaction that ends the session
//! ([`crate::sessions::end`]): a crash loses neither. A background task of the server takes the
//! due rows, POSTs each a freshly signed logout token, and reports back here: success deletes
//! the row; failure retries with exponential backoff, across restarts, and counts against the
//! application, which the console shows as failing after three in a row.

use std::sync::Arc;

use authify_jwt::Keyring;
use authify_store::oauth;
use chrono::{DateTime, Duration, Utc};

use super::claims::{LogoutTokenClaims, signer};
use super::token::Provider;
use super::{OidcError, algorithm_of};
use crate::{db_time, random};

/// Consecutive failures after which an endpoint is shown as failing.
pub const FAILING_AFTER: i32 = 3;

/// Attempts after which a delivery is dropped (about nine hours of backoff: 2 s doubling to an
/// hourly retry).
pub const GIVE_UP_AFTER: i32 = 20;

/// One logout token to POST. No `Debug`: the token is a credential for the app.
pub struct Delivery {
    /// Outbox row.
    pub id: i64,
    /// The application (internal id).
    pub application_id: i64,
    /// The receiving `backchannel_logout_uri`.
    pub uri: String,
    /// The signed logout token, for the `logout_token` form field.
    pub logout_token: String,
    /// Failed attempts so far.
    pub attempts: i32,
}

/// Delay before the attempt after `attempts` failures: 2 s, 4 s, 8 s, ... capped at 1 h.
pub fn backoff(attempts: i32) -> Duration {
    let exp = u32::try_from(attempts.clamp(0, 11)).unwrap_or(11);
    Duration::seconds((2_i64 << exp).min(3600))
}

impl Provider {
    /// The deliveries due at `now` (at most `limit`), each with a logout token signed now.
    pub async fn due_logouts(
        &self,
        keys: Arc<Keyring>,
        limit: i64,
        now: DateTime<Utc>,
    ) -> Result<Vec<Delivery>, OidcError> {
        let issuer = self.settings.issuer.clone();
        let rows = self
            .db
            .run(move |conn| oauth::due_logouts(conn, db_time(now), limit))
            .await?;
        let mut out = Vec::with_capacity(rows.len());
        for (row, app) in rows {
            let Some(uri) = app.backchannel_logout_uri.clone() else {
                // The app stopped listening: nothing to deliver.
                let id = row.id;
                self.db
                    .run(move |conn| oauth::delete_logout(conn, id))
                    .await?;
                continue;
            };
            let claims = LogoutTokenClaims {
                iss: issuer.clone(),
                aud: app.app_id.clone(),
                iat: now.timestamp(),
                exp: now.timestamp() + 120,
                jti: random::token::<16>()?,
                sub: row.sub.clone(),
                sid: row.sid.clone(),
                events: serde_json::json!({
                    "http://schemas.openid.net/event/backchannel-logout": {}
                }),
            };
            let logout_token =
                signer(&keys, algorithm_of(&app)).sign_typed("logout+jwt", &claims)?;
            out.push(Delivery {
                id: row.id,
                application_id: app.id,
                uri,
                logout_token,
                attempts: row.attempts,
            });
        }
        Ok(out)
    }

    /// Records the outcome of a delivery.
    pub async fn logout_outcome(
        &self,
        delivery: &Delivery,
        outcome: Result<(), String>,
        now: DateTime<Utc>,
    ) -> Result<(), OidcError> {
        let (id, app, attempts) = (delivery.id, delivery.application_id, delivery.attempts);
        self.db
            .run(move |conn| match outcome {
                Ok(()) => oauth::logout_delivered(conn, id, app),
                Err(_) if attempts + 1 >= GIVE_UP_AFTER => {
                    oauth::logout_failed(conn, id, app, db_time(now), "given up")?;
                    oauth::delete_logout(conn, id)
                }
                Err(e) => {
                    let next = db_time(now + backoff(attempts));
                    oauth::logout_failed(conn, id, app, next, &e)
                }
            })
            .await?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_and_is_capped_at_an_hour() {
        assert_eq!(backoff(0), Duration::seconds(2));
        assert_eq!(backoff(1), Duration::seconds(4));
        assert_eq!(backoff(5), Duration::seconds(64));
        assert_eq!(backoff(30), Duration::seconds(3600));
    }
}
