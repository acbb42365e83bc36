//! Second-factor policy: what a user identified by a first factor still needs (their factors,
//! this browser's approver-device cookie, and the policy of the installation, their
//! organizations and the application), and the step-up that single sign-on to a stricter
//! application requires. [`super::advance`] asks `need` and `policy_requires`; `open` and
//! `authorize` ask `step_up`.

use authify_store::DbConnection;
use authify_store::StoreError;
use authify_store::factors as store;
use authify_store::models::{Factor, User};

use super::{FlowState, Return};
use crate::mfa::{AMR_MFA, MfaMode};

/// What a user identified by a first factor still needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Need {
    /// Nothing: sign in.
    Nothing,
    /// This browser is the user's approver device: the second factor is satisfied.
    DeviceSatisfied,
    /// A second factor.
    Factor,
    /// Policy requires a factor and the user has none: enrol one.
    Enrol,
}

/// The application a return signs in to, by client id.
pub(crate) fn app_of(ret: &Return) -> Option<&str> {
    match ret {
        Return::Account => None,
        Return::Legacy { app_id, .. } => Some(app_id),
        Return::Authorize(a) => Some(&a.app_id),
    }
}

/// Whether policy requires a second factor of `user` for `ret`: `AUTHIFY_MFA=required`, one of
/// their organizations, or the application.
pub(crate) fn policy_requires(
    conn: &mut DbConnection,
    user: &User,
    ret: &Return,
    mode: MfaMode,
) -> Result<bool, StoreError> {
    Ok(mode == MfaMode::Required
        || store::orgs_require_mfa(conn, user.id)?
        || match app_of(ret) {
            Some(app) => store::app_requires_mfa(conn, app)?,
            None => false,
        })
}

/// Whether this browser holds a device token of one of `factors`.
fn holds_device(factors: &[Factor], device: Option<&str>) -> bool {
    // SECURITY: only a device registered to this very user counts; its token is a secret kept
    // in an HttpOnly cookie, stored hashed.
    device.is_some_and(|token| {
        let hash = crate::sessions::token_hash(token);
        factors
            .iter()
            .any(|f| f.confirmed && f.device_hash.as_deref() == Some(hash.as_str()))
    })
}

/// Decides what `user` needs after the first factor: their factors, the device cookie, and the
/// policy (`AUTHIFY_MFA`, their organizations, the application).
pub(crate) fn need(
    conn: &mut DbConnection,
    user: &User,
    ret: &Return,
    mode: MfaMode,
    device: Option<&str>,
) -> Result<Need, StoreError> {
    let factors: Vec<Factor> = store::list_factors(conn, user.id)?
        .into_iter()
        .filter(|f| f.confirmed)
        .collect();
    if !factors.is_empty() {
        if holds_device(&factors, device) {
            return Ok(Need::DeviceSatisfied);
        }
        return Ok(Need::Factor);
    }
    Ok(if policy_requires(conn, user, ret, mode)? {
        Need::Enrol
    } else {
        Need::Nothing
    })
}

/// Single sign-on from a session made without a second factor, to a return whose policy
/// requires one: the `pending` step the user must take first (step-up), or `None` to go on.
// SECURITY: without this, signing in to an app that does not require a second factor would
// open every app that does, by single sign-on.
pub(crate) fn step_up(
    conn: &mut DbConnection,
    user: &User,
    session_amr: &str,
    ret: &Return,
    mode: MfaMode,
    device: Option<&str>,
) -> Result<Option<FlowState>, StoreError> {
    if session_amr.split_whitespace().any(|a| a == AMR_MFA)
        || !policy_requires(conn, user, ret, mode)?
    {
        return Ok(None);
    }
    let factors: Vec<Factor> = store::list_factors(conn, user.id)?
        .into_iter()
        .filter(|f| f.confirmed)
        .collect();
    // A device cookie does not shortcut a step-up: the session was made without it, and a
    // token must not claim a factor the session never gave (the user approves, as at sign-in).
    let _ = device;
    Ok(if factors.is_empty() {
        Some(FlowState::Enrol)
    } else {
        Some(FlowState::SecondFactor)
    })
}
