//! The one HTTP client for requests the server makes on its own (back-channel logout, the push
//! and SMS webhooks, upstream providers), and the one way to send with it: [`Outbound::send`].
//!
//! Every request goes through [`OutboundPolicy`] twice: its URL before it is sent (scheme,
//! credentials, IP literals, internal names), and every address its host name resolves to when
//! a connection is made (the resolver below), so a name that resolved to a public address when
//! it was saved cannot be re-pointed inside later (DNS rebinding). No proxy from the environment
//! (a proxy would resolve names itself), no redirects, bounded time and response size.

use std::collections::HashMap;
use std::error::Error as _;
use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use authify_domain::{OutboundPolicy, Refusal};
use reqwest::dns::{Addrs, Name, Resolve, Resolving};
use reqwest::{Method, RequestBuilder, Response};

/// Time for a whole request, connection included, unless the caller sets its own.
pub const TIMEOUT: Duration = Duration::from_secs(5);
/// Responses larger than this are refused (a discovery document, a key set, a token response).
pub const MAX_RESPONSE: usize = 1 << 20;

/// Host names answered without DNS (tests point a public-looking name at loopback with it).
/// Their addresses are checked like any resolved address.
pub type Hosts = HashMap<String, Vec<IpAddr>>;

/// Why an outbound request was not made or did not complete.
#[derive(Debug, thiserror::Error)]
pub enum OutboundError {
    /// The policy refused the URL or an address its host resolved to.
    #[error("refused: {host} {refusal}")]
    Refused {
        /// The URL's host (never the whole URL: a webhook's query may hold credentials).
        host: String,
        /// Why.
        refusal: Refusal,
    },
    /// The client could not be built (TLS roots).
    #[error("no HTTP client: {0}")]
    Client(String),
    /// Not answered: connection, TLS, timeout.
    #[error("{0}")]
    Failed(String),
    /// The answer is larger than [`MAX_RESPONSE`].
    #[error("the response is larger than {MAX_RESPONSE} bytes")]
    TooLarge,
}

/// The outbound client and its policy. One per server, shared by every sender.
pub struct Outbound {
    policy: Arc<OutboundPolicy>,
    hosts: Arc<Hosts>,
    /// Made at the first request: loading the TLS roots costs a few milliseconds and some memory
    /// a server that never sends one does not need (docs/performance.md, start-up).
    client: OnceLock<Result<reqwest::Client, String>>,
}

impl std::fmt::Debug for Outbound {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Outbound")
            .field("policy", &self.policy)
            .finish_non_exhaustive()
    }
}

impl Outbound {
    /// Requests under `policy`, names resolved by the system.
    pub fn new(policy: OutboundPolicy) -> Self {
        Self::with_hosts(policy, Hosts::new())
    }

    /// Like [`Outbound::new`], with `hosts` answered without DNS.
    pub fn with_hosts(policy: OutboundPolicy, hosts: Hosts) -> Self {
        let hosts = hosts
            .into_iter()
            .map(|(name, ips)| (name.to_ascii_lowercase(), ips))
            .collect();
        Outbound {
            policy: Arc::new(policy),
            hosts: Arc::new(hosts),
            client: OnceLock::new(),
        }
    }

    /// The policy requests are checked against.
    pub fn policy(&self) -> &OutboundPolicy {
        &self.policy
    }

    fn client(&self) -> Result<&reqwest::Client, OutboundError> {
        self.client
            .get_or_init(|| {
                client(self.policy.clone(), self.hosts.clone()).map_err(|e| e.to_string())
            })
            .as_ref()
            .map_err(|e| OutboundError::Client(e.clone()))
    }

