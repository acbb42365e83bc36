//! Organizations and their members. Global admins manage all of them; an organization's admins
//! manage its profile and members; members see it and may leave. The last admin of an
//! organization can be neither removed nor demoted.

use authify_domain::{Email, Name};
use authify_store::models::Organization;
use authify_store::{DbConnection, StoreError, orgs, transaction, users};
use chrono::{DateTime, NaiveDateTime, Utc};
use serde_json::json;

use super::actor::{Actor, OrgCreation, OrgRole};
use super::audit::Entry;
use super::views::{MemberInfo, OrgInfo, Page, PageRequest};
use crate::error::AdminError;
use crate::{Db, User, db_time, random};

fn org_name(raw: &str) -> Result<Name, AdminError> {
    Name::parse(raw, "the organization name").map_err(|e| AdminError::Invalid(e.to_string()))
}

fn taken(name: &str) -> impl FnOnce(StoreError) -> AdminError + '_ {
    move |e| match e {
        StoreError::Conflict(_) => {
            AdminError::Conflict(format!("an organization named {name:?} already exists"))
        }
        other => other.into(),
    }
}

pub(crate) fn member_by_uid(
    conn: &mut DbConnection,
    org: &Organization,
    uid: &str,
) -> Result<(User, bool), AdminError> {
    let missing = || AdminError::NotFound(format!("{uid:?} is not a member of this organization"));
    let user = users::find_user_by_public_id(conn, uid)?.ok_or_else(missing)?;
    let admin = orgs::find_membership(conn, org.id, user.id)?.ok_or_else(missing)?;
    Ok((user, admin))
}

fn org_entry(action: &str, actor: &Actor, org: &Organization, now: NaiveDateTime) -> Entry {
    actor
        .entry(action, now)
        .target("organization", &org.public_id, &org.name)
        .org(&org.public_id)
}

/// Organizations by name: all of them for global admins, the actor's own for everyone else.
pub async fn list(
    db: &Db,
    actor: &Actor,
    query: Option<String>,
    page: PageRequest,
) -> Result<Page<OrgInfo>, AdminError> {
    let (limit, after) = (page.limit()?, page.after()?);
    let actor = actor.clone();
    db.run(move |conn| {
        let member = (!actor.is_global_admin()).then_some(actor.user.id);
        let rows =
            orgs::list_organizations(conn, query.as_deref(), member, after.as_deref(), limit + 1)?;
        let mut roles = std::collections::HashMap::new();
        if !actor.is_global_admin() {
            for (o, admin) in orgs::list_user_organizations(conn, actor.user.id)? {
                roles.insert(
                    o.id,
                    if admin {
                        OrgRole::Admin
                    } else {
                        OrgRole::Member
                    },
                );
            }
        }
        Ok(Page::from_rows(
            rows,
            limit,
            |o| o.name.clone(),
            |o| OrgInfo::new(&o, roles.get(&o.id).copied().unwrap_or(OrgRole::Global)),
        ))
    })
    .await
}

/// One organization the actor belongs to or administers globally.
pub async fn get(db: &Db, actor: &Actor, oid: &str) -> Result<OrgInfo, AdminError> {
    let (actor, oid) = (actor.clone(), oid.to_owned());
    db.run(move |conn| {
        let (org, role) = actor.org(conn, &oid)?;
        Ok(OrgInfo::new(&org, role))
    })
    .await
}

/// The organization with exactly this name (how the command line names organizations), if the
/// actor may see it.
pub async fn find_by_name(db: &Db, actor: &Actor, name: &str) -> Result<OrgInfo, AdminError> {
    let (actor, name) = (actor.clone(), name.to_owned());
    db.run(move |conn| {
        let missing = || AdminError::NotFound(format!("no organization named {name:?}"));
        let org = orgs::find_organization_by_name(conn, &name)?.ok_or_else(missing)?;
        // Through the same check as an id, so a name discloses no more than an id would.
        match actor.org(conn, &org.public_id) {
            Ok((org, role)) => Ok(OrgInfo::new(&org, role)),
            Err(AdminError::NotFound(_)) => Err(missing()),
            Err(other) => Err(other),
        }
    })
    .await
}

