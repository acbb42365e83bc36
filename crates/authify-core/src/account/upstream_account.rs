//! Upstream providers on the account page: the providers linked or not, linking one (after the
//! current password; the round trip of `upstream` then links it to the signed-in user, and the
//! user is mailed), and unlinking one unless it is the account's last way in.

use authify_store::{transaction, upstream as store};
use chrono::{DateTime, Utc};
use serde::Serialize;

use super::Account;
use crate::authn::flow::Flow;
use crate::authn::upstream::link;
use crate::authn::{AuthnError, Client, Cookies, FlowCookie, UpstreamReturn};
use crate::db_time;
use crate::manage::audit::Entry;
use crate::notify::Notice;
use crate::upstream::{Identity, ProviderInfo};

/// A provider on the account page.
#[derive(Debug, Clone, Serialize)]
pub struct LinkedProvider {
    /// The provider.
    #[serde(flatten)]
    pub provider: ProviderInfo,
    /// The address it reported when linked; `None` with `linked` false when not linked.
    pub email: Option<String>,
    /// Linked to this account.
    pub linked: bool,
}

/// Unlinking a provider.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unlink {
    /// Unlinked.
    Done,
    /// Not linked.
    NotLinked,
    /// It is the account's last way in: kept.
    LastWayIn,
}

impl Account {
    /// From the account page: links `provider` to `user` after checking their current password
    /// (accounts without one are made through a provider and have none to give). `Ok(None)`:
    /// the password was wrong.
    pub async fn upstream_link_begin(
        &self,
        user: &crate::Person,
        password: authify_domain::Password,
        cookies: Cookies,
        provider: &str,
        now: DateTime<Utc>,
    ) -> Result<Option<(String, FlowCookie)>, AuthnError> {
        // SECURITY: a new way into the account is a credential change: a stolen session alone
        // cannot add one (the same rule as passkeys and second factors).
        if user.has_password && !self.confirm_password(user, password).await? {
            Entry::new("upstream.link", db_time(now))
                .by_user(user)
                .failed()
                .details(serde_json::json!({ "provider": provider, "reason": "password" }))
                .save(&self.db)
                .await;
            return Ok(None);
        }
        self.authn()
            .round_trip(cookies, provider, true, None, now)
            .await
            .map(Some)
    }

    /// A round trip started from the account page: links the identity to the signed-in user.
    pub(crate) async fn link_now(
        &self,
        cookies: Cookies,
        info: &ProviderInfo,
        identity: Identity,
        flow: Flow,
        client: Client,
        now: DateTime<Utc>,
    ) -> Result<UpstreamReturn, AuthnError> {
        let Some(user) = self
            .authn()
            .session_user(cookies.session.as_deref(), now)
            .await?
        else {
            return Err(AuthnError::NoFlow);
        };
        let display = info.display.clone();
        let mail = Notice::Mail {
            to: user.email.clone(),
            template: "provider_linked",
            values: serde_json::json!({
                "name": user.name,
                "provider": info.display,
                "email": identity.email,
            }),
        };
        let (outcome, made) = self
            .db
            .run(move |conn| {
                transaction(conn, |conn| {
                    authify_store::flows::delete_flow(conn, flow.id)?;
                    match store::find_identity(conn, &identity.provider, &identity.subject)? {
                        Some(found) if found.user_id == user.id => {
                            Ok((UpstreamReturn::Linked, false))
                        }
                        Some(_) => Ok((
                            UpstreamReturn::NotLinked(format!(
                                "This {display} account is already linked to another account here."
                            )),
                            false,
                        )),
                        None => {
                            link(conn, &user, &identity, &client, now)?;
                            Ok::<_, AuthnError>((UpstreamReturn::Linked, true))
                        }
                    }
                })
            })
            .await?;
        if made {
            // SECURITY: the owner hears of every new way into the account.
            self.inner.mfa.costs.notify_owner(mail).await;
        }
        Ok(outcome)
    }

    /// The providers for `user`'s account page: linked or not.
    pub async fn upstream_accounts(
        &self,
        user: &crate::Person,
    ) -> Result<Vec<LinkedProvider>, AuthnError> {
        let providers = self.authn().upstream_providers();
        if providers.is_empty() {
            return Ok(Vec::new());
        }
        let id = user.id;
        let linked = self
            .db
            .run_quick(move |conn| store::list_identities(conn, id))
            .await?;
        Ok(providers
            .into_iter()
            .map(|p| {
                let found = linked.iter().find(|l| l.provider == p.name);
                LinkedProvider {
                    email: found.and_then(|l| l.email.clone()),
                    linked: found.is_some(),
                    provider: p,
                }
            })
            .collect())
    }

    /// Unlinks `provider` from `user`, unless it is the account's last way in.
    pub async fn upstream_unlink(
        &self,
        user: &crate::Person,
        provider: &str,
        client: Client,
        now: DateTime<Utc>,
    ) -> Result<Unlink, AuthnError> {
        let (user, provider) = (user.clone(), provider.to_owned());
        let configured: Vec<String> = self
            .authn()
            .upstream_providers()
            .into_iter()
            .map(|p| p.name)
            .collect();
        self.db
            .run(move |conn| {
                transaction(conn, |conn| {
                    let identities = store::list_identities(conn, user.id)?;
                    if !identities.iter().any(|i| i.provider == provider) {
                        return Ok(Unlink::NotLinked);
                    }
                    // Only a provider still configured is a way in.
                    let others = identities
                        .iter()
                        .filter(|i| i.provider != provider && configured.contains(&i.provider))
                        .count();
                    // SECURITY: never remove the last way in (a password, a passkey, another
                    // provider): the account would be lost to its owner.
                    let has_password = user.has_password;
                    let has_passkey = authify_store::factors::list_factors(conn, user.id)?
                        .iter()
                        .any(|f| f.confirmed && f.kind == crate::mfa::Method::Passkey.kind());
                    if !has_password && others == 0 && !has_passkey {
                        return Ok(Unlink::LastWayIn);
                    }
                    store::delete_identities(conn, user.id, &provider)?;
                    Entry::new("upstream.unlink", db_time(now))
                        .by_user(&user)
                        .ip(client.ip.as_deref())
                        .details(serde_json::json!({ "provider": provider }))
                        .record(conn)?;
                    Ok::<_, AuthnError>(Unlink::Done)
                })
            })
            .await
    }
}
