//! Second factors over the API: a phone app registers as an approver device and answers
//! approval requests (`/me/approvers`, `/me/approvals`); global admins reset a user's factors
//! (`DELETE /users/{uid}/factors`); organization admins require a second factor of their members
//! (`/organizations/{oid}/mfa`). The device token travels in `X-Authify-Device`.

use actix_web::{HttpRequest, HttpResponse, web};
use authify_core::manage::{orgs, users};
use serde::Deserialize;
use serde_json::json;

use super::auth::{ApiActor, json};
use super::{created, no_content, ok};
use crate::error::WebError;
use crate::state::AppState;

/// The header carrying an approver device's token.
pub const DEVICE_HEADER: &str = "x-authify-device";

/// No `Debug`: it holds a password.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct NewDevice {
    name: String,
    current_password: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Answer {
    decision: String,
    number: Option<i32>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Requirement {
    required: bool,
}

/// `POST /api/v1/me/approvers` (`{"name", "current_password"}`): registers the calling app as
/// an approver device, after the password; returns its
/// token once (and the recovery codes when it is the first factor).
pub async fn register(
    state: web::Data<AppState>,
    req: HttpRequest,
    ApiActor(actor): ApiActor,
    body: web::Bytes,
) -> Result<HttpResponse, WebError> {
    let b: NewDevice = json(&body)?;
    let (token, codes) = state
        .account()
        .register_device(
            &actor,
            &b.name,
            &b.current_password,
            state.client(&req),
            state.now(),
        )
        .await?;
    Ok(created(
        &json!({ "device_token": token, "recovery_codes": codes }),
    ))
}

/// `GET /api/v1/me/approvals`: the caller's pending approval requests.
pub async fn list(
    state: web::Data<AppState>,
    ApiActor(actor): ApiActor,
) -> Result<HttpResponse, WebError> {
    let requests = state.account().approvals(&actor.user, state.now()).await?;
    Ok(ok(&json!({ "approvals": requests })))
}

/// `POST /api/v1/me/approvals/{id}`: `{"decision": "approve"|"deny", "number": n}`, from a
/// registered device (`X-Authify-Device`).
pub async fn decide(
    state: web::Data<AppState>,
    req: HttpRequest,
    ApiActor(actor): ApiActor,
    id: web::Path<String>,
    body: web::Bytes,
) -> Result<HttpResponse, WebError> {
    let b: Answer = json(&body)?;
    let approve = match b.decision.as_str() {
        "approve" => true,
        "deny" => false,
        _ => return Err(WebError::Invalid("decision is approve or deny".into())),
    };
    let device = req
        .headers()
        .get(DEVICE_HEADER)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let decision = state
        .account()
        .decide(
            &actor,
            device,
            &id,
            approve,
            b.number,
            state.client(&req),
            state.now(),
        )
        .await?;
    Ok(ok(&json!({ "decision": decision })))
}

/// `DELETE /api/v1/users/{uid}/factors`: global admins.
pub async fn reset(
    state: web::Data<AppState>,
    ApiActor(actor): ApiActor,
    uid: web::Path<String>,
) -> Result<HttpResponse, WebError> {
    users::reset_factors(
        state.db(),
        &actor,
        &uid,
        &state.authn().mfa().costs,
        state.now(),
    )
    .await?;
    Ok(no_content())
}

/// `GET /api/v1/organizations/{oid}/mfa`.
pub async fn get_org(
    state: web::Data<AppState>,
    ApiActor(actor): ApiActor,
    oid: web::Path<String>,
) -> Result<HttpResponse, WebError> {
    let required = orgs::requires_mfa(state.db(), &actor, &oid).await?;
    Ok(ok(&json!({ "required": required })))
}

/// `PUT /api/v1/organizations/{oid}/mfa`: `{"required": bool}`; the organization's admins.
pub async fn put_org(
    state: web::Data<AppState>,
    ApiActor(actor): ApiActor,
    oid: web::Path<String>,
    body: web::Bytes,
) -> Result<HttpResponse, WebError> {
    let b: Requirement = json(&body)?;
    orgs::set_require_mfa(state.db(), &actor, &oid, b.required, state.now()).await?;
    Ok(ok(&json!({ "required": b.required })))
}
