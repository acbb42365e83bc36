//! Consent remembered per user and application, as the account page lists it. Revoking a grant
//! also ends the application's refresh tokens for the user: what was agreed to can be taken back.

use authify_store::{StoreError, apps, oauth, transaction};
use chrono::{DateTime, Utc};

use crate::{Db, db_time};

/// A grant as the account page shows it.
#[derive(Debug, Clone, serde::Serialize)]
pub struct GrantInfo {
    /// The application's id (the revoke form names it).
    pub app_id: String,
    /// Its name.
    pub app_name: String,
    /// Granted scopes.
    pub scopes: Vec<String>,
    /// When (RFC 3339).
    pub granted: String,
}

/// The grants of `user`.
pub async fn list(db: &Db, user: &crate::Person) -> Result<Vec<GrantInfo>, StoreError> {
    let user_id = user.id;
    db.run(move |conn| {
        Ok(oauth::list_grants(conn, user_id)?
            .into_iter()
            .map(|(app, scope, at)| GrantInfo {
                app_id: app.app_id,
                app_name: app.name,
                scopes: scope.split_whitespace().map(str::to_owned).collect(),
                granted: at
                    .and_utc()
                    .to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
            })
            .collect())
    })
    .await
}

/// Revokes `user`'s grant to `app_id` and the app's refresh tokens for them; returns whether
/// there was a grant.
pub async fn revoke(
    db: &Db,
    user: &crate::Person,
    app_id: &str,
    now: DateTime<Utc>,
) -> Result<bool, StoreError> {
    let (user, app_id) = (user.clone(), app_id.to_owned());
    db.run(move |conn| {
        transaction(conn, |conn| {
            let Some(app) = apps::find_application(conn, &app_id)? else {
                return Ok(false);
            };
            let had = oauth::delete_grant(conn, user.id, app.id)?;
            let until = db_time(now + chrono::Duration::days(super::REFRESH_TTL_DAYS));
            for family in oauth::delete_refresh_tokens(conn, user.id, Some(app.id))? {
                oauth::revoke(conn, &format!("family:{family}"), until)?;
            }
            crate::manage::audit::Entry::new("grant.revoke", db_time(now))
                .by_user(&user)
                .target("application", &app.app_id, &app.name)
                .record(conn)?;
            Ok(had)
        })
    })
    .await
}
