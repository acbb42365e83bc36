//! OpenID Connect and OAuth rows: authorization codes, refresh tokens, revocations, remembered
//! consent, the apps each session signed in to, and the back-channel logout outbox. What the
//! rows mean belongs to `authify_core::oidc`; this module only reads and writes them.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::models::{Application, OAuthCode, OutboxEntry, RefreshToken};
use crate::schema::{
    applications, logout_outbox, oauth_codes, oauth_grants, oauth_refresh_tokens,
    oauth_revocations, session_apps, sessions,
};
use crate::{DbConnection, StoreError};

/// A code to record.
#[derive(Debug, Clone, Insertable)]
#[diesel(table_name = oauth_codes)]
pub struct NewCode<'a> {
    /// See [`OAuthCode`].
    pub code_hash: &'a str,
    /// See [`OAuthCode`].
    pub application_id: i64,
    /// See [`OAuthCode`].
    pub user_id: i64,
    /// See [`OAuthCode`].
    pub sid: &'a str,
    /// See [`OAuthCode`].
    pub redirect_uri: &'a str,
    /// See [`OAuthCode`].
    pub scope: &'a str,
    /// See [`OAuthCode`].
    pub nonce: Option<&'a str>,
    /// See [`OAuthCode`].
    pub code_challenge: Option<&'a str>,
    /// See [`OAuthCode`].
    pub auth_time: NaiveDateTime,
    /// See [`OAuthCode`].
    pub amr: &'a str,
    /// See [`OAuthCode`].
    pub legacy: bool,
    /// See [`OAuthCode`].
    pub family: &'a str,
    /// See [`OAuthCode`].
    pub created_at: NaiveDateTime,
    /// See [`OAuthCode`].
    pub expires_at: NaiveDateTime,
}

/// Records a code.
pub fn insert_code(conn: &mut DbConnection, code: &NewCode<'_>) -> Result<(), StoreError> {
    crate::on_backend!(conn, |c| diesel::insert_into(oauth_codes::table)
        .values(code)
        .execute(c))?;
    Ok(())
}

/// The code with this hash, redeemed or not, with its application.
pub fn find_code(
    conn: &mut DbConnection,
    code_hash: &str,
) -> Result<Option<(OAuthCode, Application)>, StoreError> {
    Ok(crate::on_backend!(conn, |c| oauth_codes::table
        .inner_join(applications::table)
        .filter(oauth_codes::code_hash.eq(code_hash))
        .select((OAuthCode::as_select(), Application::as_select()))
        .first(c)
        .optional())?)
}

/// Marks a code redeemed; false when it already was (a concurrent or repeated redemption).
pub fn redeem_code(
    conn: &mut DbConnection,
    id: i64,
    now: NaiveDateTime,
) -> Result<bool, StoreError> {
    let changed = crate::on_backend!(conn, |c| diesel::update(
        oauth_codes::table
            .filter(oauth_codes::id.eq(id))
            .filter(oauth_codes::redeemed_at.is_null())
    )
    .set(oauth_codes::redeemed_at.eq(now))
    .execute(c))?;
    Ok(changed == 1)
}

/// A refresh token to record.
#[derive(Debug, Clone, Insertable)]
#[diesel(table_name = oauth_refresh_tokens)]
pub struct NewRefreshToken<'a> {
    /// See [`RefreshToken`].
    pub token_hash: &'a str,
    /// See [`RefreshToken`].
    pub family: &'a str,
    /// See [`RefreshToken`].
    pub application_id: i64,
    /// See [`RefreshToken`].
    pub user_id: i64,
    /// See [`RefreshToken`].
    pub sid: &'a str,
    /// See [`RefreshToken`].
    pub scope: &'a str,
    /// See [`RefreshToken`].
    pub auth_time: NaiveDateTime,
    /// See [`RefreshToken`].
    pub amr: &'a str,
    /// See [`RefreshToken`].
    pub created_at: NaiveDateTime,
    /// See [`RefreshToken`].
    pub expires_at: NaiveDateTime,
}

/// Records a refresh token.
pub fn insert_refresh_token(
    conn: &mut DbConnection,
    token: &NewRefreshToken<'_>,
) -> Result<(), StoreError> {
    diesel::insert_into(oauth_refresh_tokens::table)
        .values(token)
        .execute(conn)?;
    Ok(())
}

/// The refresh token with this hash, used or not, with its application.
pub fn find_refresh_token(
    conn: &mut DbConnection,
    token_hash: &str,
) -> Result<Option<(RefreshToken, Application)>, StoreError> {
    Ok(oauth_refresh_tokens::table
        .inner_join(applications::table)
        .filter(oauth_refresh_tokens::token_hash.eq(token_hash))
        .select((RefreshToken::as_select(), Application::as_select()))
        .first(conn)
        .optional()?)
}

