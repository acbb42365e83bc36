//! Verify Authify tokens in a Rust app.
//!
//! ```no_run
//! # async fn demo(token: &str) -> Result<(), authify_client::ClientError> {
//! use authify_client::{AuthifyClient, ClientConfig};
//! let client = AuthifyClient::new(ClientConfig::new("https://id.example.com", "my-app-id"))?;
//! let claims = client.verify(token).await?;
//! println!("signed in: {} ({})", claims.user.username, claims.sub);
//! # Ok(()) }
//! ```
//!
//! The client fetches `/jwt/meta` and `/.well-known/jwks.json` (falling back to `/jwt/key` for
//! servers that predate JWKS), caches them, and refetches when a token names an unknown `kid`
//! (at most once per [`ClientConfig::refetch_interval`], so junk tokens cannot make it hammer the
//! server). Verification is explicit: an algorithm allow-list (EC only; `none` and HMAC cannot be
//! expressed), the issuer from the server's metadata or your configuration, your app id as the
//! audience, and `exp`/`nbf`/`iat` with a small leeway.
#![cfg_attr(test, allow(clippy::unwrap_used, clippy::expect_used))]

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

pub use authify_domain::{Algorithm, Claims, GroupClaim, OrganizationClaim, UserClaim};
pub use authify_jwt::VerifyError;
use authify_jwt::{JwkSet, KeySet, PublicKey, Validation};
use serde::Deserialize;
use tokio::sync::{Mutex, RwLock};

/// Largest key or metadata document accepted from the server.
const MAX_DOCUMENT: usize = 1024 * 1024;

/// How to reach and trust an Authify server.
#[derive(Debug, Clone)]
pub struct ClientConfig {
    /// Base URL of the Authify server, e.g. `https://id.example.com`.
    pub base_url: String,
    /// Your application's id: tokens must carry it as `aud`.
    pub audience: String,
    /// Algorithms accepted. Default: ES256, ES384, ES512.
    pub algorithms: Vec<Algorithm>,
    /// Required `iss`. Default: the `issuer` of the server's `/jwt/meta`.
    pub issuer: Option<String>,
    /// Clock skew tolerated on `exp`, `nbf` and `iat`. Default 30 s.
    pub leeway: Duration,
    /// Minimum time between refetches caused by an unknown `kid`. Default 60 s.
    pub refetch_interval: Duration,
    /// Keys are refetched when older than this. Default 1 h.
    pub max_age: Duration,
    /// Timeout of each request to the server. Default 10 s.
    pub timeout: Duration,
}

impl ClientConfig {
    /// Defaults for `base_url` and `audience`.
    pub fn new(base_url: impl Into<String>, audience: impl Into<String>) -> Self {
        ClientConfig {
            base_url: base_url.into(),
            audience: audience.into(),
            algorithms: Algorithm::ALL.to_vec(),
            issuer: None,
            leeway: Duration::from_secs(30),
            refetch_interval: Duration::from_secs(60),
            max_age: Duration::from_secs(3600),
            timeout: Duration::from_secs(10),
        }
    }
}

/// Why a token was not accepted.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    /// The token is invalid: answer 401.
    #[error("token refused: {0}")]
    Token(#[from] VerifyError),
    /// The server's keys could not be fetched: answer 503 and retry later.
    #[error("cannot fetch {url}: {reason}")]
    Fetch {
        /// What was fetched.
        url: String,
        /// Why it failed.
        reason: String,
    },
    /// The [`ClientConfig`] is unusable.
    #[error("invalid client configuration: {0}")]
    Config(String),
}

#[derive(Debug, Deserialize)]
struct Meta {
    issuer: String,
}

struct Cached {
    keys: KeySet,
    validation: Validation,
    fetched_at: Instant,
}

