//! Server-side sessions, stored by the SHA-256 of their token.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::models::{Session, User};
use crate::schema::{sessions, users};
use crate::{DbConnection, StoreError};

/// Records a session for `user_id`, who signed in with `amr`.
pub fn insert_session(
    conn: &mut DbConnection,
    token_hash: &str,
    user_id: i64,
    amr: &str,
    now: NaiveDateTime,
    expires_at: NaiveDateTime,
) -> Result<(), StoreError> {
    diesel::insert_into(sessions::table)
        .values((
            sessions::token_hash.eq(token_hash),
            sessions::user_id.eq(user_id),
            sessions::amr.eq(amr),
            sessions::created_at.eq(now),
            sessions::expires_at.eq(expires_at),
        ))
        .execute(conn)?;
    Ok(())
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
