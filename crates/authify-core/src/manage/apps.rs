//! Registered applications, managed by global admins: create (secret shown once), edit name and
//! callbacks, rotate the secret (shown once), delete.

use authify_domain::{Name, OutboundPolicy};
use authify_store::models::Application;
use authify_store::{DbConnection, StoreError, apps as store, transaction};
use chrono::{DateTime, NaiveDateTime, Utc};
use serde_json::json;

use super::actor::Actor;
use super::audit::Entry;
use super::views::AppInfo;
use crate::apps::{AppOptions, check_callbacks, new_secret, parse_callbacks, secret_for};
use crate::error::AdminError;
use crate::{Db, db_time, random};

fn info(conn: &mut DbConnection, app: &Application) -> Result<AppInfo, AdminError> {
    let callbacks = store::list_callbacks(conn, app.id)?;
    Ok(AppInfo::new(app.clone(), callbacks))
}

fn find(conn: &mut DbConnection, app_id: &str) -> Result<Application, AdminError> {
    store::find_application(conn, app_id)?
        .ok_or_else(|| AdminError::NotFound(format!("no application {app_id:?}")))
}

fn entry(action: &str, actor: &Actor, app: &Application, now: NaiveDateTime) -> Entry {
    actor
        .entry(action, now)
        .target("application", &app.app_id, &app.name)
}

fn parse_name(name: &str) -> Result<Name, AdminError> {
    Name::parse(name, "the application name").map_err(|e| AdminError::Invalid(e.to_string()))
}

fn callback_taken(e: StoreError) -> AdminError {
    match e {
        StoreError::Conflict(_) => {
            AdminError::Conflict("a callback is already registered to another application".into())
        }
        other => other.into(),
    }
}

/// Every application.
pub async fn list(db: &Db, actor: &Actor) -> Result<Vec<AppInfo>, AdminError> {
    actor.global()?;
    db.run(|conn| {
        Ok(store::list_applications(conn)?
            .into_iter()
            .map(|(app, callbacks)| AppInfo::new(app, callbacks))
            .collect())
    })
    .await
}

/// One application.
pub async fn get(db: &Db, actor: &Actor, app_id: &str) -> Result<AppInfo, AdminError> {
    actor.global()?;
    let app_id = app_id.to_owned();
    db.run(move |conn| {
        let app = find(conn, &app_id)?;
        info(conn, &app)
    })
    .await
}

/// Registers an application; returns it and its secret (shown once; none for a public app).
/// Each callback must pass the same checks as a login callback, and may belong to one
/// application only; a back-channel logout URI must also pass `outbound`.
pub async fn create(
    db: &Db,
    actor: &Actor,
    name: &str,
    callbacks: &[String],
    options: &AppOptions,
    outbound: &OutboundPolicy,
    now: DateTime<Utc>,
) -> Result<(AppInfo, Option<String>), AdminError> {
    actor.can_write()?;
    actor.global()?;
    let name = parse_name(name)?;
    let callbacks = check_callbacks(options, callbacks)?;
    let stored = options.to_store(outbound)?;
    let app_id = format!("app_{}", random::token::<12>()?);
    let (secret, hash) = secret_for(options)?;
    let (actor, now) = (actor.clone(), db_time(now));
    let info = db
        .run(move |conn| {
            transaction(conn, |conn| {
                let app = store::insert_application(
                    conn,
                    &app_id,
                    name.as_str(),
                    &hash,
                    &stored,
                    &callbacks,
                    now,
                )
                .map_err(callback_taken)?;
                entry("application.create", &actor, &app, now).record(conn)?;
                info(conn, &app)
            })
        })
        .await?;
    Ok((info, secret))
}

