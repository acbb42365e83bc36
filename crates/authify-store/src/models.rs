//! Row types. Times are naive UTC, truncated to microseconds (PostgreSQL's precision) by callers.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::schema::*;

/// A user account.
#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable, Identifiable)]
#[diesel(table_name = users)]
pub struct User {
    /// Internal id; never leaves the server.
    pub id: i64,
    /// Stable public id (`sub`, `uid`).
    pub public_id: String,
    /// Normalized e-mail address.
    pub email: String,
    /// Display name.
    pub name: String,
    /// PHC-format argon2id hash.
    pub password_hash: String,
    /// Global administrator (`admin_access`).
    pub is_admin: bool,
    /// Disabled users cannot sign in.
    pub disabled: bool,
    /// Creation time.
    pub created_at: NaiveDateTime,
}

/// A new user.
#[derive(Debug, Insertable)]
#[diesel(table_name = users)]
pub struct NewUser<'a> {
    /// See [`User`].
    pub public_id: &'a str,
    /// See [`User`].
    pub email: &'a str,
    /// See [`User`].
    pub name: &'a str,
    /// See [`User`].
    pub password_hash: &'a str,
    /// See [`User`].
    pub is_admin: bool,
    /// See [`User`].
    pub disabled: bool,
    /// See [`User`].
    pub created_at: NaiveDateTime,
}

/// An organization.
#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable, Identifiable)]
#[diesel(table_name = organizations)]
pub struct Organization {
    /// Internal id.
    pub id: i64,
    /// Stable public id (`oid`).
    pub public_id: String,
    /// Unique name.
    pub name: String,
    /// Creation time.
    pub created_at: NaiveDateTime,
}

/// A group inside an organization.
#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable, Identifiable)]
#[diesel(table_name = groups)]
pub struct Group {
    /// Internal id.
    pub id: i64,
    /// Stable public id (`gid`).
    pub public_id: String,
    /// Owning organization.
    pub organization_id: i64,
    /// Name, unique within the organization.
    pub name: String,
    /// Creation time.
    pub created_at: NaiveDateTime,
}

/// A registered relying application.
#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable, Identifiable)]
#[diesel(table_name = applications)]
pub struct Application {
    /// Internal id.
    pub id: i64,
    /// Public app id: the `aud` of its tokens.
    pub app_id: String,
    /// Display name.
    pub name: String,
    /// argon2id hash of the app secret.
    pub secret_hash: String,
    /// Creation time.
    pub created_at: NaiveDateTime,
}

/// A server-side session.
#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable, Identifiable)]
#[diesel(table_name = sessions)]
pub struct Session {
    /// Internal id.
    pub id: i64,
    /// SHA-256 (hex) of the cookie token.
    pub token_hash: String,
    /// Whose session.
    pub user_id: i64,
    /// Creation time.
    pub created_at: NaiveDateTime,
    /// Absolute expiry.
    pub expires_at: NaiveDateTime,
}
