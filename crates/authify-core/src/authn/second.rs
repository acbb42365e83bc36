//! Second-factor steps of a sign-in. After the password, a flow that still needs a factor waits
//! with `pending = mfa` (or `enrol` when policy requires a factor the user does not have); these
//! steps satisfy it and, only then, the last step creates the session ([`super::complete`]).
//!
//! - a code: TOTP (each time step once per user), a code sent by SMS or e-mail (5 minutes, 5
//!   tries), or a recovery code (single use): here;
//! - push approval: a request with a two-digit number the approver must pick (number matching),
//!   2 minutes, single use: `second_push`;
//! - enrolment inside the flow (TOTP), then the recovery codes, then on: `second_enrol`.
//!
//! Wrong codes count toward the per-account throttle, and 5 in one attempt end it.

use std::sync::Arc;

use authify_jwt::Keyring;
use authify_store::factors as store;
use authify_store::models::{Factor, User};
use authify_store::{DbConnection, StoreError, flows, transaction, users};
use chrono::{DateTime, Utc};

use super::FlowState;
use super::advance::{Action, Proof, StepContext};
use super::flow::Flow;
use super::{Authn, AuthnError, Client, Completion, Cookies, csrf};
use crate::db_time;
use crate::manage::audit::Entry;
use crate::mfa::codes::{self, CODE_TTL_SECS};
use crate::mfa::phone::Phone;
use crate::mfa::{AMR_MFA, MAX_FAILURES, Method};

/// Whether `method` can still be the second factor of `flow`: the channel that gave the first
/// factor does not count again (a device after a passwordless approval, the mailbox after a
/// mailed link).
// SECURITY: checked where a method is used (send, verify, push), not only on the page.
pub(crate) fn usable(flow: &Flow, method: Method) -> bool {
    let used = |amr: &str| flow.amr.iter().any(|a| a == amr);
    match method {
        Method::Push => !used(crate::mfa::AMR_SWK),
        Method::Email => !used(super::AMR_EMAIL_LINK),
        Method::Totp | Method::Sms | Method::Recovery | Method::Passkey => true,
    }
}

/// A sign-in link to the user's address may be their second factor: they chose e-mail as a
/// factor (a link is another way to use it), the address is confirmed, and no link or e-mail
/// code gave the first factor of this flow.
pub(crate) fn link_offered(factors: &[Factor], user: &User, flow: &Flow) -> bool {
    user.email_verified
        && usable(flow, Method::Email)
        && factors
            .iter()
            .any(|f| f.confirmed && f.kind == Method::Email.kind())
}

/// The methods a user can use, in order of preference.
fn methods_of(factors: &[Factor], recovery_left: i64) -> Vec<Method> {
    let mut out: Vec<Method> = Method::ALL
        .into_iter()
        .filter(|m| factors.iter().any(|f| f.confirmed && f.kind == m.kind()))
        .collect();
    if recovery_left > 0 {
        out.push(Method::Recovery);
    }
    out
}

/// The second-factor page of a waiting sign-in.
#[derive(Debug, Clone)]
pub struct FactorStep {
    /// Form token (bound to the flow).
    pub csrf: String,
    /// The application signed in to.
    pub app_name: Option<String>,
    /// The method shown.
    pub method: Method,
    /// Every method the user has, in order of preference.
    pub methods: Vec<Method>,
    /// What the page asks.
    pub prompt: super::Prompt,
    /// A sign-in link by e-mail may be the second factor ([`link_offered`]; where
    /// `AUTHIFY_MAGIC_LINKS` is on).
    pub email_link: bool,
}

/// The answer to a code.
#[derive(Debug)]
pub(crate) enum StepResult {
    /// Signed in.
    Done(Completion),
    /// The code was wrong (or expired); the page again with this error.
    Wrong(FactorStep, String),
    /// Too many wrong codes: the attempt is over.
    Ended,
}

/// The browser's waiting flow and its user.
pub(super) fn waiting(
    conn: &mut DbConnection,
    cookie: Option<&str>,
    states: &[FlowState],
    now: DateTime<Utc>,
) -> Result<(Flow, User, String), AuthnError> {
    let token = cookie.filter(|t| t.len() == 43).ok_or(AuthnError::NoFlow)?;
    let row = flows::find_flow(conn, &crate::sessions::token_hash(token), db_time(now))?
        .ok_or(AuthnError::NoFlow)?;
    let flow = Flow::try_from(row)?;
    let user_id = flow.user_id.ok_or(AuthnError::NoFlow)?;
    if !states.contains(&flow.state) {
        return Err(AuthnError::NoFlow);
    }
    let user = match users::get_user(conn, user_id) {
        Ok(u) => u,
        Err(StoreError::NotFound(_)) => return Err(AuthnError::NoFlow),
        Err(e) => return Err(e.into()),
    };
    if user.disabled {
        return Err(AuthnError::NoFlow);
    }
    Ok((flow, user, csrf::token_for(token)))
}

