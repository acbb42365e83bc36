//! E-mail sign-in links (`magic_links`), stored by the SHA-256 of their token and bound to the
//! sign-in flow that asked. What a link allows belongs to `authify_core::authn::magic_link`.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::schema::magic_links;
use crate::{DbConnection, StoreError};

/// A sign-in link's row.
#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable)]
#[diesel(table_name = magic_links)]
pub struct MagicLink {
    /// Row id.
    pub id: i64,
    /// The flow that asked for it: only that browser may use it.
    pub flow_id: i64,
    /// The user it signs in.
    pub user_id: i64,
    /// The step it was asked for (the flow's state word then): it serves only that step.
    pub step: String,
    /// The address it went to: the link dies if the account's address changed since.
    pub email: String,
    /// When it stops working.
    pub expires_at: NaiveDateTime,
}

/// A link to record.
#[derive(Debug, Clone, Copy)]
pub struct NewMagicLink<'a> {
    /// SHA-256 of the token in the mail.
    pub token_hash: &'a str,
    /// The flow that asked.
    pub flow_id: i64,
    /// The user it signs in.
    pub user_id: i64,
    /// The step it is asked for.
    pub step: &'a str,
    /// Where it was sent.
    pub email: &'a str,
}

/// Records a link.
pub fn insert_magic_link(
    conn: &mut DbConnection,
    link: &NewMagicLink<'_>,
    now: NaiveDateTime,
    expires_at: NaiveDateTime,
) -> Result<(), StoreError> {
    diesel::insert_into(magic_links::table)
        .values((
            magic_links::token_hash.eq(link.token_hash),
            magic_links::flow_id.eq(link.flow_id),
            magic_links::user_id.eq(link.user_id),
            magic_links::step.eq(link.step),
            magic_links::email.eq(link.email),
            magic_links::created_at.eq(now),
            magic_links::expires_at.eq(expires_at),
        ))
        .execute(conn)?;
    Ok(())
}

/// The unused, unexpired link with this hash.
pub fn find_magic_link(
    conn: &mut DbConnection,
    token_hash: &str,
    now: NaiveDateTime,
) -> Result<Option<MagicLink>, StoreError> {
    Ok(magic_links::table
        .filter(magic_links::token_hash.eq(token_hash))
        .filter(magic_links::used_at.is_null())
        .filter(magic_links::expires_at.gt(now))
        .select(MagicLink::as_select())
        .first(conn)
        .optional()?)
}

/// Spends a link: true for the one caller that marked it used while it was live.
pub fn spend_magic_link(
    conn: &mut DbConnection,
    id: i64,
    now: NaiveDateTime,
) -> Result<bool, StoreError> {
    Ok(diesel::update(
        magic_links::table
            .filter(magic_links::id.eq(id))
            .filter(magic_links::used_at.is_null())
            .filter(magic_links::expires_at.gt(now)),
    )
    .set(magic_links::used_at.eq(now))
    .execute(conn)?
        == 1)
}

/// Spends every live link of a flow (one was used: the others must not serve a later step).
pub fn spend_magic_links_of_flow(
    conn: &mut DbConnection,
    flow_id: i64,
    now: NaiveDateTime,
) -> Result<usize, StoreError> {
    Ok(diesel::update(
        magic_links::table
            .filter(magic_links::flow_id.eq(flow_id))
            .filter(magic_links::used_at.is_null()),
    )
    .set(magic_links::used_at.eq(now))
    .execute(conn)?)
}

/// Deletes expired links; returns how many. (A flow's links also go with the flow.)
pub fn delete_expired_magic_links(
    conn: &mut DbConnection,
    now: NaiveDateTime,
) -> Result<usize, StoreError> {
    Ok(diesel::delete(magic_links::table.filter(magic_links::expires_at.le(now))).execute(conn)?)
}
