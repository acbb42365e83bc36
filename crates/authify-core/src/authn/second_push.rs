//! Push approval as a second-factor step: the waiting browser's request (a two-digit number it
//! shows; the approver picks it among three), its status for the waiting page, and the sign-in
//! once approved. Single use, 2 minutes. The approver's side is `approvals`.

use std::sync::Arc;

use authify_jwt::Keyring;
use authify_store::factors::{self as store, NewApproval};
use authify_store::transaction;
use chrono::{DateTime, Utc};

use authify_store::models::User;
use authify_store::{DbConnection, flows};

use super::advance::{Action, Proof, StepContext};
use super::flow::Flow;
use super::second::waiting;
use super::{Authn, AuthnError, Client, Completion, Cookies, FlowState, Progress};
use crate::costs::Charge;
use crate::mfa::codes::{self, APPROVAL_TTL_SECS};
use crate::mfa::passkey::Ceremony;
use crate::mfa::{AMR_MFA, Method};
use crate::notify::Notice;
use crate::{db_time, random};

/// What the waiting page of a push approval shows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ApprovalState {
    /// Waiting: the number to show.
    Pending {
        /// Two digits.
        number: i32,
        /// Form token (for "use another way").
        csrf: String,
        /// A passwordless sign-in (no other way to offer but starting again).
        passwordless: bool,
    },
    /// Approved: the browser may continue.
    Approved,
    /// A passwordless sign-in was approved, and policy requires a second factor besides.
    NextFactor,
    /// Denied on the device, or the wrong number was picked.
    Denied,
    /// Not answered in time.
    Expired,
}

impl ApprovalState {
    /// The JSON `status`.
    pub fn status(&self) -> &'static str {
        match self {
            ApprovalState::Pending { .. } => "pending",
            ApprovalState::Approved | ApprovalState::NextFactor => "approved",
            ApprovalState::Denied => "denied",
            ApprovalState::Expired => "expired",
        }
    }
}

/// How long after expiry an approved request may still be collected by the waiting browser.
const APPROVAL_GRACE_SECS: i64 = 30;

impl Authn {
    /// Creates a push approval request for the waiting sign-in and queues its wake-up.
    pub(crate) async fn start_push(
        &self,
        cookies: Cookies,
        client: Client,
        now: DateTime<Utc>,
    ) -> Result<(), AuthnError> {
        let flow_cookie = cookies.flow.clone();
        let (flow, user, _) = self
            .db
            .run_quick(move |conn| {
                waiting(
                    conn,
                    flow_cookie.as_deref(),
                    &[FlowState::SecondFactor],
                    now,
                )
            })
            .await?;
        // SECURITY: after a passwordless approval, the device is not the second factor too.
        if !super::second::usable(&flow, Method::Push) {
            return Err(super::second::not_open());
        }
        // SECURITY: requests count toward the account's attempts: nobody can flood a phone.
        self.throttle().attempt(&user.email).await?;
        // SECURITY: prompts to one user and from one client within the operator's budgets.
        let paid = self
            .inner
            .mfa
            .costs
            .charge(Charge::push(&user.email).from_address(client.ip.as_deref()))
            .await?;
        let (number, choices) = codes::approval_numbers()?;
        let public_id = random::token::<16>()?;
        self.db
            .run(move |conn| {
                let (flow, user, _) = waiting(
                    conn,
                    cookies.flow.as_deref(),
                    &[FlowState::SecondFactor],
                    now,
                )?;
                let has_device = store::list_factors(conn, user.id)?
                    .iter()
                    .any(|f| f.confirmed && f.kind == Method::Push.kind());
                if !has_device {
                    return Err(AuthnError::NoFlow);
                }
                let expires = now + chrono::Duration::seconds(APPROVAL_TTL_SECS);
                let choices_text = choices.map(|c| c.to_string()).join(" ");
                let app = flow.ret.app_name().map(str::to_owned);
                store::insert_approval(
                    conn,
                    &NewApproval {
                        public_id: &public_id,
                        flow_id: Some(flow.id),
                        user_id: user.id,
                        app_name: app.as_deref(),
                        ip: client.ip.as_deref(),
                        user_agent: client.user_agent.as_deref(),
                        number,
                        choices: &choices_text,
                        status: "pending",
                        created_at: db_time(now),
                        expires_at: db_time(expires),
                    },
                )?;
                // The number is not sent: the approver must read it off the requesting screen.
                paid.send(Notice::Push {
                    body: serde_json::json!({
                        "type": "approval_request",
                        "id": public_id,
                        "user": user.public_id,
                        "app": app,
                        "from": { "ip": client.ip, "user_agent": client.user_agent },
                        "ip": client.ip,
                        "user_agent": client.user_agent,
                        "created_at": now.timestamp(),
                        "expires_at": expires.timestamp(),
                    }),
                });
                Ok(())
            })
            .await
    }

    /// Where the waiting sign-in's approval request stands.
    pub async fn approval_state(
        &self,
        cookies: Cookies,
        now: DateTime<Utc>,
    ) -> Result<ApprovalState, AuthnError> {
        self.db
            .run_quick(move |conn| {
                let (flow, _, csrf) = match waiting_push(conn, cookies.flow.as_deref(), now)? {
                    Waiting::Real(real) => *real,
                    Waiting::Decoy(state) => return Ok(state),
                };
                // No request yet (or swept): the page offers to send one.
                Ok(match store::find_approval_of_flow(conn, flow.id)? {
                    Some(request) => state_of(&request, csrf, is_passwordless(&flow), now),
                    None => ApprovalState::Expired,
                })
            })
            .await
    }

