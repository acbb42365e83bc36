//! Sign-in attempts (`auth_flows`), stored by the SHA-256 of their cookie token. What the
//! columns mean belongs to `authify_core::authn`; this module only reads and writes rows.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::models::AuthFlow;
use crate::schema::auth_flows;
use crate::{DbConnection, StoreError};

/// Records a new attempt opened by `client_key` (none: not counted); returns its id.
pub fn insert_flow(
    conn: &mut DbConnection,
    token_hash: &str,
    return_to: &str,
    client_key: Option<&str>,
    now: NaiveDateTime,
    expires_at: NaiveDateTime,
) -> Result<i64, StoreError> {
    Ok(diesel::insert_into(auth_flows::table)
        .values((
            auth_flows::token_hash.eq(token_hash),
            auth_flows::return_to.eq(return_to),
            auth_flows::client_key.eq(client_key),
            auth_flows::created_at.eq(now),
            auth_flows::expires_at.eq(expires_at),
        ))
        .returning(auth_flows::id)
        .get_result(conn)?)
}

/// Keeps the newest `keep` attempts of `client_key` and deletes the older ones that are still at
/// the first form (no user, nothing pending); returns how many went.
pub fn cap_client_flows(
    conn: &mut DbConnection,
    client_key: &str,
    keep: i64,
) -> Result<usize, StoreError> {
    let boundary: Option<i64> = auth_flows::table
        .filter(auth_flows::client_key.eq(client_key))
        .order(auth_flows::id.desc())
        .offset(keep)
        .select(auth_flows::id)
        .first(conn)
        .optional()?;
    let Some(boundary) = boundary else {
        return Ok(0);
    };
    Ok(diesel::delete(
        auth_flows::table
            .filter(auth_flows::client_key.eq(client_key))
            .filter(auth_flows::id.le(boundary))
            .filter(auth_flows::user_id.is_null())
            .filter(auth_flows::pending.eq("")),
    )
    .execute(conn)?)
}

/// Moves the end of attempt `id` to `expires_at` (a browser came back to it).
pub fn extend_flow(
    conn: &mut DbConnection,
    id: i64,
    expires_at: NaiveDateTime,
) -> Result<(), StoreError> {
    diesel::update(auth_flows::table.find(id))
        .set(auth_flows::expires_at.eq(expires_at))
        .execute(conn)?;
    Ok(())
}

/// The unexpired attempt with this token hash.
pub fn find_flow(
    conn: &mut DbConnection,
    token_hash: &str,
    now: NaiveDateTime,
) -> Result<Option<AuthFlow>, StoreError> {
    Ok(auth_flows::table
        .filter(auth_flows::token_hash.eq(token_hash))
        .filter(auth_flows::expires_at.gt(now))
        .select(AuthFlow::as_select())
        .first(conn)
        .optional()?)
}

/// Points an attempt at another return (a new `/login?callback=` in the same browser).
pub fn update_flow_return(
    conn: &mut DbConnection,
    id: i64,
    return_to: &str,
) -> Result<(), StoreError> {
    diesel::update(auth_flows::table.find(id))
        .set(auth_flows::return_to.eq(return_to))
        .execute(conn)?;
    Ok(())
}

/// Records progress: the identified user, the factors satisfied and those still pending.
pub fn update_flow_progress(
    conn: &mut DbConnection,
    id: i64,
    user_id: i64,
    amr: &str,
    pending: &str,
) -> Result<(), StoreError> {
    diesel::update(auth_flows::table.find(id))
        .set((
            auth_flows::user_id.eq(Some(user_id)),
            auth_flows::amr.eq(amr),
            auth_flows::pending.eq(pending),
        ))
        .execute(conn)?;
    Ok(())
}

/// Deletes one attempt; returns whether it existed.
pub fn delete_flow(conn: &mut DbConnection, id: i64) -> Result<bool, StoreError> {
    Ok(diesel::delete(auth_flows::table.find(id)).execute(conn)? > 0)
}

/// Deletes expired attempts; returns how many.
pub fn delete_expired_flows(
    conn: &mut DbConnection,
    now: NaiveDateTime,
) -> Result<usize, StoreError> {
    Ok(diesel::delete(auth_flows::table.filter(auth_flows::expires_at.le(now))).execute(conn)?)
}

/// How many attempts `client_key` has (expired or not): for tests.
pub fn count_client_flows(conn: &mut DbConnection, client_key: &str) -> Result<i64, StoreError> {
    Ok(auth_flows::table
        .filter(auth_flows::client_key.eq(client_key))
        .count()
        .get_result(conn)?)
}

/// How many attempts exist (expired or not): for tests and metrics.
pub fn count_flows(conn: &mut DbConnection) -> Result<i64, StoreError> {
    Ok(auth_flows::table.count().get_result(conn)?)
}
