//! Sign-in through an upstream provider as a step of the flow, and linking providers to accounts.
//!
//! [`Authn::upstream_begin`] draws the round trip's secrets (state, PKCE verifier, nonce), keeps
//! them in the browser's flow and sends the browser to the provider; the flow keeps its return
//! (the app's callback, an OpenID request) across the round trip. [`Authn::upstream_return`]
//! takes them back once, checks `state`, has the connector exchange the code and check the ID
//! token, and decides:
//!
//! - an identity already linked (by provider and subject, never by e-mail) identifies its user,
//!   and the flow goes on as after a password (second factors when policy requires them);
//! - a new identity whose *verified* address belongs to an account does not sign in: the flow
//!   records a link waiting for that account, and the user signs in to it once (password and
//!   factors); the final transaction then links the identity ([`link_waiting`]);
//! - a new identity with a verified address nobody uses signs up, when `AUTHIFY_SIGNUP` allows;
//!   the account has no password (the user can set one with "Forgot password").
//!
//! From the account page, the same round trip links a provider to the signed-in user; a provider
//! is unlinked only when the account keeps another way in (a password, a passkey, another
//! provider).

use std::sync::Arc;

use authify_jwt::Keyring;
use authify_store::models::{NewUser, User};
use authify_store::{DbConnection, StoreError, transaction, upstream as store, users};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use subtle::ConstantTimeEq;

use super::flow::Flow;
use super::state::{FlowState, set_anonymous_state};
use super::steps::{flow_for, form};
use super::{Authn, AuthnError, Client, Cookies, FlowCookie, Progress, Refusal, Return};
use crate::account::verify::EmailVerification;
use crate::manage::audit::Entry;
use crate::upstream::{Identity, ProviderInfo, RoundTrip, UpstreamError};
use crate::{db_time, random};

/// The `amr` value of a sign-in through an upstream provider ("federated"; RFC 8176 leaves
/// room for values outside its registry).
pub const AMR_FED: &str = "fed";

/// What the flow's `upstream` column holds.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
enum Waiting {
    /// A round trip in progress.
    Trip(RoundTrip),
    /// A new identity whose verified address is `user_id`'s: linked when that user signs in.
    Link {
        provider: String,
        subject: String,
        email: Option<String>,
        user_id: i64,
    },
}

/// What the provider sent the browser back with (the callback's query).
#[derive(Debug, Clone, Default)]
pub struct UpstreamAnswer {
    /// The authorization code.
    pub code: Option<String>,
    /// The `state` it must repeat.
    pub state: Option<String>,
    /// An OAuth error (`access_denied` when the user said no).
    pub error: Option<String>,
}

/// Where a round trip left the browser.
#[derive(Debug)]
pub enum UpstreamReturn {
    /// A sign-in round trip: where the flow went (done, a second factor, or refused with the
    /// login form: cancelled, no verified address, sign in to link first).
    SignIn(Progress),
    /// A link from the account page: done.
    Linked,
    /// A link from the account page that could not be made (why, for the account page).
    NotLinked(String),
}

impl Authn {
    /// The configured providers.
    pub fn upstream_providers(&self) -> Vec<ProviderInfo> {
        self.upstream.providers()
    }

    fn provider(&self, name: &str) -> Result<ProviderInfo, AuthnError> {
        self.upstream_providers()
            .into_iter()
            .find(|p| p.name == name)
            .ok_or_else(|| {
                AuthnError::BadRequest("No sign-in provider of that name is configured.".into())
            })
    }

    fn redirect_uri(&self, provider: &str) -> String {
        format!(
            "{}/login/upstream/{provider}/callback",
            self.inner.settings.public_url
        )
    }

    /// Starts a sign-in round trip to `provider` in this browser's flow; returns the provider's
    /// URL and the flow cookie.
    pub async fn upstream_begin(
        &self,
        cookies: Cookies,
        provider: &str,
        ip: Option<String>,
        now: DateTime<Utc>,
    ) -> Result<(String, FlowCookie), AuthnError> {
        self.round_trip(cookies, provider, false, ip, now).await
    }

