//! Shared application state. The public-key documents are rendered once per keyring (at start-up
//! and on rotation), so serving them is a pointer copy: no signing, encoding or allocation per request.

use std::sync::{Arc, RwLock};

use actix_web::http::header::HeaderValue;
use actix_web::web::Bytes;
use authify_core::authn::{Authn, AuthnSettings, Client};
use authify_core::oidc::OidcSettings;
use authify_core::oidc::token::Provider;
use authify_core::throttle::SignInThrottle;
use authify_core::{Clock, Db, PasswordHasher};
use authify_jwt::{KeyError, Keyring, TokenIssuer};
use base64::Engine as _;
use serde_json::json;
use sha2::{Digest as _, Sha256};

use crate::templates::Templates;

/// The settings the HTTP layer needs.
#[derive(Debug, Clone)]
pub struct WebConfig {
    /// `iss` of every token (`AUTHIFY_JWT_ISSUER`).
    pub issuer: String,
    /// Token lifetime in minutes (`AUTHIFY_JWT_EXPIRATION`).
    pub expiration_minutes: u32,
    /// `scheme://host[:port]` of `AUTHIFY_PUBLIC_URL`, for the CSRF origin check.
    pub public_origin: String,
    /// `AUTHIFY_PUBLIC_URL` without a trailing slash: the OpenID Connect issuer.
    pub public_url: String,
    /// Mark cookies `Secure` (the public URL is https).
    pub secure_cookies: bool,
    /// Public sign-up allowed (`AUTHIFY_SIGNUP`).
    pub signup_enabled: bool,
    /// Session lifetime in hours (`AUTHIFY_SESSION_TTL`).
    pub session_ttl_hours: u32,
    /// How long a sign-in attempt may take, in minutes (`AUTHIFY_FLOW_TTL`).
    pub flow_ttl_minutes: u32,
    /// Who may create organizations (`AUTHIFY_ORG_CREATION`).
    pub org_creation: authify_core::manage::OrgCreation,
    /// Second factors: policy, master key, the budgets in front of delivery.
    pub mfa: authify_core::mfa::MfaConfig,
    /// Proxies whose `X-Forwarded-For` is believed (`AUTHIFY_TRUSTED_PROXIES`).
    pub trusted_proxies: crate::client::TrustedProxies,
    /// `AUTHIFY_EMAIL_VERIFICATION`.
    pub email_verification: authify_core::account::verify::EmailVerification,
    /// `AUTHIFY_MAGIC_LINKS`.
    pub magic_links: bool,
    /// `AUTHIFY_UNVERIFIED_ACCOUNT_DAYS`.
    pub unverified_account_days: u32,
    /// `AUTHIFY_FLOWS_PER_ADDRESS`.
    pub flows_per_address: u32,
    /// `AUTHIFY_SIGNUP_WORK_BITS`.
    pub signup_work_bits: u8,
    /// `AUTHIFY_FLOWS_PER_ADDRESS_PER_MINUTE`.
    pub flows_per_address_per_minute: u32,
    /// Where the server may send requests (`AUTHIFY_OUTBOUND_ALLOW`, `AUTHIFY_OUTBOUND_HTTP`):
    /// URLs an administrator saves are checked against it.
    pub outbound: authify_domain::OutboundPolicy,
}

/// Generates a signing key of the configured algorithm, makes it the signer and publishes it;
/// returns its kid. Provided by the server, which owns the keys directory.
pub type KeyRotation =
    Box<dyn Fn(&AppState, chrono::DateTime<chrono::Utc>) -> Result<String, String> + Send + Sync>;

/// A response body with its entity tag; header values are built once, not per request.
#[derive(Debug, Clone)]
pub struct Document {
    /// The body.
    pub body: Bytes,
    /// Strong ETag, quoted (RFC 9110 §8.8.3).
    pub etag: String,
    /// The ETag as a header value.
    pub etag_header: HeaderValue,
    /// `Content-Type`.
    pub content_type: HeaderValue,
}

impl Document {
    fn new(body: impl Into<Bytes>, content_type: &'static str) -> Self {
        let content_type = HeaderValue::from_static(content_type);
        let body = body.into();
        let digest = Sha256::digest(&body);
        let tag = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(&digest[..16]);
        let etag = format!("\"{tag}\"");
        // base64url and quotes are always valid header bytes.
        let etag_header =
            HeaderValue::from_str(&etag).unwrap_or_else(|_| HeaderValue::from_static("\"0\""));
        Document {
            body,
            etag,
            etag_header,
            content_type,
        }
    }
}

