//! The errors of the areas below, mapped to [`WebError`] in one place: each variant of the
//! engine's and the administration's errors is named and given its status here (no catch-all).

use authify_core::AdminError;
use authify_core::authn::AuthnError;
use authify_core::costs::CostError;
use authify_core::oidc::resource::BearerError;
use authify_core::oidc::{OAuthError, OidcError};

use super::WebError;

impl From<AdminError> for WebError {
    fn from(e: AdminError) -> Self {
        match e {
            AdminError::Invalid(m) => WebError::Invalid(m),
            AdminError::NotFound(m) => WebError::NotFound(m),
            AdminError::Conflict(m) => WebError::Conflict(m),
            AdminError::Forbidden(m) => WebError::forbidden(crate::pages::sentence(&m)),
            AdminError::WrongPassword => WebError::WrongPassword,
            AdminError::Throttled(wait) => WebError::TooMany(wait),
            AdminError::Cost(e) => e.into(),
            AdminError::Busy => WebError::Busy,
            AdminError::Unavailable(m) => WebError::unavailable(m),
            AdminError::Internal(m) => WebError::internal(m),
        }
    }
}

/// A budget's refusal: 429 with `Retry-After` and the budget's sentence; a refused number
/// range is the person's input (400).
impl From<CostError> for WebError {
    fn from(e: CostError) -> Self {
        match e {
            CostError::OverBudget { wait, .. } => WebError::OverBudget {
                message: e.to_string(),
                wait,
            },
            CostError::RefusedNumber(_) => WebError::Invalid(e.to_string()),
            CostError::Store(e) if e.is_unavailable() => WebError::unavailable(e.to_string()),
            CostError::Store(e) => WebError::internal(e),
        }
    }
}

/// The sign-in engine's errors. Every variant is named: a new one must be given its status
/// here, never fall into a catch-all.
impl From<AuthnError> for WebError {
    fn from(e: AuthnError) -> Self {
        match e {
            AuthnError::Callback(e) => WebError::BadRequest {
                heading: "This sign-in link is not valid",
                message: format!(
                    "{} The application that sent you here must use a callback URL registered with Authify; nothing was signed in or sent.",
                    crate::pages::sentence(&e.to_string())
                ),
            },
            AuthnError::Throttled(wait) => WebError::TooMany(wait),
            AuthnError::Cost(e) => e.into(),
            AuthnError::SignupDisabled => WebError::Forbidden {
                heading: "Sign-up is disabled",
                message: "This Authify does not accept new accounts. Ask your administrator to create one for you.".into(),
            },
            AuthnError::Busy => WebError::Busy,
            AuthnError::Upstream(message) => WebError::BadGateway {
                heading: "The sign-in provider is unavailable",
                message: format!(
                    "{} Try again later, or sign in another way.",
                    crate::pages::sentence(&message)
                ),
            },
            AuthnError::Store(e) if e.is_unavailable() => WebError::unavailable(e.to_string()),
            AuthnError::Store(e) => WebError::internal(e),
            AuthnError::BadRequest(message) => WebError::BadRequest {
                heading: "This sign-in request is not valid",
                message: format!("{message} Nothing was signed in or sent to the application."),
            },
            AuthnError::NoFlow => WebError::BadRequest {
                heading: "This sign-in has expired",
                message: "No sign-in is waiting in this browser. Sign in again.".into(),
            },
            AuthnError::NoConsent => WebError::BadRequest {
                heading: "This request has expired",
                message: "No application is waiting for your answer in this browser. Go back to the application and sign in again.".into(),
            },
            AuthnError::Internal(m) => WebError::internal(m),
        }
    }
}

impl From<authify_core::StoreError> for WebError {
    fn from(e: authify_core::StoreError) -> Self {
        if e.is_unavailable() {
            return WebError::unavailable(e.to_string());
        }
        WebError::internal(e)
    }
}

/// OAuth errors of the protocol endpoints keep their RFC 6749 §5.2 code and description.
impl From<OAuthError> for WebError {
    fn from(e: OAuthError) -> Self {
        WebError::OAuth(e)
    }
}

impl From<OidcError> for WebError {
    fn from(e: OidcError) -> Self {
        match e {
            OidcError::OAuth(e) => WebError::OAuth(e),
            OidcError::Internal(m) => WebError::internal(m),
        }
    }
}

impl From<BearerError> for WebError {
    fn from(e: BearerError) -> Self {
        match e {
            BearerError::InvalidToken => WebError::InvalidBearer,
            BearerError::Internal(m) => WebError::internal(m),
        }
    }
}
