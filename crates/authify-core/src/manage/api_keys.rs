//! Personal API keys: created by their owner (shown once, stored as a SHA-256 of a 256-bit
//! secret), optionally read-only and expiring, revocable; exchanged at `POST /jwt/token` for an
//! API token that acts with the owner's current rights, never more.

use authify_domain::{API_AUDIENCE, Claims, Name, SCOPE_READ_ONLY};
use authify_jwt::{Signer, TokenIssuer};
use authify_store::models::{ApiKey, User};
use authify_store::{api_keys as store, transaction};
use chrono::{DateTime, Duration, Utc};
use serde_json::json;
use subtle::ConstantTimeEq as _;

use super::actor::Actor;
use super::audit::Entry;
use super::views::{ApiKeyInfo, CreatedApiKey};
use crate::error::AdminError;
use crate::sessions::token_hash;
use crate::tokens::TokenError;
use crate::{Db, db_time, random};

/// Longest lifetime a key may be given, in days.
pub const MAX_DAYS: u32 = 3650;

/// The actor's own keys, newest first.
pub async fn list(
    db: &Db,
    actor: &Actor,
    now: DateTime<Utc>,
) -> Result<Vec<ApiKeyInfo>, AdminError> {
    let (id, now) = (actor.user.id, db_time(now));
    db.run(move |conn| {
        Ok(store::list_api_keys(conn, id)?
            .iter()
            .map(|k| ApiKeyInfo::new(k, now))
            .collect())
    })
    .await
}

/// Creates a key for the actor. A read-only key cannot create keys (it cannot write at all).
pub async fn create(
    db: &Db,
    actor: &Actor,
    name: &str,
    read_only: bool,
    expires_in_days: Option<u32>,
    now: DateTime<Utc>,
) -> Result<CreatedApiKey, AdminError> {
    actor.can_write()?;
    actor.own_account()?;
    let name = Name::parse(name, "the key name").map_err(|e| AdminError::Invalid(e.to_string()))?;
    let expires_at = match expires_in_days {
        Some(d) if d == 0 || d > MAX_DAYS => {
            return Err(AdminError::Invalid(format!(
                "a key expires after 1 to {MAX_DAYS} days"
            )));
        }
        Some(d) => Some(db_time(now + Duration::days(i64::from(d)))),
        None => None,
    };
    let access_key = format!("ak_{}", random::token::<15>()?);
    let secret = random::token::<32>()?;
    let hash = token_hash(&secret);
    let (actor, now) = (actor.clone(), db_time(now));
    let key = db
        .run(move |conn| {
            transaction(conn, |conn| {
                let key = store::insert_api_key(
                    conn,
                    &store::NewApiKey {
                        access_key: &access_key,
                        secret_hash: &hash,
                        user_id: actor.user.id,
                        name: name.as_str(),
                        read_only,
                        created_at: now,
                        expires_at,
                    },
                )?;
                actor
                    .entry("api_key.create", now)
                    .target("api_key", &key.access_key, &key.name)
                    .details(json!({ "read_only": read_only, "expires_at": expires_at.map(|e| e.and_utc().to_rfc3339()) }))
                    .record(conn)?;
                Ok::<_, AdminError>(ApiKeyInfo::new(&key, now))
            })
        })
        .await?;
    Ok(CreatedApiKey {
        key,
        secret_key: secret,
    })
}

/// Revokes one of the actor's keys; tokens already issued from it stop working too.
pub async fn revoke(
    db: &Db,
    actor: &Actor,
    access_key: &str,
    now: DateTime<Utc>,
) -> Result<(), AdminError> {
    actor.can_write()?;
    let (actor, access_key, now) = (actor.clone(), access_key.to_owned(), db_time(now));
    db.run(move |conn| {
        transaction(conn, |conn| {
            let key = store::find_api_key(conn, &access_key)?
                .map(|(k, _)| k)
                .filter(|k| k.user_id == actor.user.id)
                .ok_or_else(|| AdminError::NotFound(format!("no API key {access_key:?}")))?;
            store::revoke_api_key(conn, key.id, now)?;
            actor
                .entry("api_key.revoke", now)
                .target("api_key", &key.access_key, &key.name)
                .record(conn)?;
            Ok(())
        })
    })
    .await
}

