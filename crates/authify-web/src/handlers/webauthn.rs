//! The JSON endpoints of `web/static/js/passkey.js` (WebAuthn ceremonies, in webauthn-rs's JSON
//! shapes: WebAuthn Level 3 `publicKey` options, credentials with base64url fields):
//!
//! - `POST /webauthn/login/options`, `POST /webauthn/login/finish`: sign in with a passkey, or
//!   give one as the second factor (the flow says which);
//! - `POST /webauthn/register/options`, `POST /webauthn/register/finish`: add a passkey to the
//!   signed-in account (the current password first).
//!
//! Each is CSRF-protected: the `X-CSRF-Token` header carries the form token of the page (bound
//! to the flow or session), and the `Origin` must be ours. Errors are JSON
//! `{"error", "message"}`. Thin handlers: one engine call each.

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, web};
use authify_core::authn::{AuthnError, PasskeyOutcome};
use serde::Deserialize;
use webauthn_rs::prelude::{PublicKeyCredential, RegisterPublicKeyCredential};

use crate::error::WebError;
use crate::extract::SignedIn;
use crate::pages::require_csrf;
use crate::state::AppState;

/// The header the script sends its page's form token in.
pub const CSRF_HEADER: &str = "X-CSRF-Token";

/// The CSRF gate of the JSON endpoints: the page's token in a header.
async fn checked(state: &AppState, req: &HttpRequest) -> Result<(), WebError> {
    let token = req.headers().get(CSRF_HEADER).and_then(|v| v.to_str().ok());
    // SECURITY: the same check as every form (token bound to the live flow or session, and
    // our Origin); a cross-site page can neither read the token nor set the header.
    require_csrf(state, req, token).await
}

fn json(body: serde_json::Value) -> HttpResponse {
    HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .json(body)
}

fn no_flow(e: AuthnError) -> WebError {
    match e {
        AuthnError::NoFlow => WebError::NotFound(
            "no sign-in is in progress in this browser; reload the sign-in page".into(),
        ),
        other => other.into(),
    }
}

/// `POST /webauthn/login/options`.
pub async fn login_options(
    state: web::Data<AppState>,
    req: HttpRequest,
) -> Result<HttpResponse, WebError> {
    checked(&state, &req).await?;
    let options = state
        .authn()
        .passkey_options(state.cookies().read(&req), state.now())
        .await
        .map_err(no_flow)?;
    Ok(json(options))
}

/// `POST /webauthn/login/finish`: `{"location"}` with the session cookie, or a 401 saying why.
pub async fn login_finish(
    state: web::Data<AppState>,
    req: HttpRequest,
    credential: web::Json<PublicKeyCredential>,
) -> Result<HttpResponse, WebError> {
    checked(&state, &req).await?;
    let outcome = state
        .authn()
        .passkey_finish(
            state.cookies().read(&req),
            credential.into_inner(),
            state.keys().keyring.clone(),
            state.client(&req),
            state.now(),
        )
        .await
        .map_err(no_flow)?;
    match outcome {
        PasskeyOutcome::Done(done) => {
            let names = state.cookies();
            let mut res = json(serde_json::json!({ "location": done.location }));
            res.add_cookie(&names.session_cookie(done.session, done.max_age))
                .map_err(WebError::internal)?;
            if !done.flow_kept {
                res.add_cookie(&names.flow_removal())
                    .map_err(WebError::internal)?;
            }
            Ok(res)
        }
        PasskeyOutcome::Refused(why) => Err(WebError::Unauthorized(why.to_owned())),
    }
}

/// The body of `POST /webauthn/register/options`. No `Debug`: it holds a password.
#[derive(Deserialize)]
pub struct RegisterRequest {
    name: Option<String>,
    password: Option<String>,
}

/// `POST /webauthn/register/options`: after the current password.
pub async fn register_options(
    state: web::Data<AppState>,
    req: HttpRequest,
    SignedIn(actor): SignedIn,
    body: web::Json<RegisterRequest>,
) -> Result<HttpResponse, WebError> {
    checked(&state, &req).await?;
    let body = body.into_inner();
    let options = state
        .account()
        .passkey_register_options(
            &actor,
            state.cookies().read(&req).session.as_deref(),
            body.name.as_deref().unwrap_or_default(),
            body.password.as_deref().unwrap_or_default(),
            state.now(),
        )
        .await?;
    Ok(json(options))
}

/// `POST /webauthn/register/finish`: `{"location", "recovery_codes"}` (codes only with the
/// account's first factor, shown once).
pub async fn register_finish(
    state: web::Data<AppState>,
    req: HttpRequest,
    SignedIn(actor): SignedIn,
    credential: web::Json<RegisterPublicKeyCredential>,
) -> Result<HttpResponse, WebError> {
    checked(&state, &req).await?;
    let codes = state
        .account()
        .passkey_register_finish(
            &actor,
            state.cookies().read(&req).session.as_deref(),
            credential.into_inner(),
            state.client(&req),
            state.now(),
        )
        .await?;
    Ok(json(serde_json::json!({
        "location": "/account?done=passkey_added",
        "recovery_codes": codes,
    })))
}
