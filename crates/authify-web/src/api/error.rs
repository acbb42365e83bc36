//! The API's one error type and its one HTTP mapping: `{"error": code, "message": text}`.
//!
//! 401: no usable API token. 403: authenticated, but the action is not allowed (a read-only key
//! writing, a member managing, a non-admin listing users). 404: no such resource, or one the
//! caller cannot see (other organizations are invisible, not forbidden). 409: conflicts with the
//! current state (a taken name, the last admin).

use actix_web::http::{StatusCode, header};
use actix_web::{HttpResponse, ResponseError};
use authify_core::AdminError;
use serde_json::json;

/// An API request that failed.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// Malformed input: 400.
    #[error("{0}")]
    Invalid(String),
    /// No token, or one the API does not accept: 401.
    #[error("{0}")]
    Unauthorized(String),
    /// Not allowed: 403.
    #[error("{0}")]
    Forbidden(String),
    /// The current password given to confirm a change is wrong: 403.
    #[error("the current password is not correct")]
    WrongPassword,
    /// Missing or invisible: 404.
    #[error("{0}")]
    NotFound(String),
    /// Conflicts with the current state: 409.
    #[error("{0}")]
    Conflict(String),
    /// Hashing pool saturated: 503.
    #[error("too many requests in progress; try again in a moment")]
    Busy,
    /// Our failure: 500, cause logged only.
    #[error("internal: {0}")]
    Internal(String),
}

impl ApiError {
    fn code(&self) -> &'static str {
        match self {
            ApiError::Invalid(_) => "invalid_request",
            ApiError::Unauthorized(_) => "unauthorized",
            ApiError::Forbidden(_) => "forbidden",
            ApiError::WrongPassword => "wrong_password",
            ApiError::NotFound(_) => "not_found",
            ApiError::Conflict(_) => "conflict",
            ApiError::Busy => "busy",
            ApiError::Internal(_) => "internal_error",
        }
    }
}

impl From<AdminError> for ApiError {
    fn from(e: AdminError) -> Self {
        match e {
            AdminError::Invalid(m) => ApiError::Invalid(m),
            AdminError::NotFound(m) => ApiError::NotFound(m),
            AdminError::Conflict(m) => ApiError::Conflict(m),
            AdminError::Forbidden(m) => ApiError::Forbidden(m),
            AdminError::WrongPassword => ApiError::WrongPassword,
            AdminError::Busy => ApiError::Busy,
            AdminError::Internal(m) => ApiError::Internal(m),
        }
    }
}

impl From<authify_core::StoreError> for ApiError {
    fn from(e: authify_core::StoreError) -> Self {
        ApiError::Internal(e.to_string())
    }
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        match self {
            ApiError::Invalid(_) => StatusCode::BAD_REQUEST,
            ApiError::Unauthorized(_) => StatusCode::UNAUTHORIZED,
            ApiError::Forbidden(_) | ApiError::WrongPassword => StatusCode::FORBIDDEN,
            ApiError::NotFound(_) => StatusCode::NOT_FOUND,
            ApiError::Conflict(_) => StatusCode::CONFLICT,
            ApiError::Busy => StatusCode::SERVICE_UNAVAILABLE,
            ApiError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn error_response(&self) -> HttpResponse {
        let message = match self {
            ApiError::Internal(cause) => {
                tracing::error!(%cause, "API request failed");
                "the server failed to answer; the failure has been logged".to_owned()
            }
            other => other.to_string(),
        };
        let mut res = HttpResponse::build(self.status_code());
        res.insert_header((header::CACHE_CONTROL, "no-store"));
        match self {
            ApiError::Unauthorized(_) => {
                res.insert_header((header::WWW_AUTHENTICATE, "Bearer error=\"invalid_token\""));
            }
            ApiError::Busy => {
                res.insert_header((header::RETRY_AFTER, "2"));
            }
            _ => {}
        }
        res.json(json!({ "error": self.code(), "message": message }))
    }
}
