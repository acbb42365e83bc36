//! The protocols behind upstream sign-in ([`authify_core::upstream::Connector`]): OpenID
//! providers through the `openidconnect` crate ([`oidc`]: discovery, code exchange with PKCE,
//! ID token signature, issuer, audience, expiry and nonce, userinfo), GitHub through the `oauth2`
//! crate and its REST API ([`github`]). Both run over one `reqwest` client: no redirects followed,
//! bounded time and response size.

mod github;
mod oidc;

use std::sync::OnceLock;
use std::time::Duration;

use authify_core::upstream::{
    BoxFuture, Connector, Identity, ProviderInfo, RoundTrip, UpstreamError,
};

use crate::settings::{ProviderKind, ProviderSettings};

/// Responses larger than this are refused (a discovery document, a key set, a token response).
const MAX_RESPONSE: usize = 1 << 20;

/// The configured providers and the client that speaks to them.
pub struct Upstream {
    providers: Vec<ProviderSettings>,
    /// Built at the first round trip: its TLS roots cost memory a server without providers
    /// (or before its first upstream sign-in) does not need (docs/performance.md).
    http: OnceLock<Result<reqwest::Client, String>>,
    discovered: oidc::Discovered,
}

impl Upstream {
    /// The providers of the settings.
    pub fn new(providers: Vec<ProviderSettings>) -> Self {
        Upstream {
            providers,
            http: OnceLock::new(),
            discovered: oidc::Discovered::default(),
        }
    }

    fn http(&self) -> Result<&reqwest::Client, UpstreamError> {
        self.http
            .get_or_init(|| {
                // SECURITY: no redirects followed (a token endpoint cannot bounce the code or the
                // secret elsewhere); bounded time, so a slow provider cannot hold a request.
                reqwest::Client::builder()
                    .timeout(Duration::from_secs(10))
                    .connect_timeout(Duration::from_secs(5))
                    .redirect(reqwest::redirect::Policy::none())
                    .user_agent(concat!("Authify/", env!("CARGO_PKG_VERSION")))
                    .build()
                    .map_err(|e| format!("upstream HTTP client: {e}"))
            })
            .as_ref()
            .map_err(|e| UpstreamError::Unavailable(e.clone()))
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
                    let meta = self.discovered.get(self.http()?, &p.name, issuer).await?;
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
                    github::identify(self.http()?, p, web_url, api_url, redirect_uri, code, trip)
                        .await
                }
                ProviderKind::OpenId { issuer } => {
                    let meta = self.discovered.get(self.http()?, &p.name, issuer).await?;
                    let result =
                        oidc::identify(self.http()?, p, meta, redirect_uri, code, trip).await;
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
pub(crate) struct Http<'a>(pub &'a reqwest::Client);

impl<'c> oauth2::AsyncHttpClient<'c> for Http<'_> {
    type Error = HttpError;
    type Future = BoxFuture<'c, Result<http::Response<Vec<u8>>, HttpError>>;

    fn call(&'c self, request: http::Request<Vec<u8>>) -> Self::Future {
        Box::pin(send(self.0, request))
    }
}

/// Sends one request of the `oauth2`/`openidconnect` crates with our client, reading at most
/// [`MAX_RESPONSE`] bytes of the answer.
async fn send(
    http: &reqwest::Client,
    request: http::Request<Vec<u8>>,
) -> Result<http::Response<Vec<u8>>, HttpError> {
    let (parts, body) = request.into_parts();
    let mut response = http
        .request(parts.method, parts.uri.to_string())
        .headers(parts.headers)
        .body(body)
        .send()
        .await
        .map_err(|e| HttpError(e.without_url().to_string()))?;
    let mut out = http::Response::builder().status(response.status());
    for (name, value) in response.headers() {
        out = out.header(name, value);
    }
    let body = read_capped(&mut response).await.map_err(HttpError)?;
    out.body(body).map_err(|e| HttpError(e.to_string()))
}

/// The body of `response`, refused beyond [`MAX_RESPONSE`] bytes however it is sent.
pub(crate) async fn read_capped(response: &mut reqwest::Response) -> Result<Vec<u8>, String> {
    let mut body = Vec::new();
    while let Some(chunk) = response
        .chunk()
        .await
        .map_err(|e| e.without_url().to_string())?
    {
        if body.len() + chunk.len() > MAX_RESPONSE {
            return Err("the response is too large".into());
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

/// A provider that could not be reached or answered with something unusable.
fn unavailable(p: &ProviderSettings, e: impl std::fmt::Display) -> UpstreamError {
    UpstreamError::Unavailable(format!("{}: {e}", p.display))
}
