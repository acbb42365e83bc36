//! Enrolment inside a sign-in: a user whose policy requires a second factor and who has none
//! sets up an authenticator app in the same flow, sees the recovery codes once, then continues.

use std::sync::Arc;

use authify_jwt::Keyring;
use authify_store::factors as store;
use authify_store::{flows, transaction};
use chrono::{DateTime, Utc};

use super::FlowState;
use super::advance::{Action, Proof, StepContext};
use super::second::{WRONG, waiting};
use super::{Authn, AuthnError, Client, Completion, Cookies};
use crate::mfa::totp::Enrolment;
use crate::mfa::{AMR_MFA, MAX_FAILURES, Method};

/// The TOTP enrolment page inside a sign-in (policy requires a factor). `Debug` shows neither
/// the secret nor the recovery codes.
#[derive(Clone)]
pub struct EnrolStep {
    /// Form token.
    pub csrf: String,
    /// The application signed in to.
    pub app_name: Option<String>,
    /// Who requires the factor, for the page: the application's name, "Your organization", or
    /// "Your administrator" (`AUTHIFY_MFA=required`).
    pub required_by: String,
    /// URI and secret to show.
    pub enrolment: Enrolment,
    /// After the code was confirmed: the recovery codes, shown once.
    pub recovery_codes: Vec<String>,
}

impl std::fmt::Debug for EnrolStep {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EnrolStep")
            .field("app_name", &self.app_name)
            .field("required_by", &self.required_by)
            .finish_non_exhaustive()
    }
}

impl Authn {
    /// The TOTP enrolment of a sign-in whose user must enrol (the same secret until confirmed).
    pub async fn enrol_step(
        &self,
        cookies: Cookies,
        now: DateTime<Utc>,
    ) -> Result<EnrolStep, AuthnError> {
        let mfa = self.inner.mfa.clone();
        self.db
            .run(move |conn| {
                transaction(conn, |conn| {
                    let (flow, user, csrf, enrolment) =
                        enrolling(conn, &mfa, cookies.flow.as_deref(), now)?;
                    Ok(EnrolStep {
                        csrf,
                        app_name: flow.ret.app_name().map(str::to_owned),
                        required_by: required_by(conn, &user, &flow)?,
                        enrolment,
                        recovery_codes: Vec::new(),
                    })
                })
            })
            .await
    }

    /// Confirms the enrolment of a sign-in with a code: the factor is active, the recovery codes
    /// are made (returned once) and the flow waits for the user to continue. A wrong code
    /// counts like any other: `Err(Some(why))`, or `Err(None)` when it ended the attempt.
    pub async fn enrol_confirm(
        &self,
        cookies: Cookies,
        code: String,
        keys: Arc<Keyring>,
        client: Client,
        now: DateTime<Utc>,
    ) -> Result<Result<EnrolStep, Option<String>>, AuthnError> {
        let flow_cookie = cookies.flow.clone();
        let (_, user, _) = self
            .db
            .run_quick(move |conn| waiting(conn, flow_cookie.as_deref(), &[FlowState::Enrol], now))
            .await?;
        self.throttle().attempt(&user.email).await?;
        let mfa = self.inner.mfa.clone();
        let authn = self.clone();
        self.db
            .run(move |conn| {
                transaction(conn, |conn| {
                    let (flow, user, csrf, enrolment) =
                        enrolling(conn, &mfa, cookies.flow.as_deref(), now)?;
                    let confirmed = crate::account::factors::confirm_totp(
                        conn,
                        &mfa,
                        &user,
                        &format!("flow:{}", flow.id),
                        &code,
                        &client,
                        now,
                    )
                    .map_err(|e| AuthnError::Internal(e.to_string()))?;
                    let Some(codes) = confirmed else {
                        if store::count_flow_failure(conn, flow.id)? >= MAX_FAILURES {
                            flows::delete_flow(conn, flow.id)?;
                            return Ok(Err(None));
                        }
                        return Ok(Err(Some(WRONG.to_owned())));
                    };
                    let proof =
                        Proof::Enrolled(vec![Method::Totp.amr().to_owned(), AMR_MFA.to_owned()]);
                    let cx = StepContext::new(&cookies, &keys, &client, now);
                    authn.advance(conn, &flow, &user, proof, Action::SignIn, cx)?;
                    Ok(Ok(EnrolStep {
                        csrf,
                        app_name: flow.ret.app_name().map(str::to_owned),
                        required_by: required_by(conn, &user, &flow)?,
                        enrolment,
                        recovery_codes: codes,
                    }))
                })
            })
            .await
    }

    /// Continues a sign-in after its enrolment (the recovery codes were shown): signs in.
    pub async fn enrol_continue(
        &self,
        cookies: Cookies,
        keys: Arc<Keyring>,
        client: Client,
        now: DateTime<Utc>,
    ) -> Result<Completion, AuthnError> {
        let authn = self.clone();
        self.db
            .run(move |conn| {
                transaction(conn, |conn| {
                    let (flow, user, _) = waiting(
                        conn,
                        cookies.flow.as_deref(),
                        &[FlowState::RecoveryCodes],
                        now,
                    )?;
                    let cx = StepContext::new(&cookies, &keys, &client, now);
                    authn
                        .advance(conn, &flow, &user, Proof::Continued, Action::SignIn, cx)?
                        .completed()
                })
            })
            .await
    }
}

/// The browser's flow waiting for enrolment, its user and form token, and the set-up shown.
fn enrolling(
    conn: &mut authify_store::DbConnection,
    mfa: &crate::mfa::MfaConfig,
    cookie: Option<&str>,
    now: DateTime<Utc>,
) -> Result<
    (
        super::flow::Flow,
        authify_store::models::User,
        String,
        Enrolment,
    ),
    AuthnError,
> {
    let (flow, user, csrf) = waiting(conn, cookie, &[FlowState::Enrol], now)?;
    // SECURITY: a factor added since this attempt began (from the account page) must be used,
    // not bypassed by enrolling another here.
    if has_factor(conn, user.id)? {
        return Err(AuthnError::NoFlow);
    }
    let enrolment =
        crate::account::factors::pending_totp(conn, mfa, &user, &format!("flow:{}", flow.id), now)
            .map_err(|e| AuthnError::Internal(e.to_string()))?;
    Ok((flow, user, csrf, enrolment))
}

/// Who requires the factor: the application when it does, else an organization of the user,
/// else the installation.
fn required_by(
    conn: &mut authify_store::DbConnection,
    user: &authify_store::models::User,
    flow: &super::flow::Flow,
) -> Result<String, authify_store::StoreError> {
    if let Some(app) = super::policy::app_of(&flow.ret)
        && store::app_requires_mfa(conn, app)?
    {
        return Ok(flow.ret.app_name().unwrap_or("This application").to_owned());
    }
    Ok(if store::orgs_require_mfa(conn, user.id)? {
        "Your organization".to_owned()
    } else {
        "Your administrator".to_owned()
    })
}

/// Whether the user has a confirmed factor.
fn has_factor(
    conn: &mut authify_store::DbConnection,
    user_id: i64,
) -> Result<bool, authify_store::StoreError> {
    Ok(store::list_factors(conn, user_id)?
        .iter()
        .any(|f| f.confirmed))
}