    /// Starts a round trip (`link`: from the account page, for the signed-in user, whose session
    /// the return checks again).
    pub(crate) async fn round_trip(
        &self,
        cookies: Cookies,
        provider: &str,
        link: bool,
        ip: Option<String>,
        now: DateTime<Utc>,
    ) -> Result<(String, FlowCookie), AuthnError> {
        let provider = self.provider(provider)?.name;
        // SECURITY: state, PKCE verifier and nonce are fresh 256-bit secrets per round trip,
        // kept in the flow on the server; only the state and the verifier's hash leave.
        let trip = RoundTrip {
            provider: provider.clone(),
            state: random::token::<32>()?,
            verifier: random::token::<32>()?,
            nonce: random::token::<32>()?,
            link,
        };
        let url = self
            .upstream
            .authorize_url(&provider, &self.redirect_uri(&provider), &trip)
            .await
            .map_err(|e| {
                // The operator's side of the 502 page: which provider failed, and how.
                tracing::warn!(provider = %provider, error = %e, "upstream sign-in could not start");
                upstream_error(e)
            })?;
        let authn = self.clone();
        let waiting = to_json(&Waiting::Trip(trip))?;
        let cookie = self
            .db
            .run(move |conn| {
                transaction(conn, |conn| {
                    let ret = link.then_some(Return::Account);
                    let (flow, cookie) = flow_for(
                        conn,
                        cookies.flow.as_deref(),
                        ret.as_ref(),
                        &authn,
                        ip.as_deref(),
                        false,
                        now,
                    )?;
                    store::set_flow_upstream(conn, flow.id, Some(&waiting))?;
                    set_anonymous_state(conn, flow.id, FlowState::Upstream)?;
                    Ok::<_, AuthnError>(cookie)
                })
            })
            .await?;
        Ok((url, cookie))
    }

    /// The provider sent the browser back: finish the round trip (see the module's rules).
    #[allow(clippy::too_many_arguments)]
    pub async fn upstream_return(
        &self,
        cookies: Cookies,
        provider: &str,
        answer: UpstreamAnswer,
        keys: Arc<Keyring>,
        client: Client,
        now: DateTime<Utc>,
    ) -> Result<UpstreamReturn, AuthnError> {
        let info = self.provider(provider)?;
        let token = cookies.flow.clone().ok_or(AuthnError::NoFlow)?;
        let cookie = FlowCookie {
            token: token.clone(),
            new: false,
            max_age: self.inner.settings.flow_ttl.num_seconds(),
        };
        let (flow, taken) = self
            .db
            .run(move |conn| {
                transaction(conn, |conn| {
                    let mut flow = super::passkeys::live_flow(conn, Some(&token), now)?;
                    let taken = store::take_flow_upstream(conn, flow.id)?;
                    // Back from the provider: the answer is a first factor like any other.
                    if flow.state == FlowState::Upstream {
                        set_anonymous_state(conn, flow.id, FlowState::FirstFactor)?;
                        flow.state = FlowState::FirstFactor;
                    }
                    Ok::<_, AuthnError>((flow, taken))
                })
            })
            .await?;
        let trip = match taken.as_deref().map(from_json) {
            Some(Ok(Waiting::Trip(trip))) => trip,
            _ => return Err(AuthnError::NoFlow),
        };
        let given = answer.state.as_deref().unwrap_or_default();
        // SECURITY: the answer must carry this browser's state (constant-time), for this
        // provider: a code injected from another browser or another provider is refused.
        if trip.provider != info.name || !bool::from(given.as_bytes().ct_eq(trip.state.as_bytes()))
        {
            return Err(AuthnError::BadRequest(format!(
                "The answer from {} does not belong to this sign-in (its state does not match). Start again.",
                info.display
            )));
        }
        let identity = match (&answer.error, answer.code.as_deref()) {
            (None, Some(code)) => {
                self.upstream
                    .identify(&info.name, &self.redirect_uri(&info.name), code, &trip)
                    .await
            }
            (Some(e), _) if e == "access_denied" => Err(UpstreamError::Refused(format!(
                "Sign-in with {} was cancelled.",
                info.display
            ))),
            _ => Err(UpstreamError::Refused(format!(
                "{} did not sign you in.",
                info.display
            ))),
        };
        let identity = match identity {
            Ok(identity) => identity,
            Err(e) => {
                crate::metrics::signin("upstream", false);
                tracing::info!(provider = %info.name, error = %e, "upstream sign-in refused");
                let unavailable = matches!(e, UpstreamError::Unavailable(_));
                let message = match e {
                    UpstreamError::Unavailable(_) => format!(
                        "{} could not be reached or gave an unusable answer. Try again later, or sign in another way.",
                        info.display
                    ),
                    other => other.to_string(),
                };
                return Ok(if trip.link {
                    UpstreamReturn::NotLinked(message)
                } else {
                    UpstreamReturn::SignIn(Progress::Refused {
                        reason: Refusal::Upstream {
                            message,
                            unavailable,
                        },
                        form: form(&flow, cookie),
                    })
                });
            }
        };
        if trip.link {
            return self
                .account()
                .link_now(cookies, &info, identity, flow, client, now)
                .await;
        }
        self.sign_in_with(info, identity, flow, cookie, cookies, keys, client, now)
            .await
            .map(UpstreamReturn::SignIn)
    }

