//! The one error type of the HTTP layer and its renderings. Every handler (pages, console, API)
//! returns `Result<_, WebError>`; this module owns every error status code.
//!
//! - JSON `{"error": code, "message": text}` under `/api/`, for `POST /jwt/token`, for the key
//!   documents, and for any client whose `Accept` asks for JSON ([`ResponseError`]);
//! - a finished HTML page for browsers on page paths (`/login`, `/signup`, `/logout`, `/account`,
//!   `/admin`), put in place by the [`error_pages`] middleware;
//! - room for OAuth error responses (RFC 6749 §5.2) as a third rendering when that protocol lands.
//!
//! Internal failures keep their cause as the error's source; the client sees only a reference,
//! which the log line of the failure carries too.

use std::time::Duration;

use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::{StatusCode, header};
use actix_web::middleware::Next;
use actix_web::{HttpMessage, HttpResponse, ResponseError, web};
use serde_json::json;

mod convert;
mod refusal;

pub(crate) use refusal::{Said, refusal};

use crate::state::AppState;
use crate::views::ErrorView;

/// An internal failure: its cause, and the reference shown to the client and logged.
#[derive(Debug)]
pub struct Internal {
    /// Ties the page or body to the log line.
    pub reference: String,
    source: Box<dyn std::error::Error + Send + Sync>,
}

impl std::fmt::Display for Internal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "internal error {}: {}", self.reference, self.source)
    }
}

impl std::error::Error for Internal {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(self.source.as_ref())
    }
}

/// A request that failed.
#[derive(Debug, thiserror::Error)]
pub enum WebError {
    /// Input that does not parse: 400.
    #[error("{0}")]
    Invalid(String),
    /// A malformed request with its own page heading (a bad callback): 400.
    #[error("{heading}: {message}")]
    BadRequest {
        /// Page heading.
        heading: &'static str,
        /// What is wrong.
        message: String,
    },
    /// An upstream sign-in provider failed (unreachable, a bad discovery document): 502.
    #[error("{heading}: {message}")]
    BadGateway {
        /// Page heading.
        heading: &'static str,
        /// What happened.
        message: String,
    },
    /// No usable API token: 401.
    #[error("{0}")]
    Unauthorized(String),
    /// A page that needs a session, without one: a redirect to `/login` (401 for JSON clients).
    #[error("sign in first")]
    SignInFirst,
    /// Refused (CSRF, a disabled feature, a right the actor lacks): 403.
    #[error("{message}")]
    Forbidden {
        /// Page heading.
        heading: &'static str,
        /// Why.
        message: String,
    },
    /// The current password given to confirm a change is wrong: 403.
    #[error("the current password is not correct")]
    WrongPassword,
    /// No such thing, or not visible to the caller: 404.
    #[error("{0}")]
    NotFound(String),
    /// The path exists but not for this method: 405.
    #[error("method not allowed")]
    MethodNotAllowed,
    /// Conflicts with the current state (a taken name, the last admin): 409.
    #[error("{0}")]
    Conflict(String),
    /// Too many attempts for this account: 429, retry after this long.
    #[error("too many attempts; retry in {} seconds", .0.as_secs().max(1))]
    TooMany(Duration),
    /// A budget of the operator's (SMS, mail, push, sign-ups) is spent: 429, retry after this
    /// long; the message says which (`authify_core::costs`).
    #[error("{message}")]
    OverBudget {
        /// The budget's sentence and the wait.
        message: String,
        /// Until one more fits.
        wait: Duration,
    },
    /// The hashing pool is saturated: 503.
    #[error("too many requests in progress; try again in a moment")]
    Busy,
    /// The database is unavailable: 503, naming it (never a 500 with internals).
    #[error("the database is unavailable; try again in a moment")]
    Unavailable(String),
    /// Our failure: 500, cause logged with the reference.
    #[error("{0}")]
    Internal(#[source] Internal),
    /// An OAuth 2.0 error of the token, revocation or introspection endpoint (RFC 6749 §5.2):
    /// 401 with a `Basic` challenge for `invalid_client`, else 400; the RFC's body.
    #[error("{0}")]
    OAuth(authify_core::oidc::OAuthError),
    /// A bearer token the resource (userinfo) does not accept: 401 with the RFC 6750 §3
    /// challenge.
    #[error("the access token is missing, expired, revoked or not ours")]
    InvalidBearer,
}

impl WebError {
    /// An internal error caused by `source`, with a fresh reference.
    pub fn internal(source: impl Into<Box<dyn std::error::Error + Send + Sync>>) -> Self {
        WebError::Internal(Internal {
            reference: crate::random_reference(),
            source: source.into(),
        })
    }

