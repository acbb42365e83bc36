//! Personal API keys: stored by access key with a SHA-256 of the secret.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::models::{ApiKey, User};
use crate::schema::{api_keys, users};
use crate::{DbConnection, StoreError};

/// A key to store.
#[derive(Debug)]
pub struct NewApiKey<'a> {
    /// Public identifier.
    pub access_key: &'a str,
    /// SHA-256 (hex) of the secret.
    pub secret_hash: &'a str,
    /// Owner.
    pub user_id: i64,
    /// Label.
    pub name: &'a str,
    /// Read-only tokens.
    pub read_only: bool,
    /// Creation time.
    pub created_at: NaiveDateTime,
    /// Optional expiry.
    pub expires_at: Option<NaiveDateTime>,
}

/// Inserts a key.
pub fn insert_api_key(conn: &mut DbConnection, new: &NewApiKey<'_>) -> Result<ApiKey, StoreError> {
    let id: i64 = diesel::insert_into(api_keys::table)
        .values((
            api_keys::access_key.eq(new.access_key),
            api_keys::secret_hash.eq(new.secret_hash),
            api_keys::user_id.eq(new.user_id),
            api_keys::name.eq(new.name),
            api_keys::read_only.eq(new.read_only),
            api_keys::created_at.eq(new.created_at),
            api_keys::expires_at.eq(new.expires_at),
        ))
        .returning(api_keys::id)
        .get_result(conn)?;
    Ok(api_keys::table
        .find(id)
        .select(ApiKey::as_select())
        .first(conn)?)
}

/// The key with this access key, and its owner.
pub fn find_api_key(
    conn: &mut DbConnection,
    access_key: &str,
) -> Result<Option<(ApiKey, User)>, StoreError> {
    Ok(api_keys::table
        .inner_join(users::table)
        .filter(api_keys::access_key.eq(access_key))
        .select((ApiKey::as_select(), User::as_select()))
        .first(conn)
        .optional()?)
}

/// The keys of `user_id`, newest first (revoked ones included).
pub fn list_api_keys(conn: &mut DbConnection, user_id: i64) -> Result<Vec<ApiKey>, StoreError> {
    Ok(api_keys::table
        .filter(api_keys::user_id.eq(user_id))
        .order(api_keys::id.desc())
        .select(ApiKey::as_select())
        .load(conn)?)
}

/// Marks a key revoked (once).
pub fn revoke_api_key(
    conn: &mut DbConnection,
    id: i64,
    now: NaiveDateTime,
) -> Result<(), StoreError> {
    diesel::update(
        api_keys::table
            .find(id)
            .filter(api_keys::revoked_at.is_null()),
    )
    .set(api_keys::revoked_at.eq(Some(now)))
    .execute(conn)?;
    Ok(())
}

/// Marks every live key of `user_id` revoked; returns how many.
pub fn revoke_user_api_keys(
    conn: &mut DbConnection,
    user_id: i64,
    now: NaiveDateTime,
) -> Result<usize, StoreError> {
    Ok(diesel::update(
        api_keys::table
            .filter(api_keys::user_id.eq(user_id))
            .filter(api_keys::revoked_at.is_null()),
    )
    .set(api_keys::revoked_at.eq(Some(now)))
    .execute(conn)?)
}

/// Records that the key was exchanged for a token.
pub fn touch_api_key(
    conn: &mut DbConnection,
    id: i64,
    now: NaiveDateTime,
) -> Result<(), StoreError> {
    diesel::update(api_keys::table.find(id))
        .set(api_keys::last_used_at.eq(Some(now)))
        .execute(conn)?;
    Ok(())
}