fn step_view(
    conn: &mut DbConnection,
    flow: &Flow,
    user: &User,
    csrf: String,
    wanted: Option<Method>,
    now: DateTime<Utc>,
) -> Result<FactorStep, AuthnError> {
    let factors = store::list_factors(conn, user.id)?;
    let left = store::count_recovery_codes(conn, user.id)?;
    let mut methods = methods_of(&factors, left);
    methods.retain(|m| usable(flow, *m));
    let method = wanted
        .filter(|m| methods.contains(m))
        .or_else(|| methods.first().copied())
        .ok_or(AuthnError::NoFlow)?;
    let factor = factors
        .iter()
        .find(|f| f.confirmed && f.kind == method.kind());
    let destination = match (method, factor) {
        (Method::Sms, Some(f)) => f.phone.as_deref().map(Phone::masked),
        (Method::Email, Some(_)) => Some(user.email.clone()),
        _ => None,
    };
    let code_sent = method.sends_code()
        && store::find_challenge(conn, Some(flow.id), factor.map(|f| f.id), db_time(now))?
            .is_some();
    Ok(FactorStep {
        csrf,
        app_name: flow.ret.app_name().map(str::to_owned),
        method,
        methods,
        prompt: super::Prompt::of(method, destination.as_deref(), code_sent),
        email_link: link_offered(&factors, user, flow),
    })
}

/// A code is not sent again within this many seconds of the last one.
const RESEND_SECS: i64 = 30;

/// Why a code was refused, for the page.
pub(super) const WRONG: &str = "That code is not correct or has expired. Check it and try again.";

impl Authn {
    /// The second-factor page of this browser's waiting sign-in, showing `wanted` when the user
    /// has it, else their preferred method.
    pub async fn factor_step(
        &self,
        cookies: Cookies,
        wanted: Option<Method>,
        now: DateTime<Utc>,
    ) -> Result<FactorStep, AuthnError> {
        self.db
            .run_quick(move |conn| {
                let (flow, user, csrf) = waiting(
                    conn,
                    cookies.flow.as_deref(),
                    &[FlowState::SecondFactor],
                    now,
                )?;
                step_view(conn, &flow, &user, csrf, wanted, now)
            })
            .await
    }

    /// Sends a code by SMS or e-mail for the waiting sign-in (replacing an earlier one). A code
    /// sent less than 30 seconds ago is not sent again; every send counts toward the account's
    /// attempts, so nobody can flood a phone or an inbox (or run up a gateway's bill).
    pub(crate) async fn send_code(
        &self,
        cookies: Cookies,
        method: Method,
        client: &Client,
        now: DateTime<Utc>,
    ) -> Result<FactorStep, AuthnError> {
        let flow_cookie = cookies.flow.clone();
        let (_, user, _) = self
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
        // SECURITY: sends count like sign-in attempts (cost and flooding).
        self.throttle().attempt(&user.email).await?;
        let mfa = self.inner.mfa.clone();
        let (step, notice) = self
            .db
            .run(move |conn| {
                transaction(conn, |conn| {
                    let (flow, user, csrf) = waiting(
                        conn,
                        cookies.flow.as_deref(),
                        &[FlowState::SecondFactor],
                        now,
                    )?;
                    if !usable(&flow, method) {
                        return Err(not_open());
                    }
                    let factor = store::list_factors(conn, user.id)?
                        .into_iter()
                        .find(|f| f.confirmed && f.kind == method.kind() && method.sends_code())
                        .ok_or(AuthnError::NoFlow)?;
                    let recent = store::find_challenge(conn, Some(flow.id), None, db_time(now))?
                        .is_some_and(|c| {
                            c.factor_id == factor.id
                                && c.created_at
                                    > db_time(now - chrono::Duration::seconds(RESEND_SECS))
                        });
                    let mut notice = None;
                    if !recent {
                        let to = match method {
                            Method::Sms => factor.phone.clone().unwrap_or_default(),
                            _ => user.email.clone(),
                        };
                        let code = random_code()?;
                        store::insert_challenge(
                            conn,
                            Some(flow.id),
                            factor.id,
                            &codes::hash(
                                &mfa.master,
                                &super::factor::sent::flow_binding(flow.id),
                                &code,
                            ),
                            db_time(now),
                            db_time(now + chrono::Duration::seconds(CODE_TTL_SECS)),
                        )?;
                        let sent = super::factor::sent::Sent(method);
                        notice = Some((sent.charge(&to, user.id), sent.notice(&to, &code)));
                    }
                    let step = step_view(conn, &flow, &user, csrf, Some(method), now)?;
                    Ok::<_, AuthnError>((step, notice))
                })
            })
            .await?;
        // Queued once the challenge is committed: a code that was never stored is never sent.
        // SECURITY: within the operator's budgets (per number, account, address, country and
        // in all): a refusal is an error the person sees, never a silent drop.
        if let Some((charge, notice)) = notice {
            let charge = charge.from_address(client.ip.as_deref());
            self.inner.mfa.costs.send(charge, notice).await?;
        }
        Ok(step)
    }

