//! Rendering pages and the HTML error pages. Page handlers return `Result<HttpResponse, PageError>`
//! and [`respond`] turns the error side into a finished page with the right status; internal
//! causes go to the log with a reference the page shows, never to the browser.

use actix_web::HttpResponse;
use actix_web::http::{StatusCode, header};
use serde::Serialize;

use actix_web::HttpRequest;
use authify_core::User;

use crate::cookies;
use crate::state::AppState;
use crate::views::ErrorView;

/// A page request that ends in an error page.
#[derive(Debug, thiserror::Error)]
pub enum PageError {
    /// The request is malformed (a bad callback): 400.
    #[error("{heading}: {message}")]
    BadRequest {
        /// Heading.
        heading: &'static str,
        /// What is wrong.
        message: String,
    },
    /// Refused (CSRF, sign-up disabled): 403.
    #[error("{heading}: {message}")]
    Forbidden {
        /// Heading.
        heading: &'static str,
        /// Why.
        message: String,
    },
    /// No such thing, or not visible to this user: 404.
    #[error("not found: {0}")]
    NotFound(String),
    /// The change conflicts with the current state (a taken name, the last admin): 409.
    #[error("conflict: {0}")]
    Conflict(String),
    /// The hashing pool is saturated: 503.
    #[error("busy")]
    Busy,
    /// Too many sign-in attempts for this account: 429, retry after this long.
    #[error("throttled for {0:?}")]
    TooMany(std::time::Duration),
    /// Our failure: 500, cause logged.
    #[error("internal: {0}")]
    Internal(String),
}

impl PageError {
    /// An internal error from anything displayable.
    pub fn internal(e: impl std::fmt::Display) -> Self {
        PageError::Internal(e.to_string())
    }

    /// The form's CSRF check failed.
    pub fn csrf() -> Self {
        PageError::Forbidden {
            heading: "This form has expired",
            message: "The form was not submitted from this site, or its security token expired (they are tied to your sign-in and last at most a few minutes before you sign in). Authify needs cookies for its forms. Nothing was changed. Go back, reload the page and try again.".into(),
        }
    }
}

impl From<authify_core::AdminError> for PageError {
    fn from(e: authify_core::AdminError) -> Self {
        use authify_core::AdminError as E;
        match e {
            E::Invalid(m) => PageError::BadRequest {
                heading: "That did not work",
                message: crate::pages::sentence(&m),
            },
            E::NotFound(m) => PageError::NotFound(crate::pages::sentence(&m)),
            E::Conflict(m) => PageError::Conflict(crate::pages::sentence(&m)),
            E::Forbidden(m) => PageError::Forbidden {
                heading: "Not allowed",
                message: crate::pages::sentence(&m),
            },
            E::WrongPassword => PageError::Forbidden {
                heading: "Wrong password",
                message: "The current password is not correct. Nothing was changed.".into(),
            },
            E::Busy => PageError::Busy,
            E::Internal(m) => PageError::Internal(m),
        }
    }
}

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
) -> Result<HttpResponse, PageError> {
    let html = state
        .templates()
        .render(name, view)
        .map_err(PageError::internal)?;
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

/// The response for a page handler's result.
pub fn respond(state: &AppState, result: Result<HttpResponse, PageError>) -> HttpResponse {
    let err = match result {
        Ok(res) => return res,
        Err(err) => err,
    };
    let retry_after = match &err {
        PageError::TooMany(wait) => Some(wait.as_secs().max(1).to_string()),
        PageError::Busy => Some("2".to_owned()),
        _ => None,
    };
    let (status, heading, message) = match err {
        PageError::BadRequest { heading, message } => {
            (StatusCode::BAD_REQUEST, heading.to_owned(), message)
        }
        PageError::Forbidden { heading, message } => {
            (StatusCode::FORBIDDEN, heading.to_owned(), message)
        }
        PageError::NotFound(message) => (StatusCode::NOT_FOUND, "Not found".to_owned(), message),
        PageError::Conflict(message) => (
            StatusCode::CONFLICT,
            "That cannot be done".to_owned(),
            message,
        ),
        PageError::Busy => (
            StatusCode::SERVICE_UNAVAILABLE,
            "Too busy right now".to_owned(),
            "Too many sign-ins are in progress. Wait a moment and try again.".to_owned(),
        ),
        PageError::TooMany(wait) => (
            StatusCode::TOO_MANY_REQUESTS,
            "Too many sign-in attempts".to_owned(),
            format!(
                "There were too many sign-in attempts for this account. Wait {} seconds and try again.",
                wait.as_secs().max(1)
            ),
        ),
        PageError::Internal(cause) => {
            let reference = crate::random_reference();
            tracing::error!(%reference, %cause, "page failed");
            (
                StatusCode::INTERNAL_SERVER_ERROR,
                "Something went wrong".to_owned(),
                format!(
                    "Authify could not complete this request. If it keeps happening, give the administrator this reference: {reference}."
                ),
            )
        }
    };
    let view = ErrorView {
        title: heading.clone(),
        status: status.as_u16(),
        heading,
        message,
        back_url: Some("/login".into()),
    };
    let mut res = render(state, "pages/error", &view, status).unwrap_or_else(|_| {
        HttpResponse::build(status)
            .content_type("text/plain; charset=utf-8")
            .body(view.message.clone())
    });
    if let Some(secs) = retry_after.and_then(|s| header::HeaderValue::from_str(&s).ok()) {
        res.headers_mut().insert(header::RETRY_AFTER, secs);
    }
    res
}

/// Every form POST starts here: a missing or foreign token, a session or flow that is no longer
/// live, or a foreign origin, stops the request before it changes anything.
pub async fn require_csrf(
    state: &AppState,
    req: &HttpRequest,
    token: Option<&str>,
) -> Result<(), PageError> {
    if !cookies::origin_allowed(req, &state.config().public_origin) {
        return Err(PageError::csrf());
    }
    let cookies = state.cookies().read(req);
    let allowed = state
        .authn()
        .form_allowed(&cookies, token, state.now())
        .await
        .map_err(PageError::internal)?;
    if allowed {
        Ok(())
    } else {
        tracing::info!(
            path = req.path(),
            "form refused: no live session or flow for its token"
        );
        Err(PageError::csrf())
    }
}

/// The signed-in user of this request, if any.
pub async fn current_user(state: &AppState, req: &HttpRequest) -> Result<Option<User>, PageError> {
    let cookies = state.cookies().read(req);
    state
        .authn()
        .session_user(cookies.session.as_deref(), state.now())
        .await
        .map_err(PageError::internal)
}
