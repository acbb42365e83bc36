//! Registered applications and their exact-match callbacks.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::models::Application;
use crate::schema::{application_callbacks, applications};
use crate::{DbConnection, StoreError};

/// One callback to register: the URL as given and its exact-match key.
#[derive(Debug, Clone)]
pub struct NewCallback {
    /// The URL as registered.
    pub url: String,
    /// `scheme://host:port/path`.
    pub match_key: String,
}

/// How an application signs in and out (see [`Application`]).
#[derive(Debug, Clone, PartialEq, Eq, AsChangeset)]
#[diesel(table_name = applications, treat_none_as_null = true)]
pub struct AppOptions {
    /// `confidential`, `public` or `service`.
    pub client_type: String,
    /// No consent page.
    pub first_party: bool,
    /// `ES256`, `ES384` or `ES512`.
    pub algorithm: String,
    /// Back-channel logout receiver.
    pub backchannel_logout_uri: Option<String>,
    /// RP-initiated logout destination.
    pub post_logout_redirect_uri: Option<String>,
}

/// Inserts an application with its callbacks, in one transaction. A duplicate app id or a callback
/// already registered (to any app) is [`StoreError::Conflict`] and nothing is written.
pub fn insert_application(
    conn: &mut DbConnection,
    app_id: &str,
    name: &str,
    secret_hash: &str,
    options: &AppOptions,
    callbacks: &[NewCallback],
    now: NaiveDateTime,
) -> Result<Application, StoreError> {
    conn.transaction(|conn| {
        let id: i64 = diesel::insert_into(applications::table)
            .values((
                applications::app_id.eq(app_id),
                applications::name.eq(name),
                applications::secret_hash.eq(secret_hash),
                applications::created_at.eq(now),
                applications::client_type.eq(&options.client_type),
                applications::first_party.eq(options.first_party),
                applications::algorithm.eq(&options.algorithm),
                applications::backchannel_logout_uri.eq(&options.backchannel_logout_uri),
                applications::post_logout_redirect_uri.eq(&options.post_logout_redirect_uri),
            ))
            .returning(applications::id)
            .get_result(conn)?;
        for cb in callbacks {
            diesel::insert_into(application_callbacks::table)
                .values((
                    application_callbacks::application_id.eq(id),
                    application_callbacks::url.eq(&cb.url),
                    application_callbacks::match_key.eq(&cb.match_key),
                ))
                .execute(conn)?;
        }
        Ok(applications::table
            .find(id)
            .select(Application::as_select())
            .first(conn)?)
    })
}

/// The application that registered a callback with this exact-match key.
pub fn find_application_by_callback(
    conn: &mut DbConnection,
    match_key: &str,
) -> Result<Option<Application>, StoreError> {
    Ok(crate::on_backend!(conn, |c| application_callbacks::table
        .inner_join(applications::table)
        .filter(application_callbacks::match_key.eq(match_key))
        .select(Application::as_select())
        .first(c)
        .optional())?)
}

/// Every application with its callback URLs, by name. Two queries.
pub fn list_applications(
    conn: &mut DbConnection,
) -> Result<Vec<(Application, Vec<String>)>, StoreError> {
    let apps: Vec<Application> = applications::table
        .order(applications::name.asc())
        .select(Application::as_select())
        .load(conn)?;
    let callbacks: Vec<(i64, String)> = application_callbacks::table
        .order(application_callbacks::id.asc())
        .select((
            application_callbacks::application_id,
            application_callbacks::url,
        ))
        .load(conn)?;
    Ok(apps
        .into_iter()
        .map(|app| {
            let urls = callbacks
                .iter()
                .filter(|(id, _)| *id == app.id)
                .map(|(_, u)| u.clone())
                .collect();
            (app, urls)
        })
        .collect())
}

/// The application with this public app id.
pub fn find_application(
    conn: &mut DbConnection,
    app_id: &str,
) -> Result<Option<Application>, StoreError> {
    Ok(crate::on_backend!(conn, |c| applications::table
        .filter(applications::app_id.eq(app_id))
        .select(Application::as_select())
        .first(c)
        .optional())?)
}

/// The callback URLs of one application, in registration order.
pub fn list_callbacks(
    conn: &mut DbConnection,
    application_id: i64,
) -> Result<Vec<String>, StoreError> {
    Ok(crate::on_backend!(conn, |c| application_callbacks::table
        .filter(application_callbacks::application_id.eq(application_id))
        .order(application_callbacks::id.asc())
        .select(application_callbacks::url)
        .load(c))?)
}

/// Renames an application and, when given, replaces its callbacks, in one transaction. A callback
/// registered to another app is [`StoreError::Conflict`] and nothing changes.
pub fn update_application(
    conn: &mut DbConnection,
    id: i64,
    name: &str,
    callbacks: Option<&[NewCallback]>,
) -> Result<(), StoreError> {
    conn.transaction(|conn| {
        diesel::update(applications::table.find(id))
            .set(applications::name.eq(name))
            .execute(conn)?;
        if let Some(callbacks) = callbacks {
            diesel::delete(
                application_callbacks::table.filter(application_callbacks::application_id.eq(id)),
            )
            .execute(conn)?;
            for cb in callbacks {
                diesel::insert_into(application_callbacks::table)
                    .values((
                        application_callbacks::application_id.eq(id),
                        application_callbacks::url.eq(&cb.url),
                        application_callbacks::match_key.eq(&cb.match_key),
                    ))
                    .execute(conn)?;
            }
        }
        Ok(())
    })
}

/// Replaces how the application signs in and out.
pub fn update_application_options(
    conn: &mut DbConnection,
    id: i64,
    options: &AppOptions,
) -> Result<(), StoreError> {
    diesel::update(applications::table.find(id))
        .set(options)
        .execute(conn)?;
    Ok(())
}

/// Replaces the secret hash.
pub fn update_application_secret(
    conn: &mut DbConnection,
    id: i64,
    secret_hash: &str,
) -> Result<(), StoreError> {
    diesel::update(applications::table.find(id))
        .set(applications::secret_hash.eq(secret_hash))
        .execute(conn)?;
    Ok(())
}

/// Deletes an application and its callbacks.
pub fn delete_application(conn: &mut DbConnection, id: i64) -> Result<(), StoreError> {
    conn.transaction(|conn| {
        diesel::delete(
            application_callbacks::table.filter(application_callbacks::application_id.eq(id)),
        )
        .execute(conn)?;
        diesel::delete(applications::table.find(id)).execute(conn)?;
        Ok(())
    })
}
