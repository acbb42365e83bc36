//! Organizations, their members, groups and group members, and the per-user reads that fill a
//! token's `organizations` claim in two queries.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::models::{Group, Organization, User};
use crate::schema::{group_members, groups, organization_members, organizations, users};
use crate::users::{contains_pattern, lower};
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
    Ok(crate::on_backend!(conn, |c| organization_members::table
        .inner_join(organizations::table)
        .filter(organization_members::user_id.eq(user_id))
        .order(organizations::name.asc())
        .select((Organization::as_select(), organization_members::is_admin))
        .load(c))?)
}

/// Every group of `user_id`, in all organizations, by name. One query.
pub fn list_user_groups(conn: &mut DbConnection, user_id: i64) -> Result<Vec<Group>, StoreError> {
    Ok(crate::on_backend!(conn, |c| group_members::table
        .inner_join(groups::table)
        .filter(group_members::user_id.eq(user_id))
        .order(groups::name.asc())
        .select(Group::as_select())
        .load(c))?)
}

/// The organization with this public id.
pub fn find_organization(
    conn: &mut DbConnection,
    public_id: &str,
) -> Result<Option<Organization>, StoreError> {
    Ok(organizations::table
        .filter(organizations::public_id.eq(public_id))
        .select(Organization::as_select())
        .first(conn)
        .optional()?)
}

/// Organizations by name after `after`, at most `limit`; only those `member` belongs to when set;
/// `query` matches a substring of the name, case-insensitively.
pub fn list_organizations(
    conn: &mut DbConnection,
    query: Option<&str>,
    member: Option<i64>,
    after: Option<&str>,
    limit: i64,
) -> Result<Vec<Organization>, StoreError> {
    let mut q = organizations::table
        .select(Organization::as_select())
        .into_boxed();
    if let Some(text) = query.filter(|t| !t.is_empty()) {
        q = q.filter(
            lower(organizations::name)
                .like(contains_pattern(&text.to_lowercase()))
                .escape('\\'),
        );
    }
    if let Some(user_id) = member {
        q = q.filter(
            organizations::id.eq_any(
                organization_members::table
                    .filter(organization_members::user_id.eq(user_id))
                    .select(organization_members::organization_id),
            ),
        );
    }
    if let Some(after) = after {
        q = q.filter(organizations::name.gt(after.to_owned()));
    }
    Ok(q.order(organizations::name.asc()).limit(limit).load(conn)?)
}

/// Renames an organization; a taken name is [`StoreError::Conflict`].
pub fn update_organization_name(
    conn: &mut DbConnection,
    id: i64,
    name: &str,
) -> Result<(), StoreError> {
    diesel::update(organizations::table.find(id))
        .set(organizations::name.eq(name))
        .execute(conn)?;
    Ok(())
}

/// Deletes an organization with its memberships and groups.
pub fn delete_organization(conn: &mut DbConnection, id: i64) -> Result<(), StoreError> {
    conn.transaction(|conn| {
        let group_ids = groups::table
            .filter(groups::organization_id.eq(id))
            .select(groups::id);
        diesel::delete(group_members::table.filter(group_members::group_id.eq_any(group_ids)))
            .execute(conn)?;
        diesel::delete(groups::table.filter(groups::organization_id.eq(id))).execute(conn)?;
        diesel::delete(
            organization_members::table.filter(organization_members::organization_id.eq(id)),
        )
        .execute(conn)?;
        diesel::delete(organizations::table.find(id)).execute(conn)?;
        Ok(())
    })
}

/// Whether `user_id` is a member (`Some(is_admin)`) of the organization.
pub fn find_membership(
    conn: &mut DbConnection,
    organization_id: i64,
    user_id: i64,
) -> Result<Option<bool>, StoreError> {
    Ok(organization_members::table
        .filter(organization_members::organization_id.eq(organization_id))
        .filter(organization_members::user_id.eq(user_id))
        .select(organization_members::is_admin)
        .first(conn)
        .optional()?)
}

/// Whether `user_id` administers at least one organization.
pub fn administers_any(conn: &mut DbConnection, user_id: i64) -> Result<bool, StoreError> {
    let n: i64 = organization_members::table
        .filter(organization_members::user_id.eq(user_id))
        .filter(organization_members::is_admin.eq(true))
        .count()
        .get_result(conn)?;
    Ok(n > 0)
}

