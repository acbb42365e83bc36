//! Organizations, groups and memberships, addressed by names and e-mail addresses (the command
//! line's vocabulary).

use authify_domain::{Email, Name};
use authify_store::models::{Group, Organization, User};
use authify_store::{DbConnection, StoreError, orgs, users};
use chrono::{DateTime, Utc};

use crate::error::AdminError;
use crate::{Db, db_time, random};

fn name(raw: &str, what: &'static str) -> Result<Name, AdminError> {
    Name::parse(raw, what).map_err(|e| AdminError::Invalid(e.to_string()))
}

fn conflict(message: String) -> impl FnOnce(StoreError) -> AdminError {
    move |e| match e {
        StoreError::Conflict(_) => AdminError::Conflict(message),
        other => other.into(),
    }
}

fn org_named(conn: &mut DbConnection, name: &str) -> Result<Organization, AdminError> {
    orgs::find_organization_by_name(conn, name)?
        .ok_or_else(|| AdminError::NotFound(format!("no organization named {name:?}")))
}

fn user_with(conn: &mut DbConnection, email: &Email) -> Result<User, AdminError> {
    users::find_user_by_email(conn, email.as_str())?
        .ok_or_else(|| AdminError::NotFound(format!("no user with e-mail {email}")))
}

fn email(raw: &str) -> Result<Email, AdminError> {
    Email::parse(raw).map_err(|e| AdminError::Invalid(format!("{raw:?}: {e}")))
}

/// Creates an organization.
pub async fn create_org(
    db: &Db,
    raw_name: &str,
    now: DateTime<Utc>,
) -> Result<Organization, AdminError> {
    let name = name(raw_name, "the organization name")?;
    let public_id = random::public_id()?;
    let now = db_time(now);
    db.run(move |conn| {
        orgs::insert_organization(conn, &public_id, name.as_str(), now).map_err(conflict(format!(
            "an organization named {:?} already exists",
            name.as_str()
        )))
    })
    .await
}

/// Adds a user to an organization, optionally as its admin.
pub async fn add_org_member(
    db: &Db,
    org: &str,
    raw_email: &str,
    admin: bool,
    now: DateTime<Utc>,
) -> Result<(), AdminError> {
    let (org, email) = (org.to_owned(), email(raw_email)?);
    let now = db_time(now);
    db.run(move |conn| {
        let o = org_named(conn, &org)?;
        let u = user_with(conn, &email)?;
        orgs::insert_organization_member(conn, o.id, u.id, admin, now)
            .map_err(conflict(format!("{email} is already a member of {org:?}")))
    })
    .await
}

/// Creates a group in an organization.
pub async fn create_group(
    db: &Db,
    org: &str,
    raw_name: &str,
    now: DateTime<Utc>,
) -> Result<Group, AdminError> {
    let (org, group) = (org.to_owned(), name(raw_name, "the group name")?);
    let public_id = random::public_id()?;
    let now = db_time(now);
    db.run(move |conn| {
        let o = org_named(conn, &org)?;
        orgs::insert_group(conn, o.id, &public_id, group.as_str(), now).map_err(conflict(format!(
            "{org:?} already has a group named {:?}",
            group.as_str()
        )))
    })
    .await
}

/// Adds an organization member to one of its groups.
pub async fn add_group_member(
    db: &Db,
    org: &str,
    group: &str,
    raw_email: &str,
    now: DateTime<Utc>,
) -> Result<(), AdminError> {
    let (org, group, email) = (org.to_owned(), group.to_owned(), email(raw_email)?);
    let now = db_time(now);
    db.run(move |conn| {
        let o = org_named(conn, &org)?;
        let g = orgs::find_group(conn, o.id, &group)?
            .ok_or_else(|| AdminError::NotFound(format!("{org:?} has no group named {group:?}")))?;
        let u = user_with(conn, &email)?;
        if !orgs::is_organization_member(conn, o.id, u.id)? {
            return Err(AdminError::Invalid(format!(
                "{email} is not a member of {org:?}; add them with `authify orgs add-member` first"
            )));
        }
        orgs::insert_group_member(conn, g.id, u.id, now)
            .map_err(conflict(format!("{email} is already in group {group:?}")))
    })
    .await
}
