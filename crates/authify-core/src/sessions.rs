//! Server-side sessions. The browser holds a random 256-bit token; the database holds only its
//! SHA-256, so a read of the sessions table yields no usable cookie. Ending a session deletes the
//! row: logout is real, and "log out everywhere" is one delete.

use authify_store::models::User;
use authify_store::{StoreError, sessions};
use chrono::{DateTime, Duration, Utc};
use sha2::{Digest as _, Sha256};

use crate::{Db, db_time, random};

/// SHA-256 (hex) of a session token: what the database stores.
pub fn token_hash(token: &str) -> String {
    Sha256::digest(token.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Starts a session for `user_id`, valid for `ttl`; returns the cookie token.
pub async fn start(
    db: &Db,
    user_id: i64,
    now: DateTime<Utc>,
    ttl: Duration,
) -> Result<String, StoreError> {
    let token =
        random::token::<32>().map_err(|e| StoreError::Connect(format!("randomness: {e}")))?;
    let hash = token_hash(&token);
    let (created, expires) = (db_time(now), db_time(now + ttl));
    db.run(move |conn| sessions::insert_session(conn, &hash, user_id, created, expires))
        .await?;
    Ok(token)
}

/// The user of an unexpired session, unless they were disabled since.
pub async fn resolve(db: &Db, token: &str, now: DateTime<Utc>) -> Result<Option<User>, StoreError> {
    // A token of the wrong shape cannot be ours; skip the query.
    if token.len() != 43 {
        return Ok(None);
    }
    let hash = token_hash(token);
    let now = db_time(now);
    let found = db
        .run(move |conn| sessions::find_session(conn, &hash, now))
        .await?;
    Ok(found.map(|(_, user)| user).filter(|u| !u.disabled))
}

/// Ends a session; returns whether it existed.
pub async fn end(db: &Db, token: &str) -> Result<bool, StoreError> {
    let hash = token_hash(token);
    db.run(move |conn| sessions::delete_session(conn, &hash))
        .await
}
