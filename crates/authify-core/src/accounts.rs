//! Sign-up, sign-in and user creation.

use authify_domain::{Email, Name, Password};
use authify_store::models::{NewUser, User};
use authify_store::{StoreError, users};
use chrono::{DateTime, Utc};

use crate::error::AdminError;
use crate::passwords::HashError;
use crate::{Db, PasswordHasher, db_time, random};

/// A sign-up request, already parsed.
#[derive(Debug)]
pub struct SignUp {
    /// E-mail address.
    pub email: Email,
    /// Display name.
    pub name: Name,
    /// Chosen password.
    pub password: Password,
}

/// Why sign-up failed.
#[derive(Debug, thiserror::Error)]
pub enum SignUpError {
    /// The e-mail address has an account.
    #[error("an account with this e-mail address already exists")]
    EmailTaken,
    /// The hashing pool is saturated.
    #[error("too many requests in progress; try again in a moment")]
    Busy,
    /// Storage or crypto failure.
    #[error("internal error: {0}")]
    Internal(String),
}

/// Why sign-in failed. Unknown e-mail and wrong password are one variant on purpose.
#[derive(Debug, thiserror::Error)]
pub enum SignInError {
    /// Unknown e-mail or wrong password: indistinguishable by design.
    #[error("incorrect e-mail address or password")]
    InvalidCredentials,
    /// Right password, disabled account (said only after the password checked out).
    #[error("this account is disabled")]
    Disabled,
    /// The hashing pool is saturated.
    #[error("too many sign-ins in progress; try again in a moment")]
    Busy,
    /// Storage or crypto failure.
    #[error("internal error: {0}")]
    Internal(String),
}

macro_rules! internal_from {
    ($t:ty) => {
        impl From<StoreError> for $t {
            fn from(e: StoreError) -> Self {
                Self::Internal(e.to_string())
            }
        }
        impl From<HashError> for $t {
            fn from(e: HashError) -> Self {
                match e {
                    HashError::Busy => Self::Busy,
                    other => Self::Internal(other.to_string()),
                }
            }
        }
    };
}
internal_from!(SignUpError);
internal_from!(SignInError);

/// Creates an account. The password is hashed before the e-mail is checked, so a taken address
/// costs the same time as a free one.
pub async fn sign_up(
    db: &Db,
    hasher: &PasswordHasher,
    input: SignUp,
    now: DateTime<Utc>,
) -> Result<User, SignUpError> {
    let hash = hasher.hash(input.password.expose().to_owned()).await?;
    let public_id = random::public_id().map_err(|e| SignUpError::Internal(e.to_string()))?;
    let created_at = db_time(now);
    db.run(move |conn| {
        let new = NewUser {
            public_id: &public_id,
            email: input.email.as_str(),
            name: input.name.as_str(),
            password_hash: &hash,
            is_admin: false,
            disabled: false,
            created_at,
        };
        users::insert_user(conn, &new).map_err(|e| match e {
            StoreError::Conflict(_) => SignUpError::EmailTaken,
            other => other.into(),
        })
    })
    .await
}

/// Checks an e-mail and password. Malformed e-mail, unknown e-mail and wrong password all cost
/// one argon2 verification and give [`SignInError::InvalidCredentials`].
pub async fn sign_in(
    db: &Db,
    hasher: &PasswordHasher,
    email: &str,
    password: Password,
) -> Result<User, SignInError> {
    let user = match Email::parse(email) {
        Ok(email) => {
            db.run(move |conn| users::find_user_by_email(conn, email.as_str()))
                .await?
        }
        Err(_) => None,
    };
    // SECURITY: same work and same answer for unknown users (dummy hash) and wrong passwords.
    let matched = hasher
        .verify(
            password.expose().to_owned(),
            user.as_ref().map(|u| u.password_hash.clone()),
        )
        .await?;
    match user {
        Some(user) if matched && user.disabled => Err(SignInError::Disabled),
        Some(user) if matched => Ok(user),
        _ => Err(SignInError::InvalidCredentials),
    }
}

/// Creates a user from the command line or the admin console.
pub async fn create_user(
    db: &Db,
    hasher: &PasswordHasher,
    email: &str,
    name: Option<&str>,
    password: &str,
    admin: bool,
    now: DateTime<Utc>,
) -> Result<User, AdminError> {
    let email = Email::parse(email).map_err(|e| AdminError::Invalid(format!("{email:?}: {e}")))?;
    let name = match name {
        Some(n) => Name::parse(n, "the name").map_err(|e| AdminError::Invalid(e.to_string()))?,
        None => Name::parse(
            email.as_str().split('@').next().unwrap_or("user"),
            "the name",
        )
        .map_err(|e| AdminError::Invalid(e.to_string()))?,
    };
    let password = Password::new(password).map_err(|e| AdminError::Invalid(e.to_string()))?;
    let hash = hasher.hash(password.expose().to_owned()).await?;
    let public_id = random::public_id()?;
    let created_at = db_time(now);
    db.run(move |conn| {
        let new = NewUser {
            public_id: &public_id,
            email: email.as_str(),
            name: name.as_str(),
            password_hash: &hash,
            is_admin: admin,
            disabled: false,
            created_at,
        };
        users::insert_user(conn, &new).map_err(|e| match e {
            StoreError::Conflict(_) => {
                AdminError::Conflict(format!("a user with e-mail {} already exists", email))
            }
            other => other.into(),
        })
    })
    .await
}

/// Enables or disables a user; disabling ends all their sessions.
pub async fn set_disabled(db: &Db, email: &str, disabled: bool) -> Result<(), AdminError> {
    let email = Email::parse(email).map_err(|e| AdminError::Invalid(e.to_string()))?;
    db.run(move |conn| {
        let user = users::find_user_by_email(conn, email.as_str())?
            .ok_or_else(|| AdminError::NotFound(format!("no user with e-mail {email}")))?;
        users::update_user_disabled(conn, user.id, disabled)?;
        if disabled {
            authify_store::sessions::delete_user_sessions(conn, user.id)?;
        }
        Ok(())
    })
    .await
}
