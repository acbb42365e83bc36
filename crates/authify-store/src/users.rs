//! Users.

use diesel::prelude::*;

use crate::models::{NewUser, User};
use crate::schema::users;
use crate::{DbConnection, StoreError};

/// Inserts a user; a duplicate e-mail is [`StoreError::Conflict`].
pub fn insert_user(conn: &mut DbConnection, new: &NewUser<'_>) -> Result<User, StoreError> {
    let id: i64 = diesel::insert_into(users::table)
        .values(new)
        .returning(users::id)
        .get_result(conn)?;
    get_user(conn, id)
}

/// The user with internal id `id`.
pub fn get_user(conn: &mut DbConnection, id: i64) -> Result<User, StoreError> {
    users::table
        .find(id)
        .select(User::as_select())
        .first(conn)
        .optional()?
        .ok_or(StoreError::NotFound("user"))
}

/// The user with this normalized e-mail address.
pub fn find_user_by_email(
    conn: &mut DbConnection,
    email: &str,
) -> Result<Option<User>, StoreError> {
    Ok(users::table
        .filter(users::email.eq(email))
        .select(User::as_select())
        .first(conn)
        .optional()?)
}

/// Enables or disables a user.
pub fn update_user_disabled(
    conn: &mut DbConnection,
    id: i64,
    disabled: bool,
) -> Result<(), StoreError> {
    let n = diesel::update(users::table.find(id))
        .set(users::disabled.eq(disabled))
        .execute(conn)?;
    if n == 0 {
        return Err(StoreError::NotFound("user"));
    }
    Ok(())
}

/// Number of users.
pub fn count_users(conn: &mut DbConnection) -> Result<i64, StoreError> {
    Ok(users::table.count().get_result(conn)?)
}
