//! The sign-in forms' refusals (a user mistake, shown on the form again): each one's sentence and
//! status, chosen here and nowhere else (docs/API.md lists them).

use actix_web::http::StatusCode;
use authify_core::authn::Refusal;

/// What the form says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Said {
    /// An error above the form.
    Error(String),
    /// A neutral notice above the form.
    Notice(String),
}

impl Said {
    /// The sentence, whichever kind.
    pub(crate) fn text(self) -> String {
        match self {
            Said::Error(m) | Said::Notice(m) => m,
        }
    }
}

/// `AUTHIFY_EMAIL_VERIFICATION=required`: what an unverified account is told.
const UNVERIFIED: &str = "Confirm your e-mail address first: a link to confirm it is on its way to your inbox. Open it, then sign in.";

/// The sentence and status of a refusal. Every variant is named: a new one is given its status
/// here.
pub(crate) fn refusal(reason: &Refusal) -> (Said, StatusCode) {
    use Said::{Error, Notice};
    match reason {
        // SECURITY: one sentence and one status for an unknown address and a wrong password.
        Refusal::InvalidCredentials => (
            Error("Incorrect e-mail address or password.".into()),
            StatusCode::UNAUTHORIZED,
        ),
        Refusal::Disabled => (
            Error("This account is disabled. Contact your administrator.".into()),
            StatusCode::FORBIDDEN,
        ),
        Refusal::EmailTaken => (
            Error("An account with this e-mail address already exists. Sign in instead.".into()),
            StatusCode::CONFLICT,
        ),
        Refusal::Invalid(m) => (Error(crate::pages::sentence(m)), StatusCode::BAD_REQUEST),
        Refusal::Unverified => (Error(UNVERIFIED.into()), StatusCode::FORBIDDEN),
        Refusal::SignedUpUnverified => (Error(UNVERIFIED.into()), StatusCode::ACCEPTED),
        Refusal::Upstream {
            message,
            unavailable,
        } => (
            Error(message.clone()),
            if *unavailable {
                StatusCode::BAD_GATEWAY
            } else {
                StatusCode::BAD_REQUEST
            },
        ),
        Refusal::LinkFirst { provider, email } => (
            Notice(format!(
                "An account here already uses {email}. Sign in to it once below (with its password and second step) and your {provider} account is linked to it; after that, {provider} signs you in directly."
            )),
            StatusCode::OK,
        ),
    }
}
