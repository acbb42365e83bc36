//! Server-side sessions. The browser holds a random 256-bit token; the database holds only its
//! SHA-256, so a read of the sessions table yields no usable cookie. Ending a session deletes the
//! row: logout is real, and "log out everywhere" is one delete. Sessions are created only by the
//! last step of a sign-in ([`crate::authn`]).

use authify_store::models::User;
use authify_store::{DbConnection, StoreError, sessions};
use chrono::{DateTime, Utc};
use sha2::{Digest as _, Sha256};

use crate::{Db, db_time};

/// SHA-256 (hex) of a session token: what the database stores.
pub fn token_hash(token: &str) -> String {
    Sha256::digest(token.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// The user of an unexpired session, unless they were disabled since.
pub fn user_of(
    conn: &mut DbConnection,
    token: &str,
    now: DateTime<Utc>,
) -> Result<Option<User>, StoreError> {
    // A token of the wrong shape cannot be ours; skip the query.
    if token.len() != 43 {
        return Ok(None);
    }
    let found = sessions::find_session(conn, &token_hash(token), db_time(now))?;
    Ok(found.map(|(_, user)| user).filter(|u| !u.disabled))
}

/// [`user_of`] on the blocking pool.
pub async fn resolve(db: &Db, token: &str, now: DateTime<Utc>) -> Result<Option<User>, StoreError> {
    let token = token.to_owned();
    db.run(move |conn| user_of(conn, &token, now)).await
}
