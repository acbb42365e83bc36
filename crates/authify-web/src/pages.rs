//! Rendering pages: templates with their headers, redirects, the CSRF gate of every form and the
//! signed-in user. Errors are [`crate::error::WebError`], rendered as pages by its middleware.

use actix_web::HttpResponse;
use actix_web::http::{StatusCode, header};
use serde::Serialize;

use actix_web::HttpRequest;
use authify_core::Person;

use crate::cookies;
use crate::error::WebError;
use crate::state::AppState;

/// `s` as a sentence: first letter upper-cased, ending with a full stop.
pub fn sentence(s: &str) -> String {
    let mut c = s.chars();
    let mut out: String = c
        .next()
        .map(|f| f.to_uppercase().chain(c).collect())
        .unwrap_or_default();
    if !out.ends_with(['.', '!', '?']) {
        out.push('.');
    }
    out
}

/// Renders `view` with template `name`. Pages hold CSRF tokens and personal data: never cached.
pub fn render<T: Serialize>(
    state: &AppState,
    name: &str,
    view: &T,
    status: StatusCode,
) -> Result<HttpResponse, WebError> {
    let html = state
        .templates()
        .render(name, view)
        .map_err(WebError::internal)?;
    Ok(HttpResponse::build(status)
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .content_type("text/html; charset=utf-8")
        .body(html))
}

/// 303 to `location`.
pub fn see_other(location: &str) -> HttpResponse {
    HttpResponse::SeeOther()
        .insert_header((header::LOCATION, location))
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .finish()
}

/// Every form POST starts here: a missing or foreign token, a session or flow that is no longer
/// live, or a foreign origin, stops the request before it changes anything.
pub async fn require_csrf(
    state: &AppState,
    req: &HttpRequest,
    token: Option<&str>,
) -> Result<(), WebError> {
    if !cookies::origin_allowed(req, &state.config().public_origin) {
        return Err(WebError::csrf());
    }
    let cookies = state.cookies().read(req);
    let allowed = state
        .authn()
        .form_allowed(&cookies, token, state.now())
        .await?;
    if allowed {
        Ok(())
    } else {
        tracing::info!(
            path = req.path(),
            "form refused: no live session or flow for its token"
        );
        Err(WebError::csrf())
    }
}

/// The signed-in user of this request, if any.
pub async fn current_user(state: &AppState, req: &HttpRequest) -> Result<Option<Person>, WebError> {
    let cookies = state.cookies().read(req);
    state
        .authn()
        .session_user(cookies.session.as_deref(), state.now())
        .await
        .map_err(WebError::from)
}