/// A verifier for one Authify server and one audience. Share it (it is `Send + Sync`); clone the
/// `Arc` rather than building one per request, so the key cache is shared.
pub struct AuthifyClient {
    config: ClientConfig,
    base: String,
    http: reqwest::Client,
    cache: RwLock<Option<Arc<Cached>>>,
    last_refetch: Mutex<Option<Instant>>,
    fetches: AtomicU64,
}

impl AuthifyClient {
    /// A client; nothing is fetched until the first verification.
    pub fn new(config: ClientConfig) -> Result<Self, ClientError> {
        let url = reqwest::Url::parse(&config.base_url)
            .map_err(|e| ClientError::Config(format!("base_url: {e}")))?;
        if !matches!(url.scheme(), "http" | "https") {
            return Err(ClientError::Config("base_url must be http or https".into()));
        }
        if config.audience.is_empty() {
            return Err(ClientError::Config(
                "audience must be your application id".into(),
            ));
        }
        if config.algorithms.is_empty() {
            return Err(ClientError::Config(
                "algorithms must allow at least one algorithm".into(),
            ));
        }
        let http = reqwest::Client::builder()
            .timeout(config.timeout)
            .build()
            .map_err(|e| ClientError::Config(e.to_string()))?;
        Ok(AuthifyClient {
            base: config.base_url.trim_end_matches('/').to_owned(),
            config,
            http,
            cache: RwLock::new(None),
            last_refetch: Mutex::new(None),
            fetches: AtomicU64::new(0),
        })
    }

