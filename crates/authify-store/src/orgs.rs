//! Organizations, their members, groups and group members, and the per-user reads that fill a
//! token's `organizations` claim in two queries.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::models::{Group, Organization};
use crate::schema::{group_members, groups, organization_members, organizations};
use crate::{DbConnection, StoreError};

/// Inserts an organization; a duplicate name is [`StoreError::Conflict`].
pub fn insert_organization(
    conn: &mut DbConnection,
    public_id: &str,
    name: &str,
    now: NaiveDateTime,
) -> Result<Organization, StoreError> {
    let id: i64 = diesel::insert_into(organizations::table)
        .values((
            organizations::public_id.eq(public_id),
            organizations::name.eq(name),
            organizations::created_at.eq(now),
        ))
        .returning(organizations::id)
        .get_result(conn)?;
    Ok(organizations::table
        .find(id)
        .select(Organization::as_select())
        .first(conn)?)
}

/// The organization named `name`.
pub fn find_organization_by_name(
    conn: &mut DbConnection,
    name: &str,
) -> Result<Option<Organization>, StoreError> {
    Ok(organizations::table
        .filter(organizations::name.eq(name))
        .select(Organization::as_select())
        .first(conn)
        .optional()?)
}

/// Adds `user_id` to the organization; already a member is [`StoreError::Conflict`].
pub fn insert_organization_member(
    conn: &mut DbConnection,
    organization_id: i64,
    user_id: i64,
    is_admin: bool,
    now: NaiveDateTime,
) -> Result<(), StoreError> {
    diesel::insert_into(organization_members::table)
        .values((
            organization_members::organization_id.eq(organization_id),
            organization_members::user_id.eq(user_id),
            organization_members::is_admin.eq(is_admin),
            organization_members::created_at.eq(now),
        ))
        .execute(conn)?;
    Ok(())
}

/// Whether `user_id` belongs to the organization.
pub fn is_organization_member(
    conn: &mut DbConnection,
    organization_id: i64,
    user_id: i64,
) -> Result<bool, StoreError> {
    let n: i64 = organization_members::table
        .filter(organization_members::organization_id.eq(organization_id))
        .filter(organization_members::user_id.eq(user_id))
        .count()
        .get_result(conn)?;
    Ok(n > 0)
}

/// Inserts a group; a duplicate name in the organization is [`StoreError::Conflict`].
pub fn insert_group(
    conn: &mut DbConnection,
    organization_id: i64,
    public_id: &str,
    name: &str,
    now: NaiveDateTime,
) -> Result<Group, StoreError> {
    let id: i64 = diesel::insert_into(groups::table)
        .values((
            groups::public_id.eq(public_id),
            groups::organization_id.eq(organization_id),
            groups::name.eq(name),
            groups::created_at.eq(now),
        ))
        .returning(groups::id)
        .get_result(conn)?;
    Ok(groups::table
        .find(id)
        .select(Group::as_select())
        .first(conn)?)
}

/// The group named `name` in the organization.
pub fn find_group(
    conn: &mut DbConnection,
    organization_id: i64,
    name: &str,
) -> Result<Option<Group>, StoreError> {
    Ok(groups::table
        .filter(groups::organization_id.eq(organization_id))
        .filter(groups::name.eq(name))
        .select(Group::as_select())
        .first(conn)
        .optional()?)
}

/// Adds `user_id` to the group; already a member is [`StoreError::Conflict`].
pub fn insert_group_member(
    conn: &mut DbConnection,
    group_id: i64,
    user_id: i64,
    now: NaiveDateTime,
) -> Result<(), StoreError> {
    diesel::insert_into(group_members::table)
        .values((
            group_members::group_id.eq(group_id),
            group_members::user_id.eq(user_id),
            group_members::created_at.eq(now),
        ))
        .execute(conn)?;
    Ok(())
}

/// Every organization of `user_id` with the user's admin flag, by name. One query.
pub fn list_user_organizations(
    conn: &mut DbConnection,
    user_id: i64,
) -> Result<Vec<(Organization, bool)>, StoreError> {
    Ok(organization_members::table
        .inner_join(organizations::table)
        .filter(organization_members::user_id.eq(user_id))
        .order(organizations::name.asc())
        .select((Organization::as_select(), organization_members::is_admin))
        .load(conn)?)
}

/// Every group of `user_id`, in all organizations, by name. One query.
pub fn list_user_groups(conn: &mut DbConnection, user_id: i64) -> Result<Vec<Group>, StoreError> {
    Ok(group_members::table
        .inner_join(groups::table)
        .filter(group_members::user_id.eq(user_id))
        .order(groups::name.asc())
        .select(Group::as_select())
        .load(conn)?)
}