/// Creates an organization. Allowed to global admins, and to every user when `policy` says so;
/// a user who creates one becomes its admin.
pub async fn create(
    db: &Db,
    actor: &Actor,
    name: &str,
    policy: OrgCreation,
    now: DateTime<Utc>,
) -> Result<OrgInfo, AdminError> {
    actor.can_write()?;
    if policy == OrgCreation::Admins {
        actor.global()?;
    }
    let name = org_name(name)?;
    let public_id = random::public_id()?;
    let (actor, now) = (actor.clone(), db_time(now));
    db.run(move |conn| {
        transaction(conn, |conn| {
            let org = orgs::insert_organization(conn, &public_id, name.as_str(), now)
                .map_err(taken(name.as_str()))?;
            let role = if actor.is_global_admin() {
                OrgRole::Global
            } else {
                orgs::insert_organization_member(conn, org.id, actor.user.id, true, now)?;
                OrgRole::Admin
            };
            org_entry("organization.create", &actor, &org, now).record(conn)?;
            Ok(OrgInfo::new(&org, role))
        })
    })
    .await
}

/// Renames an organization; its admins and global admins.
pub async fn rename(
    db: &Db,
    actor: &Actor,
    oid: &str,
    name: &str,
    now: DateTime<Utc>,
) -> Result<OrgInfo, AdminError> {
    actor.can_write()?;
    let name = org_name(name)?;
    let (actor, oid, now) = (actor.clone(), oid.to_owned(), db_time(now));
    db.run(move |conn| {
        transaction(conn, |conn| {
            let (org, role) = actor.org(conn, &oid)?;
            if !role.manages() {
                return Err(AdminError::Forbidden(
                    "only this organization's admins may do this".into(),
                ));
            }
            orgs::update_organization_name(conn, org.id, name.as_str())
                .map_err(taken(name.as_str()))?;
            org_entry("organization.rename", &actor, &org, now)
                .details(json!({ "before": org.name, "after": name.as_str() }))
                .record(conn)?;
            let renamed = Organization {
                name: name.as_str().to_owned(),
                ..org
            };
            Ok(OrgInfo::new(&renamed, role))
        })
    })
    .await
}

/// Deletes an organization with its groups and memberships; global admins only.
pub async fn delete(
    db: &Db,
    actor: &Actor,
    oid: &str,
    now: DateTime<Utc>,
) -> Result<(), AdminError> {
    actor.can_write()?;
    let (actor, oid, now) = (actor.clone(), oid.to_owned(), db_time(now));
    db.run(move |conn| {
        transaction(conn, |conn| {
            let (org, _) = actor.org(conn, &oid)?;
            actor.global()?;
            orgs::delete_organization(conn, org.id)?;
            org_entry("organization.delete", &actor, &org, now).record(conn)?;
            Ok(())
        })
    })
    .await
}

/// Members by e-mail; the organization's admins and global admins.
pub async fn members(
    db: &Db,
    actor: &Actor,
    oid: &str,
    query: Option<String>,
    page: PageRequest,
) -> Result<Page<MemberInfo>, AdminError> {
    let (limit, after) = (page.limit()?, page.after()?);
    let (actor, oid) = (actor.clone(), oid.to_owned());
    db.run(move |conn| {
        let org = actor.managed_org(conn, &oid)?;
        let rows = orgs::list_members(conn, org.id, query.as_deref(), after.as_deref(), limit + 1)?;
        Ok(Page::from_rows(
            rows,
            limit,
            |(u, _)| u.email.clone(),
            |(u, admin)| MemberInfo::new(&u, admin),
        ))
    })
    .await
}

/// The member with this exact e-mail address; the organization's admins and global admins.
pub async fn member_by_email(
    db: &Db,
    actor: &Actor,
    oid: &str,
    email: &str,
) -> Result<MemberInfo, AdminError> {
    let email = Email::parse(email).map_err(|e| AdminError::Invalid(format!("{email:?}: {e}")))?;
    let (actor, oid) = (actor.clone(), oid.to_owned());
    db.run(move |conn| {
        let org = actor.managed_org(conn, &oid)?;
        let missing = || AdminError::NotFound(format!("{email} is not a member of {:?}", org.name));
        let user = users::find_user_by_email(conn, email.as_str())?.ok_or_else(missing)?;
        let admin = orgs::find_membership(conn, org.id, user.id)?.ok_or_else(missing)?;
        Ok(MemberInfo::new(&user, admin))
    })
    .await
}

/// Adds the user with this exact e-mail address (the only way an organization admin finds a
/// user outside their organization).
pub async fn add_member(
    db: &Db,
    actor: &Actor,
    oid: &str,
    email: &str,
    admin: bool,
    now: DateTime<Utc>,
) -> Result<MemberInfo, AdminError> {
    actor.can_write()?;
    let email = Email::parse(email).map_err(|e| AdminError::Invalid(e.to_string()))?;
    let (actor, oid, now) = (actor.clone(), oid.to_owned(), db_time(now));
    db.run(move |conn| {
        transaction(conn, |conn| {
            let org = actor.managed_org(conn, &oid)?;
            let user = users::find_user_by_email(conn, email.as_str())?
                .ok_or_else(|| AdminError::NotFound(format!("no user with e-mail {email}")))?;
            orgs::insert_organization_member(conn, org.id, user.id, admin, now).map_err(
                |e| match e {
                    StoreError::Conflict(_) => {
                        AdminError::Conflict(format!("{email} is already a member"))
                    }
                    other => other.into(),
                },
            )?;
            org_entry("organization.add_member", &actor, &org, now)
                .target("user", &user.public_id, &user.email)
                .details(json!({ "admin": admin }))
                .record(conn)?;
            Ok(MemberInfo::new(&user, admin))
        })
    })
    .await
}

