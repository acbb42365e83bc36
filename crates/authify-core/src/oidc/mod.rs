//! OpenID Connect provider (Core 1.0, Discovery 1.0) and the OAuth 2.0 parts it needs (RFC 6749,
//! RFC 7636 PKCE, RFC 7009 revocation, RFC 7662 introspection, RFC 9068 access tokens, RFC 9207
//! `iss`), plus OpenID Back-Channel Logout 1.0.
//!
//! The authorization endpoint is not a second sign-in path: a checked request becomes a
//! [`crate::authn::Return::Authorize`] of the sign-in flow, and its code is issued by the flow's
//! last step (or at once for a signed-in user, single sign-on). This module owns what is
//! specific to the protocol:
//!
//! - [`authorize`]: checking an authorization request, consent, and issuing codes.
//! - [`claims`]: ID, access and logout tokens, and how they are signed.
//! - [`token`]: the token endpoint (code, refresh with rotation, client credentials) and client
//!   authentication.
//! - [`resource`]: userinfo, revocation, introspection, and the `id_token_hint` of logout.
//! - [`outbox`]: back-channel logout deliveries (queued when a session ends, in its transaction).

pub mod authorize;
pub mod claims;
pub mod grants;
pub mod outbox;
pub mod resource;
pub mod token;
mod token_wire;

use authify_domain::Algorithm;
use authify_store::models::Application;
use chrono::Duration;
use serde::{Deserialize, Serialize};

pub use authorize::{AuthorizeRequest, AuthorizeReturn, Authorized, ConsentView};
pub use token::{ClientCredentials, TokenRequest, TokenResponse};

/// Scopes this provider knows, in the order they are listed and granted.
pub const SCOPES: [&str; 5] = [
    "openid",
    "profile",
    "email",
    "offline_access",
    "organizations",
];

/// How long an authorization code may wait to be exchanged (RFC 9700 §4.5: short; single use).
pub const CODE_TTL_SECS: i64 = 60;

/// How long a refresh token lives without being used.
pub const REFRESH_TTL_DAYS: i64 = 30;

/// The provider's settings.
#[derive(Debug, Clone)]
pub struct OidcSettings {
    /// `AUTHIFY_PUBLIC_URL` without a trailing slash: the OpenID issuer.
    pub issuer: String,
    /// Lifetime of access and ID tokens (`AUTHIFY_JWT_EXPIRATION`).
    pub token_ttl: Duration,
}

/// What kind of client an application is (RFC 6749 §2.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ClientType {
    /// Has a secret; PKCE accepted.
    Confidential,
    /// No secret (single-page and native apps); PKCE S256 required.
    Public,
    /// A machine: `client_credentials` only, no users, no callbacks.
    Service,
}

impl ClientType {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            ClientType::Confidential => "confidential",
            ClientType::Public => "public",
            ClientType::Service => "service",
        }
    }

    /// From its name (`confidential`, `public`, `service`).
    pub fn parse(name: &str) -> Option<Self> {
        match name {
            "confidential" => Some(ClientType::Confidential),
            "public" => Some(ClientType::Public),
            "service" => Some(ClientType::Service),
            _ => None,
        }
    }

    /// The type of `app` (an unknown stored value counts as confidential, the strictest for
    /// authentication).
    pub fn of(app: &Application) -> Self {
        Self::parse(&app.client_type).unwrap_or(ClientType::Confidential)
    }
}

/// The algorithm `app`'s OpenID Connect tokens are signed with.
pub fn algorithm_of(app: &Application) -> Algorithm {
    app.algorithm.parse().unwrap_or(Algorithm::ES256)
}

/// The known scopes among `requested` (space-separated), deduplicated, in [`SCOPES`] order.
/// Unknown scopes are ignored (RFC 6749 §3.3 lets the server grant fewer).
pub fn parse_scopes(requested: &str) -> Vec<&'static str> {
    let asked: Vec<&str> = requested.split_whitespace().collect();
    SCOPES.into_iter().filter(|s| asked.contains(s)).collect()
}

/// Whether every scope of `wanted` is in `granted` (both space-separated).
pub fn covers(granted: &str, wanted: &str) -> bool {
    let granted: Vec<&str> = granted.split_whitespace().collect();
    wanted.split_whitespace().all(|s| granted.contains(&s))
}

/// An OAuth error (RFC 6749 §4.1.2.1 and §5.2): the code and a sentence for developers.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{error}: {description}")]
pub struct OAuthError {
    /// `invalid_request`, `invalid_client`, `invalid_grant`, ...
    pub error: &'static str,
    /// `error_description`.
    pub description: String,
}

impl OAuthError {
    /// An error with its description.
    pub fn new(error: &'static str, description: impl Into<String>) -> Self {
        OAuthError {
            error,
            description: description.into(),
        }
    }

    /// `invalid_request`.
    pub fn invalid_request(description: impl Into<String>) -> Self {
        Self::new("invalid_request", description)
    }

    /// `invalid_grant`.
    pub fn invalid_grant(description: impl Into<String>) -> Self {
        Self::new("invalid_grant", description)
    }

    /// `invalid_client`: authentication failed (401).
    pub fn invalid_client() -> Self {
        Self::new("invalid_client", "client authentication failed")
    }
}

/// Where a token endpoint call failed: the client's mistake (an [`OAuthError`]) or ours.
#[derive(Debug, thiserror::Error)]
pub enum OidcError {
    /// RFC 6749 §5.2 error.
    #[error("{0}")]
    OAuth(OAuthError),
    /// Storage, signing or randomness failed.
    #[error("{0}")]
    Internal(String),
}

impl From<OAuthError> for OidcError {
    fn from(e: OAuthError) -> Self {
        OidcError::OAuth(e)
    }
}

impl From<authify_store::StoreError> for OidcError {
    fn from(e: authify_store::StoreError) -> Self {
        OidcError::Internal(format!("storage: {e}"))
    }
}

impl From<authify_jwt::SignError> for OidcError {
    fn from(e: authify_jwt::SignError) -> Self {
        OidcError::Internal(format!("signing: {e}"))
    }
}

impl From<getrandom::Error> for OidcError {
    fn from(e: getrandom::Error) -> Self {
        OidcError::Internal(format!("randomness: {e}"))
    }
}

/// A random family id for the tokens of one code.
pub(crate) fn new_family() -> Result<String, getrandom::Error> {
    crate::random::token::<16>()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_and_repeated_scopes_are_dropped_and_order_is_canonical() {
        assert_eq!(
            parse_scopes("email openid  foo openid organizations"),
            ["openid", "email", "organizations"]
        );
        assert!(parse_scopes("").is_empty());
    }

    #[test]
    fn a_grant_covers_the_same_or_fewer_scopes() {
        assert!(covers("openid profile email", "openid email"));
        assert!(covers("openid profile", "openid profile"));
        assert!(!covers("openid", "openid offline_access"));
    }
}
