//! Personal API keys (`/api/v1/api-keys`) and their exchange for an API token at
//! `POST /jwt/token` (the original Authify's interface).

use actix_web::{HttpRequest, HttpResponse, web};
use authify_core::manage::api_keys::{self, ExchangeError};
use authify_core::throttle::ThrottleError;
use serde::Deserialize;
use serde_json::json as value;

use super::auth::{ApiActor, json};
use super::{created, no_content, ok};
use crate::error::WebError;
use crate::state::AppState;

/// Body of `POST /jwt/token`. The original's dashed spellings are accepted. No `Debug`: it
/// holds a secret.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TokenRequest {
    #[serde(alias = "access-key")]
    access_key: String,
    #[serde(alias = "secret-key")]
    secret_key: String,
}

/// `POST /jwt/token`: `{"access_key", "secret_key"}` → `{"jwt"}`, an API token (audience
/// `urn:authify:api`) acting as the key's owner. Any bad pair is the same 401.
pub async fn post_token(
    state: web::Data<AppState>,
    req: HttpRequest,
    body: web::Bytes,
) -> Result<HttpResponse, WebError> {
    let b: TokenRequest = json(&body)?;
    let keys = state.keys();
    let ip = crate::client_ip(&req);
    // SECURITY: exchanges are throttled per client address before any database work.
    state
        .exchanges()
        .attempt(ip.as_deref().unwrap_or("unknown"))
        .await
        .map_err(|e| match e {
            ThrottleError::Wait(wait) => WebError::TooMany(wait),
            ThrottleError::Store(e) => e.into(),
        })?;
    match api_keys::exchange(
        state.db(),
        state.token_issuer(),
        keys.keyring.signer(),
        &b.access_key,
        &b.secret_key,
        ip.as_deref(),
        state.exchange_failures(),
        state.now(),
    )
    .await
    {
        Ok(jwt) => Ok(ok(&value!({ "jwt": jwt }))),
        Err(ExchangeError::Invalid) => Err(WebError::Unauthorized(
            "invalid access key or secret key".into(),
        )),
        Err(ExchangeError::Internal(e)) => Err(WebError::internal(e)),
    }
}

/// `GET /api/v1/api-keys`: the caller's own keys.
pub async fn list(
    state: web::Data<AppState>,
    ApiActor(actor): ApiActor,
) -> Result<HttpResponse, WebError> {
    let items = api_keys::list(state.db(), &actor, state.now()).await?;
    Ok(ok(&value!({ "items": items, "next_cursor": null })))
}

/// Body of `POST /api/v1/api-keys`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewKey {
    name: String,
    #[serde(default)]
    read_only: bool,
    expires_in_days: Option<u32>,
}

/// `POST /api/v1/api-keys`: the secret is in this response only.
pub async fn create(
    state: web::Data<AppState>,
    ApiActor(actor): ApiActor,
    body: web::Bytes,
) -> Result<HttpResponse, WebError> {
    let b: NewKey = json(&body)?;
    Ok(created(
        &api_keys::create(
            state.db(),
            &actor,
            &b.name,
            b.read_only,
            b.expires_in_days,
            state.now(),
        )
        .await?,
    ))
}

/// `DELETE /api/v1/api-keys/{access_key}`: revokes one of the caller's keys.
pub async fn revoke(
    state: web::Data<AppState>,
    ApiActor(actor): ApiActor,
    access_key: web::Path<String>,
) -> Result<HttpResponse, WebError> {
    api_keys::revoke(state.db(), &actor, &access_key, state.now()).await?;
    Ok(no_content())
}