    /// Verifies `token` now. (This crate runs inside relying apps, which have no Authify clock;
    /// `verify_at` takes the time as an input.)
    #[allow(clippy::disallowed_methods)]
    pub async fn verify(&self, token: &str) -> Result<Claims, ClientError> {
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_secs() as i64);
        self.verify_at(token, now).await
    }

    /// Verifies `token` as of `now` (seconds since the epoch).
    pub async fn verify_at(&self, token: &str, now: i64) -> Result<Claims, ClientError> {
        let cached = self.current().await?;
        match authify_jwt::verify(token, &cached.keys, &cached.validation, now) {
            Err(VerifyError::UnknownKey(kid)) => {
                let Some(fresh) = self.refetch_after(&cached).await? else {
                    return Err(VerifyError::UnknownKey(kid).into());
                };
                Ok(authify_jwt::verify(
                    token,
                    &fresh.keys,
                    &fresh.validation,
                    now,
                )?)
            }
            other => Ok(other?),
        }
    }

    /// How many times keys were fetched from the server (for metrics and tests).
    pub fn key_fetches(&self) -> u64 {
        self.fetches.load(Ordering::Relaxed)
    }

    async fn current(&self) -> Result<Arc<Cached>, ClientError> {
        if let Some(c) = self.cache.read().await.as_ref()
            && c.fetched_at.elapsed() < self.config.max_age
        {
            return Ok(Arc::clone(c));
        }
        let mut slot = self.cache.write().await;
        if let Some(c) = slot.as_ref()
            && c.fetched_at.elapsed() < self.config.max_age
        {
            return Ok(Arc::clone(c));
        }
        let fresh = Arc::new(self.fetch().await?);
        *slot = Some(Arc::clone(&fresh));
        Ok(fresh)
    }

    /// After an unknown kid: the newer keys someone else already fetched, or a refetch if the rate
    /// limit allows, or `None`.
    async fn refetch_after(&self, seen: &Arc<Cached>) -> Result<Option<Arc<Cached>>, ClientError> {
        let mut last = self.last_refetch.lock().await;
        if let Some(c) = self.cache.read().await.as_ref()
            && !Arc::ptr_eq(c, seen)
        {
            return Ok(Some(Arc::clone(c)));
        }
        if last.is_some_and(|t| t.elapsed() < self.config.refetch_interval) {
            return Ok(None);
        }
        *last = Some(Instant::now());
        let fresh = Arc::new(self.fetch().await?);
        *self.cache.write().await = Some(Arc::clone(&fresh));
        Ok(Some(fresh))
    }

    async fn fetch(&self) -> Result<Cached, ClientError> {
        self.fetches.fetch_add(1, Ordering::Relaxed);
        let meta: Meta = self.get_json("/jwt/meta").await?;
        let keys = match self.get("/.well-known/jwks.json").await? {
            Some(body) => KeySet::from_jwks(&parse::<JwkSet>(
                &self.url("/.well-known/jwks.json"),
                &body,
            )?),
            // Servers from before JWKS publish one bare PEM key.
            None => {
                #[derive(Deserialize)]
                struct KeyDoc {
                    data: String,
                }
                let doc: KeyDoc = self.get_json("/jwt/key").await?;
                let key = PublicKey::from_spki_pem(&doc.data).map_err(|e| ClientError::Fetch {
                    url: self.url("/jwt/key"),
                    reason: e.to_string(),
                })?;
                let mut set = KeySet::new();
                set.insert(None, key);
                set
            }
        };
        Ok(self.cached(keys, meta.issuer))
    }

    /// The cache entry for `keys` fetched now, validating as configured (`meta_issuer` is the
    /// server's, used when the configuration names none).
    fn cached(&self, keys: KeySet, meta_issuer: String) -> Cached {
        let validation = Validation {
            algorithms: self.config.algorithms.clone(),
            issuer: self.config.issuer.clone().unwrap_or(meta_issuer),
            audience: self.config.audience.clone(),
            leeway_secs: self.config.leeway.as_secs() as i64,
        };
        Cached {
            keys,
            validation,
            fetched_at: Instant::now(),
        }
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    async fn get_json<T: serde::de::DeserializeOwned>(&self, path: &str) -> Result<T, ClientError> {
        let url = self.url(path);
        let body = self.get(path).await?.ok_or_else(|| ClientError::Fetch {
            url: url.clone(),
            reason: "404 Not Found".into(),
        })?;
        parse(&url, &body)
    }

    /// The body of a 200, `None` for a 404, an error otherwise. Bodies are capped at 1 MiB.
    async fn get(&self, path: &str) -> Result<Option<Vec<u8>>, ClientError> {
        let url = self.url(path);
        let fail = |reason: String| ClientError::Fetch {
            url: url.clone(),
            reason,
        };
        let mut res = self
            .http
            .get(&url)
            .send()
            .await
            .map_err(|e| fail(e.to_string()))?;
        if res.status() == reqwest::StatusCode::NOT_FOUND {
            return Ok(None);
        }
        if !res.status().is_success() {
            return Err(fail(format!("status {}", res.status())));
        }
        let mut body = Vec::new();
        while let Some(chunk) = res.chunk().await.map_err(|e| fail(e.to_string()))? {
            if body.len() + chunk.len() > MAX_DOCUMENT {
                return Err(fail("response larger than 1 MiB".into()));
            }
            body.extend_from_slice(&chunk);
        }
        Ok(Some(body))
    }
}

fn parse<T: serde::de::DeserializeOwned>(url: &str, body: &[u8]) -> Result<T, ClientError> {
    serde_json::from_slice(body).map_err(|e| ClientError::Fetch {
        url: url.to_owned(),
        reason: format!("invalid JSON: {e}"),
    })
}

#[cfg(test)]
mod props;
#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_config_without_audience_or_with_a_bad_url_is_refused() {
        assert!(AuthifyClient::new(ClientConfig::new("https://id.example.com", "")).is_err());
        assert!(AuthifyClient::new(ClientConfig::new("id.example.com", "app")).is_err());
        assert!(AuthifyClient::new(ClientConfig::new("ftp://id.example.com", "app")).is_err());
        let mut none = ClientConfig::new("https://id.example.com", "app");
        none.algorithms.clear();
        assert!(AuthifyClient::new(none).is_err());
    }
}
