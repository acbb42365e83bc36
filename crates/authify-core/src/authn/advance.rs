//! The one decision of the engine: after a step proved something, what comes next.
//!
//! Every step (password, sign-up, upstream answer, code, approval, passkey, recovery code,
//! enrolment, mailed link) ends by calling [`Authn::advance`] with the user and a [`Proof`],
//! inside its own transaction. `advance` alone decides whether the flow completes (the session,
//! the return, the audit entry: [`super::complete`]) or which [`FlowState`] it waits in. A new
//! factor is a new caller with an existing kind of proof, never a new branch here.

use authify_jwt::Keyring;
use authify_store::DbConnection;
use authify_store::models::User;
use chrono::{DateTime, Utc};

use super::complete::{Finish, complete};
use super::flow::Flow;
use super::policy::{Need, need, policy_requires};
use super::state::{FlowState, set_state};
use super::{Authn, AuthnError, Client, Completion, Cookies, FlowCookie, Progress};
use crate::db_time;
use crate::manage::audit::Entry;
use crate::mfa::{AMR_MFA, AMR_SWK};

/// What a step proved, with the `amr` values (RFC 8176) it adds to the flow's.
#[derive(Debug, Clone)]
pub(crate) enum Proof {
    /// Who the user is, not that they hold a device (password, sign-up, upstream provider,
    /// mailed link): the user's factors, this browser's device cookie and policy decide.
    Identity(Vec<String>),
    /// Something the user holds, as the first factor (passwordless approval from a device): a
    /// second factor only where policy requires one.
    Possession(Vec<String>),
    /// Enough to sign in: a second factor (the values include `mfa`), or a passkey with user
    /// verification.
    Complete(Vec<String>),
    /// A factor enrolled inside the flow (the values include `mfa`): the recovery codes next.
    Enrolled(Vec<String>),
    /// The user read the recovery codes and goes on.
    Continued,
}

/// The audit action of the step.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Action {
    /// `signin`.
    SignIn,
    /// `signup`: a new account.
    SignUp,
    /// `signup` through an upstream provider: a new account, whose wait for a second factor is
    /// audited like a sign-in's (`signin.factor`).
    ProviderSignUp,
}

impl Action {
    /// The action of an upstream provider's answer (`signin`, `signup`).
    pub(crate) fn of_provider(name: &str) -> Action {
        if name == "signup" {
            Action::ProviderSignUp
        } else {
            Action::SignIn
        }
    }

    fn done(self) -> &'static str {
        match self {
            Action::SignIn => "signin",
            Action::SignUp | Action::ProviderSignUp => "signup",
        }
    }

    fn waiting(self) -> &'static str {
        match self {
            Action::SignIn | Action::ProviderSignUp => "signin.factor",
            Action::SignUp => "signup",
        }
    }
}

/// The request around a step: cookies, keys, client and time.
#[derive(Clone, Copy)]
pub(crate) struct StepContext<'a> {
    pub cookies: &'a Cookies,
    /// The flow's cookie when the step made the flow (it may be new); else the browser's.
    pub flow_cookie: Option<&'a FlowCookie>,
    pub keys: &'a Keyring,
    pub client: &'a Client,
    pub now: DateTime<Utc>,
}

impl<'a> StepContext<'a> {
    /// The context of a step on the flow the browser already holds.
    pub(crate) fn new(
        cookies: &'a Cookies,
        keys: &'a Keyring,
        client: &'a Client,
        now: DateTime<Utc>,
    ) -> Self {
        StepContext {
            cookies,
            flow_cookie: None,
            keys,
            client,
            now,
        }
    }
}

impl Authn {
    /// Moves `flow` on after `user` gave `proof`; run inside the step's transaction.
    pub(crate) fn advance(
        &self,
        conn: &mut DbConnection,
        flow: &Flow,
        user: &User,
        proof: Proof,
        action: Action,
        cx: StepContext<'_>,
    ) -> Result<Progress, AuthnError> {
        let mut amr = flow.amr.clone();
        let next = match proof {
            Proof::Identity(added) => {
                amr.extend(added);
                let device = cx.cookies.device.as_deref();
                match need(conn, user, &flow.ret, self.inner.mfa.mode, device)? {
                    Need::Nothing => None,
                    Need::DeviceSatisfied => {
                        amr.push(AMR_SWK.to_owned());
                        amr.push(AMR_MFA.to_owned());
                        None
                    }
                    Need::Factor => Some(FlowState::SecondFactor),
                    Need::Enrol => Some(FlowState::Enrol),
                }
            }
            Proof::Possession(added) => {
                amr.extend(added);
                policy_requires(conn, user, &flow.ret, self.inner.mfa.mode)?
                    .then_some(FlowState::SecondFactor)
            }
            Proof::Complete(added) => {
                amr.extend(added);
                None
            }
            Proof::Enrolled(added) => {
                amr.extend(added);
                Some(FlowState::RecoveryCodes)
            }
            Proof::Continued => None,
        };
        match next {
            None => self
                .finish(conn, user, &amr, flow, action, cx)
                .map(Progress::Done),
            Some(state) => {
                set_state(conn, flow.id, user.id, &amr, state)?;
                // The recovery codes are a page, not a step the audit log follows.
                if state != FlowState::RecoveryCodes {
                    Entry::new(action.waiting(), db_time(cx.now))
                        .by_user(user)
                        .ip(cx.client.ip.as_deref())
                        .details(serde_json::json!({ "amr": amr, "pending": [state.as_str()] }))
                        .record(conn)?;
                }
                let cookie = match cx.flow_cookie {
                    Some(c) => c.clone(),
                    None => self.existing_cookie(cx.cookies),
                };
                Ok(Progress::Pending {
                    flow: cookie,
                    state,
                })
            }
        }
    }

    /// The flow's last step: what waited for the sign-in (an upstream identity to link), then
    /// the session, the return and the audit entry.
    fn finish(
        &self,
        conn: &mut DbConnection,
        user: &User,
        amr: &[String],
        flow: &Flow,
        action: Action,
        cx: StepContext<'_>,
    ) -> Result<Completion, AuthnError> {
        super::upstream::link_waiting(conn, flow.id, user, cx.client, cx.now)?;
        let finish = Finish {
            user,
            amr,
            ret: &flow.ret,
            action: action.done(),
            old_session: cx.cookies.session.as_deref(),
            flow_id: Some(flow.id),
            client: cx.client,
            session_ttl: self.inner.settings.session_ttl,
            now: cx.now,
        };
        complete(
            conn,
            &self.inner.issuer,
            cx.keys,
            &self.inner.settings.public_url,
            finish,
        )
    }

    /// The cookie of a flow the browser already holds.
    fn existing_cookie(&self, cookies: &Cookies) -> FlowCookie {
        FlowCookie {
            token: cookies.flow.clone().unwrap_or_default(),
            new: false,
            max_age: self.inner.settings.flow_ttl.num_seconds(),
        }
    }
}

impl Progress {
    /// The completion of a step whose proof always completes ([`Proof::Complete`],
    /// [`Proof::Continued`]).
    pub(crate) fn completed(self) -> Result<Completion, AuthnError> {
        match self {
            Progress::Done(c) => Ok(c),
            other => Err(AuthnError::Internal(format!(
                "a completing step left the flow waiting: {other:?}"
            ))),
        }
    }
}