fn keep_an_admin(
    conn: &mut DbConnection,
    org: &Organization,
    was_admin: bool,
) -> Result<(), AdminError> {
    if was_admin && orgs::count_organization_admins(conn, org.id)? <= 1 {
        return Err(AdminError::Conflict(
            "this is the organization's last admin; promote another member first".into(),
        ));
    }
    Ok(())
}

/// Promotes or demotes a member; never the last admin.
pub async fn set_member_admin(
    db: &Db,
    actor: &Actor,
    oid: &str,
    uid: &str,
    admin: bool,
    now: DateTime<Utc>,
) -> Result<MemberInfo, AdminError> {
    actor.can_write()?;
    let (actor, oid, uid, now) = (actor.clone(), oid.to_owned(), uid.to_owned(), db_time(now));
    db.run(move |conn| {
        transaction(conn, |conn| {
            let org = actor.managed_org(conn, &oid)?;
            let (user, was) = member_by_uid(conn, &org, &uid)?;
            if was == admin {
                return Ok(MemberInfo::new(&user, admin));
            }
            if !admin {
                keep_an_admin(conn, &org, was)?;
            }
            orgs::update_member_admin(conn, org.id, user.id, admin)?;
            let action = if admin {
                "organization.promote"
            } else {
                "organization.demote"
            };
            org_entry(action, &actor, &org, now)
                .target("user", &user.public_id, &user.email)
                .record(conn)?;
            Ok(MemberInfo::new(&user, admin))
        })
    })
    .await
}

/// Removes a member (and their group memberships in this organization). Admins remove anyone;
/// a member may remove themselves (leave). Never the last admin.
pub async fn remove_member(
    db: &Db,
    actor: &Actor,
    oid: &str,
    uid: &str,
    now: DateTime<Utc>,
) -> Result<(), AdminError> {
    actor.can_write()?;
    let (actor, oid, uid, now) = (actor.clone(), oid.to_owned(), uid.to_owned(), db_time(now));
    db.run(move |conn| {
        transaction(conn, |conn| {
            let (org, role) = actor.org(conn, &oid)?;
            let leaving = uid == actor.user.public_id;
            if !role.manages() && !leaving {
                return Err(AdminError::Forbidden(
                    "only this organization's admins may remove members".into(),
                ));
            }
            let (user, was_admin) = member_by_uid(conn, &org, &uid)?;
            keep_an_admin(conn, &org, was_admin)?;
            orgs::delete_member(conn, org.id, user.id)?;
            let action = if leaving {
                "organization.leave"
            } else {
                "organization.remove_member"
            };
            org_entry(action, &actor, &org, now)
                .target("user", &user.public_id, &user.email)
                .record(conn)?;
            Ok(())
        })
    })
    .await
}

/// Whether the organization requires its members to use a second factor.
pub async fn requires_mfa(db: &Db, actor: &Actor, oid: &str) -> Result<bool, AdminError> {
    let (actor, oid) = (actor.clone(), oid.to_owned());
    db.run(move |conn| {
        let (org, _) = actor.org(conn, &oid)?;
        Ok(authify_store::factors::org_requires_mfa(
            conn,
            &org.public_id,
        )?)
    })
    .await
}

/// Requires (or stops requiring) a second factor of the organization's members; its admins
/// only. Members without one are led through enrolment at their next sign-in.
pub async fn set_require_mfa(
    db: &Db,
    actor: &Actor,
    oid: &str,
    value: bool,
    now: DateTime<Utc>,
) -> Result<(), AdminError> {
    actor.can_write()?;
    let (actor, oid, now) = (actor.clone(), oid.to_owned(), db_time(now));
    db.run(move |conn| {
        transaction(conn, |conn| {
            let (org, role) = actor.org(conn, &oid)?;
            if !role.manages() {
                return Err(AdminError::Forbidden(
                    "only this organization's admins may do this".into(),
                ));
            }
            authify_store::factors::set_org_require_mfa(conn, &org.public_id, value)?;
            org_entry("organization.require_mfa", &actor, &org, now)
                .details(json!({ "require_mfa": value }))
                .record(conn)?;
            Ok(())
        })
    })
    .await
}
