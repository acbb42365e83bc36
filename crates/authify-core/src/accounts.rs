//! User creation and disabling by name, for tests and set-up. Sign-up and sign-in are steps of
//! the sign-in engine ([`crate::authn`]); administrators use [`crate::manage::users`].

use authify_domain::{Email, Name, Password};
use authify_store::models::{NewUser, User};
use authify_store::{StoreError, users};
use chrono::{DateTime, Utc};

use crate::error::AdminError;
use crate::{Db, PasswordHasher, db_time, random};

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
pub async fn set_disabled(
    db: &Db,
    email: &str,
    disabled: bool,
    now: DateTime<Utc>,
) -> Result<(), AdminError> {
    let email = Email::parse(email).map_err(|e| AdminError::Invalid(e.to_string()))?;
    db.run(move |conn| {
        let user = users::find_user_by_email(conn, email.as_str())?
            .ok_or_else(|| AdminError::NotFound(format!("no user with e-mail {email}")))?;
        users::update_user_disabled(conn, user.id, disabled)?;
        if disabled {
            crate::sessions::end_all(conn, &user, None, crate::db_time(now))?;
        }
        Ok(())
    })
    .await
}
