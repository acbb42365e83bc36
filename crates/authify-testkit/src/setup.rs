//! Test data set up directly in the database, addressed by e-mail and name: users, their
//! disabling, organizations, groups and memberships. Not audited and not for the product: an
//! operator uses `authify_core::manage`. (These lived in `authify-core` until the engine issue.)

use authify_core::{AdminError, Db, PasswordHasher, db_time, random};
use authify_domain::{Email, Name, Password};
use authify_store::models::{Group, NewUser, Organization, User};
use authify_store::{DbConnection, StoreError, orgs, users};
use chrono::{DateTime, Utc};

/// Creates a user directly in the database (no audit entry): test set-up.
pub async fn create_user(
    db: &Db,
    hasher: &PasswordHasher,
    email: &str,
    name: Option<&str>,
    password: &str,
    admin: bool,
    now: DateTime<Utc>,
) -> Result<User, AdminError> {
    let email = Email::parse(email).map_err(|e| AdminError::Invalid(format!("{email:?}: {e}")))?;
    let name = match name {
        Some(n) => Name::parse(n, "the name").map_err(|e| AdminError::Invalid(e.to_string()))?,
        None => Name::parse(
            email.as_str().split('@').next().unwrap_or("user"),
            "the name",
        )
        .map_err(|e| AdminError::Invalid(e.to_string()))?,
    };
    let password = Password::new(password).map_err(|e| AdminError::Invalid(e.to_string()))?;
    let hash = hasher.hash(password.expose().to_owned()).await?;
    let public_id = random::public_id()?;
    let created_at = db_time(now);
    db.run_blocking(move |conn| {
        let new = NewUser {
            public_id: &public_id,
            email: email.as_str(),
            name: name.as_str(),
            password_hash: &hash,
            is_admin: admin,
            disabled: false,
            created_at,
        };
        users::insert_user(conn, &new).map_err(|e| match e {
            StoreError::Conflict(_) => {
                AdminError::Conflict(format!("a user with e-mail {} already exists", email))
            }
            other => other.into(),
        })
    })
}

/// Enables or disables a user; disabling ends all their sessions.
pub async fn set_disabled(
    db: &Db,
    email: &str,
    disabled: bool,
    now: DateTime<Utc>,
) -> Result<(), AdminError> {
    let email = Email::parse(email).map_err(|e| AdminError::Invalid(e.to_string()))?;
    db.run_blocking(move |conn| {
        let user = users::find_user_by_email(conn, email.as_str())?
            .ok_or_else(|| AdminError::NotFound(format!("no user with e-mail {email}")))?;
        users::update_user_disabled(conn, user.id, disabled)?;
        if disabled {
            authify_core::sessions::end_all(conn, &user, None, db_time(now))?;
        }
        Ok(())
    })
}

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
    db.run_blocking(move |conn| {
        orgs::insert_organization(conn, &public_id, name.as_str(), now).map_err(conflict(format!(
            "an organization named {:?} already exists",
            name.as_str()
        )))
    })
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
    db.run_blocking(move |conn| {
        let o = org_named(conn, &org)?;
        let u = user_with(conn, &email)?;
        orgs::insert_organization_member(conn, o.id, u.id, admin, now)
            .map_err(conflict(format!("{email} is already a member of {org:?}")))
    })
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
    db.run_blocking(move |conn| {
        let o = org_named(conn, &org)?;
        orgs::insert_group(conn, o.id, &public_id, group.as_str(), now).map_err(conflict(format!(
            "{org:?} already has a group named {:?}",
            group.as_str()
        )))
    })
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
    db.run_blocking(move |conn| {
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
}
