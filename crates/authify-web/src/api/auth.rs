//! API authentication: `Authorization: Bearer <API token>`. The token must verify against our
//! keys with audience [`API_AUDIENCE`] and name an API key that is still usable; the acting user
//! and their rights are read fresh on every request.

use std::future::Future;
use std::pin::Pin;

use actix_web::http::header;
use actix_web::{FromRequest, HttpRequest, web};
use authify_core::manage::{Actor, api_keys};
use authify_domain::API_AUDIENCE;
use authify_jwt::{Validation, VerifyError, verify};
use serde::de::DeserializeOwned;

use crate::error::WebError;
use crate::state::AppState;

/// The authenticated caller of an API endpoint.
#[derive(Debug)]
pub struct ApiActor(pub Actor);

fn bearer(req: &HttpRequest) -> Result<String, WebError> {
    let value = req
        .headers()
        .get(header::AUTHORIZATION)
        .ok_or_else(|| {
            WebError::Unauthorized(
                "send an API token as `Authorization: Bearer <token>`; get one from POST /jwt/token".into(),
            )
        })?
        .to_str()
        .map_err(|_| WebError::Unauthorized("the Authorization header is not valid".into()))?;
    match value.split_once(' ') {
        Some((scheme, token))
            if scheme.eq_ignore_ascii_case("bearer") && !token.trim().is_empty() =>
        {
            Ok(token.trim().to_owned())
        }
        _ => Err(WebError::Unauthorized(
            "the Authorization header must be `Bearer <token>`".into(),
        )),
    }
}

async fn authenticate(req: HttpRequest) -> Result<ApiActor, WebError> {
    let state = req
        .app_data::<web::Data<AppState>>()
        .ok_or_else(|| WebError::internal("application state missing"))?
        .clone();
    let token = bearer(&req)?;
    let keys = state.keys();
    let now = state.now();
    // SECURITY: only tokens minted for the API itself; a token an app received through the
    // callback has the app's audience and is refused (the original's account takeover, W-9).
    let validation = Validation::new(state.config().issuer.clone(), API_AUDIENCE);
    let claims = verify(&token, &keys.verify_keys, &validation, now.timestamp()).map_err(|e| {
        WebError::Unauthorized(match e {
            VerifyError::WrongAudience => {
                "this token was issued to an application, not to the API; exchange an API key at POST /jwt/token".into()
            }
            VerifyError::Expired => "the API token has expired; get a new one from POST /jwt/token".into(),
            other => format!("the API token is not valid: {other}"),
        })
    })?;
    let actor = api_keys::actor_for(state.db(), &claims, crate::client_ip(&req), now)
        .await?
        .ok_or_else(|| {
            WebError::Unauthorized(
                "the API key behind this token was revoked or expired, or its owner is disabled"
                    .into(),
            )
        })?;
    Ok(ApiActor(actor))
}

impl FromRequest for ApiActor {
    type Error = WebError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, Self::Error>>>>;

    fn from_request(req: &HttpRequest, _: &mut actix_web::dev::Payload) -> Self::Future {
        Box::pin(authenticate(req.clone()))
    }
}

/// The query string as `T`; unknown parameters are refused (filters are whitelisted). Parsed
/// after authentication, so an anonymous caller always gets 401 first.
pub fn query<T: DeserializeOwned>(req: &HttpRequest) -> Result<T, WebError> {
    web::Query::<T>::from_query(req.query_string())
        .map(web::Query::into_inner)
        .map_err(|e| WebError::Invalid(format!("query parameters: {e}")))
}

/// The JSON body as `T`; unknown fields are refused.
pub fn json<T: DeserializeOwned>(body: &[u8]) -> Result<T, WebError> {
    serde_json::from_slice(body).map_err(|e| WebError::Invalid(format!("request body: {e}")))
}
