//! Invitations to join an organization (`invitations`), stored by the SHA-256 of the mailed
//! link's token. Who may invite and what accepting does belong to `authify_core`.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::schema::invitations;
use crate::{DbConnection, StoreError};

/// An invitation.
#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable)]
#[diesel(table_name = invitations)]
pub struct Invitation {
    /// Row id.
    pub id: i64,
    /// Public id (revocation names it).
    pub public_id: String,
    /// The organization to join.
    pub organization_id: i64,
    /// The address invited.
    pub email: String,
    /// The admin who invited (none: the command line, or since deleted).
    pub invited_by: Option<i64>,
    /// When.
    pub created_at: NaiveDateTime,
    /// Until when the link works.
    pub expires_at: NaiveDateTime,
}

/// A new invitation.
#[derive(Debug, Insertable)]
#[diesel(table_name = invitations)]
pub struct NewInvitation<'a> {
    /// See [`Invitation`].
    pub public_id: &'a str,
    /// See [`Invitation`].
    pub organization_id: i64,
    /// See [`Invitation`].
    pub email: &'a str,
    /// SHA-256 of the link's token.
    pub token_hash: &'a str,
    /// See [`Invitation`].
    pub invited_by: Option<i64>,
    /// See [`Invitation`].
    pub created_at: NaiveDateTime,
    /// See [`Invitation`].
    pub expires_at: NaiveDateTime,
}

#[diesel::dsl::auto_type]
fn live(now: NaiveDateTime) -> _ {
    invitations::accepted_at
        .is_null()
        .and(invitations::revoked_at.is_null())
        .and(invitations::expires_at.gt(now))
}

/// Records an invitation.
pub fn insert_invitation(
    conn: &mut DbConnection,
    new: &NewInvitation<'_>,
) -> Result<(), StoreError> {
    diesel::insert_into(invitations::table)
        .values(new)
        .execute(conn)?;
    Ok(())
}

/// The live invitations of an organization, newest first.
pub fn list_live_invitations(
    conn: &mut DbConnection,
    organization_id: i64,
    now: NaiveDateTime,
) -> Result<Vec<Invitation>, StoreError> {
    Ok(invitations::table
        .filter(invitations::organization_id.eq(organization_id))
        .filter(live(now))
        .order(invitations::created_at.desc())
        .select(Invitation::as_select())
        .load(conn)?)
}

/// The live invitation whose link carries this token hash.
pub fn find_live_invitation(
    conn: &mut DbConnection,
    token_hash: &str,
    now: NaiveDateTime,
) -> Result<Option<Invitation>, StoreError> {
    Ok(invitations::table
        .filter(invitations::token_hash.eq(token_hash))
        .filter(live(now))
        .select(Invitation::as_select())
        .first(conn)
        .optional()?)
}

/// Revokes a live invitation of the organization; false when there is none by that id.
pub fn revoke_invitation(
    conn: &mut DbConnection,
    organization_id: i64,
    public_id: &str,
    now: NaiveDateTime,
) -> Result<Option<Invitation>, StoreError> {
    let found = invitations::table
        .filter(invitations::organization_id.eq(organization_id))
        .filter(invitations::public_id.eq(public_id))
        .filter(live(now))
        .select(Invitation::as_select())
        .first(conn)
        .optional()?;
    if let Some(inv) = &found {
        diesel::update(invitations::table.find(inv.id))
            .set(invitations::revoked_at.eq(now))
            .execute(conn)?;
    }
    Ok(found)
}

/// Marks a live invitation accepted by `user_id`: true for the one caller that did it.
pub fn accept_invitation(
    conn: &mut DbConnection,
    id: i64,
    user_id: i64,
    now: NaiveDateTime,
) -> Result<bool, StoreError> {
    Ok(diesel::update(
        invitations::table
            .filter(invitations::id.eq(id))
            .filter(live(now)),
    )
    .set((
        invitations::accepted_at.eq(now),
        invitations::accepted_by.eq(user_id),
    ))
    .execute(conn)?
        == 1)
}

/// The organization an invitation is for.
pub fn organization_of(
    conn: &mut DbConnection,
    invitation: &Invitation,
) -> Result<crate::models::Organization, StoreError> {
    use crate::schema::organizations;
    Ok(organizations::table
        .find(invitation.organization_id)
        .select(crate::models::Organization::as_select())
        .first(conn)?)
}