/// Renames an application, replaces its callbacks and/or its options (all or nothing).
#[allow(clippy::too_many_arguments)]
pub async fn update(
    db: &Db,
    actor: &Actor,
    app_id: &str,
    name: Option<&str>,
    callbacks: Option<&[String]>,
    options: Option<&AppOptions>,
    outbound: &OutboundPolicy,
    now: DateTime<Utc>,
) -> Result<AppInfo, AdminError> {
    actor.can_write()?;
    actor.global()?;
    let name = name.map(parse_name).transpose()?;
    let callbacks = match callbacks {
        Some([]) => {
            return Err(AdminError::Invalid(
                "an application needs at least one callback URL".into(),
            ));
        }
        Some(c) => Some(parse_callbacks(c)?),
        None => None,
    };
    let options = options.map(|o| o.to_store(outbound)).transpose()?;
    let (actor, app_id, now) = (actor.clone(), app_id.to_owned(), db_time(now));
    db.run(move |conn| {
        transaction(conn, |conn| {
            let app = find(conn, &app_id)?;
            let before = info(conn, &app)?;
            let new_name = name
                .as_ref()
                .map_or(app.name.as_str(), |n| n.as_str())
                .to_owned();
            store::update_application(conn, app.id, &new_name, callbacks.as_deref())
                .map_err(callback_taken)?;
            if let Some(o) = &options {
                store::update_application_options(conn, app.id, o)?;
            }
            let updated = find(conn, &app_id)?;
            let after = info(conn, &updated)?;
            entry("application.update", &actor, &app, now)
                .details(json!({ "before": before, "after": after }))
                .record(conn)?;
            Ok(after)
        })
    })
    .await
}

/// Replaces the application's secret; returns the new one (shown once).
pub async fn rotate_secret(
    db: &Db,
    actor: &Actor,
    app_id: &str,
    now: DateTime<Utc>,
) -> Result<String, AdminError> {
    actor.can_write()?;
    actor.global()?;
    let (secret, hash) = new_secret()?;
    let (actor, app_id, now) = (actor.clone(), app_id.to_owned(), db_time(now));
    db.run(move |conn| {
        transaction(conn, |conn| {
            let app = find(conn, &app_id)?;
            if crate::oidc::ClientType::of(&app) == crate::oidc::ClientType::Public {
                return Err(AdminError::Invalid(
                    "a public application has no secret (it uses PKCE)".into(),
                ));
            }
            store::update_application_secret(conn, app.id, &hash)?;
            entry("application.rotate_secret", &actor, &app, now).record(conn)?;
            Ok::<_, AdminError>(())
        })
    })
    .await?;
    Ok(secret)
}

/// Deletes an application: its callbacks stop working at once.
pub async fn delete(
    db: &Db,
    actor: &Actor,
    app_id: &str,
    now: DateTime<Utc>,
) -> Result<(), AdminError> {
    actor.can_write()?;
    actor.global()?;
    let (actor, app_id, now) = (actor.clone(), app_id.to_owned(), db_time(now));
    db.run(move |conn| {
        transaction(conn, |conn| {
            let app = find(conn, &app_id)?;
            store::delete_application(conn, app.id)?;
            entry("application.delete", &actor, &app, now).record(conn)?;
            Ok(())
        })
    })
    .await
}

/// Whether the application requires a second factor at sign-in.
pub async fn requires_mfa(db: &Db, actor: &Actor, app_id: &str) -> Result<bool, AdminError> {
    actor.global()?;
    let app_id = app_id.to_owned();
    db.run(move |conn| Ok(authify_store::factors::app_requires_mfa(conn, &app_id)?))
        .await
}

/// Requires (or stops requiring) a second factor for sign-ins to the application; global
/// admins only.
pub async fn set_require_mfa(
    db: &Db,
    actor: &Actor,
    app_id: &str,
    value: bool,
    now: DateTime<Utc>,
) -> Result<(), AdminError> {
    actor.can_write()?;
    actor.global()?;
    let (actor, app_id, now) = (actor.clone(), app_id.to_owned(), db_time(now));
    db.run(move |conn| {
        transaction(conn, |conn| {
            let app = find(conn, &app_id)?;
            authify_store::factors::set_app_require_mfa(conn, &app.app_id, value)?;
            entry("application.require_mfa", &actor, &app, now)
                .details(serde_json::json!({ "require_mfa": value }))
                .record(conn)?;
            Ok(())
        })
    })
    .await
}