/// One keyring and the four documents that publish it.
#[derive(Debug)]
pub struct PublishedKeys {
    /// The keys themselves, for signing and for checking our own tokens.
    pub keyring: Arc<Keyring>,
    /// `GET /jwt/key`: `{"data": PEM}` of the active key.
    pub key: Document,
    /// `GET /about/jwt/download_key`: the same PEM, raw.
    pub pem: Document,
    /// `GET /jwt/meta`.
    pub meta: Document,
    /// `GET /.well-known/jwks.json`.
    pub jwks: Document,
    /// The same keys, prepared once for verifying API tokens.
    pub verify_keys: authify_jwt::KeySet,
}

impl PublishedKeys {
    /// Renders the documents for `keyring`. Only public halves are ever encoded here.
    pub fn new(keyring: Keyring, config: &WebConfig) -> Result<Self, KeyError> {
        let pem = keyring.signer().public_key().to_spki_pem()?;
        let json_doc = |v: serde_json::Value| Document::new(v.to_string(), "application/json");
        Ok(PublishedKeys {
            key: json_doc(json!({ "data": pem })),
            meta: json_doc(json!({
                "algorithm": keyring.signer().algorithm(),
                "issuer": config.issuer,
                "expiration": config.expiration_minutes,
            })),
            jwks: Document::new(
                serde_json::to_string(&keyring.jwks())
                    .map_err(|e| KeyError::Encode(e.to_string()))?,
                "application/jwk-set+json",
            ),
            pem: Document::new(pem, "application/x-pem-file"),
            verify_keys: keyring.key_set(),
            keyring: Arc::new(keyring),
        })
    }
}

/// `POST /jwt/token` exchanges allowed per client address per minute: a client exchanges a key
/// for a token that lasts `AUTHIFY_JWT_EXPIRATION` minutes, so a few per minute is plenty.
pub const EXCHANGES_PER_MINUTE: u32 = 120;

/// Everything handlers share.
pub struct AppState {
    config: WebConfig,
    keys: RwLock<Arc<PublishedKeys>>,
    db: Db,
    hasher: PasswordHasher,
    templates: Templates,
    issuer: TokenIssuer,
    authn: Authn,
    provider: Provider,
    clock: Arc<dyn Clock>,
    cookies: crate::cookies::Names,
    key_rotation: Option<KeyRotation>,
    exchanges: SignInThrottle,
    exchange_failures: authify_core::throttle::FailureLog,
}

impl std::fmt::Debug for AppState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AppState")
            .field("config", &self.config)
            .field("db", &self.db)
            .finish_non_exhaustive()
    }
}

/// Why the state could not be built.
#[derive(Debug, thiserror::Error)]
pub enum StateError {
    /// Rendering the key documents failed.
    #[error("{0}")]
    Keys(#[from] KeyError),
}

impl AppState {
    /// State publishing `keyring`, reading and writing `db`, reading the time from `clock`.
    pub fn new(
        config: WebConfig,
        keyring: Keyring,
        db: Db,
        hasher: PasswordHasher,
        throttle: SignInThrottle,
        clock: Arc<dyn Clock>,
        templates: Templates,
    ) -> Result<Self, StateError> {
        let keys = PublishedKeys::new(keyring, &config)?;
        let issuer = TokenIssuer::new(config.issuer.clone(), config.expiration_minutes);
        let authn = Authn::new(
            db.clone(),
            hasher.clone(),
            throttle,
            issuer.clone(),
            AuthnSettings {
                flow_ttl: chrono::Duration::minutes(i64::from(config.flow_ttl_minutes)),
                session_ttl: chrono::Duration::hours(i64::from(config.session_ttl_hours)),
                signup_enabled: config.signup_enabled,
                public_url: config.public_url.clone(),
                email_verification: config.email_verification,
                magic_links: config.magic_links,
                unverified_account_days: config.unverified_account_days,
                flows_per_address: config.flows_per_address,
                signup_work_bits: config.signup_work_bits,
                flows_per_address_per_minute: config.flows_per_address_per_minute,
            },
            config.mfa.clone(),
        );
        let provider = Provider::new(
            db.clone(),
            OidcSettings {
                issuer: config.public_url.clone(),
                token_ttl: chrono::Duration::minutes(i64::from(config.expiration_minutes)),
            },
            issuer.clone(),
        );
        let exchanges =
            SignInThrottle::new(db.clone(), clock.clone(), "exchange", EXCHANGES_PER_MINUTE);
        Ok(AppState {
            issuer,
            templates,
            cookies: crate::cookies::Names::new(config.secure_cookies),
            config,
            keys: RwLock::new(Arc::new(keys)),
            db,
            hasher,
            authn,
            provider,
            clock,
            key_rotation: None,
            exchanges,
            exchange_failures: authify_core::throttle::FailureLog::default(),
        })
    }