    /// The database is unavailable; the cause is logged (at warn: an outage, not a bug).
    pub fn unavailable(cause: impl Into<String>) -> Self {
        let cause = cause.into();
        tracing::warn!(cause = %cause, "database unavailable");
        WebError::Unavailable(cause)
    }

    /// A refusal with the generic heading.
    pub fn forbidden(message: impl Into<String>) -> Self {
        WebError::Forbidden {
            heading: "Not allowed",
            message: message.into(),
        }
    }

    /// The form's CSRF check failed.
    pub fn csrf() -> Self {
        WebError::Forbidden {
            heading: "This form has expired",
            message: "The form was not submitted from this site, its security token expired (tokens are tied to your sign-in and last at most a few minutes before you sign in), or your browser did not send Authify's cookies. Authify's forms need cookies: allow them for this site (scripts: keep the cookies of the page that held the form, as in docs/INTEGRATION.md). Nothing was changed. Go back, reload the page and try again.".into(),
        }
    }

    fn code(&self) -> &'static str {
        match self {
            WebError::Invalid(_) | WebError::BadRequest { .. } => "invalid_request",
            WebError::BadGateway { .. } => "upstream_unavailable",
            WebError::Unauthorized(_) | WebError::SignInFirst => "unauthorized",
            WebError::Forbidden { .. } => "forbidden",
            WebError::WrongPassword => "wrong_password",
            WebError::NotFound(_) => "not_found",
            WebError::MethodNotAllowed => "method_not_allowed",
            WebError::Conflict(_) => "conflict",
            WebError::TooMany(_) | WebError::OverBudget { .. } => "too_many_requests",
            WebError::Busy => "busy",
            WebError::Unavailable(_) => "database_unavailable",
            WebError::Internal(_) => "internal_error",
            WebError::OAuth(e) => e.error,
            WebError::InvalidBearer => "invalid_token",
        }
    }

    fn retry_after(&self) -> Option<u64> {
        match self {
            // Rounded up: a client that waits exactly this long finds room.
            WebError::TooMany(wait) | WebError::OverBudget { wait, .. } => {
                Some((wait.as_secs() + u64::from(wait.subsec_nanos() > 0)).max(1))
            }
            WebError::Busy => Some(2),
            WebError::Unavailable(_) => Some(5),
            _ => None,
        }
    }

    /// Heading and sentence of the HTML page.
    fn page_text(&self) -> (String, String) {
        match self {
            WebError::Invalid(m) => ("That did not work".into(), crate::pages::sentence(m)),
            WebError::BadRequest { heading, message }
            | WebError::BadGateway { heading, message }
            | WebError::Forbidden { heading, message } => ((*heading).to_owned(), message.clone()),
            WebError::Unauthorized(m) => ("Sign in first".into(), crate::pages::sentence(m)),
            WebError::SignInFirst => ("Sign in first".into(), "Sign in to see this page.".into()),
            WebError::WrongPassword => (
                "Wrong password".into(),
                "The current password is not correct. Nothing was changed.".into(),
            ),
            WebError::NotFound(m) => ("Not found".into(), crate::pages::sentence(m)),
            WebError::MethodNotAllowed => (
                "Not found".into(),
                "This page does not answer that kind of request.".into(),
            ),
            WebError::Conflict(m) => ("That cannot be done".into(), crate::pages::sentence(m)),
            WebError::OAuth(e) => (
                "This request is not valid".into(),
                crate::pages::sentence(&e.description),
            ),
            WebError::InvalidBearer => (
                "Sign in first".into(),
                "The access token is missing, expired, revoked or not ours.".into(),
            ),
            WebError::TooMany(wait) => (
                "Too many sign-in attempts".into(),
                format!(
                    "There were too many sign-in attempts for this account. Wait {} seconds and try again.",
                    wait.as_secs().max(1)
                ),
            ),
            WebError::OverBudget { message, .. } => ("Please wait".into(), message.clone()),
            WebError::Unavailable(_) => (
                "Authify cannot reach its database".into(),
                "The database is not answering right now, so nothing could be done. Wait a few seconds and try again.".into(),
            ),
            WebError::Busy => (
                "Too busy right now".into(),
                "Too many sign-ins are in progress. Wait a moment and try again.".into(),
            ),
            WebError::Internal(i) => (
                "Something went wrong".into(),
                format!(
                    "Authify could not complete this request. If it keeps happening, give the administrator this reference: {}.",
                    i.reference
                ),
            ),
        }
    }

