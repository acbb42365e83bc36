//! Server-side sessions, stored by the SHA-256 of their token.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::models::{Session, User};
use crate::schema::{sessions, users};
use crate::{DbConnection, StoreError};

/// A session to record.
#[derive(Debug, Clone)]
pub struct NewSession<'a> {
    /// SHA-256 (hex) of the cookie token.
    pub token_hash: &'a str,
    /// Whose.
    pub user_id: i64,
    /// RFC 8176 `amr` values, space-separated.
    pub amr: &'a str,
    /// Client address.
    pub ip: Option<&'a str>,
    /// Browser.
    pub user_agent: Option<&'a str>,
}

/// Records a session; returns its id.
pub fn insert_session(
    conn: &mut DbConnection,
    new: &NewSession<'_>,
    now: NaiveDateTime,
    expires_at: NaiveDateTime,
) -> Result<i64, StoreError> {
    Ok(diesel::insert_into(sessions::table)
        .values((
            sessions::token_hash.eq(new.token_hash),
            sessions::user_id.eq(new.user_id),
            sessions::amr.eq(new.amr),
            sessions::ip.eq(new.ip),
            sessions::user_agent.eq(new.user_agent),
            sessions::created_at.eq(now),
            sessions::expires_at.eq(expires_at),
        ))
        .returning(sessions::id)
        .get_result(conn)?)
}

/// The sessions of `user_id`, newest first.
pub fn list_user_sessions(
    conn: &mut DbConnection,
    user_id: i64,
) -> Result<Vec<Session>, StoreError> {
    Ok(sessions::table
        .filter(sessions::user_id.eq(user_id))
        .order(sessions::id.desc())
        .select(Session::as_select())
        .load(conn)?)
}

/// The session with this token hash, expired or not.
pub fn find_session_by_hash(
    conn: &mut DbConnection,
    token_hash: &str,
) -> Result<Option<Session>, StoreError> {
    Ok(sessions::table
        .filter(sessions::token_hash.eq(token_hash))
        .select(Session::as_select())
        .first(conn)
        .optional()?)
}

/// Deletes sessions by id; returns how many.
pub fn delete_sessions(conn: &mut DbConnection, ids: &[i64]) -> Result<usize, StoreError> {
    Ok(diesel::delete(sessions::table.filter(sessions::id.eq_any(ids))).execute(conn)?)
}

/// The unexpired session with this token hash and its user. One query.
pub fn find_session(
    conn: &mut DbConnection,
    token_hash: &str,
    now: NaiveDateTime,
) -> Result<Option<(Session, User)>, StoreError> {
    Ok(crate::on_backend!(conn, |c| sessions::table
        .inner_join(users::table)
        .filter(sessions::token_hash.eq(token_hash))
        .filter(sessions::expires_at.gt(now))
        .select((Session::as_select(), User::as_select()))
        .first(c)
        .optional())?)
}

/// Deletes one session; returns whether it existed.
pub fn delete_session(conn: &mut DbConnection, token_hash: &str) -> Result<bool, StoreError> {
    Ok(
        diesel::delete(sessions::table.filter(sessions::token_hash.eq(token_hash)))
            .execute(conn)?
            > 0,
    )
}

/// Deletes every session of a user ("log out everywhere", disabling); returns how many.
pub fn delete_user_sessions(conn: &mut DbConnection, user_id: i64) -> Result<usize, StoreError> {
    Ok(diesel::delete(sessions::table.filter(sessions::user_id.eq(user_id))).execute(conn)?)
}

/// Deletes expired sessions; returns how many.
pub fn delete_expired_sessions(
    conn: &mut DbConnection,
    now: NaiveDateTime,
) -> Result<usize, StoreError> {
    Ok(diesel::delete(sessions::table.filter(sessions::expires_at.le(now))).execute(conn)?)
}

/// Deletes every session of `user_id` except the one with hash `keep`.
pub fn delete_user_sessions_except(
    conn: &mut DbConnection,
    user_id: i64,
    keep: Option<&str>,
) -> Result<usize, StoreError> {
    let q = sessions::table.filter(sessions::user_id.eq(user_id));
    Ok(match keep {
        Some(k) => diesel::delete(q.filter(sessions::token_hash.ne(k))).execute(conn)?,
        None => diesel::delete(q).execute(conn)?,
    })
}

/// How many sessions `user_id` has (expired or not): for tests and the account page.
pub fn count_user_sessions(conn: &mut DbConnection, user_id: i64) -> Result<i64, StoreError> {
    Ok(sessions::table
        .filter(sessions::user_id.eq(user_id))
        .count()
        .get_result(conn)?)
}
