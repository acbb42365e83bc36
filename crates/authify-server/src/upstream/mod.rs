//! The protocols behind upstream sign-in ([`authify_core::upstream::Connector`]): OpenID
//! providers through the `openidconnect` crate ([`oidc`]: discovery, code exchange with PKCE,
//! ID token signature, issuer, audience, expiry and nonce, userinfo), GitHub through the `oauth2`
//! crate and its REST API ([`github`]). Both run over the server's outbound client
//! ([`crate::outbound`]): the outbound policy at every request and connection, no redirects
//! followed, bounded time and response size.

mod github;
mod oidc;

use std::sync::Arc;
use std::time::Duration;

use authify_core::upstream::{
    BoxFuture, Connector, Identity, ProviderInfo, RoundTrip, UpstreamError,
};

use crate::outbound::{Outbound, OutboundError};
use crate::settings::{ProviderKind, ProviderSettings};

/// Time for one request to a provider (providers are slower than our own receivers).
const TIMEOUT: Duration = Duration::from_secs(10);

/// The configured providers and the client that speaks to them.
pub struct Upstream {
    providers: Vec<ProviderSettings>,
    /// The server's outbound client (its TLS roots are loaded at the first round trip).
    http: Arc<Outbound>,
    discovered: oidc::Discovered,
}

impl Upstream {
    /// The providers of the settings, reached through `http`.
    pub fn new(providers: Vec<ProviderSettings>, http: Arc<Outbound>) -> Self {
        Upstream {
            providers,
            http,
            discovered: oidc::Discovered::default(),
        }
    }

    fn find(&self, name: &str) -> Result<&ProviderSettings, UpstreamError> {
        self.providers
            .iter()
            .find(|p| p.name == name)
            .ok_or(UpstreamError::Unknown)
    }
}

impl Connector for Upstream {
    fn providers(&self) -> Vec<ProviderInfo> {
        self.providers
            .iter()
            .map(|p| ProviderInfo {
                name: p.name.clone(),
                display: p.display.clone(),
            })
            .collect()
    }

    fn authorize_url<'a>(
        &'a self,
        provider: &'a str,
        redirect_uri: &'a str,
        trip: &'a RoundTrip,
    ) -> BoxFuture<'a, Result<String, UpstreamError>> {
        Box::pin(async move {
            let p = self.find(provider)?;
            match &p.kind {
                ProviderKind::GitHub { web_url, .. } => {
                    github::authorize_url(p, web_url, redirect_uri, trip)
                }
                ProviderKind::OpenId { issuer } => {
                    let meta = self.discovered.get(&self.http, &p.name, issuer).await?;
                    oidc::authorize_url(p, meta, redirect_uri, trip)
                }
            }
        })
    }

    fn identify<'a>(
        &'a self,
        provider: &'a str,
        redirect_uri: &'a str,
        code: &'a str,
        trip: &'a RoundTrip,
    ) -> BoxFuture<'a, Result<Identity, UpstreamError>> {
        Box::pin(async move {
            let p = self.find(provider)?;
            match &p.kind {
                ProviderKind::GitHub { web_url, api_url } => {
                    github::identify(&self.http, p, web_url, api_url, redirect_uri, code, trip)
                        .await
                }
                ProviderKind::OpenId { issuer } => {
                    let meta = self.discovered.get(&self.http, &p.name, issuer).await?;
                    let result =
                        oidc::identify(&self.http, p, meta, redirect_uri, code, trip).await;
                    if result.is_err() {
                        // The provider may have rotated its keys: discover again next time.
                        self.discovered.forget(&p.name);
                    }
                    result
                }
            }
        })
    }
}

/// An HTTP failure, for the `oauth2` and `openidconnect` crates.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub(crate) struct HttpError(String);

/// Our client as the `oauth2`/`openidconnect` crates call it.
pub(crate) struct Http<'a>(pub &'a Outbound);

impl<'c> oauth2::AsyncHttpClient<'c> for Http<'_> {
    type Error = HttpError;
    type Future = BoxFuture<'c, Result<http::Response<Vec<u8>>, HttpError>>;

    fn call(&'c self, request: http::Request<Vec<u8>>) -> Self::Future {
        Box::pin(send(self.0, request))
    }
}

/// Sends one request of the `oauth2`/`openidconnect` crates with our client, reading at most
/// [`crate::outbound::MAX_RESPONSE`] bytes of the answer.
async fn send(
    http: &Outbound,
    request: http::Request<Vec<u8>>,
) -> Result<http::Response<Vec<u8>>, HttpError> {
    let (parts, body) = request.into_parts();
    let text = |e: OutboundError| HttpError(e.to_string());
    let mut response = http
        .send(parts.method, &parts.uri.to_string(), |r| {
            r.headers(parts.headers).body(body).timeout(TIMEOUT)
        })
        .await
        .map_err(text)?;
    let mut out = http::Response::builder().status(response.status());
    for (name, value) in response.headers() {
        out = out.header(name, value);
    }
    let body = crate::outbound::read_capped(&mut response)
        .await
        .map_err(text)?;
    out.body(body).map_err(|e| HttpError(e.to_string()))
}

/// A provider that could not be reached or answered with something unusable.
fn unavailable(p: &ProviderSettings, e: impl std::fmt::Display) -> UpstreamError {
    UpstreamError::Unavailable(format!("{}: {e}", p.display))
}
