//! `/oauth/token`, `/oauth/userinfo`, `/oauth/revoke`, `/oauth/introspect`.

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, web};
use authify_core::oidc::{ClientCredentials, OAuthError, TokenRequest};
use base64::Engine as _;
use serde::Deserialize;

use crate::error::WebError;
use crate::state::AppState;

/// Every field a token, revocation or introspection request may carry. No `Debug`: it holds
/// secrets and tokens.
#[derive(Deserialize)]
pub struct TokenForm {
    grant_type: Option<String>,
    code: Option<String>,
    redirect_uri: Option<String>,
    code_verifier: Option<String>,
    refresh_token: Option<String>,
    scope: Option<String>,
    client_id: Option<String>,
    client_secret: Option<String>,
    token: Option<String>,
}

/// `client_id:client_secret` of an `Authorization: Basic` header, each form-urlencoded
/// (RFC 6749 §2.3.1). `Err` when the header is there but unreadable.
fn basic_credentials(req: &HttpRequest) -> Result<Option<(String, String)>, ()> {
    let Some(value) = req.headers().get(header::AUTHORIZATION) else {
        return Ok(None);
    };
    let value = value.to_str().map_err(|_| ())?;
    let Some(encoded) = value
        .strip_prefix("Basic ")
        .or_else(|| value.strip_prefix("basic "))
    else {
        return Ok(None);
    };
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(encoded.trim())
        .map_err(|_| ())?;
    let text = String::from_utf8(decoded).map_err(|_| ())?;
    let (id, secret) = text.split_once(':').ok_or(())?;
    let unescape = |s: &str| -> String {
        url::form_urlencoded::parse(format!("v={s}").as_bytes())
            .next()
            .map(|(_, v)| v.into_owned())
            .unwrap_or_default()
    };
    Ok(Some((unescape(id), unescape(secret))))
}

fn credentials(req: &HttpRequest, form: &TokenForm) -> Result<ClientCredentials, OAuthError> {
    let basic = basic_credentials(req).map_err(|()| OAuthError::invalid_client())?;
    Ok(ClientCredentials {
        basic,
        client_id: form.client_id.clone(),
        client_secret: form.client_secret.clone(),
    })
}

fn no_store(mut res: actix_web::HttpResponseBuilder) -> actix_web::HttpResponseBuilder {
    res.insert_header((header::CACHE_CONTROL, "no-store"))
        .insert_header((header::PRAGMA, "no-cache"))
        .insert_header((header::ACCESS_CONTROL_ALLOW_ORIGIN, "*"));
    res
}

/// `POST /oauth/token`.
pub async fn post_token(
    state: web::Data<AppState>,
    req: HttpRequest,
    form: web::Form<TokenForm>,
) -> Result<HttpResponse, WebError> {
    let form = form.into_inner();
    let client = credentials(&req, &form)?;
    let request = TokenRequest {
        grant_type: form.grant_type,
        code: form.code,
        redirect_uri: form.redirect_uri,
        code_verifier: form.code_verifier,
        refresh_token: form.refresh_token,
        scope: form.scope,
        client,
    };
    let ip = state.client(&req).ip;
    match state
        .provider()
        .token(request, state.keys().keyring.clone(), ip, state.now())
        .await
    {
        Ok(tokens) => Ok(no_store(HttpResponse::Ok()).json(tokens)),
        Err(e) => Err(e.into()),
    }
}

/// The token of an `Authorization: Bearer` header (RFC 6750 §2.1).
fn bearer(req: &HttpRequest) -> Option<String> {
    let value = req.headers().get(header::AUTHORIZATION)?.to_str().ok()?;
    let token = value
        .strip_prefix("Bearer ")
        .or_else(|| value.strip_prefix("bearer "))?;
    Some(token.trim().to_owned()).filter(|t| !t.is_empty())
}

/// `GET` and `POST /oauth/userinfo`.
pub async fn userinfo(
    state: web::Data<AppState>,
    req: HttpRequest,
) -> Result<HttpResponse, WebError> {
    match state
        .provider()
        .userinfo(bearer(&req), state.keys().keyring.clone(), state.now())
        .await
    {
        Ok(claims) => Ok(no_store(HttpResponse::Ok()).json(claims)),
        Err(e) => Err(e.into()),
    }
}

/// `POST /oauth/revoke` (RFC 7009): 200 whether or not the token was known.
pub async fn post_revoke(
    state: web::Data<AppState>,
    req: HttpRequest,
    form: web::Form<TokenForm>,
) -> Result<HttpResponse, WebError> {
    let form = form.into_inner();
    let client = credentials(&req, &form)?;
    match state
        .provider()
        .revoke(
            client,
            form.token,
            state.keys().keyring.clone(),
            state.now(),
        )
        .await
    {
        Ok(()) => Ok(no_store(HttpResponse::Ok()).finish()),
        Err(e) => Err(e.into()),
    }
}

/// `POST /oauth/introspect` (RFC 7662).
pub async fn post_introspect(
    state: web::Data<AppState>,
    req: HttpRequest,
    form: web::Form<TokenForm>,
) -> Result<HttpResponse, WebError> {
    let form = form.into_inner();
    let client = credentials(&req, &form)?;
    match state
        .provider()
        .introspect(
            client,
            form.token,
            state.keys().keyring.clone(),
            state.now(),
        )
        .await
    {
        Ok(answer) => Ok(no_store(HttpResponse::Ok()).json(answer)),
        Err(e) => Err(e.into()),
    }
}
