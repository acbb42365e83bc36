//! Users: listing and searching (global admins), disabling (which ends sessions), granting admin,
//! and a user's own e-mail and password, which change only with the current password.

use authify_domain::{Email, Name, Password};
use authify_store::models::NewUser;
use authify_store::users;
pub use authify_store::users::UserFilter;
use authify_store::{DbConnection, StoreError, transaction};
use chrono::{DateTime, Utc};
use serde_json::json;

use super::actor::Actor;
use super::views::{Page, PageRequest, UserInfo};
use crate::error::AdminError;
use crate::{Db, PasswordHasher, User, db_time, random};

fn by_uid(conn: &mut DbConnection, uid: &str) -> Result<User, AdminError> {
    users::find_user_by_public_id(conn, uid)?
        .ok_or_else(|| AdminError::NotFound(format!("no user {uid:?}")))
}

/// Users by e-mail; global admins only.
pub async fn list(
    db: &Db,
    actor: &Actor,
    filter: UserFilter,
    page: PageRequest,
) -> Result<Page<UserInfo>, AdminError> {
    actor.global()?;
    let (limit, after) = (page.limit()?, page.after()?);
    db.run(move |conn| {
        let rows = users::list_users(conn, &filter, after.as_deref(), limit + 1)?;
        Ok(Page::from_rows(
            rows,
            limit,
            |u| u.email.clone(),
            |u| UserInfo::from(&u),
        ))
    })
    .await
}

/// One user: global admins see anyone, others only themselves.
pub async fn get(db: &Db, actor: &Actor, uid: &str) -> Result<UserInfo, AdminError> {
    if !actor.is_global_admin() && actor.user.public_id != uid {
        return Err(AdminError::NotFound(format!("no user {uid:?}")));
    }
    let uid = uid.to_owned();
    db.run(move |conn| Ok(UserInfo::from(&by_uid(conn, &uid)?)))
        .await
}

/// One user by exact e-mail address (how the command line names users); global admins only.
pub async fn find_by_email(db: &Db, actor: &Actor, email: &str) -> Result<UserInfo, AdminError> {
    actor.global()?;
    let email = Email::parse(email).map_err(|e| AdminError::Invalid(format!("{email:?}: {e}")))?;
    db.run(move |conn| {
        let user = users::find_user_by_email(conn, email.as_str())?
            .ok_or_else(|| AdminError::NotFound(format!("no user with e-mail {email}")))?;
        Ok(UserInfo::from(&user))
    })
    .await
}

/// A new user, created by a global admin. The display name defaults to the part of the e-mail
/// address before the @.
#[allow(clippy::too_many_arguments)] // each is a distinct field of the new account
pub async fn create(
    db: &Db,
    hasher: &PasswordHasher,
    actor: &Actor,
    email: &str,
    name: Option<&str>,
    password: &str,
    admin: bool,
    now: DateTime<Utc>,
) -> Result<UserInfo, AdminError> {
    actor.can_write()?;
    actor.global()?;
    let email = Email::parse(email).map_err(|e| AdminError::Invalid(format!("{email:?}: {e}")))?;
    let default_name = email.as_str().split('@').next().unwrap_or("user");
    let name = Name::parse(name.unwrap_or(default_name), "the name")
        .map_err(|e| AdminError::Invalid(e.to_string()))?;
    let password = Password::new(password).map_err(|e| AdminError::Invalid(e.to_string()))?;
    let hash = hasher.hash(password.expose().to_owned()).await?;
    let public_id = random::public_id()?;
    let (actor, now) = (actor.clone(), db_time(now));
    db.run(move |conn| {
        transaction(conn, |conn| {
            let new = NewUser {
                public_id: &public_id,
                email: email.as_str(),
                name: name.as_str(),
                password_hash: &hash,
                is_admin: admin,
                disabled: false,
                created_at: now,
            };
            let user = users::insert_user(conn, &new).map_err(|e| match e {
                StoreError::Conflict(_) => {
                    AdminError::Conflict(format!("a user with e-mail {email} already exists"))
                }
                other => other.into(),
            })?;
            actor
                .entry("user.create", now)
                .target("user", &user.public_id, &user.email)
                .details(json!({ "admin": admin }))
                .record(conn)?;
            Ok(UserInfo::from(&user))
        })
    })
    .await
}

