//! Groups inside an organization and their members. Members of the organization see its groups;
//! its admins (and global admins) create, rename and delete them and manage who is in them.
//! Only members of the organization can join its groups.

use authify_domain::Name;
use authify_store::models::{Group, Organization};
use authify_store::{DbConnection, StoreError, orgs, transaction};
use chrono::{DateTime, NaiveDateTime, Utc};
use serde_json::json;

use super::actor::Actor;
use super::audit::Entry;
use super::orgs::member_by_uid;
use super::views::{GroupInfo, MemberInfo};
use crate::error::AdminError;
use crate::{Db, db_time, random};

fn group_name(raw: &str) -> Result<Name, AdminError> {
    Name::parse(raw, "the group name").map_err(|e| AdminError::Invalid(e.to_string()))
}

fn taken(name: &str) -> impl FnOnce(StoreError) -> AdminError + '_ {
    move |e| match e {
        StoreError::Conflict(_) => AdminError::Conflict(format!(
            "this organization already has a group named {name:?}"
        )),
        other => other.into(),
    }
}

fn group_in(conn: &mut DbConnection, org: &Organization, gid: &str) -> Result<Group, AdminError> {
    orgs::find_group_by_public_id(conn, org.id, gid)?
        .ok_or_else(|| AdminError::NotFound(format!("no group {gid:?} in this organization")))
}

fn group_entry(
    action: &str,
    actor: &Actor,
    org: &Organization,
    g: &Group,
    now: NaiveDateTime,
) -> Entry {
    actor
        .entry(action, now)
        .target("group", &g.public_id, &format!("{} / {}", org.name, g.name))
        .org(&org.public_id)
}

/// The organization's groups; any member.
pub async fn list(db: &Db, actor: &Actor, oid: &str) -> Result<Vec<GroupInfo>, AdminError> {
    let (actor, oid) = (actor.clone(), oid.to_owned());
    db.run(move |conn| {
        let (org, _) = actor.org(conn, &oid)?;
        Ok(orgs::list_groups(conn, org.id)?
            .iter()
            .map(GroupInfo::from)
            .collect())
    })
    .await
}

/// One group; any member of the organization.
pub async fn get(db: &Db, actor: &Actor, oid: &str, gid: &str) -> Result<GroupInfo, AdminError> {
    let (actor, oid, gid) = (actor.clone(), oid.to_owned(), gid.to_owned());
    db.run(move |conn| {
        let (org, _) = actor.org(conn, &oid)?;
        Ok(GroupInfo::from(&group_in(conn, &org, &gid)?))
    })
    .await
}

/// The group with exactly this name (how the command line names groups); any member of the
/// organization.
pub async fn find_by_name(
    db: &Db,
    actor: &Actor,
    oid: &str,
    name: &str,
) -> Result<GroupInfo, AdminError> {
    let (actor, oid, name) = (actor.clone(), oid.to_owned(), name.to_owned());
    db.run(move |conn| {
        let (org, _) = actor.org(conn, &oid)?;
        let g = orgs::find_group(conn, org.id, &name)?.ok_or_else(|| {
            AdminError::NotFound(format!("{:?} has no group named {name:?}", org.name))
        })?;
        Ok(GroupInfo::from(&g))
    })
    .await
}

/// Creates a group.
pub async fn create(
    db: &Db,
    actor: &Actor,
    oid: &str,
    name: &str,
    now: DateTime<Utc>,
) -> Result<GroupInfo, AdminError> {
    actor.can_write()?;
    let name = group_name(name)?;
    let public_id = random::public_id()?;
    let (actor, oid, now) = (actor.clone(), oid.to_owned(), db_time(now));
    db.run(move |conn| {
        transaction(conn, |conn| {
            let org = actor.managed_org(conn, &oid)?;
            let g = orgs::insert_group(conn, org.id, &public_id, name.as_str(), now)
                .map_err(taken(name.as_str()))?;
            group_entry("group.create", &actor, &org, &g, now).record(conn)?;
            Ok(GroupInfo::from(&g))
        })
    })
    .await
}