/// Members with their admin flag, by e-mail after `after`, at most `limit`.
pub fn list_members(
    conn: &mut DbConnection,
    organization_id: i64,
    query: Option<&str>,
    after: Option<&str>,
    limit: i64,
) -> Result<Vec<(User, bool)>, StoreError> {
    let mut q = organization_members::table
        .inner_join(users::table)
        .filter(organization_members::organization_id.eq(organization_id))
        .select((User::as_select(), organization_members::is_admin))
        .into_boxed();
    if let Some(text) = query.filter(|t| !t.is_empty()) {
        let pattern = contains_pattern(&text.to_lowercase());
        q = q.filter(
            users::email
                .like(pattern.clone())
                .escape('\\')
                .or(lower(users::name).like(pattern).escape('\\')),
        );
    }
    if let Some(after) = after {
        q = q.filter(users::email.gt(after.to_owned()));
    }
    Ok(q.order(users::email.asc()).limit(limit).load(conn)?)
}

/// Number of admins of the organization.
pub fn count_organization_admins(
    conn: &mut DbConnection,
    organization_id: i64,
) -> Result<i64, StoreError> {
    Ok(organization_members::table
        .filter(organization_members::organization_id.eq(organization_id))
        .filter(organization_members::is_admin.eq(true))
        .count()
        .get_result(conn)?)
}

/// Promotes or demotes a member.
pub fn update_member_admin(
    conn: &mut DbConnection,
    organization_id: i64,
    user_id: i64,
    is_admin: bool,
) -> Result<(), StoreError> {
    diesel::update(
        organization_members::table
            .filter(organization_members::organization_id.eq(organization_id))
            .filter(organization_members::user_id.eq(user_id)),
    )
    .set(organization_members::is_admin.eq(is_admin))
    .execute(conn)?;
    Ok(())
}

/// Removes a member from the organization and from all of its groups.
pub fn delete_member(
    conn: &mut DbConnection,
    organization_id: i64,
    user_id: i64,
) -> Result<(), StoreError> {
    conn.transaction(|conn| {
        let group_ids = groups::table
            .filter(groups::organization_id.eq(organization_id))
            .select(groups::id);
        diesel::delete(
            group_members::table
                .filter(group_members::user_id.eq(user_id))
                .filter(group_members::group_id.eq_any(group_ids)),
        )
        .execute(conn)?;
        diesel::delete(
            organization_members::table
                .filter(organization_members::organization_id.eq(organization_id))
                .filter(organization_members::user_id.eq(user_id)),
        )
        .execute(conn)?;
        Ok(())
    })
}

/// The groups of an organization, by name.
pub fn list_groups(
    conn: &mut DbConnection,
    organization_id: i64,
) -> Result<Vec<Group>, StoreError> {
    Ok(groups::table
        .filter(groups::organization_id.eq(organization_id))
        .order(groups::name.asc())
        .select(Group::as_select())
        .load(conn)?)
}

/// The group with this public id in the organization.
pub fn find_group_by_public_id(
    conn: &mut DbConnection,
    organization_id: i64,
    public_id: &str,
) -> Result<Option<Group>, StoreError> {
    Ok(groups::table
        .filter(groups::organization_id.eq(organization_id))
        .filter(groups::public_id.eq(public_id))
        .select(Group::as_select())
        .first(conn)
        .optional()?)
}

/// Renames a group; a taken name is [`StoreError::Conflict`].
pub fn update_group_name(conn: &mut DbConnection, id: i64, name: &str) -> Result<(), StoreError> {
    diesel::update(groups::table.find(id))
        .set(groups::name.eq(name))
        .execute(conn)?;
    Ok(())
}

/// Deletes a group and its memberships.
pub fn delete_group(conn: &mut DbConnection, id: i64) -> Result<(), StoreError> {
    conn.transaction(|conn| {
        diesel::delete(group_members::table.filter(group_members::group_id.eq(id)))
            .execute(conn)?;
        diesel::delete(groups::table.find(id)).execute(conn)?;
        Ok(())
    })
}

/// Members of a group with their admin flag in its organization, by e-mail. One query.
pub fn list_group_members(
    conn: &mut DbConnection,
    group: &Group,
) -> Result<Vec<(User, bool)>, StoreError> {
    Ok(group_members::table
        .inner_join(users::table)
        .inner_join(
            organization_members::table.on(organization_members::user_id
                .eq(group_members::user_id)
                .and(organization_members::organization_id.eq(group.organization_id))),
        )
        .filter(group_members::group_id.eq(group.id))
        .order(users::email.asc())
        .select((User::as_select(), organization_members::is_admin))
        .load(conn)?)
}

/// Removes `user_id` from the group; returns whether they were in it.
pub fn delete_group_member(
    conn: &mut DbConnection,
    group_id: i64,
    user_id: i64,
) -> Result<bool, StoreError> {
    let n = diesel::delete(
        group_members::table
            .filter(group_members::group_id.eq(group_id))
            .filter(group_members::user_id.eq(user_id)),
    )
    .execute(conn)?;
    Ok(n > 0)
}