fn usable(key: &ApiKey, user: &User, now: chrono::NaiveDateTime) -> bool {
    key.revoked_at.is_none() && key.expires_at.is_none_or(|e| e > now) && !user.disabled
}

/// Why a key could not be exchanged.
#[derive(Debug, thiserror::Error)]
pub enum ExchangeError {
    /// Unknown key, wrong secret, revoked, expired or disabled owner: one answer for all.
    #[error("invalid access key or secret key")]
    Invalid,
    /// Our failure.
    #[error("{0}")]
    Internal(String),
}

impl From<authify_store::StoreError> for ExchangeError {
    fn from(e: authify_store::StoreError) -> Self {
        ExchangeError::Internal(e.to_string())
    }
}

impl From<TokenError> for ExchangeError {
    fn from(e: TokenError) -> Self {
        ExchangeError::Internal(e.to_string())
    }
}

/// `POST /jwt/token`: checks the key pair and issues an API token (audience
/// [`API_AUDIENCE`]) for the owner, naming the key so that revoking it ends the token too.
#[allow(clippy::too_many_arguments)]
pub async fn exchange(
    db: &Db,
    issuer: &TokenIssuer,
    signer: &Signer,
    access_key: &str,
    secret_key: &str,
    ip: Option<&str>,
    failures: &crate::throttle::FailureLog,
    now: DateTime<Utc>,
) -> Result<String, ExchangeError> {
    let (ak, presented, t) = (access_key.to_owned(), token_hash(secret_key), db_time(now));
    let found = db.run(move |conn| store::find_api_key(conn, &ak)).await?;
    // SECURITY: unknown key, wrong secret, revoked, expired and disabled owner get the same
    // answer (W-6); the digest comparison is constant-time.
    let valid = found.as_ref().is_some_and(|(key, user)| {
        bool::from(key.secret_hash.as_bytes().ct_eq(presented.as_bytes())) && usable(key, user, t)
    });
    let Some((key, user)) = found.filter(|_| valid) else {
        // SECURITY: anonymous failures must not grow the append-only log at request rate: one
        // entry per client address per minute, counting the ones folded into it.
        if let Some(folded) = failures.note(ip.unwrap_or("unknown")) {
            Entry::new("api_key.exchange", t)
                .by_email(access_key)
                .ip(ip)
                .failed()
                .details(json!({ "failures_since_last_entry": folded }))
                .save(db)
                .await;
        }
        return Err(ExchangeError::Invalid);
    };
    let (key_id, user_for_claims) = (key.id, user.clone());
    let subject = db
        .run(move |conn| {
            store::touch_api_key(conn, key_id, t)?;
            crate::tokens::subject(conn, &user_for_claims)
        })
        .await?;
    let jti = random::bytes::<16>().map_err(|e| ExchangeError::Internal(e.to_string()))?;
    let mut claims: Claims = issuer.claims(subject, API_AUDIENCE, now.timestamp(), jti);
    claims.api_key = Some(key.access_key.clone());
    if key.read_only {
        claims.scopes.push(SCOPE_READ_ONLY.to_owned());
    }
    let token = signer
        .sign(&claims)
        .map_err(|e| ExchangeError::Internal(e.to_string()))?;
    Entry::new("token.issue", t)
        .by_user(&user)
        .ip(ip)
        .target("api_key", &key.access_key, &key.name)
        .details(json!({ "audience": API_AUDIENCE }))
        .save(db)
        .await;
    Ok(token)
}

/// The actor behind a verified API token: its key must still be usable and its owner enabled;
/// rights are read now, so a demoted owner's token loses them at once.
pub async fn actor_for(
    db: &Db,
    claims: &Claims,
    ip: Option<String>,
    now: DateTime<Utc>,
) -> Result<Option<Actor>, authify_store::StoreError> {
    let Some(access_key) = claims.api_key.clone() else {
        return Ok(None);
    };
    let (sub, t) = (claims.sub.clone(), db_time(now));
    let found = db
        .run(move |conn| store::find_api_key(conn, &access_key))
        .await?;
    Ok(found
        .filter(|(key, user)| usable(key, user, t) && user.public_id == sub)
        .map(|(key, user)| Actor {
            user: user.into(),
            read_only: key.read_only,
            ip,
        }))
}