/// What a global admin may change about a user.
#[derive(Debug, Clone, Default)]
pub struct UserChange {
    /// Disable (ends all sessions) or enable.
    pub disabled: Option<bool>,
    /// Grant or revoke global admin.
    pub admin: Option<bool>,
    /// New display name.
    pub name: Option<String>,
}

/// Changes a user; global admins only. The last enabled global admin can be neither disabled
/// nor demoted, so the installation always keeps an administrator.
pub async fn update(
    db: &Db,
    actor: &Actor,
    uid: &str,
    change: UserChange,
    now: DateTime<Utc>,
) -> Result<UserInfo, AdminError> {
    actor.can_write()?;
    actor.global()?;
    let name = match change.name.as_deref() {
        Some(n) => {
            Some(Name::parse(n, "the name").map_err(|e| AdminError::Invalid(e.to_string()))?)
        }
        None => None,
    };
    let (actor, uid, now) = (actor.clone(), uid.to_owned(), db_time(now));
    db.run(move |conn| {
        transaction(conn, |conn| {
            let user = by_uid(conn, &uid)?;
            let losing_admin = user.is_admin
                && !user.disabled
                && (change.disabled == Some(true) || change.admin == Some(false));
            if losing_admin && users::count_active_admins(conn)? <= 1 {
                return Err(AdminError::Conflict(
                    "this is the last enabled global administrator; make someone else an administrator first".into(),
                ));
            }
            let target = |action: &str| {
                actor
                    .entry(action, now)
                    .target("user", &user.public_id, &user.email)
            };
            if let Some(d) = change.disabled.filter(|d| *d != user.disabled) {
                users::update_user_disabled(conn, user.id, d)?;
                if d {
                    // SECURITY: a disabled user is signed out everywhere at once.
                    crate::sessions::end_all(conn, &user, None, now)?;
                }
                target(if d { "user.disable" } else { "user.enable" }).record(conn)?;
            }
            if let Some(a) = change.admin.filter(|a| *a != user.is_admin) {
                users::update_user_admin(conn, user.id, a)?;
                target(if a { "user.grant_admin" } else { "user.revoke_admin" }).record(conn)?;
            }
            if let Some(n) = name.filter(|n| n.as_str() != user.name) {
                users::update_user_name(conn, user.id, n.as_str())?;
                target("user.rename")
                    .details(json!({ "before": user.name, "after": n.as_str() }))
                    .record(conn)?;
            }
            Ok(UserInfo::from(&users::get_user(conn, user.id)?))
        })
    })
    .await
}

/// A user's change to their own sign-in credentials.
pub struct CredentialChange {
    /// The current password: required for any change.
    pub current_password: String,
    /// New e-mail address.
    pub email: Option<String>,
    /// New password.
    pub password: Option<String>,
}

impl std::fmt::Debug for CredentialChange {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CredentialChange")
            .field("email", &self.email)
            .finish_non_exhaustive()
    }
}