    /// The HTML page of this error.
    pub fn page(&self, state: &AppState, request_id: Option<String>) -> HttpResponse {
        if matches!(self, WebError::SignInFirst) {
            return crate::pages::see_other("/login");
        }
        let status = self.status_code();
        let (heading, message) = self.page_text();
        let view = ErrorView {
            title: heading.clone(),
            status: status.as_u16(),
            heading,
            message,
            back_url: Some("/login".into()),
            request_id,
        };
        let mut res =
            crate::pages::render(state, "pages/error", &view, status).unwrap_or_else(|_| {
                HttpResponse::build(status)
                    .content_type("text/plain; charset=utf-8")
                    .body(view.message.clone())
            });
        self.add_headers(&mut res);
        res
    }

    fn add_headers(&self, res: &mut HttpResponse) {
        let headers = res.headers_mut();
        headers.insert(
            header::CACHE_CONTROL,
            header::HeaderValue::from_static("no-store"),
        );
        if let Some(secs) = self.retry_after() {
            headers.insert(header::RETRY_AFTER, header::HeaderValue::from(secs));
        }
        match self {
            WebError::Unauthorized(_) => {
                headers.insert(
                    header::WWW_AUTHENTICATE,
                    header::HeaderValue::from_static("Bearer error=\"invalid_token\""),
                );
            }
            // The protocol endpoints are called from other origins (browser-based clients).
            WebError::OAuth(e) => {
                headers.insert(
                    header::ACCESS_CONTROL_ALLOW_ORIGIN,
                    header::HeaderValue::from_static("*"),
                );
                headers.insert(header::PRAGMA, header::HeaderValue::from_static("no-cache"));
                if e.error == "invalid_client" {
                    headers.insert(
                        header::WWW_AUTHENTICATE,
                        header::HeaderValue::from_static("Basic realm=\"authify\""),
                    );
                }
            }
            WebError::InvalidBearer => {
                headers.insert(
                    header::ACCESS_CONTROL_ALLOW_ORIGIN,
                    header::HeaderValue::from_static("*"),
                );
                headers.insert(
                    header::WWW_AUTHENTICATE,
                    header::HeaderValue::from_static(
                        "Bearer error=\"invalid_token\", error_description=\"the access token is missing, expired, revoked or not ours\"",
                    ),
                );
            }
            _ => {}
        }
    }
}

impl ResponseError for WebError {
    fn status_code(&self) -> StatusCode {
        match self {
            WebError::Invalid(_) | WebError::BadRequest { .. } => StatusCode::BAD_REQUEST,
            WebError::BadGateway { .. } => StatusCode::BAD_GATEWAY,
            WebError::Unauthorized(_) | WebError::SignInFirst => StatusCode::UNAUTHORIZED,
            WebError::Forbidden { .. } | WebError::WrongPassword => StatusCode::FORBIDDEN,
            WebError::NotFound(_) => StatusCode::NOT_FOUND,
            WebError::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            WebError::Conflict(_) => StatusCode::CONFLICT,
            WebError::TooMany(_) | WebError::OverBudget { .. } => StatusCode::TOO_MANY_REQUESTS,
            WebError::Busy | WebError::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            WebError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
            WebError::OAuth(e) if e.error == "invalid_client" => StatusCode::UNAUTHORIZED,
            WebError::OAuth(_) => StatusCode::BAD_REQUEST,
            WebError::InvalidBearer => StatusCode::UNAUTHORIZED,
        }
    }

    /// The JSON rendering. Called once per failed request, so internal failures are logged here.
    fn error_response(&self) -> HttpResponse {
        let body = match self {
            WebError::Internal(i) => {
                let mut causes = Vec::new();
                let mut next = std::error::Error::source(i);
                while let Some(cause) = next {
                    causes.push(cause.to_string());
                    next = cause.source();
                }
                tracing::error!(reference = %i.reference, causes = ?causes, "request failed");
                json!({
                    "error": self.code(),
                    "message": format!("the server failed to answer; the failure was logged with reference {}", i.reference),
                    "reference": i.reference,
                })
            }
            WebError::OAuth(e) => json!({ "error": e.error, "error_description": e.description }),
            WebError::InvalidBearer => json!({ "error": "invalid_token" }),
            other => json!({ "error": other.code(), "message": other.to_string() }),
        };
        let mut res = HttpResponse::build(self.status_code()).json(body);
        self.add_headers(&mut res);
        res
    }
}

