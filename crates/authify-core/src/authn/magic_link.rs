//! E-mail sign-in links ("e-mail me a sign-in link"), a factor added on top of the engine:
//! it offers itself (first factor when `AUTHIFY_MAGIC_LINKS=on`; second factor where the
//! address is confirmed), is challenged by a mailed link, checks the link, and hands
//! [`Authn::advance`] its proof with `amr` [`AMR_EMAIL_LINK`].
//!
//! - The link carries a 256-bit token stored as its SHA-256, lives [`MAGIC_LINK_TTL_MINUTES`]
//!   (and never longer than the flow that asked), and works once.
//! - It is bound to the flow that asked: opened in another browser it shows a page that says
//!   so and signs nothing in.
//! - Opening it spends nothing (mail scanners follow links): a confirm button posts.
//! - Asking gives the same answer for known and unknown addresses, and is throttled per address
//!   and per client like password reset.

use authify_domain::Email;
use authify_store::magic_links::{self, NewMagicLink};
use authify_store::models::User;
use authify_store::{DbConnection, flows, transaction, users};
use chrono::{DateTime, Duration, Utc};
use std::sync::Arc;

use super::advance::{Action, Proof, StepContext};
use super::flow::Flow;
use super::steps::{flow_for, form};
use super::{
    Authn, AuthnError, Client, Cookies, FlowCookie, FlowState, Progress, ReturnRequest, csrf,
    new_token,
};
use crate::costs::Charge;
use crate::db_time;
use crate::manage::audit::Entry;
use crate::mfa::AMR_MFA;
use crate::notify::Notice;
use crate::sessions::token_hash;

/// The `amr` value of a mailed sign-in link. RFC 8176 registers none for proof of control of a
/// mailbox; `email` names what was proven (docs/SECURITY.md, "E-mail sign-in links").
pub const AMR_EMAIL_LINK: &str = "email";
/// How long a link works.
pub const MAGIC_LINK_TTL_MINUTES: i64 = 10;

/// Where the browser's flow stands for a link.
#[derive(Debug, Clone)]
pub struct LinkPage {
    /// The flow (new when the browser had none).
    pub flow: FlowCookie,
    /// The form token, bound to the flow.
    pub csrf: String,
    /// The application signed in to.
    pub app_name: Option<String>,
    /// As a second factor: the confirmed address the link goes to. `None`: the first factor
    /// (the address is asked for).
    pub second_to: Option<String>,
}

/// What opening or confirming a link came to.
#[derive(Debug)]
pub enum LinkAnswer {
    /// Opened in the browser that asked: the confirm button, with this form token.
    Ready {
        /// The form token, bound to the flow.
        csrf: String,
    },
    /// Confirmed: the flow moved on.
    Moved(Progress),
    /// A live link, opened in a browser that did not ask for it: nothing signed in.
    OtherBrowser,
    /// Unknown, used, expired, or its account changed address or was disabled.
    Expired,
}

impl Authn {
    /// Whether sign-in links are on (`AUTHIFY_MAGIC_LINKS`).
    pub fn magic_links(&self) -> bool {
        self.inner.settings.magic_links
    }

    /// The link page of this browser: as a second factor when its flow waits for one and the
    /// user's address is confirmed, else the first-factor form of its flow.
    pub async fn magic_link_page(
        &self,
        cookies: Cookies,
        request: ReturnRequest,
        client: Client,
        now: DateTime<Utc>,
    ) -> Result<LinkPage, AuthnError> {
        let authn = self.clone();
        self.db
            .run(move |conn| {
                transaction(conn, |conn| {
                    let (flow, cookie, second) =
                        resolve(conn, &authn, &cookies, &request, &client, true, now)?;
                    let ctx = form(&flow, cookie);
                    Ok(LinkPage {
                        app_name: ctx.ret.app_name().map(str::to_owned),
                        flow: ctx.flow,
                        csrf: ctx.csrf,
                        second_to: second.map(|u| u.email),
                    })
                })
            })
            .await
    }