/// Marks a refresh token used (rotated); false when it already was.
pub fn use_refresh_token(
    conn: &mut DbConnection,
    id: i64,
    now: NaiveDateTime,
) -> Result<bool, StoreError> {
    let changed = diesel::update(
        oauth_refresh_tokens::table
            .filter(oauth_refresh_tokens::id.eq(id))
            .filter(oauth_refresh_tokens::used_at.is_null()),
    )
    .set(oauth_refresh_tokens::used_at.eq(now))
    .execute(conn)?;
    Ok(changed == 1)
}

/// Deletes the refresh tokens of `user_id` for one application (or all, with `None`); returns
/// their families.
pub fn delete_refresh_tokens(
    conn: &mut DbConnection,
    user_id: i64,
    application_id: Option<i64>,
) -> Result<Vec<String>, StoreError> {
    let mut q = oauth_refresh_tokens::table
        .filter(oauth_refresh_tokens::user_id.eq(user_id))
        .into_boxed();
    if let Some(app) = application_id {
        q = q.filter(oauth_refresh_tokens::application_id.eq(app));
    }
    let mut families: Vec<String> = q.select(oauth_refresh_tokens::family).load(conn)?;
    families.sort();
    families.dedup();
    let mut del = diesel::delete(oauth_refresh_tokens::table)
        .filter(oauth_refresh_tokens::user_id.eq(user_id))
        .into_boxed();
    if let Some(app) = application_id {
        del = del.filter(oauth_refresh_tokens::application_id.eq(app));
    }
    del.execute(conn)?;
    Ok(families)
}

/// Records a revocation (`jti:..` or `family:..`) kept until `expires_at`. Idempotent.
pub fn revoke(
    conn: &mut DbConnection,
    revoked: &str,
    expires_at: NaiveDateTime,
) -> Result<(), StoreError> {
    crate::on_backend!(conn, |c| diesel::insert_into(oauth_revocations::table)
        .values((
            oauth_revocations::revoked.eq(revoked),
            oauth_revocations::expires_at.eq(expires_at),
        ))
        .on_conflict_do_nothing()
        .execute(c))?;
    Ok(())
}

/// Whether any of `keys` is revoked.
pub fn any_revoked(conn: &mut DbConnection, keys: &[&str]) -> Result<bool, StoreError> {
    let n: i64 = oauth_revocations::table
        .filter(oauth_revocations::revoked.eq_any(keys))
        .count()
        .get_result(conn)?;
    // (eq_any binds a variable number of values: not a cacheable statement either way.)
    Ok(n > 0)
}

/// The scopes `user_id` granted `application_id`, if any.
pub fn find_grant(
    conn: &mut DbConnection,
    user_id: i64,
    application_id: i64,
) -> Result<Option<String>, StoreError> {
    Ok(crate::on_backend!(conn, |c| oauth_grants::table
        .filter(oauth_grants::user_id.eq(user_id))
        .filter(oauth_grants::application_id.eq(application_id))
        .select(oauth_grants::scope)
        .first(c)
        .optional())?)
}

/// Records (or replaces) what `user_id` granted `application_id`.
pub fn save_grant(
    conn: &mut DbConnection,
    user_id: i64,
    application_id: i64,
    scope: &str,
    now: NaiveDateTime,
) -> Result<(), StoreError> {
    delete_grant(conn, user_id, application_id)?;
    diesel::insert_into(oauth_grants::table)
        .values((
            oauth_grants::user_id.eq(user_id),
            oauth_grants::application_id.eq(application_id),
            oauth_grants::scope.eq(scope),
            oauth_grants::created_at.eq(now),
        ))
        .execute(conn)?;
    Ok(())
}

/// Forgets a grant; returns whether there was one.
pub fn delete_grant(
    conn: &mut DbConnection,
    user_id: i64,
    application_id: i64,
) -> Result<bool, StoreError> {
    Ok(diesel::delete(
        oauth_grants::table
            .filter(oauth_grants::user_id.eq(user_id))
            .filter(oauth_grants::application_id.eq(application_id)),
    )
    .execute(conn)?
        > 0)
}

/// Every grant of `user_id`, by application name.
pub fn list_grants(
    conn: &mut DbConnection,
    user_id: i64,
) -> Result<Vec<(Application, String, NaiveDateTime)>, StoreError> {
    Ok(oauth_grants::table
        .inner_join(applications::table)
        .filter(oauth_grants::user_id.eq(user_id))
        .order(applications::name.asc())
        .select((
            Application::as_select(),
            oauth_grants::scope,
            oauth_grants::created_at,
        ))
        .load(conn)?)
}