/// How an error on this request is shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Rendering {
    /// JSON (the API, protocol endpoints, clients that ask for it).
    Json,
    /// An HTML page for every error: a browser on a page path.
    Page,
    /// An HTML page for an unknown path or method only: a browser elsewhere (not under `/api/`).
    PageIfUnknown,
}

/// How an error on this request is shown.
fn rendering(req: &ServiceRequest) -> Rendering {
    let path = req.path();
    let page = [
        "/login",
        "/signup",
        "/logout",
        "/account",
        "/admin",
        "/oauth/authorize",
        "/oauth/consent",
    ]
    .iter()
    .any(|p| {
        path == *p
            || path
                .strip_prefix(p)
                .is_some_and(|rest| rest.starts_with('/'))
    });
    let accept = req
        .headers()
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let asks_json = accept.contains("application/json") && !accept.contains("text/html");
    if asks_json || path.starts_with("/api/") || path == "/api" {
        Rendering::Json
    } else if page {
        Rendering::Page
    } else if accept.contains("text/html") {
        Rendering::PageIfUnknown
    } else {
        Rendering::Json
    }
}

/// Middleware: a [`WebError`] on a page request becomes its HTML page; everything else keeps
/// the JSON rendering.
pub async fn error_pages(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    let rendering = rendering(&req);
    let res = next.call(req).await?.map_into_boxed_body();
    if rendering == Rendering::Json {
        return Ok(res);
    }
    let Some(err) = res
        .response()
        .error()
        .and_then(|e| e.as_error::<WebError>())
    else {
        return Ok(res);
    };
    let unknown = matches!(err, WebError::NotFound(_) | WebError::MethodNotAllowed);
    if rendering == Rendering::PageIfUnknown && !unknown {
        return Ok(res);
    }
    let Some(state) = res.request().app_data::<web::Data<AppState>>() else {
        return Ok(res);
    };
    let request_id = res
        .request()
        .extensions()
        .get::<crate::request_id::RequestId>()
        .map(|r| r.0.clone());
    let html = err.page(state, request_id);
    Ok(res.into_response(html))
}

/// The default service: 404 for any unknown path (an HTML page for a browser, JSON otherwise:
/// [`error_pages`]).
pub async fn not_found() -> Result<HttpResponse, WebError> {
    Err(WebError::NotFound(
        "there is no page at this address".into(),
    ))
}

/// The default of each resource: JSON 405 for a method the path does not answer.
pub async fn method_not_allowed() -> Result<HttpResponse, WebError> {
    Err(WebError::MethodNotAllowed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_internal_error_answers_with_a_reference_and_keeps_its_cause() {
        let cause = std::io::Error::other("disk on fire");
        let err = WebError::internal(cause);
        let WebError::Internal(inner) = &err else {
            panic!("internal");
        };
        let reference = inner.reference.clone();
        assert_eq!(reference.len(), 12);
        assert_eq!(
            std::error::Error::source(inner).map(ToString::to_string),
            Some("disk on fire".to_owned())
        );
        let res = err.error_response();
        assert_eq!(res.status(), StatusCode::INTERNAL_SERVER_ERROR);
        let body = actix_web::rt::System::new()
            .block_on(actix_web::body::to_bytes(res.into_body()))
            .unwrap();
        let body: serde_json::Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(body["reference"], reference.as_str());
        assert_eq!(body["error"], "internal_error");
        assert!(!body.to_string().contains("disk on fire"), "{body}");
    }

    #[test]
    fn browsers_get_html_errors_on_page_paths_and_for_unknown_paths_outside_the_api() {
        use actix_web::test::TestRequest;
        let shown = |path: &str, accept: &str| {
            rendering(
                &TestRequest::get()
                    .uri(path)
                    .insert_header((header::ACCEPT, accept))
                    .to_srv_request(),
            )
        };
        assert_eq!(shown("/login", "text/html"), Rendering::Page);
        assert_eq!(shown("/admin/users/x", "*/*"), Rendering::Page);
        assert_eq!(shown("/login", "application/json"), Rendering::Json);
        assert_eq!(shown("/api/v1/me", "text/html"), Rendering::Json);
        assert_eq!(shown("/loginx", "text/html"), Rendering::PageIfUnknown);
        assert_eq!(shown("/jwt/token", "text/html"), Rendering::PageIfUnknown);
        assert_eq!(shown("/jwt/token", "*/*"), Rendering::Json);
        assert_eq!(shown("/no/such/page", "*/*"), Rendering::Json);
    }
}