    /// The sign-in engine.
    pub fn authn(&self) -> &Authn {
        &self.authn
    }

    /// The account side: one's own factors, passkeys and providers; mailed links.
    pub fn account(&self) -> authify_core::account::Account {
        self.authn.account()
    }

    /// The OpenID provider's token, userinfo and logout endpoints.
    pub fn provider(&self) -> &Provider {
        &self.provider
    }

    /// Now, from the state's clock: read once per request.
    pub fn now(&self) -> chrono::DateTime<chrono::Utc> {
        self.clock.now()
    }

    /// The cookie names of this deployment.
    pub fn cookies(&self) -> crate::cookies::Names {
        self.cookies
    }

    /// The request's origin, for the audit log.
    pub fn client(&self, req: &actix_web::HttpRequest) -> Client {
        Client {
            ip: crate::client_ip(req),
            user_agent: req
                .headers()
                .get(actix_web::http::header::USER_AGENT)
                .and_then(|v| v.to_str().ok())
                .map(|v| v.chars().take(200).collect()),
        }
    }

    /// The state, signing in through `upstream`'s providers too.
    pub fn with_upstream(mut self, upstream: Arc<dyn authify_core::upstream::Connector>) -> Self {
        self.authn = self.authn.with_upstream(upstream);
        self
    }

    /// Lets the console generate and activate signing keys.
    pub fn with_key_rotation(mut self, rotation: KeyRotation) -> Self {
        self.key_rotation = Some(rotation);
        self
    }

    /// Generates and activates a new signing key; returns its kid.
    pub fn rotate_key(&self, now: chrono::DateTime<chrono::Utc>) -> Result<String, String> {
        match &self.key_rotation {
            Some(rotate) => rotate(self, now),
            None => Err("this server cannot generate signing keys".into()),
        }
    }

    /// `POST /jwt/token` attempts per client address.
    pub fn exchanges(&self) -> &SignInThrottle {
        &self.exchanges
    }

    /// Failed `POST /jwt/token` exchanges, aggregated for the audit log.
    pub fn exchange_failures(&self) -> &authify_core::throttle::FailureLog {
        &self.exchange_failures
    }

    /// Sign-in attempts per account.
    pub fn throttle(&self) -> &SignInThrottle {
        self.authn.throttle()
    }

    /// The settings.
    pub fn config(&self) -> &WebConfig {
        &self.config
    }

    /// The database.
    pub fn db(&self) -> &Db {
        &self.db
    }

    /// The password hasher.
    pub fn hasher(&self) -> &PasswordHasher {
        &self.hasher
    }

    /// The page templates.
    pub fn templates(&self) -> &Templates {
        &self.templates
    }

    /// Fills in `iss` and lifetimes of tokens.
    pub fn token_issuer(&self) -> &TokenIssuer {
        &self.issuer
    }

    /// The current keys. Cheap: one uncontended read lock and a reference-count increment.
    pub fn keys(&self) -> Arc<PublishedKeys> {
        // A poisoned lock still holds a complete Arc: the swap below is a single assignment.
        Arc::clone(
            &self
                .keys
                .read()
                .unwrap_or_else(|poisoned| poisoned.into_inner()),
        )
    }

    /// Publishes a new keyring (after a key was generated). In-flight requests finish with the old one.
    pub fn replace_keyring(&self, keyring: Keyring) -> Result<(), KeyError> {
        let fresh = Arc::new(PublishedKeys::new(keyring, &self.config)?);
        *self
            .keys
            .write()
            .unwrap_or_else(|poisoned| poisoned.into_inner()) = fresh;
        Ok(())
    }
}