/// Renames a group.
pub async fn rename(
    db: &Db,
    actor: &Actor,
    oid: &str,
    gid: &str,
    name: &str,
    now: DateTime<Utc>,
) -> Result<GroupInfo, AdminError> {
    actor.can_write()?;
    let name = group_name(name)?;
    let (actor, oid, gid, now) = (actor.clone(), oid.to_owned(), gid.to_owned(), db_time(now));
    db.run(move |conn| {
        transaction(conn, |conn| {
            let org = actor.managed_org(conn, &oid)?;
            let g = group_in(conn, &org, &gid)?;
            orgs::update_group_name(conn, g.id, name.as_str()).map_err(taken(name.as_str()))?;
            group_entry("group.rename", &actor, &org, &g, now)
                .details(json!({ "before": g.name, "after": name.as_str() }))
                .record(conn)?;
            Ok(GroupInfo::from(&Group {
                name: name.as_str().to_owned(),
                ..g
            }))
        })
    })
    .await
}

/// Deletes a group and its memberships.
pub async fn delete(
    db: &Db,
    actor: &Actor,
    oid: &str,
    gid: &str,
    now: DateTime<Utc>,
) -> Result<(), AdminError> {
    actor.can_write()?;
    let (actor, oid, gid, now) = (actor.clone(), oid.to_owned(), gid.to_owned(), db_time(now));
    db.run(move |conn| {
        transaction(conn, |conn| {
            let org = actor.managed_org(conn, &oid)?;
            let g = group_in(conn, &org, &gid)?;
            orgs::delete_group(conn, g.id)?;
            group_entry("group.delete", &actor, &org, &g, now).record(conn)?;
            Ok(())
        })
    })
    .await
}

/// Members of a group; the organization's admins.
pub async fn members(
    db: &Db,
    actor: &Actor,
    oid: &str,
    gid: &str,
) -> Result<Vec<MemberInfo>, AdminError> {
    let (actor, oid, gid) = (actor.clone(), oid.to_owned(), gid.to_owned());
    db.run(move |conn| {
        let org = actor.managed_org(conn, &oid)?;
        let g = group_in(conn, &org, &gid)?;
        Ok(orgs::list_group_members(conn, &g)?
            .iter()
            .map(|(u, admin)| MemberInfo::new(u, *admin))
            .collect())
    })
    .await
}

/// Adds an organization member (by user id) to a group.
pub async fn add_member(
    db: &Db,
    actor: &Actor,
    oid: &str,
    gid: &str,
    uid: &str,
    now: DateTime<Utc>,
) -> Result<MemberInfo, AdminError> {
    actor.can_write()?;
    let (actor, oid, gid, uid, now) = (
        actor.clone(),
        oid.to_owned(),
        gid.to_owned(),
        uid.to_owned(),
        db_time(now),
    );
    db.run(move |conn| {
        transaction(conn, |conn| {
            let org = actor.managed_org(conn, &oid)?;
            let g = group_in(conn, &org, &gid)?;
            let (user, admin) = member_by_uid(conn, &org, &uid)?;
            orgs::insert_group_member(conn, g.id, user.id, now).map_err(|e| match e {
                StoreError::Conflict(_) => {
                    AdminError::Conflict(format!("{} is already in this group", user.email))
                }
                other => other.into(),
            })?;
            group_entry("group.add_member", &actor, &org, &g, now)
                .details(json!({ "user": user.public_id, "email": user.email }))
                .record(conn)?;
            Ok(MemberInfo::new(&user, admin))
        })
    })
    .await
}

/// Removes a user from a group.
pub async fn remove_member(
    db: &Db,
    actor: &Actor,
    oid: &str,
    gid: &str,
    uid: &str,
    now: DateTime<Utc>,
) -> Result<(), AdminError> {
    actor.can_write()?;
    let (actor, oid, gid, uid, now) = (
        actor.clone(),
        oid.to_owned(),
        gid.to_owned(),
        uid.to_owned(),
        db_time(now),
    );
    db.run(move |conn| {
        transaction(conn, |conn| {
            let org = actor.managed_org(conn, &oid)?;
            let g = group_in(conn, &org, &gid)?;
            let (user, _) = member_by_uid(conn, &org, &uid)?;
            if !orgs::delete_group_member(conn, g.id, user.id)? {
                return Err(AdminError::NotFound(format!(
                    "{} is not in this group",
                    user.email
                )));
            }
            group_entry("group.remove_member", &actor, &org, &g, now)
                .details(json!({ "user": user.public_id, "email": user.email }))
                .record(conn)?;
            Ok(())
        })
    })
    .await
}