    /// Mails a link for this browser's flow: to the flow's user as a second factor, else to
    /// `email` if an enabled account uses it. The caller shows the same page whatever happened;
    /// only an address that does not parse is refused.
    pub async fn magic_link_send(
        &self,
        cookies: Cookies,
        request: ReturnRequest,
        email: &str,
        client: Client,
        now: DateTime<Utc>,
    ) -> Result<LinkPage, AuthnError> {
        let authn = self.clone();
        let opener = client.clone();
        let (page, flow_id, second, step) = self
            .db
            .run(move |conn| {
                transaction(conn, |conn| {
                    let (flow, cookie, second) =
                        resolve(conn, &authn, &cookies, &request, &opener, false, now)?;
                    let ctx = form(&flow, cookie);
                    let page = LinkPage {
                        app_name: ctx.ret.app_name().map(str::to_owned),
                        flow: ctx.flow,
                        csrf: ctx.csrf,
                        second_to: second.as_ref().map(|u| u.email.clone()),
                    };
                    let step = step_of(flow.state).ok_or(AuthnError::NoFlow)?;
                    Ok::<_, AuthnError>((page, flow.id, second, step))
                })
            })
            .await?;
        let address = match &second {
            Some(user) => user.email.clone(),
            None => Email::parse(email)
                .map_err(|e| AuthnError::BadRequest(e.to_string()))?
                .as_str()
                .to_owned(),
        };
        // SECURITY: per address (a mailbox gets at most a few links) and per client, known
        // address or not; a refused request answers like an accepted one.
        let budget = self.throttle().scoped("magic_link", 2, 10);
        if budget.attempt(&address).await.is_err()
            || budget.address_attempt(client.ip.as_deref()).await.is_err()
        {
            tracing::info!("sign-in link request over budget: nothing sent");
            return Ok(page);
        }
        // SECURITY: the operator's mail budgets, charged for the address whether an account uses
        // it or not; over them the page answers as for an unknown address (logged, counted).
        let paid = match self
            .inner
            .mfa
            .costs
            .charge(Charge::mail(&address).from_address(client.ip.as_deref()))
            .await
        {
            Ok(paid) => paid,
            Err(e) => {
                tracing::info!(error = %e, "sign-in link not mailed: over budget");
                return Ok(page);
            }
        };
        let (token, hash) = new_token()?;
        let sent_to = self
            .db
            .run(move |conn| {
                transaction(conn, |conn| {
                    let user = match second {
                        Some(user) => Some(user),
                        None => users::find_user_by_email(conn, &address)?,
                    };
                    let Some(user) = user.filter(|u| !u.disabled) else {
                        return Ok::<_, AuthnError>(None);
                    };
                    let link = NewMagicLink {
                        token_hash: &hash,
                        flow_id,
                        user_id: user.id,
                        step,
                        email: &user.email,
                    };
                    let expires = now + Duration::minutes(MAGIC_LINK_TTL_MINUTES);
                    magic_links::insert_magic_link(conn, &link, db_time(now), db_time(expires))?;
                    Entry::new("signin.link_sent", db_time(now))
                        .by_user(&user)
                        .ip(client.ip.as_deref())
                        .record(conn)?;
                    Ok(Some(user.email))
                })
            })
            .await?;
        if let Some(to) = sent_to {
            let link = format!(
                "{}/login/email-link/confirm?token={token}",
                self.inner.settings.public_url
            );
            paid.send(Notice::Mail {
                to,
                template: "magic_link",
                values: serde_json::json!({ "link": link, "minutes": MAGIC_LINK_TTL_MINUTES }),
            });
        }
        Ok(page)
    }

    /// Opens a link: checks it against this browser's flow; spends nothing.
    pub async fn magic_link_open(
        &self,
        cookies: Cookies,
        token: String,
        now: DateTime<Utc>,
    ) -> Result<LinkAnswer, AuthnError> {
        self.db
            .run(move |conn| {
                Ok(match checked(conn, &cookies, &token, now)? {
                    Checked::Ready { .. } => LinkAnswer::Ready {
                        csrf: csrf::token_for(cookies.flow.as_deref().unwrap_or_default()),
                    },
                    Checked::Answer(a) => a,
                })
            })
            .await
    }

    /// Confirms a link: spends it and moves the flow on (a first or a second factor).
    pub async fn magic_link_confirm(
        &self,
        cookies: Cookies,
        token: String,
        keys: Arc<authify_jwt::Keyring>,
        client: Client,
        now: DateTime<Utc>,
    ) -> Result<LinkAnswer, AuthnError> {
        let authn = self.clone();
        self.db
            .run(move |conn| {
                transaction(conn, |conn| {
                    let (flow, mut user, link_id) = match checked(conn, &cookies, &token, now)? {
                        Checked::Ready { flow, user, link } => (flow, user, link),
                        Checked::Answer(a) => return Ok(a),
                    };
                    // SECURITY: spent once: a second confirm (or a race) finds it used.
                    if !magic_links::spend_magic_link(conn, link_id, db_time(now))? {
                        return Ok(LinkAnswer::Expired);
                    }
                    // The flow's other links die with this one.
                    magic_links::spend_magic_links_of_flow(conn, flow.id, db_time(now))?;
                    crate::metrics::signin("email_link", true);
                    let added = AMR_EMAIL_LINK.to_owned();
                    let proof = if flow.state == FlowState::SecondFactor {
                        Proof::Complete(vec![added, AMR_MFA.to_owned()])
                    } else {
                        // The link proves the address.
                        if !user.email_verified
                            && users::set_email_verified(conn, user.id, &user.email)?
                        {
                            user.email_verified = true;
                        }
                        Proof::Identity(vec![added])
                    };
                    let cx = StepContext::new(&cookies, &keys, &client, now);
                    authn
                        .advance(conn, &flow, &user, proof, Action::SignIn, cx)
                        .map(LinkAnswer::Moved)
                })
            })
            .await
    }
}