    /// Checks a code (TOTP, SMS, e-mail or recovery) for the waiting sign-in; signs in when
    /// it is right. Throttled per account like a password.
    pub(crate) async fn verify_code(
        &self,
        cookies: Cookies,
        method: Method,
        code: String,
        keys: Arc<Keyring>,
        client: Client,
        now: DateTime<Utc>,
    ) -> Result<StepResult, AuthnError> {
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
        if !usable(&flow, method) {
            return Err(not_open());
        }
        // SECURITY: every code counts toward the account's attempts, like a password (W-13).
        self.throttle().attempt(&user.email).await?;
        let authn = self.clone();
        self.db
            .run(move |conn| {
                transaction(conn, |conn| {
                    // The code field of every method also takes a recovery code (a lost device).
                    // A recovery code is tried first when it has the shape of one: it must
                    // work even when the device's factor cannot be checked.
                    let used = if method != Method::Recovery
                        && super::factor::recovery::looks_like_recovery(&code)
                        && check_code(conn, &authn, &flow, &user, Method::Recovery, &code, now)?
                    {
                        Some(Method::Recovery)
                    } else if check_code(conn, &authn, &flow, &user, method, &code, now)? {
                        Some(method)
                    } else {
                        None
                    };
                    crate::metrics::signin(method.as_str(), used.is_some());
                    if let Some(used) = used {
                        let proof =
                            Proof::Complete(vec![used.amr().to_owned(), AMR_MFA.to_owned()]);
                        let cx = StepContext::new(&cookies, &keys, &client, now);
                        return authn
                            .advance(conn, &flow, &user, proof, Action::SignIn, cx)?
                            .completed()
                            .map(StepResult::Done);
                    }
                    failed(conn, &user, method, &client, now)?;
                    let failures = store::count_flow_failure(conn, flow.id)?;
                    if failures >= MAX_FAILURES {
                        flows::delete_flow(conn, flow.id)?;
                        return Ok(StepResult::Ended);
                    }
                    let csrf = csrf::token_for(cookies.flow.as_deref().unwrap_or_default());
                    let step = step_view(conn, &flow, &user, csrf, Some(method), now)?;
                    Ok(StepResult::Wrong(step, WRONG.to_owned()))
                })
            })
            .await
    }
}

fn random_code() -> Result<String, AuthnError> {
    Ok(codes::six_digits()?)
}

/// Whether `code` is right for `method`, as its factor checks it; spends what it used (the TOTP
/// step, the recovery code, the sent code).
fn check_code(
    conn: &mut DbConnection,
    authn: &Authn,
    flow: &Flow,
    user: &User,
    method: Method,
    code: &str,
    now: DateTime<Utc>,
) -> Result<bool, AuthnError> {
    let factors = store::list_factors(conn, user.id)?;
    let factor = factors
        .iter()
        .find(|f| f.confirmed && f.kind == method.kind());
    super::factor::of(method).check_code(super::factor::CodeCheck {
        conn,
        mfa: &authn.inner.mfa,
        flow,
        user,
        factor,
        code,
        now,
    })
}

fn failed(
    conn: &mut DbConnection,
    user: &User,
    method: Method,
    client: &Client,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    Entry::new("signin.factor", db_time(now))
        .failed()
        .by_user(user)
        .ip(client.ip.as_deref())
        .details(serde_json::json!({ "method": method.as_str() }))
        .record(conn)
}

/// A method the flow does not offer (its channel gave the first factor).
pub(crate) fn not_open() -> AuthnError {
    AuthnError::BadRequest("that way of verifying is not open for this sign-in".into())
}
