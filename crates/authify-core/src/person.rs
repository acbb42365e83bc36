//! The user as the layers above the core see them: the row without its password hash. Web
//! handlers and the [`crate::manage::Actor`] hold a [`Person`]; only the core reads the hash,
//! by id, when it checks a password.

use authify_store::models::User;
use chrono::NaiveDateTime;

/// A user, without secrets.
#[derive(Clone, PartialEq, Eq)]
pub struct Person {
    /// Internal id; never leaves the server.
    pub id: i64,
    /// Stable public id (`sub`, `uid`).
    pub public_id: String,
    /// Normalized e-mail address.
    pub email: String,
    /// Display name.
    pub name: String,
    /// The account has a password (not only an upstream provider or a passkey).
    pub has_password: bool,
    /// Global administrator.
    pub is_admin: bool,
    /// Disabled users cannot sign in.
    pub disabled: bool,
    /// Creation time.
    pub created_at: NaiveDateTime,
    /// The user followed a link mailed to `email`.
    pub email_verified: bool,
}

impl From<User> for Person {
    fn from(u: User) -> Self {
        Person {
            has_password: !u.password_hash.is_empty(),
            id: u.id,
            public_id: u.public_id,
            email: u.email,
            name: u.name,
            is_admin: u.is_admin,
            disabled: u.disabled,
            created_at: u.created_at,
            email_verified: u.email_verified,
        }
    }
}

impl std::fmt::Debug for Person {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Person")
            .field("public_id", &self.public_id)
            .field("email", &self.email)
            .field("is_admin", &self.is_admin)
            .field("disabled", &self.disabled)
            .finish_non_exhaustive()
    }
}

/// Who a record is about or by: what the audit log, mails and session ends read of a user,
/// whether the core holds the row or the web layer's [`Person`].
pub trait Who {
    /// Internal id.
    fn id(&self) -> i64;
    /// Stable public id.
    fn public_id(&self) -> &str;
    /// E-mail address.
    fn email(&self) -> &str;
    /// Display name.
    fn name(&self) -> &str;
}

impl Who for User {
    fn id(&self) -> i64 {
        self.id
    }
    fn public_id(&self) -> &str {
        &self.public_id
    }
    fn email(&self) -> &str {
        &self.email
    }
    fn name(&self) -> &str {
        &self.name
    }
}

impl Who for Person {
    fn id(&self) -> i64 {
        self.id
    }
    fn public_id(&self) -> &str {
        &self.public_id
    }
    fn email(&self) -> &str {
        &self.email
    }
    fn name(&self) -> &str {
        &self.name
    }
}