/// The browser's flow, and its user when the flow waits for a second factor a link can give.
fn resolve(
    conn: &mut DbConnection,
    authn: &Authn,
    cookies: &Cookies,
    request: &ReturnRequest,
    client: &Client,
    short: bool,
    now: DateTime<Utc>,
) -> Result<(Flow, FlowCookie, Option<User>), AuthnError> {
    if !authn.magic_links() {
        return Err(AuthnError::BadRequest("sign-in links are off".into()));
    }
    if let Some(flow) = browser_flow(conn, cookies, now)?
        && flow.state == FlowState::SecondFactor
        && let Some(user) = offered_second(conn, &flow)?
    {
        let cookie = FlowCookie {
            token: cookies.flow.clone().unwrap_or_default(),
            new: false,
            max_age: authn.settings().flow_ttl.num_seconds(),
        };
        return Ok((flow, cookie, Some(user)));
    }
    let ret = request.resolve_named(conn)?;
    let (flow, cookie) = flow_for(
        conn,
        cookies.flow.as_deref(),
        ret.as_ref(),
        authn,
        client.ip.as_deref(),
        short,
        now,
    )?;
    Ok((flow, cookie, None))
}

/// The flow's user, when a link may be their second factor ([`super::second::link_offered`]).
fn offered_second(conn: &mut DbConnection, flow: &Flow) -> Result<Option<User>, AuthnError> {
    let Some(id) = flow.user_id else {
        return Ok(None);
    };
    let Some(user) = find_user(conn, id)?.filter(|u| !u.disabled) else {
        return Ok(None);
    };
    let factors = authify_store::factors::list_factors(conn, user.id)?;
    Ok(super::second::link_offered(&factors, &user, flow).then_some(user))
}

/// The step a link serves: the first factor (also while an upstream round trip is open) or the
/// second.
fn step_of(state: FlowState) -> Option<&'static str> {
    match state {
        FlowState::FirstFactor | FlowState::Upstream => Some(FlowState::FirstFactor.as_str()),
        FlowState::SecondFactor => Some(FlowState::SecondFactor.as_str()),
        FlowState::Enrol | FlowState::RecoveryCodes | FlowState::Approval | FlowState::Consent => {
            None
        }
    }
}

fn find_user(conn: &mut DbConnection, id: i64) -> Result<Option<User>, AuthnError> {
    match users::get_user(conn, id) {
        Ok(u) => Ok(Some(u)),
        Err(authify_store::StoreError::NotFound(_)) => Ok(None),
        Err(e) => Err(e.into()),
    }
}

fn browser_flow(
    conn: &mut DbConnection,
    cookies: &Cookies,
    now: DateTime<Utc>,
) -> Result<Option<Flow>, AuthnError> {
    let Some(token) = cookies.flow.as_deref().filter(|t| t.len() == 43) else {
        return Ok(None);
    };
    flows::find_flow(conn, &token_hash(token), db_time(now))?
        .map(Flow::try_from)
        .transpose()
}

enum Checked {
    Ready { flow: Flow, user: User, link: i64 },
    Answer(LinkAnswer),
}

/// A live link of a live account, checked against this browser's flow.
fn checked(
    conn: &mut DbConnection,
    cookies: &Cookies,
    token: &str,
    now: DateTime<Utc>,
) -> Result<Checked, AuthnError> {
    let Some(link) = magic_links::find_magic_link(conn, &token_hash(token), db_time(now))? else {
        return Ok(Checked::Answer(LinkAnswer::Expired));
    };
    let Some(user) =
        find_user(conn, link.user_id)?.filter(|u| !u.disabled && u.email == link.email)
    else {
        return Ok(Checked::Answer(LinkAnswer::Expired));
    };
    // SECURITY: only the browser that asked may use the link: someone who reads the mail
    // elsewhere (or a forwarded link) signs nothing in.
    let Some(flow) = browser_flow(conn, cookies, now)?.filter(|f| f.id == link.flow_id) else {
        return Ok(Checked::Answer(LinkAnswer::OtherBrowser));
    };
    // SECURITY: a link serves only the step it was asked for, and as the second factor only
    // while the rules of `link_offered` hold: a second link asked at the first factor, or a link
    // to an address that is not a chosen factor, never passes the second factor.
    let serves = step_of(flow.state) == Some(link.step.as_str())
        && match flow.state {
            FlowState::SecondFactor => {
                flow.user_id == Some(user.id) && offered_second(conn, &flow)?.is_some()
            }
            _ => flow.user_id.is_none(),
        };
    if !serves {
        return Ok(Checked::Answer(LinkAnswer::Expired));
    }
    Ok(Checked::Ready {
        flow,
        user,
        link: link.id,
    })
}
