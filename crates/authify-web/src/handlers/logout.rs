//! `/logout`: signing out, and the OpenID `end_session_endpoint` (RP-Initiated Logout 1.0).
//!
//! A plain `GET /logout` asks for confirmation; the form's POST ends the session. An app may
//! send the browser here with `id_token_hint`, `post_logout_redirect_uri` (exactly as
//! registered), `client_id` and `state`: when the hint names the browser's current session,
//! the session ends at once (the hint proves the app got a token in it); otherwise the user
//! confirms. Either way the browser then goes to the registered URI with `state`. Ending the
//! session queues a back-channel logout for every app that got a token in it.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use authify_core::oidc::resource::LogoutTarget;
use serde::Deserialize;

use crate::error::WebError;
use crate::extract::{Checked, CsrfForm};
use crate::pages::{current_user, render, see_other};
use crate::state::AppState;
use crate::views::LogoutView;

/// The parameters of RP-initiated logout, in the query or the form.
#[derive(Debug, Default, Deserialize)]
pub struct EndSession {
    id_token_hint: Option<String>,
    post_logout_redirect_uri: Option<String>,
    client_id: Option<String>,
    state: Option<String>,
}

/// The sign-out form.
#[derive(Debug, Deserialize)]
pub struct LogoutForm {
    csrf_token: Option<String>,
    #[serde(flatten)]
    end: EndSession,
}

impl CsrfForm for LogoutForm {
    fn csrf_token(&self) -> Option<&str> {
        self.csrf_token.as_deref()
    }
}

async fn target(state: &AppState, end: &EndSession) -> Result<LogoutTarget, WebError> {
    state
        .provider()
        .end_session_target(
            end.id_token_hint.clone(),
            end.client_id.clone(),
            end.post_logout_redirect_uri.clone(),
            end.state.clone(),
            state.keys().keyring.clone(),
        )
        .await
        .map_err(|message| WebError::BadRequest {
            heading: "This sign-out link is not valid",
            message: format!("{message} You are still signed in."),
        })
}

/// Ends the browser's session and sends it on.
async fn sign_out(
    state: &AppState,
    req: &HttpRequest,
    redirect: Option<String>,
) -> Result<HttpResponse, WebError> {
    let cookies = state.cookies().read(req);
    state
        .authn()
        .sign_out(cookies.session, state.client(req), state.now())
        .await?;
    let mut res = see_other(redirect.as_deref().unwrap_or("/login?signed_out=1"));
    res.add_cookie(&state.cookies().session_removal())
        .map_err(WebError::internal)?;
    Ok(res)
}

/// `GET /logout`.
pub async fn get_logout(
    state: web::Data<AppState>,
    req: HttpRequest,
    query: web::Query<EndSession>,
) -> Result<HttpResponse, WebError> {
    let end = query.into_inner();
    let target = target(&state, &end).await?;
    let Some(user) = current_user(&state, &req).await? else {
        return Ok(see_other(target.redirect.as_deref().unwrap_or("/login")));
    };
    let cookies = state.cookies().read(&req);
    let current_sid = cookies
        .session
        .as_deref()
        .map(|t| authify_core::sessions::sid_of(&authify_core::sessions::token_hash(t)));
    if target.hinted_sid.is_some() && target.hinted_sid == current_sid {
        return sign_out(&state, &req, target.redirect).await;
    }
    let view = LogoutView {
        title: "Sign out",
        csrf_token: crate::cookies::session_csrf(&cookies),
        email: user.email,
        post_logout_redirect_uri: end.post_logout_redirect_uri,
        client_id: end.client_id,
        state: end.state,
        id_token_hint: end.id_token_hint,
    };
    render(&state, "pages/logout", &view, StatusCode::OK)
}

/// `POST /logout`: deletes the session server-side, clears the cookie, and goes to the
/// registered post-logout URI when the form carries one.
pub async fn post_logout(
    state: web::Data<AppState>,
    req: HttpRequest,
    form: Checked<LogoutForm>,
) -> Result<HttpResponse, WebError> {
    let target = target(&state, &form.0.end).await?;
    sign_out(&state, &req, target.redirect).await
}
