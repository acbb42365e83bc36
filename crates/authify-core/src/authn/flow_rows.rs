//! The browser's sign-in flow row: found by its cookie or made anew (bounded per client:
//! issue 32), the flow of a signed-in user who must do more, and the form context of a flow.

use authify_store::{DbConnection, flows, transaction};
use chrono::{DateTime, Utc};

use super::flow::Flow;
use super::state::{FlowState, set_state};
use super::{Authn, AuthnError, FlowCookie, FormContext, Return, ReturnRequest, csrf, new_token};
use crate::costs::{Budget, CostError};
use crate::db_time;

/// The live flow of this browser, or a new one opened by the client address `ip`. `ret`
/// replaces the flow's return when given; a new flow without one returns to the account page.
/// A flow that already identified a user is not reused for a new attempt.
///
/// SECURITY: an anonymous GET makes a flow, so flows are bounded (issue 32). A new one made by
/// a GET (`opened_by_get`) lives [`FRESH_FLOW`] until its browser comes back with the cookie
/// (then the whole `AUTHIFY_FLOW_TTL`, which a flow made by a POST has from the start). Each
/// client (address, IPv6 /64) opens at most `AUTHIFY_FLOWS_PER_ADDRESS_PER_MINUTE` a minute and
/// keeps at most `AUTHIFY_FLOWS_PER_ADDRESS` flows still at the first form, the oldest dropped
/// first (a flow at a provider, waiting for a link or an approval, or past the password stays).
pub(super) fn flow_for(
    conn: &mut DbConnection,
    cookie: Option<&str>,
    ret: Option<&Return>,
    authn: &Authn,
    ip: Option<&str>,
    opened_by_get: bool,
    now: DateTime<Utc>,
) -> Result<(Flow, FlowCookie), AuthnError> {
    let settings = &authn.inner.settings;
    let max_age = settings.flow_ttl.num_seconds();
    if let Some(token) = cookie.filter(|t| t.len() == 43) {
        let hash = crate::sessions::token_hash(token);
        if let Some(row) = flows::find_flow(conn, &hash, db_time(now))? {
            let full = row.created_at + settings.flow_ttl;
            if row.expires_at < full {
                flows::extend_flow(conn, row.id, full)?;
            }
            let mut flow = Flow::try_from(row)?;
            if flow.user_id.is_none() {
                if let Some(ret) = ret.filter(|r| **r != flow.ret) {
                    flows::update_flow_return(conn, flow.id, &ret.to_json()?)?;
                    flow.ret = ret.clone();
                }
                let cookie = FlowCookie {
                    token: token.to_owned(),
                    new: false,
                    max_age,
                };
                return Ok((flow, cookie));
            }
            flows::delete_flow(conn, flow.id)?;
        }
    }
    let ret = ret.cloned().unwrap_or(Return::Account);
    let client = ip.map(crate::limits::client_key);
    if let Some(key) = &client {
        bound_client_flows(conn, key, settings, now)?;
    }
    let (token, hash) = new_token()?;
    let id = flows::insert_flow(
        conn,
        &hash,
        &ret.to_json()?,
        client.as_deref(),
        db_time(now),
        db_time(if opened_by_get {
            now + settings.flow_ttl.min(FRESH_FLOW)
        } else {
            now + settings.flow_ttl
        }),
    )?;
    let flow = Flow {
        id,
        ret,
        user_id: None,
        amr: Vec::new(),
        state: FlowState::FirstFactor,
    };
    let cookie = FlowCookie {
        token,
        new: true,
        max_age,
    };
    Ok((flow, cookie))
}

/// A new flow for a signed-in user who must do more before `ret` (a step-up to a second
/// factor, or consent): it names the user and carries the session's factors.
pub(super) fn signed_in_flow(
    conn: &mut DbConnection,
    authn: &Authn,
    user_id: i64,
    session_amr: &str,
    ret: &Return,
    state: FlowState,
    now: DateTime<Utc>,
) -> Result<FlowCookie, AuthnError> {
    transaction(conn, |conn| {
        let (flow, cookie) = flow_for(conn, None, Some(ret), authn, None, false, now)?;
        let amr: Vec<String> = session_amr.split_whitespace().map(str::to_owned).collect();
        set_state(conn, flow.id, user_id, &amr, state)?;
        Ok(cookie)
    })
}

/// The flow a posted step works in: this browser's (or a new one, made by a POST), returning
/// where `request` names (checked) or, naming nothing, where the flow already returns.
pub(super) fn posted_flow(
    conn: &mut DbConnection,
    cookie: Option<&str>,
    request: &ReturnRequest,
    authn: &Authn,
    ip: Option<&str>,
    now: DateTime<Utc>,
) -> Result<(Flow, FlowCookie), AuthnError> {
    let ret = request.resolve_named(conn)?;
    flow_for(conn, cookie, ret.as_ref(), authn, ip, false, now)
}

/// How long a new flow lives before its browser comes back with the cookie.
pub const FRESH_FLOW: chrono::Duration = chrono::Duration::minutes(5);

/// The per-client limits of a flow about to be made: the minute's budget (refused: wait), then
/// room among its live flows (the oldest go).
fn bound_client_flows(
    conn: &mut DbConnection,
    key: &str,
    settings: &super::AuthnSettings,
    now: DateTime<Utc>,
) -> Result<(), AuthnError> {
    let per_minute = i64::from(settings.flows_per_address_per_minute);
    if per_minute > 0 {
        let interval = (60_000 / per_minute).max(1);
        let now_ms = now.timestamp_millis();
        let (allowed, tat) = authify_store::instances::spend_attempt(
            conn,
            &format!("flows:{key}"),
            now_ms,
            interval,
            per_minute * interval,
        )?;
        if !allowed {
            let wait = tat - now_ms - (per_minute - 1) * interval;
            crate::metrics::over_budget(Budget::Flows.name());
            return Err(AuthnError::Cost(CostError::OverBudget {
                budget: Budget::Flows,
                wait: std::time::Duration::from_millis(u64::try_from(wait).unwrap_or(0).max(1)),
            }));
        }
    }
    let keep = i64::from(settings.flows_per_address);
    if keep > 0 {
        flows::cap_client_flows(conn, key, keep - 1)?;
    }
    Ok(())
}

pub(super) fn form(flow: &Flow, cookie: FlowCookie) -> FormContext {
    FormContext {
        csrf: csrf::token_for(&cookie.token),
        flow: cookie,
        ret: flow.ret.clone(),
    }
}
