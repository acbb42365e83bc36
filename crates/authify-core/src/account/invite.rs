//! Accepting an invitation through its mailed link (`/invite`): the link's GET names the
//! organization and spends nothing (mail scanners follow links); its POST, by a signed-in user,
//! spends it and adds the user to the organization. Accepting from the invited address itself
//! also confirms that address (the link proves the mailbox).

use authify_store::invitations as store;
use authify_store::{StoreError, orgs, transaction, users};
use chrono::{DateTime, Utc};

use super::Account;
use crate::authn::{AuthnError, Client};
use crate::db_time;
use crate::manage::audit::Entry;
use crate::sessions::token_hash;

/// What a live invitation link offers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InvitationOffer {
    /// The organization's name.
    pub organization: String,
    /// The address invited.
    pub email: String,
}

impl Account {
    /// The offer of a live invitation link, or `None` (expired, used, revoked, unknown).
    pub async fn invitation_check(
        &self,
        token: &str,
        now: DateTime<Utc>,
    ) -> Result<Option<InvitationOffer>, AuthnError> {
        let hash = token_hash(token);
        self.db
            .run(move |conn| {
                let Some(inv) = store::find_live_invitation(conn, &hash, db_time(now))? else {
                    return Ok(None);
                };
                let org = store::organization_of(conn, &inv)?;
                Ok(Some(InvitationOffer {
                    organization: org.name,
                    email: inv.email,
                }))
            })
            .await
    }

    /// Accepts the invitation for `user`: spends the link and adds them to the organization (a
    /// member already stays as they are). Returns the organization's name, or `None` when the
    /// link is dead.
    pub async fn invitation_accept(
        &self,
        token: &str,
        user: &crate::Person,
        client: Client,
        now: DateTime<Utc>,
    ) -> Result<Option<String>, AuthnError> {
        let hash = token_hash(token);
        let user = user.clone();
        self.db
            .run(move |conn| {
                transaction(conn, |conn| {
                    let at = db_time(now);
                    let Some(inv) = store::find_live_invitation(conn, &hash, at)? else {
                        return Ok::<_, AuthnError>(None);
                    };
                    // SECURITY: spent by a conditional update: one link, one membership.
                    if !store::accept_invitation(conn, inv.id, user.id, at)? {
                        return Ok(None);
                    }
                    let org = store::organization_of(conn, &inv)?;
                    match transaction(conn, |conn| {
                        orgs::insert_organization_member(conn, org.id, user.id, false, at)
                    }) {
                        Ok(()) | Err(StoreError::Conflict(_)) => {}
                        Err(e) => return Err(e.into()),
                    }
                    if user.email == inv.email {
                        users::set_email_verified(conn, user.id, &inv.email)?;
                    }
                    Entry::new("organization.join", at)
                        .by_user(&user)
                        .ip(client.ip.as_deref())
                        .target("organization", &org.public_id, &org.name)
                        .org(&org.public_id)
                        .details(serde_json::json!({ "invitation": inv.public_id, "invited": inv.email }))
                        .record(conn)?;
                    Ok(Some(org.name))
                })
            })
            .await
    }
}