    /// Whether this browser's waiting approval is a passwordless sign-in (its pages offer to
    /// start again rather than another factor).
    pub async fn waiting_passwordless(
        &self,
        cookies: Cookies,
        now: DateTime<Utc>,
    ) -> Result<bool, AuthnError> {
        self.db
            .run_quick(move |conn| {
                let token = cookies.flow.as_deref().filter(|t| t.len() == 43);
                let Some(token) = token else { return Ok(false) };
                Ok(
                    match flows::find_flow(conn, &crate::sessions::token_hash(token), db_time(now))?
                    {
                        Some(row) => is_passwordless(&Flow::try_from(row)?),
                        None => false,
                    },
                )
            })
            .await
    }

    /// Finishes a sign-in whose approval request was approved: spends the approval (single
    /// use) and signs in. `None` while it is not approved.
    pub async fn finish_push(
        &self,
        cookies: Cookies,
        keys: Arc<Keyring>,
        client: Client,
        now: DateTime<Utc>,
    ) -> Result<Result<Completion, ApprovalState>, AuthnError> {
        let authn = self.clone();
        self.db
            .run(move |conn| {
                transaction(conn, |conn| {
                    let (flow, user, csrf) = match waiting_push(conn, cookies.flow.as_deref(), now)?
                    {
                        Waiting::Real(real) => *real,
                        Waiting::Decoy(state) => return Ok(Err(state)),
                    };
                    let Some(request) = store::find_approval_of_flow(conn, flow.id)? else {
                        return Ok(Err(ApprovalState::Expired));
                    };
                    let passwordless = is_passwordless(&flow);
                    let state = state_of(&request, csrf, passwordless, now);
                    if state != ApprovalState::Approved
                        || !store::move_approval(
                            conn,
                            request.id,
                            "approved",
                            "used",
                            None,
                            // An approval given in the last seconds may still be collected.
                            db_time(now - chrono::Duration::seconds(APPROVAL_GRACE_SECS)),
                        )?
                    {
                        return Ok(Err(state));
                    }
                    crate::metrics::signin(
                        if passwordless { "passwordless" } else { "push" },
                        true,
                    );
                    let swk = Method::Push.amr().to_owned();
                    // Passwordless, the device is one factor: more only when policy asks for two.
                    let proof = if passwordless {
                        Proof::Possession(vec![swk])
                    } else {
                        Proof::Complete(vec![swk, AMR_MFA.to_owned()])
                    };
                    let cx = StepContext::new(&cookies, &keys, &client, now);
                    match authn.advance(conn, &flow, &user, proof, Action::SignIn, cx)? {
                        Progress::Done(done) => Ok(Ok(done)),
                        _ => Ok(Err(ApprovalState::NextFactor)),
                    }
                })
            })
            .await
    }
}

/// A browser waiting on a push approval.
enum Waiting {
    /// A real request of the flow's user (second factor or passwordless).
    Real(Box<(Flow, User, String)>),
    /// A passwordless request that named nobody who can approve: its state.
    Decoy(ApprovalState),
}

fn is_passwordless(flow: &Flow) -> bool {
    flow.state == FlowState::Approval
}

fn waiting_push(
    conn: &mut DbConnection,
    cookie: Option<&str>,
    now: DateTime<Utc>,
) -> Result<Waiting, AuthnError> {
    let token = cookie.filter(|t| t.len() == 43).ok_or(AuthnError::NoFlow)?;
    let row = flows::find_flow(conn, &crate::sessions::token_hash(token), db_time(now))?
        .ok_or(AuthnError::NoFlow)?;
    let flow = Flow::try_from(row)?;
    if flow.user_id.is_none() && is_passwordless(&flow) {
        let ceremony = authify_store::passkeys::peek_ceremony(conn, flow.id)?
            .and_then(|t| Ceremony::from_json(&t).ok());
        // SECURITY: the same page, number and expiry as a real request (no account probing).
        return match ceremony {
            Some(Ceremony::Decoy { number, expires }) if expires > now.timestamp() => {
                Ok(Waiting::Decoy(ApprovalState::Pending {
                    number,
                    csrf: super::csrf::token_for(token),
                    passwordless: true,
                }))
            }
            Some(Ceremony::Decoy { .. }) => Ok(Waiting::Decoy(ApprovalState::Expired)),
            _ => Err(AuthnError::NoFlow),
        };
    }
    let (flow, user, csrf) = waiting(
        conn,
        cookie,
        &[FlowState::SecondFactor, FlowState::Approval],
        now,
    )?;
    Ok(Waiting::Real(Box::new((flow, user, csrf))))
}

fn state_of(
    request: &authify_store::models::ApprovalRequest,
    csrf: String,
    passwordless: bool,
    now: DateTime<Utc>,
) -> ApprovalState {
    match request.status.as_str() {
        "approved" => ApprovalState::Approved,
        "denied" => ApprovalState::Denied,
        "used" => ApprovalState::Expired,
        _ if request.expires_at <= db_time(now) => ApprovalState::Expired,
        _ => ApprovalState::Pending {
            number: request.number,
            csrf,
            passwordless,
        },
    }
}
