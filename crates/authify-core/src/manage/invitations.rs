//! Invitations to join an organization: its admins (or global admins) invite by e-mail, list
//! the live invitations and revoke them; every step is audited. The invitee accepts through the
//! mailed link (`authn::invite`). A link lives 7 days and works once.

use authify_domain::Email;
use authify_store::invitations::{self as store, Invitation, NewInvitation};
use authify_store::{orgs, transaction, users};
use chrono::{DateTime, Duration, NaiveDateTime, Utc};
use serde::Serialize;
use serde_json::json;

use super::actor::Actor;
use crate::costs::{Charge, Costs};
use crate::error::AdminError;
use crate::notify::Notice;
use crate::sessions::token_hash;
use crate::{Db, db_time, random};

/// How long an invitation link works.
pub const INVITATION_TTL_DAYS: i64 = 7;

/// An invitation as the console and the API show it.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct InvitationInfo {
    /// Public id (to revoke it).
    pub id: String,
    /// The address invited.
    pub email: String,
    /// RFC 3339.
    pub created_at: String,
    /// RFC 3339.
    pub expires_at: String,
}

fn time(t: NaiveDateTime) -> String {
    t.and_utc()
        .to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

impl From<&Invitation> for InvitationInfo {
    fn from(i: &Invitation) -> Self {
        InvitationInfo {
            id: i.public_id.clone(),
            email: i.email.clone(),
            created_at: time(i.created_at),
            expires_at: time(i.expires_at),
        }
    }
}

/// The organization `oid` when `actor` may invite `email` to it now: they manage it, the
/// address is not a member and has no live invitation.
fn refusal(
    conn: &mut authify_store::DbConnection,
    actor: &Actor,
    oid: &str,
    email: &Email,
    at: NaiveDateTime,
) -> Result<authify_store::models::Organization, AdminError> {
    let org = actor.managed_org(conn, oid)?;
    if let Some(user) = users::find_user_by_email(conn, email.as_str())?
        && orgs::find_membership(conn, org.id, user.id)?.is_some()
    {
        return Err(AdminError::Conflict(format!("{email} is already a member")));
    }
    if store::list_live_invitations(conn, org.id, at)?
        .iter()
        .any(|i| i.email == email.as_str())
    {
        return Err(AdminError::Conflict(format!(
            "{email} has a live invitation; revoke it to send a new one"
        )));
    }
    Ok(org)
}

/// Invites `email` to the organization `oid` and mails the link (`public_url`/invite?token=…).
/// Refused when the address already belongs to a member or has a live invitation.
pub async fn invite(
    db: &Db,
    actor: &Actor,
    oid: &str,
    email: &str,
    costs: &Costs,
    public_url: &str,
    now: DateTime<Utc>,
) -> Result<InvitationInfo, AdminError> {
    actor.can_write()?;
    let email = Email::parse(email).map_err(|e| AdminError::Invalid(e.to_string()))?;
    let token = random::token::<32>()?;
    let public_id = random::token::<12>()?;
    let hash = token_hash(&token);
    let (actor, oid, at) = (actor.clone(), oid.to_owned(), db_time(now));
    let inviter = actor.user.name.clone();
    // The permission and the conflicts first (read only), so a refused request spends nothing.
    {
        let (actor, oid, email) = (actor.clone(), oid.clone(), email.clone());
        db.run(move |conn| refusal(conn, &actor, &oid, &email, at).map(|_| ()))
            .await?;
    }
    // SECURITY: an invitation mails an address the administrator chose: per administrator
    // (user or API key owner) an hourly budget, with the recipient's and the global mail
    // budgets, spent before anything is stored.
    let paid = costs
        .charge(Charge::invitation(
            email.as_str(),
            &format!("user:{}", actor.user.id),
        ))
        .await?;
    let (info, org_name) = db
        .run(move |conn| {
            transaction(conn, |conn| {
                let org = refusal(conn, &actor, &oid, &email, at)?;
                let new = NewInvitation {
                    public_id: &public_id,
                    organization_id: org.id,
                    email: email.as_str(),
                    token_hash: &hash,
                    invited_by: (!actor.is_system()).then_some(actor.user.id),
                    created_at: at,
                    expires_at: at + Duration::days(INVITATION_TTL_DAYS),
                };
                store::insert_invitation(conn, &new)?;
                actor
                    .entry("organization.invite", at)
                    .target("organization", &org.public_id, &org.name)
                    .org(&org.public_id)
                    .details(json!({ "email": email.as_str(), "invitation": public_id }))
                    .record(conn)?;
                let made = store::list_live_invitations(conn, org.id, at)?
                    .into_iter()
                    .find(|i| i.public_id == public_id)
                    .ok_or_else(|| AdminError::Internal("the invitation just made".into()))?;
                Ok::<_, AdminError>((InvitationInfo::from(&made), org.name))
            })
        })
        .await?;
    let link = format!("{}/invite?token={token}", public_url.trim_end_matches('/'));
    paid.send(Notice::Mail {
        to: info.email.clone(),
        template: "invitation",
        values: serde_json::json!({
            "inviter": inviter,
            "organization": org_name,
            "link": link,
            "days": INVITATION_TTL_DAYS,
        }),
    });
    Ok(info)
}

/// The live invitations of the organization `oid`, newest first.
pub async fn pending(
    db: &Db,
    actor: &Actor,
    oid: &str,
    now: DateTime<Utc>,
) -> Result<Vec<InvitationInfo>, AdminError> {
    let (actor, oid, at) = (actor.clone(), oid.to_owned(), db_time(now));
    db.run(move |conn| {
        let org = actor.managed_org(conn, &oid)?;
        Ok(store::list_live_invitations(conn, org.id, at)?
            .iter()
            .map(InvitationInfo::from)
            .collect())
    })
    .await
}

/// Revokes the live invitation `id` of the organization `oid`: its link stops working.
pub async fn revoke(
    db: &Db,
    actor: &Actor,
    oid: &str,
    id: &str,
    now: DateTime<Utc>,
) -> Result<(), AdminError> {
    actor.can_write()?;
    let (actor, oid, id, at) = (actor.clone(), oid.to_owned(), id.to_owned(), db_time(now));
    db.run(move |conn| {
        transaction(conn, |conn| {
            let org = actor.managed_org(conn, &oid)?;
            let revoked = store::revoke_invitation(conn, org.id, &id, at)?.ok_or_else(|| {
                AdminError::NotFound(format!("no live invitation {id:?} in this organization"))
            })?;
            actor
                .entry("organization.revoke_invitation", at)
                .target("organization", &org.public_id, &org.name)
                .org(&org.public_id)
                .details(json!({ "email": revoked.email, "invitation": revoked.public_id }))
                .record(conn)?;
            Ok(())
        })
    })
    .await
}