    /// Sends `method url`, completed by `build` (headers, body, a longer timeout), once the URL
    /// passes the policy. The only way to reach the client: a caller cannot skip the check.
    pub async fn send(
        &self,
        method: Method,
        url: &str,
        build: impl FnOnce(RequestBuilder) -> RequestBuilder,
    ) -> Result<Response, OutboundError> {
        // SECURITY: IP literals never reach the resolver, so the URL is checked here, before
        // every request (a URL saved before this check existed is refused too).
        let url = self.policy.check_url(url).map_err(|refusal| {
            let host = url::Url::parse(url)
                .ok()
                .and_then(|u| u.host_str().map(str::to_owned))
                .unwrap_or_else(|| "the URL".into());
            OutboundError::Refused { host, refusal }
        })?;
        let client = self.client()?;
        let request = build(client.request(method, url)).build().map_err(failed)?;
        client.execute(request).await.map_err(failed)
    }
}

/// The body of `response`, refused beyond [`MAX_RESPONSE`] bytes however it is sent.
pub async fn read_capped(response: &mut Response) -> Result<Vec<u8>, OutboundError> {
    let mut body = Vec::new();
    while let Some(chunk) = response.chunk().await.map_err(failed)? {
        if body.len() + chunk.len() > MAX_RESPONSE {
            return Err(OutboundError::TooLarge);
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

/// The client behind [`Outbound`]; built here only.
// SECURITY: the guarded resolver, no proxy from the environment (it would resolve names the
// resolver never sees), no redirects (a receiver cannot bounce a token, a code or a signed body
// elsewhere, nor turn a public URL into an internal one), 5 s to connect and to answer.
fn client(policy: Arc<OutboundPolicy>, hosts: Arc<Hosts>) -> reqwest::Result<reqwest::Client> {
    reqwest::Client::builder()
        .dns_resolver(GuardedResolver { policy, hosts })
        .no_proxy()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(TIMEOUT)
        .connect_timeout(TIMEOUT)
        .user_agent(concat!("Authify/", env!("CARGO_PKG_VERSION")))
        .build()
}

/// A resolved address the policy refused; travels through hyper to [`failed`].
#[derive(Debug, thiserror::Error)]
#[error("{host} {refusal}")]
struct ConnectRefused {
    host: String,
    refusal: Refusal,
}

/// Resolves names for the client and refuses the connection when any address is refused.
struct GuardedResolver {
    policy: Arc<OutboundPolicy>,
    hosts: Arc<Hosts>,
}

impl Resolve for GuardedResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let (policy, hosts) = (self.policy.clone(), self.hosts.clone());
        let host = name.as_str().to_ascii_lowercase();
        Box::pin(async move {
            let refused = |refusal| ConnectRefused {
                host: host.clone(),
                refusal,
            };
            policy.check_name(&host).map_err(refused)?;
            let addrs: Vec<SocketAddr> = match hosts.get(&host) {
                Some(ips) => ips.iter().map(|ip| SocketAddr::new(*ip, 0)).collect(),
                None => tokio::net::lookup_host((host.as_str(), 0)).await?.collect(),
            };
            // SECURITY: every address, at every new connection: one internal address among
            // public ones is enough to refuse (the connector may try any of them).
            for addr in &addrs {
                policy.check_ip(addr.ip()).map_err(refused)?;
            }
            Ok(Box::new(addrs.into_iter()) as Addrs)
        })
    }
}

/// A failed request as an [`OutboundError`]: a refusal of the resolver found in its causes,
/// otherwise the causes in one line, without the URL.
fn failed(e: reqwest::Error) -> OutboundError {
    let mut causes = Vec::new();
    let mut cause: Option<&(dyn std::error::Error + 'static)> = e.source();
    while let Some(c) = cause {
        if let Some(r) = c.downcast_ref::<ConnectRefused>() {
            return OutboundError::Refused {
                host: r.host.clone(),
                refusal: r.refusal.clone(),
            };
        }
        causes.push(c.to_string());
        cause = c.source();
    }
    let mut text = e.without_url().to_string();
    for c in causes {
        text.push_str(": ");
        text.push_str(&c);
    }
    OutboundError::Failed(text)
}

#[cfg(test)]
mod tests;
