//! The one error type of the HTTP layer. It owns every status code and the error body shape
//! `{"error": code, "message": text}`; internal causes go to the log, never to the client.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, ResponseError};
use serde_json::json;

/// An error answered over HTTP.
#[derive(Debug, thiserror::Error)]
pub enum WebError {
    /// No such route or resource.
    #[error("not found")]
    NotFound,
    /// The path exists but not for this method.
    #[error("method not allowed")]
    MethodNotAllowed,
    /// Something failed on our side. The cause is logged, the client sees only a generic message.
    #[error("internal error: {0}")]
    Internal(String),
}

impl WebError {
    fn code(&self) -> &'static str {
        match self {
            WebError::NotFound => "not_found",
            WebError::MethodNotAllowed => "method_not_allowed",
            WebError::Internal(_) => "internal_error",
        }
    }
}

impl ResponseError for WebError {
    fn status_code(&self) -> StatusCode {
        match self {
            WebError::NotFound => StatusCode::NOT_FOUND,
            WebError::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            WebError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn error_response(&self) -> HttpResponse {
        let message = match self {
            WebError::Internal(cause) => {
                tracing::error!(%cause, "internal error");
                "the server failed to answer; the failure has been logged".to_owned()
            }
            other => other.to_string(),
        };
        HttpResponse::build(self.status_code())
            .json(json!({ "error": self.code(), "message": message }))
    }
}

/// The default service: JSON 404 for any unknown path.
pub async fn not_found() -> Result<actix_web::HttpResponse, WebError> {
    Err(WebError::NotFound)
}

/// The default of each resource: JSON 405 for a method the path does not answer.
pub async fn method_not_allowed() -> Result<actix_web::HttpResponse, WebError> {
    Err(WebError::MethodNotAllowed)
}