    /// A round trip of the login page: who signs in, per the module's rules.
    #[allow(clippy::too_many_arguments)]
    async fn sign_in_with(
        &self,
        info: ProviderInfo,
        identity: Identity,
        flow: Flow,
        cookie: FlowCookie,
        cookies: Cookies,
        keys: Arc<Keyring>,
        client: Client,
        now: DateTime<Utc>,
    ) -> Result<Progress, AuthnError> {
        let signup = self.inner.settings.signup_enabled;
        let verification = self.inner.settings.email_verification;
        let public_id = random::public_id()?;
        let flow_id = flow.id;
        let audit_client = client.clone();
        let client_ip = client.ip.clone();
        let found = self
            .db
            .run(move |conn| {
                transaction(conn, |conn| {
                    found_user(
                        conn, &info, &identity, signup, &public_id, &client, flow_id, now,
                    )
                })
            })
            .await?;
        let (user, action) = match found {
            Found::Refused(reason) => {
                crate::metrics::signin("upstream", false);
                return Ok(Progress::Refused {
                    reason,
                    form: form(&flow, cookie),
                });
            }
            Found::User(user, action) => (user, action),
        };
        let refusal = if user.disabled {
            Some(Refusal::Disabled)
        } else if verification == EmailVerification::Required && !user.email_verified {
            Some(Refusal::Unverified)
        } else {
            None
        };
        crate::metrics::signin("upstream", refusal.is_none());
        if let Some(reason) = refusal {
            if reason == Refusal::Unverified {
                self.account()
                    .verification_send(user.id, client_ip.as_deref(), now)
                    .await?;
            }
            return Ok(Progress::Refused {
                reason,
                form: form(&flow, cookie),
            });
        }
        self.identified(
            user,
            vec![AMR_FED.to_owned()],
            flow,
            cookie,
            cookies,
            keys,
            audit_client,
            action,
            now,
        )
        .await
    }
}

