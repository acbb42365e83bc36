//! Single-use links sent by mail (`email_tokens`): password reset today. Stored by the SHA-256
//! of the token; what a token allows belongs to `authify_core::authn::reset`.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::schema::email_tokens;
use crate::{DbConnection, StoreError};

/// A mailed link's row.
#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable)]
#[diesel(table_name = email_tokens)]
pub struct EmailToken {
    /// Row id.
    pub id: i64,
    /// `reset`.
    pub purpose: String,
    /// The user it was sent for.
    pub user_id: i64,
    /// The address it was sent to: the link dies if the account's address changed since.
    pub email: String,
    /// When it stops working.
    pub expires_at: NaiveDateTime,
}

/// Records a link; `token_hash` is the SHA-256 of the token in the mail.
pub fn insert_email_token(
    conn: &mut DbConnection,
    token_hash: &str,
    purpose: &str,
    user_id: i64,
    email: &str,
    now: NaiveDateTime,
    expires_at: NaiveDateTime,
) -> Result<(), StoreError> {
    diesel::insert_into(email_tokens::table)
        .values((
            email_tokens::token_hash.eq(token_hash),
            email_tokens::purpose.eq(purpose),
            email_tokens::user_id.eq(user_id),
            email_tokens::email.eq(email),
            email_tokens::created_at.eq(now),
            email_tokens::expires_at.eq(expires_at),
        ))
        .execute(conn)?;
    Ok(())
}

/// The unused, unexpired link of `purpose` with this hash.
pub fn find_email_token(
    conn: &mut DbConnection,
    token_hash: &str,
    purpose: &str,
    now: NaiveDateTime,
) -> Result<Option<EmailToken>, StoreError> {
    Ok(email_tokens::table
        .filter(email_tokens::token_hash.eq(token_hash))
        .filter(email_tokens::purpose.eq(purpose))
        .filter(email_tokens::used_at.is_null())
        .filter(email_tokens::expires_at.gt(now))
        .select(EmailToken::as_select())
        .first(conn)
        .optional()?)
}

/// Spends a link: true for the one caller that marked it used while it was live.
pub fn spend_email_token(
    conn: &mut DbConnection,
    id: i64,
    now: NaiveDateTime,
) -> Result<bool, StoreError> {
    Ok(diesel::update(
        email_tokens::table
            .filter(email_tokens::id.eq(id))
            .filter(email_tokens::used_at.is_null())
            .filter(email_tokens::expires_at.gt(now)),
    )
    .set(email_tokens::used_at.eq(now))
    .execute(conn)?
        == 1)
}

/// Spends every other live link of `purpose` for `user_id` (a reset done: older links die).
pub fn spend_user_email_tokens(
    conn: &mut DbConnection,
    user_id: i64,
    purpose: &str,
    now: NaiveDateTime,
) -> Result<usize, StoreError> {
    Ok(diesel::update(
        email_tokens::table
            .filter(email_tokens::user_id.eq(user_id))
            .filter(email_tokens::purpose.eq(purpose))
            .filter(email_tokens::used_at.is_null()),
    )
    .set(email_tokens::used_at.eq(now))
    .execute(conn)?)
}

/// Deletes links that expired before `now`.
pub fn delete_expired_email_tokens(
    conn: &mut DbConnection,
    now: NaiveDateTime,
) -> Result<usize, StoreError> {
    Ok(
        diesel::delete(email_tokens::table.filter(email_tokens::expires_at.le(now)))
            .execute(conn)?,
    )
}
