//! A user's token for an application: the claims come from three rows (the user, their
//! organizations, their groups) read in two queries, whatever the number of organizations.

use authify_domain::{GroupClaim, OrganizationClaim, SCOPE_ADMIN, SCOPE_USER, UserClaim};
use authify_jwt::{SignError, Signer, TokenIssuer, TokenSubject};
use authify_store::models::User;
use authify_store::{DbConnection, StoreError, orgs};
use chrono::{DateTime, Utc};

use crate::{Db, random};

/// Issuing failed. Never the user's fault.
#[derive(Debug, thiserror::Error)]
pub enum TokenError {
    /// Reading memberships failed.
    #[error("{0}")]
    Store(#[from] StoreError),
    /// Signing failed.
    #[error("{0}")]
    Sign(#[from] SignError),
    /// No randomness for `jti`.
    #[error("randomness: {0}")]
    Random(String),
}

/// The `sub`, `user` and `scopes` of `user`. Two queries.
pub fn subject(conn: &mut DbConnection, user: &User) -> Result<TokenSubject, StoreError> {
    let organizations = orgs::list_user_organizations(conn, user.id)?;
    let groups = orgs::list_user_groups(conn, user.id)?;
    let organizations = organizations
        .into_iter()
        .map(|(org, admin)| OrganizationClaim {
            memberships: groups
                .iter()
                .filter(|g| g.organization_id == org.id)
                .map(|g| GroupClaim {
                    name: g.name.clone(),
                    gid: g.public_id.clone(),
                })
                .collect(),
            name: org.name,
            oid: org.public_id,
            admin,
        })
        .collect();
    let mut scopes = vec![SCOPE_USER.to_owned()];
    if user.is_admin {
        scopes.push(SCOPE_ADMIN.to_owned());
    }
    Ok(TokenSubject {
        sub: user.public_id.clone(),
        user: UserClaim {
            email_verified: user.email_verified,
            username: user.email.clone(),
            uid: user.public_id.clone(),
            organizations,
        },
        scopes,
    })
}

/// Signs a token for `user` with audience `app_id`.
pub async fn issue(
    db: &Db,
    issuer: &TokenIssuer,
    signer: &Signer,
    user: &crate::Person,
    app_id: &str,
    now: DateTime<Utc>,
) -> Result<String, TokenError> {
    let id = user.id;
    let subject = db
        .run(move |conn| {
            let user = authify_store::users::get_user(conn, id)?;
            subject(conn, &user)
        })
        .await?;
    let jti = random::bytes::<16>().map_err(|e| TokenError::Random(e.to_string()))?;
    Ok(issuer
        .issue(signer, subject, app_id, now.timestamp(), jti)?
        .0)
}

/// The claims `user` would get: what the account page shows.
pub async fn subject_for(db: &Db, user: &crate::Person) -> Result<TokenSubject, StoreError> {
    let id = user.id;
    db.run(move |conn| {
        let user = authify_store::users::get_user(conn, id)?;
        subject(conn, &user)
    })
    .await
}