/// Changes the actor's own e-mail and/or password. The current password is checked first
/// (argon2, on the bounded pool). Either change ends every session of the user but
/// `keep_session` (the token of the session making the change, if it is one).
pub async fn change_credentials(
    db: &Db,
    authn: &crate::authn::Authn,
    actor: &Actor,
    change: CredentialChange,
    keep_session: Option<&str>,
    now: DateTime<Utc>,
) -> Result<UserInfo, AdminError> {
    actor.can_write()?;
    actor.own_account()?;
    let email = match change.email.as_deref().filter(|e| !e.trim().is_empty()) {
        Some(e) => Some(Email::parse(e).map_err(|e| AdminError::Invalid(e.to_string()))?),
        None => None,
    };
    let password = match change.password.as_deref().filter(|p| !p.is_empty()) {
        Some(p) => Some(Password::new(p).map_err(|e| AdminError::Invalid(e.to_string()))?),
        None => None,
    };
    if email.is_none() && password.is_none() {
        return Err(AdminError::Invalid(
            "give a new e-mail address or a new password".into(),
        ));
    }
    // SECURITY: a stolen session or API token alone cannot take over the account; the check is
    // throttled like a sign-in, so a stolen session cannot guess the password at speed either.
    let current = Password::attempt(&change.current_password);
    let ok = authn.confirm_password(&actor.user, current).await?;
    if !ok {
        // A refused attempt changes nothing, so it has no transaction to join.
        actor
            .entry("user.credentials", db_time(now))
            .failed()
            .save(db)
            .await;
        return Err(AdminError::WrongPassword);
    }
    let hash = match &password {
        Some(p) => Some(authn.hash_password(p).await?),
        None => None,
    };
    let keep = keep_session.map(crate::sessions::token_hash);
    let new_address = email.is_some();
    let user_id = actor.user.id;
    let by = format!("account:{}", actor.user.id);
    let (actor, at) = (actor.clone(), db_time(now));
    let info: UserInfo = db
        .run(move |conn| {
            transaction(conn, |conn| {
                let id = actor.user.id;
                if let Some(e) = &email {
                    users::update_user_email(conn, id, e.as_str()).map_err(|err| match err {
                        StoreError::Conflict(_) => {
                            AdminError::Conflict("another account uses this e-mail address".into())
                        }
                        other => other.into(),
                    })?;
                    actor
                        .entry("user.change_email", at)
                        .target("user", &actor.user.public_id, e.as_str())
                        .details(json!({ "before": actor.user.email, "after": e.as_str() }))
                        .record(conn)?;
                }
                if let Some(h) = &hash {
                    users::update_user_password(conn, id, h)?;
                    actor
                        .entry("user.change_password", at)
                        .target("user", &actor.user.public_id, &actor.user.email)
                        .record(conn)?;
                }
                // SECURITY: a new e-mail address or password signs out every other session, so
                // whoever took over one of them loses it with the credentials they may have seen.
                crate::sessions::end_all(conn, &actor.user, keep.as_deref(), at)?;
                Ok::<_, AdminError>(UserInfo::from(&users::get_user(conn, id)?))
            })
        })
        .await?;
    // A new address is unverified until a link mailed to it is followed.
    // SECURITY: charged to the account making the change (a loop of address changes is a
    // mailer otherwise); the change is committed, so a refusal is logged, not returned.
    if new_address {
        match authn
            .account()
            .verification_send(user_id, Some(&by), now)
            .await
        {
            Err(crate::authn::AuthnError::Cost(e)) => {
                tracing::warn!(error = %e, "verification link for a new address not sent");
            }
            other => other?,
        }
    }
    Ok(info)
}

/// Removes every second factor and recovery code of a user (they lost their device); global
/// admins only. Audited; the user is told by mail. Returns how many factors were removed.
pub async fn reset_factors(
    db: &Db,
    actor: &Actor,
    uid: &str,
    costs: &crate::costs::Costs,
    now: DateTime<Utc>,
) -> Result<usize, AdminError> {
    actor.can_write()?;
    actor.global()?;
    let (actor, uid, when) = (actor.clone(), uid.to_owned(), db_time(now));
    let (user, removed) = db
        .run(move |conn| {
            transaction(conn, |conn| {
                let user = by_uid(conn, &uid)?;
                let removed = authify_store::factors::delete_all(conn, user.id)?;
                actor
                    .entry("user.reset_factors", when)
                    .target("user", &user.public_id, &user.email)
                    .details(json!({ "factors": removed }))
                    .record(conn)?;
                Ok::<_, AdminError>((user, removed))
            })
        })
        .await?;
    costs
        .notify_owner(crate::notify::Notice::Mail {
            to: user.email.clone(),
            template: "factors_reset",
            values: json!({ "name": user.name, "removed": removed }),
        })
        .await;
    Ok(removed)
}