/// Who an identity signs in, or why not.
enum Found {
    User(User, &'static str),
    Refused(Refusal),
}

#[allow(clippy::too_many_arguments)]
fn found_user(
    conn: &mut DbConnection,
    info: &ProviderInfo,
    identity: &Identity,
    signup: bool,
    public_id: &str,
    client: &Client,
    flow_id: i64,
    now: DateTime<Utc>,
) -> Result<Found, AuthnError> {
    let display = &info.display;
    if let Some(found) = store::find_identity(conn, &identity.provider, &identity.subject)? {
        store::touch_identity(conn, found.id, db_time(now))?;
        let mut user = users::get_user(conn, found.user_id)?;
        // The provider verified the account's own address: so is it here.
        if !user.email_verified && identity.verified_email() == Some(user.email.as_str()) {
            user.email_verified = users::set_email_verified(conn, user.id, &user.email)?;
        }
        return Ok(Found::User(user, "signin"));
    }
    // SECURITY: an unverified address is never matched or trusted, and an identity is made
    // only after this round trip of our own (the original attached any provider/uid, W-5).
    let Some(email) = identity.verified_email() else {
        return Ok(Found::Refused(Refusal::Upstream {
            message: format!(
                "{display} did not confirm an e-mail address for this account. Verify your address at {display} (and make it primary), or sign in another way."
            ),
            unavailable: false,
        }));
    };
    let email = authify_domain::Email::parse(email).map_err(|_| {
        AuthnError::BadRequest(format!("{display} gave an address that is not valid."))
    })?;
    if let Some(owner) = users::find_user_by_email(conn, email.as_str())? {
        // SECURITY: the address's owner must sign in to their account once before this identity
        // can sign them in: control of an upstream account is not control of this one.
        let waiting = Waiting::Link {
            provider: identity.provider.clone(),
            subject: identity.subject.clone(),
            email: Some(email.as_str().to_owned()),
            user_id: owner.id,
        };
        store::set_flow_upstream(conn, flow_id, Some(&to_json(&waiting)?))?;
        Entry::new("upstream.link_requested", db_time(now))
            .by_user(&owner)
            .ip(client.ip.as_deref())
            .details(serde_json::json!({ "provider": identity.provider }))
            .record(conn)?;
        return Ok(Found::Refused(Refusal::LinkFirst {
            provider: display.clone(),
            email: email.as_str().to_owned(),
        }));
    }
    if !signup {
        return Ok(Found::Refused(Refusal::Upstream {
            message: format!(
                "No account here is linked to this {display} account, and sign-up is closed. Sign in another way, then link {display} on your account page."
            ),
            unavailable: false,
        }));
    }
    let fallback = email.as_str().split('@').next().unwrap_or_default();
    let name = identity
        .name
        .as_deref()
        .and_then(|n| authify_domain::Name::parse(n, "the name").ok())
        .or_else(|| authify_domain::Name::parse(fallback, "the name").ok())
        .map(|n| n.as_str().to_owned())
        .unwrap_or_else(|| "New user".to_owned());
    let new = NewUser {
        public_id,
        email: email.as_str(),
        name: &name,
        // No password: this account signs in through the provider (or sets one by a reset).
        password_hash: "",
        is_admin: false,
        disabled: false,
        created_at: db_time(now),
    };
    let mut user = users::insert_user(conn, &new)?;
    user.email_verified = users::set_email_verified(conn, user.id, email.as_str())?;
    link(conn, &user, identity, client, now)?;
    Ok(Found::User(user, "signup"))
}

/// Links `identity` to `user` and audits it.
pub(crate) fn link(
    conn: &mut DbConnection,
    user: &impl crate::person::Who,
    identity: &Identity,
    client: &Client,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    store::insert_identity(
        conn,
        user.id(),
        &identity.provider,
        &identity.subject,
        identity.email.as_deref(),
        db_time(now),
    )?;
    Entry::new("upstream.link", db_time(now))
        .by_user(user)
        .ip(client.ip.as_deref())
        .details(serde_json::json!({ "provider": identity.provider }))
        .record(conn)
}

/// In the final transaction of a sign-in: the link the flow was waiting for, when the user who
/// signed in is the account it waited for. Anyone else signing in in that flow links nothing.
pub(super) fn link_waiting(
    conn: &mut DbConnection,
    flow_id: i64,
    user: &User,
    client: &Client,
    now: DateTime<Utc>,
) -> Result<(), AuthnError> {
    let Some(value) = store::take_flow_upstream(conn, flow_id)? else {
        return Ok(());
    };
    if let Ok(Waiting::Link {
        provider,
        subject,
        email,
        user_id,
    }) = from_json(&value)
        && user_id == user.id
        && store::find_identity(conn, &provider, &subject)?.is_none()
    {
        let identity = Identity {
            provider,
            subject,
            email,
            email_verified: true,
            name: None,
        };
        link(conn, user, &identity, client, now)?;
    }
    Ok(())
}

fn upstream_error(e: UpstreamError) -> AuthnError {
    match e {
        UpstreamError::Unknown => {
            AuthnError::BadRequest("No sign-in provider of that name is configured.".into())
        }
        UpstreamError::Refused(m) | UpstreamError::Unavailable(m) => AuthnError::Upstream(m),
    }
}

fn to_json(w: &Waiting) -> Result<String, AuthnError> {
    serde_json::to_string(w).map_err(|e| AuthnError::Internal(format!("upstream state: {e}")))
}

fn from_json(s: &str) -> Result<Waiting, AuthnError> {
    serde_json::from_str(s).map_err(|e| AuthnError::Internal(format!("upstream state: {e}")))
}
