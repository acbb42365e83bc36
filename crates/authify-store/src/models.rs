//! Row types. Times are naive UTC, truncated to microseconds (PostgreSQL's precision) by callers.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::schema::*;

/// A user account. `Debug` leaves out the password hash.
#[derive(Clone, PartialEq, Eq, Queryable, Selectable, Identifiable)]
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

// SECURITY: secrets never reach logs; the hash is not printed.
impl std::fmt::Debug for User {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("User")
            .field("public_id", &self.public_id)
            .field("email", &self.email)
            .field("is_admin", &self.is_admin)
            .field("disabled", &self.disabled)
            .finish_non_exhaustive()
    }
}

/// A new user.
#[derive(Insertable)]
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
    /// How the user signed in: RFC 8176 `amr` values, space-separated.
    pub amr: String,
}

/// A sign-in attempt in progress. The cookie token itself is never stored.
#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable, Identifiable)]
#[diesel(table_name = auth_flows)]
pub struct AuthFlow {
    /// Internal id.
    pub id: i64,
    /// SHA-256 (hex) of the cookie token.
    pub token_hash: String,
    /// Where the attempt returns, as JSON (owned by the core's `authn`).
    pub return_to: String,
    /// The user, once a factor identified them.
    pub user_id: Option<i64>,
    /// `amr` values of the factors satisfied so far, space-separated.
    pub amr: String,
    /// Factors still required, space-separated.
    pub pending: String,
    /// Creation time.
    pub created_at: NaiveDateTime,
    /// Absolute expiry.
    pub expires_at: NaiveDateTime,
}

/// A personal API key. The secret itself is never stored.
#[derive(Clone, PartialEq, Eq, Queryable, Selectable, Identifiable)]
#[diesel(table_name = api_keys)]
pub struct ApiKey {
    /// Internal id.
    pub id: i64,
    /// Public identifier, sent with the secret to `POST /jwt/token`.
    pub access_key: String,
    /// SHA-256 (hex) of the secret.
    pub secret_hash: String,
    /// Owner: the key acts with their rights.
    pub user_id: i64,
    /// Label chosen by the owner.
    pub name: String,
    /// Tokens from this key may only read.
    pub read_only: bool,
    /// Creation time.
    pub created_at: NaiveDateTime,
    /// Optional expiry.
    pub expires_at: Option<NaiveDateTime>,
    /// Set when revoked; a revoked key never works again.
    pub revoked_at: Option<NaiveDateTime>,
    /// Last exchange for a token.
    pub last_used_at: Option<NaiveDateTime>,
}

impl std::fmt::Debug for ApiKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ApiKey")
            .field("access_key", &self.access_key)
            .field("user_id", &self.user_id)
            .field("read_only", &self.read_only)
            .finish_non_exhaustive()
    }
}

/// One audit log entry. Rows are append-only (database triggers refuse updates and deletes).
#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable, Insertable)]
#[diesel(table_name = audit_events)]
pub struct AuditEvent {
    /// Sequence number.
    #[diesel(skip_insertion)]
    pub id: i64,
    /// When.
    pub occurred_at: NaiveDateTime,
    /// What, e.g. `signin` or `organization.create`.
    pub action: String,
    /// `success` or `failure`.
    pub outcome: String,
    /// Public id of who did it.
    pub actor_id: Option<String>,
    /// E-mail of who did it (at the time).
    pub actor: Option<String>,
    /// Kind of target: `user`, `organization`, `group`, `application`, `api_key`, `signing_key`.
    pub target_type: Option<String>,
    /// Public id of the target.
    pub target_id: Option<String>,
    /// Readable name of the target (at the time).
    pub target: Option<String>,
    /// Public id of the organization concerned, for organization admins' view.
    pub organization_id: Option<String>,
    /// Client address.
    pub ip: Option<String>,
    /// JSON: before/after values and other particulars.
    pub details: Option<String>,
}