/// Notes that `application_id` got a token in session `session_id` (idempotent), and, with
/// `touch`, that the session was used now.
pub fn note_session_app(
    conn: &mut DbConnection,
    session_id: i64,
    application_id: i64,
    now: NaiveDateTime,
    touch: bool,
) -> Result<(), StoreError> {
    crate::on_backend!(conn, |c| diesel::insert_into(session_apps::table)
        .values((
            session_apps::session_id.eq(session_id),
            session_apps::application_id.eq(application_id),
            session_apps::first_at.eq(now),
        ))
        .on_conflict_do_nothing()
        .execute(c))?;
    if touch {
        crate::on_backend!(conn, |c| diesel::update(sessions::table.find(session_id))
            .set(sessions::last_seen_at.eq(now))
            .execute(c))?;
    }
    Ok(())
}

/// The applications each of `session_ids` signed in to.
pub fn apps_of_sessions(
    conn: &mut DbConnection,
    session_ids: &[i64],
) -> Result<Vec<(i64, Application)>, StoreError> {
    Ok(session_apps::table
        .inner_join(applications::table)
        .filter(session_apps::session_id.eq_any(session_ids))
        .order((session_apps::session_id, applications::name))
        .select((session_apps::session_id, Application::as_select()))
        .load(conn)?)
}

/// Queues a back-channel logout for `application_id`.
pub fn enqueue_logout(
    conn: &mut DbConnection,
    application_id: i64,
    sub: &str,
    sid: &str,
    now: NaiveDateTime,
) -> Result<(), StoreError> {
    diesel::insert_into(logout_outbox::table)
        .values((
            logout_outbox::application_id.eq(application_id),
            logout_outbox::sub.eq(sub),
            logout_outbox::sid.eq(sid),
            logout_outbox::next_attempt_at.eq(now),
            logout_outbox::created_at.eq(now),
        ))
        .execute(conn)?;
    Ok(())
}

/// Deliveries due at `now`, oldest first, with their application.
pub fn due_logouts(
    conn: &mut DbConnection,
    now: NaiveDateTime,
    limit: i64,
) -> Result<Vec<(OutboxEntry, Application)>, StoreError> {
    Ok(logout_outbox::table
        .inner_join(applications::table)
        .filter(logout_outbox::next_attempt_at.le(now))
        .order(logout_outbox::id.asc())
        .limit(limit)
        .select((OutboxEntry::as_select(), Application::as_select()))
        .load(conn)?)
}

/// A delivery succeeded: the row goes, the application's failure count resets.
pub fn logout_delivered(
    conn: &mut DbConnection,
    id: i64,
    application_id: i64,
) -> Result<(), StoreError> {
    diesel::delete(logout_outbox::table.find(id)).execute(conn)?;
    diesel::update(applications::table.find(application_id))
        .set(applications::backchannel_failures.eq(0))
        .execute(conn)?;
    Ok(())
}

/// A delivery failed: try again at `next`, count the failure against the application.
pub fn logout_failed(
    conn: &mut DbConnection,
    id: i64,
    application_id: i64,
    next: NaiveDateTime,
    error: &str,
) -> Result<(), StoreError> {
    diesel::update(logout_outbox::table.find(id))
        .set((
            logout_outbox::attempts.eq(logout_outbox::attempts + 1),
            logout_outbox::next_attempt_at.eq(next),
            logout_outbox::last_error.eq(error),
        ))
        .execute(conn)?;
    diesel::update(applications::table.find(application_id))
        .set(applications::backchannel_failures.eq(applications::backchannel_failures + 1))
        .execute(conn)?;
    Ok(())
}

/// Drops a delivery that will never be made (given up).
pub fn delete_logout(conn: &mut DbConnection, id: i64) -> Result<(), StoreError> {
    diesel::delete(logout_outbox::table.find(id)).execute(conn)?;
    Ok(())
}

/// How many deliveries wait.
pub fn count_logouts(conn: &mut DbConnection) -> Result<i64, StoreError> {
    Ok(logout_outbox::table.count().get_result(conn)?)
}

/// Deletes expired codes, refresh tokens and revocations; returns how many rows.
pub fn delete_expired(conn: &mut DbConnection, now: NaiveDateTime) -> Result<usize, StoreError> {
    let codes =
        diesel::delete(oauth_codes::table.filter(oauth_codes::expires_at.le(now))).execute(conn)?;
    let refresh = diesel::delete(
        oauth_refresh_tokens::table.filter(oauth_refresh_tokens::expires_at.le(now)),
    )
    .execute(conn)?;
    let revocations =
        diesel::delete(oauth_revocations::table.filter(oauth_revocations::expires_at.le(now)))
            .execute(conn)?;
    Ok(codes + refresh + revocations)
}

/// How many back-channel logout deliveries wait in the outbox (for metrics).
pub fn count_outbox(conn: &mut DbConnection) -> Result<i64, StoreError> {
    Ok(logout_outbox::table.count().get_result(conn)?)
}
