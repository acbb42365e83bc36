//! `/account/sessions/revoke` and `/account/grants/revoke`: ending one of your sessions (or all:
//! "log out everywhere") and taking back what you allowed an app. Every app that got a token in
//! an ended session is told by back-channel logout.

use actix_web::{HttpRequest, HttpResponse, web};
use serde::Deserialize;

use crate::error::WebError;
use crate::extract::{Checked, CsrfForm, SignedIn};
use crate::pages::see_other;
use crate::state::AppState;

/// `sid` of the session to end, or `all`.
#[derive(Debug, Deserialize)]
pub struct SessionForm {
    csrf_token: Option<String>,
    sid: Option<String>,
}

impl CsrfForm for SessionForm {
    fn csrf_token(&self) -> Option<&str> {
        self.csrf_token.as_deref()
    }
}

/// `app_id` of the grant to revoke.
#[derive(Debug, Deserialize)]
pub struct GrantForm {
    csrf_token: Option<String>,
    app_id: Option<String>,
}

impl CsrfForm for GrantForm {
    fn csrf_token(&self) -> Option<&str> {
        self.csrf_token.as_deref()
    }
}

/// `POST /account/sessions/revoke`. Ending the current session (or all) signs this browser out.
pub async fn post_session_revoke(
    state: web::Data<AppState>,
    req: HttpRequest,
    Checked(form): Checked<SessionForm>,
    SignedIn(actor): SignedIn,
) -> Result<HttpResponse, WebError> {
    let sid = match form.sid.as_deref().map(str::trim) {
        Some("all") => None,
        Some(s) if !s.is_empty() => Some(s.to_owned()),
        _ => {
            return Err(WebError::BadRequest {
                heading: "Which session?",
                message: "The form names no session to end.".into(),
            });
        }
    };
    let cookies = state.cookies().read(&req);
    let current = cookies
        .session
        .as_deref()
        .map(|t| authify_core::sessions::sid_of(&authify_core::sessions::token_hash(t)));
    let ends_this = sid.is_none() || sid == current;
    authify_core::sessions::revoke_for(state.db(), &actor.user, sid, state.now()).await?;
    if ends_this {
        let mut res = see_other("/login?signed_out=1");
        res.add_cookie(&state.cookies().session_removal())
            .map_err(WebError::internal)?;
        return Ok(res);
    }
    Ok(see_other("/account?done=session_ended"))
}

/// `POST /account/grants/revoke`.
pub async fn post_grant_revoke(
    state: web::Data<AppState>,
    Checked(form): Checked<GrantForm>,
    SignedIn(actor): SignedIn,
) -> Result<HttpResponse, WebError> {
    let app_id = form.app_id.unwrap_or_default();
    authify_core::oidc::grants::revoke(state.db(), &actor.user, &app_id, state.now()).await?;
    Ok(see_other("/account?done=grant_revoked"))
}
