//! Upstream providers (GitHub, Google, any OpenID provider) as the engine sees them: a
//! [`Connector`] that builds the authorization URL of a round trip and turns the code that comes
//! back into an [`Identity`]. The protocols (OpenID Connect discovery, ID token and nonce checks,
//! GitHub's OAuth 2.0 and API) live behind it, in the server crate; the engine draws the round
//! trip's secrets ([`RoundTrip`]), keeps them in the flow, checks `state`, and decides who signs in
//! (`authn::upstream`).

use std::future::Future;
use std::pin::Pin;

use serde::{Deserialize, Serialize};

/// A boxed future, for the object-safe [`Connector`].
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// A configured provider, as the login and account pages show it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ProviderInfo {
    /// Name in URLs and storage (`github`, `google`, or the settings' name).
    pub name: String,
    /// Name shown on buttons ("GitHub").
    pub display: String,
}

/// The secrets of one round trip to a provider, drawn by the engine and kept in the flow (never
/// in the browser) until the provider sends the browser back.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RoundTrip {
    /// The provider's name.
    pub provider: String,
    /// `state`: binds the answer to this browser's flow.
    pub state: String,
    /// PKCE `code_verifier` (RFC 7636); its S256 challenge goes in the URL.
    pub verifier: String,
    /// OpenID `nonce`: binds the ID token to this round trip.
    pub nonce: String,
    /// Started from the account page to link the provider to the signed-in user.
    pub link: bool,
}

// SECURITY: the verifier and nonce are secrets of the round trip; they never reach logs.
impl std::fmt::Debug for RoundTrip {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RoundTrip")
            .field("provider", &self.provider)
            .field("link", &self.link)
            .finish_non_exhaustive()
    }
}

/// Who the provider says signed in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Identity {
    /// The provider's name.
    pub provider: String,
    /// The provider's stable id of the account (`sub`, GitHub's numeric id): the key.
    pub subject: String,
    /// The address the provider reports.
    pub email: Option<String>,
    /// Whether the provider says it verified that address (`email_verified`, GitHub's verified
    /// primary address).
    pub email_verified: bool,
    /// Display name, when given.
    pub name: Option<String>,
}

impl Identity {
    /// The address, only when the provider verified it.
    pub fn verified_email(&self) -> Option<&str> {
        self.email.as_deref().filter(|_| self.email_verified)
    }
}

/// A round trip that could not be finished.
#[derive(Debug, Clone, thiserror::Error)]
pub enum UpstreamError {
    /// No provider of that name is configured.
    #[error("no sign-in provider of that name is configured")]
    Unknown,
    /// The provider's answer does not hold (ID token, nonce, issuer), or it refused the code.
    #[error("{0}")]
    Refused(String),
    /// The provider could not be reached, or answered with something unusable.
    #[error("{0}")]
    Unavailable(String),
}

/// The protocols of the configured providers.
pub trait Connector: Send + Sync {
    /// The configured providers, in the order the login page shows them.
    fn providers(&self) -> Vec<ProviderInfo>;

    /// The provider's authorization URL for `trip` (state, S256 challenge of the verifier,
    /// nonce), coming back to `redirect_uri`.
    fn authorize_url<'a>(
        &'a self,
        provider: &'a str,
        redirect_uri: &'a str,
        trip: &'a RoundTrip,
    ) -> BoxFuture<'a, Result<String, UpstreamError>>;

    /// Exchanges `code` (with the verifier), checks what comes back (the ID token's signature,
    /// issuer, audience, expiry and nonce for OpenID providers) and says who signed in.
    fn identify<'a>(
        &'a self,
        provider: &'a str,
        redirect_uri: &'a str,
        code: &'a str,
        trip: &'a RoundTrip,
    ) -> BoxFuture<'a, Result<Identity, UpstreamError>>;
}

/// No provider configured.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoProviders;

impl Connector for NoProviders {
    fn providers(&self) -> Vec<ProviderInfo> {
        Vec::new()
    }

    fn authorize_url<'a>(
        &'a self,
        _: &'a str,
        _: &'a str,
        _: &'a RoundTrip,
    ) -> BoxFuture<'a, Result<String, UpstreamError>> {
        Box::pin(async { Err(UpstreamError::Unknown) })
    }

    fn identify<'a>(
        &'a self,
        _: &'a str,
        _: &'a str,
        _: &'a str,
        _: &'a RoundTrip,
    ) -> BoxFuture<'a, Result<Identity, UpstreamError>> {
        Box::pin(async { Err(UpstreamError::Unknown) })
    }
}
