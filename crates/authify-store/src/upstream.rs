//! Identities at upstream providers (`upstream_identities`: GitHub, Google, OpenID providers)
//! linked to users, keyed by provider and subject; and the upstream column of sign-in attempts
//! (the round trip's state, then a link waiting for the account's owner). What the column holds
//! belongs to `authify_core::authn`; this module only reads and writes rows.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::schema::{auth_flows, upstream_identities};
use crate::{DbConnection, StoreError};

/// An upstream identity linked to a user.
#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable, Identifiable)]
#[diesel(table_name = upstream_identities)]
pub struct UpstreamIdentity {
    /// Internal id.
    pub id: i64,
    /// The user it signs in.
    pub user_id: i64,
    /// Provider name (`github`, `google`, or the settings' `[[upstream]]` name).
    pub provider: String,
    /// The provider's stable id of the account (`sub`, GitHub's numeric id).
    pub subject: String,
    /// The address the provider reported when it was linked (shown, never matched).
    pub email: Option<String>,
    /// When it was linked.
    pub created_at: NaiveDateTime,
    /// Last sign-in through it.
    pub last_used_at: Option<NaiveDateTime>,
}

/// The identity `subject` at `provider`, if linked.
pub fn find_identity(
    conn: &mut DbConnection,
    provider: &str,
    subject: &str,
) -> Result<Option<UpstreamIdentity>, StoreError> {
    Ok(upstream_identities::table
        .filter(upstream_identities::provider.eq(provider))
        .filter(upstream_identities::subject.eq(subject))
        .select(UpstreamIdentity::as_select())
        .first(conn)
        .optional()?)
}

/// Links an identity to `user_id`. A `Conflict` when it is linked already (to anyone).
pub fn insert_identity(
    conn: &mut DbConnection,
    user_id: i64,
    provider: &str,
    subject: &str,
    email: Option<&str>,
    now: NaiveDateTime,
) -> Result<(), StoreError> {
    diesel::insert_into(upstream_identities::table)
        .values((
            upstream_identities::user_id.eq(user_id),
            upstream_identities::provider.eq(provider),
            upstream_identities::subject.eq(subject),
            upstream_identities::email.eq(email),
            upstream_identities::created_at.eq(now),
            upstream_identities::last_used_at.eq(Some(now)),
        ))
        .execute(conn)?;
    Ok(())
}

/// Records a sign-in through the identity.
pub fn touch_identity(
    conn: &mut DbConnection,
    id: i64,
    now: NaiveDateTime,
) -> Result<(), StoreError> {
    diesel::update(upstream_identities::table.find(id))
        .set(upstream_identities::last_used_at.eq(Some(now)))
        .execute(conn)?;
    Ok(())
}

/// The identities linked to `user_id`, by provider.
pub fn list_identities(
    conn: &mut DbConnection,
    user_id: i64,
) -> Result<Vec<UpstreamIdentity>, StoreError> {
    Ok(upstream_identities::table
        .filter(upstream_identities::user_id.eq(user_id))
        .order((upstream_identities::provider, upstream_identities::id))
        .select(UpstreamIdentity::as_select())
        .load(conn)?)
}

/// Unlinks `user_id`'s identities at `provider`; returns how many.
pub fn delete_identities(
    conn: &mut DbConnection,
    user_id: i64,
    provider: &str,
) -> Result<usize, StoreError> {
    Ok(diesel::delete(
        upstream_identities::table
            .filter(upstream_identities::user_id.eq(user_id))
            .filter(upstream_identities::provider.eq(provider)),
    )
    .execute(conn)?)
}

/// Unlinks every identity of `user_id`; returns how many.
pub fn delete_user_identities(conn: &mut DbConnection, user_id: i64) -> Result<usize, StoreError> {
    Ok(
        diesel::delete(upstream_identities::table.filter(upstream_identities::user_id.eq(user_id)))
            .execute(conn)?,
    )
}

/// Sets (or clears) the upstream state of an attempt.
pub fn set_flow_upstream(
    conn: &mut DbConnection,
    flow_id: i64,
    value: Option<&str>,
) -> Result<(), StoreError> {
    diesel::update(auth_flows::table.find(flow_id))
        .set(auth_flows::upstream.eq(value))
        .execute(conn)?;
    Ok(())
}

/// The attempt's upstream state, taken: cleared by a conditional UPDATE, so a round trip is
/// finished once even by two requests racing.
pub fn take_flow_upstream(
    conn: &mut DbConnection,
    flow_id: i64,
) -> Result<Option<String>, StoreError> {
    let Some(value) = peek_flow_upstream(conn, flow_id)? else {
        return Ok(None);
    };
    let n = diesel::update(
        auth_flows::table
            .find(flow_id)
            .filter(auth_flows::upstream.eq(&value)),
    )
    .set(auth_flows::upstream.eq(None::<String>))
    .execute(conn)?;
    Ok((n == 1).then_some(value))
}

/// The attempt's upstream state, read without taking it.
pub fn peek_flow_upstream(
    conn: &mut DbConnection,
    flow_id: i64,
) -> Result<Option<String>, StoreError> {
    Ok(auth_flows::table
        .find(flow_id)
        .select(auth_flows::upstream)
        .first::<Option<String>>(conn)
        .optional()?
        .flatten())
}
