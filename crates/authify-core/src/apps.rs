//! Registered applications: creation with a secret shown once (tests and set-up; administrators
//! use [`crate::manage::apps`]). Callbacks are resolved by the sign-in engine ([`crate::authn`]).

use authify_domain::{CallbackUrl, Name};
use authify_store::StoreError;
use authify_store::apps::{self, NewCallback};
use authify_store::models::Application;
use chrono::{DateTime, Utc};

use crate::error::AdminError;
use crate::{Db, db_time, random};

/// A new application and its secret, which is stored only as a hash and shown this once.
#[derive(Debug)]
pub struct CreatedApp {
    /// The application.
    pub app: Application,
    /// The secret (256 random bits, base64url).
    pub secret: String,
}

/// Registers an application with its callbacks. Each callback must pass the same checks as a
/// login callback, and may belong to one application only.
pub async fn create(
    db: &Db,
    name: &str,
    callbacks: &[String],
    now: DateTime<Utc>,
) -> Result<CreatedApp, AdminError> {
    let name = Name::parse(name, "the application name")
        .map_err(|e| AdminError::Invalid(e.to_string()))?;
    if callbacks.is_empty() {
        return Err(AdminError::Invalid(
            "an application needs at least one --callback URL".into(),
        ));
    }
    let parsed = parse_callbacks(callbacks)?;
    let app_id = format!("app_{}", random::token::<12>()?);
    let (secret, secret_hash) = new_secret()?;
    let created = db_time(now);
    let app = db
        .run(move |conn| {
            apps::insert_application(conn, &app_id, name.as_str(), &secret_hash, &parsed, created)
                .map_err(|e| match e {
                    StoreError::Conflict(what) => AdminError::Conflict(format!(
                        "a callback is already registered to another application ({what})"
                    )),
                    other => other.into(),
                })
        })
        .await?;
    Ok(CreatedApp { app, secret })
}

/// Parses callback URLs with the same checks as a login callback.
pub(crate) fn parse_callbacks(callbacks: &[String]) -> Result<Vec<NewCallback>, AdminError> {
    let mut parsed = Vec::new();
    for raw in callbacks {
        let cb = CallbackUrl::parse(raw).map_err(|e| AdminError::Invalid(format!("{raw}: {e}")))?;
        parsed.push(NewCallback {
            url: cb.as_str().to_owned(),
            match_key: cb.match_key().to_owned(),
        });
    }
    Ok(parsed)
}

/// A fresh app secret and its stored form.
pub(crate) fn new_secret() -> Result<(String, String), AdminError> {
    let secret = random::token::<32>()?;
    // A 256-bit random secret needs no slow hash; SHA-256 keeps verification cheap.
    let hash = format!("sha256:{}", crate::sessions::token_hash(&secret));
    Ok((secret, hash))
}
