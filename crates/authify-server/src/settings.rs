//! Settings: an optional `authify.toml`, then `AUTHIFY_*` environment variables (the original
//! Authify's names stay valid). Every value is parsed here into a typed [`Settings`]; anything
//! unknown or invalid stops start-up with one line naming the setting, the value and what is allowed.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use authify_domain::Algorithm;

mod budgets;
mod docs;
mod fields;
mod raw;
mod types;
mod upstream;
use authify_core::account::verify::EmailVerification;
pub use docs::{SETTINGS, SettingDoc};
use fields::{available_cores, invalid, number, parse_public_url, webhook};
use raw::RawSettings;
pub use types::{Redacted, SettingsError, Webhook};
pub use upstream::{ProviderKind, ProviderSettings};

/// Environment variable naming the settings file; read before the others.
pub const CONFIG_FILE_ENV: &str = "AUTHIFY_CONFIG";
/// Settings file read when [`CONFIG_FILE_ENV`] is unset (optional).
pub const DEFAULT_CONFIG_FILE: &str = "authify.toml";

/// Where signing keys come from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeySource {
    /// The database, private halves sealed under the master key (the default): every instance
    /// on the database signs with the same keys. An existing `import` directory (the keys
    /// directory of an earlier version, `./keys`) is imported on first start.
    Database {
        /// Key files imported when the database holds no key yet.
        import: PathBuf,
    },
    /// A directory of `<kid>.pem` files (`AUTHIFY_KEYS_DIR` set explicitly): one instance.
    Directory(PathBuf),
    /// The original Authify's single key pair.
    Files {
        /// `AUTHIFY_PRIVKEY_PATH`.
        private: PathBuf,
        /// `AUTHIFY_PUBKEY_PATH`, checked against the private key when given.
        public: Option<PathBuf>,
    },
}

/// Validated settings.
#[derive(Debug, Clone)]
pub struct Settings {
    /// Base URL, without a trailing slash.
    pub public_url: String,
    /// Listen address.
    pub bind: SocketAddr,
    /// Where `/metrics` is served (never on `bind`); unset: not served.
    pub metrics_bind: Option<SocketAddr>,
    /// HTTP workers.
    pub workers: usize,
    /// Signing keys.
    pub keys: KeySource,
    /// Days a signing key signs before its successor takes over; 0: no automatic rotation.
    pub key_rotation_days: u32,
    /// Hours a new key is published before it signs.
    pub key_prepublish_hours: u32,
    /// Seconds between two readings of the keys in the database by each instance.
    pub key_refresh_seconds: u32,
    /// `AUTHIFY_EMAIL_VERIFICATION`: whether addresses are verified by a mailed link.
    pub email_verification: EmailVerification,
    /// `AUTHIFY_MAGIC_LINKS`: sign-in links by e-mail (first and second factor).
    pub magic_links: bool,
    /// Signing algorithm.
    pub jwt_algorithm: Algorithm,
    /// `iss`.
    pub jwt_issuer: String,
    /// Token lifetime, minutes.
    pub jwt_expiration: u32,
    /// Log filter.
    pub log: String,
    /// `AUTHIFY_LOG_FORMAT=json`: one JSON object per line, for log shippers.
    pub log_json: bool,
    /// Database URL.
    pub db_url: String,
    /// Database connections.
    pub db_pool_size: u32,
    /// Public sign-up.
    pub signup: bool,
    /// Who may create organizations.
    pub org_creation: authify_core::manage::OrgCreation,
    /// Session lifetime, hours.
    pub session_ttl: u32,
    /// Sign-in attempt lifetime in minutes.
    pub flow_ttl: u32,
    /// argon2id parameters.
    pub argon2: authify_core::HashParams,
    /// Hashes at once.
    pub hash_concurrency: usize,
    /// Sign-in attempts per account per minute; 0 disables throttling.
    pub signin_attempts_per_minute: u32,
    /// Password checks per client address per minute.
    pub signin_attempts_per_address_per_minute: u32,
    /// Proxies whose `X-Forwarded-For` is believed.
    pub trusted_proxies: authify_web::client::TrustedProxies,
    /// Second-factor policy.
    pub mfa: authify_core::mfa::MfaMode,
    /// The master key, when given inline.
    pub master_key: Option<Redacted>,
    /// The master key file otherwise.
    pub master_key_file: PathBuf,
    /// Push approval webhook.
    pub push_webhook: Option<Webhook>,
    /// SMS gateway webhook.
    pub sms_webhook: Option<Webhook>,
    /// SMTP URL (may hold a password).
    pub smtp_url: Option<Redacted>,
    /// From of mails.
    pub mail_from: String,
    /// Where mails go without SMTP.
    pub mail_dir: PathBuf,
    /// WebAuthn relying-party id, when not the public URL's host.
    pub webauthn_rp_id: Option<String>,
    /// Upstream sign-in providers (GitHub, Google, `[[upstream]]`), in login-page order.
    pub upstream: Vec<ProviderSettings>,
    /// Budgets of what costs the operator (`AUTHIFY_BUDGET_*`).
    pub budgets: authify_core::costs::CostLimits,
    /// Days after which a sign-up whose address was never confirmed is deleted; 0: never.
    pub unverified_account_days: u32,
    /// Zero bits of the sign-up form's proof of work (0: none).
    pub signup_work_bits: u8,
    /// Live sign-in flows kept per client address (0: no cap).
    pub flows_per_address: u32,
    /// New sign-in flows per client address per minute (0: no limit).
    pub flows_per_address_per_minute: u32,
    /// `AUTHIFY_OUTBOUND_ALLOW`, `AUTHIFY_OUTBOUND_HTTP`: where the server may send requests.
    pub outbound: authify_domain::OutboundPolicy,
}

impl Settings {
    /// Reads the settings file named by `AUTHIFY_CONFIG` in `env` (default `authify.toml`,
    /// optional), then the `AUTHIFY_*` variables of `env`, and validates everything.
    pub fn load(env: &HashMap<String, String>) -> Result<Settings, SettingsError> {
        let (file, required) = match env.get(CONFIG_FILE_ENV).filter(|v| !v.is_empty()) {
            Some(path) => (PathBuf::from(path), true),
            None => (PathBuf::from(DEFAULT_CONFIG_FILE), false),
        };
        let mut vars: config::Map<String, String> = env
            .iter()
            .filter(|(k, v)| {
                k.starts_with("AUTHIFY_") && k.as_str() != CONFIG_FILE_ENV && !v.is_empty()
            })
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        // The conventional name, honoured when Authify's own is not set.
        if !vars.contains_key("AUTHIFY_DB_URL")
            && let Some(url) = env.get("DATABASE_URL").filter(|v| !v.is_empty())
        {
            vars.insert("AUTHIFY_DB_URL".into(), url.clone());
        }
        for (original, ours) in upstream::ORIGINAL_NAMES {
            if !vars.contains_key(*ours)
                && let Some(value) = env.get(*original).filter(|v| !v.is_empty())
            {
                vars.insert((*ours).into(), value.clone());
            }
        }
        let raw: RawSettings = config::Config::builder()
            .add_source(
                config::File::from(file.as_path())
                    .format(config::FileFormat::Toml)
                    .required(required),
            )
            .add_source(
                config::Environment::with_prefix("AUTHIFY")
                    .prefix_separator("_")
                    .source(Some(vars)),
            )
            .build()
            .and_then(|c| c.try_deserialize())
            .map_err(|e| {
                let message = e.to_string();
                if message.contains("unknown field") {
                    SettingsError::Unknown(message)
                } else {
                    SettingsError::Source(message)
                }
            })?;
        Self::parse(raw, available_cores())
    }

    fn parse(raw: RawSettings, cores: usize) -> Result<Settings, SettingsError> {
        let (budgets, unverified_account_days) = budgets::parse(&raw)?;
        let (flows_per_address, flows_per_address_per_minute) = budgets::flows(&raw)?;
        let signup_work_bits = budgets::work_bits(&raw)?;
        let public_url =
            parse_public_url(raw.public_url.as_deref().unwrap_or("http://localhost:3000"))?;
        let bind = raw.bind.as_deref().unwrap_or("127.0.0.1:3000");
        let bind = bind.trim().parse::<SocketAddr>().map_err(|_| {
            invalid(
                "bind",
                bind,
                "an IP address and port, e.g. 127.0.0.1:3000 or [::]:8080",
            )
        })?;
        let metrics_bind = fields::metrics_bind(raw.metrics_bind.as_deref())?;
        let workers = match raw.workers.as_deref() {
            None => cores,
            Some(w) => w
                .trim()
                .parse::<usize>()
                .ok()
                .filter(|n| (1..=1024).contains(n))
                .ok_or_else(|| invalid("workers", w, "a whole number from 1 to 1024"))?,
        };
        let jwt_algorithm = match raw.jwt_algorithm.as_deref() {
            None => Algorithm::ES512,
            Some(a) => a
                .trim()
                .to_ascii_uppercase()
                .parse::<Algorithm>()
                .map_err(|_| invalid("jwt_algorithm", a, "one of ES256, ES384, ES512"))?,
        };
        let jwt_expiration = match raw.jwt_expiration.as_deref() {
            None => 15,
            Some(m) => m
                .trim()
                .parse::<u32>()
                .ok()
                .filter(|n| (1..=1440).contains(n))
                .ok_or_else(|| {
                    invalid(
                        "jwt_expiration",
                        m,
                        "a whole number of minutes from 1 to 1440",
                    )
                })?,
        };
        let jwt_issuer = match raw.jwt_issuer {
            None => public_url.clone(),
            Some(i) if i.trim().is_empty() || i.chars().any(char::is_control) => {
                return Err(invalid(
                    "jwt_issuer",
                    &i,
                    "a non-empty string without control characters",
                ));
            }
            Some(i) => i,
        };
        let keys = match (raw.privkey_path, raw.pubkey_path) {
            (Some(private), public) => KeySource::Files {
                private: private.into(),
                public: public.map(Into::into),
            },
            (None, Some(public)) => {
                return Err(invalid(
                    "pubkey_path",
                    &public,
                    "only together with AUTHIFY_PRIVKEY_PATH",
                ));
            }
            (None, None) => match raw.keys_dir {
                Some(dir) => KeySource::Directory(dir.into()),
                None => KeySource::Database {
                    import: "./keys".into(),
                },
            },
        };
        let settings = Settings {
            public_url,
            bind,
            metrics_bind,
            workers,
            keys,
            key_rotation_days: number(raw.key_rotation_days, "key_rotation_days", 30, 0, 3650)?,
            key_prepublish_hours: number(
                raw.key_prepublish_hours,
                "key_prepublish_hours",
                24,
                0,
                720,
            )?,
            key_refresh_seconds: number(
                raw.key_refresh_seconds,
                "key_refresh_seconds",
                60,
                1,
                3600,
            )?,
            jwt_algorithm,
            jwt_issuer,
            jwt_expiration,
            log: raw.log.unwrap_or_else(|| "info".into()),
            log_json: fields::log_json(raw.log_format.as_deref())?,
            db_url: raw
                .db_url
                .unwrap_or_else(|| "sqlite://./data/authify.db".into()),
            db_pool_size: number(raw.db_pool_size, "db_pool_size", 8, 1, 256)?,
            signup: match raw.signup.as_deref().map(|v| v.trim().to_ascii_lowercase()) {
                None => true,
                Some(v) if matches!(v.as_str(), "true" | "1" | "yes" | "on") => true,
                Some(v) if matches!(v.as_str(), "false" | "0" | "no" | "off") => false,
                Some(v) => return Err(invalid("signup", &v, "true or false")),
            },
            org_creation: match raw
                .org_creation
                .as_deref()
                .map(|v| v.trim().to_ascii_lowercase())
            {
                None => authify_core::manage::OrgCreation::Admins,
                Some(v) if v == "admins" => authify_core::manage::OrgCreation::Admins,
                Some(v) if v == "users" => authify_core::manage::OrgCreation::Users,
                Some(v) => return Err(invalid("org_creation", &v, "admins or users")),
            },
            session_ttl: number(raw.session_ttl, "session_ttl", 12, 1, 720)?,
            flow_ttl: number(raw.flow_ttl, "flow_ttl", 10, 1, 60)?,
            argon2: authify_core::HashParams {
                memory_kib: number(
                    raw.argon2_memory_kib,
                    "argon2_memory_kib",
                    19_456,
                    1024,
                    1_048_576,
                )?,
                iterations: number(raw.argon2_iterations, "argon2_iterations", 2, 1, 100)?,
                parallelism: number(raw.argon2_parallelism, "argon2_parallelism", 1, 1, 16)?,
            },
            hash_concurrency: number(
                raw.hash_concurrency,
                "hash_concurrency",
                cores as u32,
                1,
                256,
            )? as usize,
            signin_attempts_per_minute: number(
                raw.signin_attempts_per_minute,
                "signin_attempts_per_minute",
                10,
                0,
                10_000,
            )?,
            signin_attempts_per_address_per_minute: number(
                raw.signin_attempts_per_address_per_minute,
                "signin_attempts_per_address_per_minute",
                300,
                0,
                100_000,
            )?,
            trusted_proxies: fields::trusted_proxies(raw.trusted_proxies.as_deref())?,
            email_verification: fields::email_verification(raw.email_verification.as_deref())?,
            magic_links: fields::on_off("magic_links", raw.magic_links.as_deref(), false)?,
            mfa: match raw.mfa.as_deref().map(|v| v.trim().to_ascii_lowercase()) {
                None => authify_core::mfa::MfaMode::Optional,
                Some(v) if v == "optional" => authify_core::mfa::MfaMode::Optional,
                Some(v) if v == "required" => authify_core::mfa::MfaMode::Required,
                Some(v) => return Err(invalid("mfa", &v, "optional or required")),
            },
            master_key: match raw.master_key {
                None => None,
                Some(k) => {
                    // SECURITY: the value is never echoed back in the error.
                    authify_core::secrets::MasterKey::from_base64(&k).map_err(|_| {
                        invalid(
                            "master_key",
                            "(redacted)",
                            "32 random bytes in base64, e.g. from `openssl rand -base64 32`",
                        )
                    })?;
                    Some(Redacted(k))
                }
            },
            master_key_file: raw
                .master_key_file
                .unwrap_or_else(|| "./data/master.key".into())
                .into(),
            push_webhook: webhook(
                raw.push_webhook_url,
                raw.push_webhook_secret,
                ("push_webhook_url", "push_webhook_secret"),
            )?,
            sms_webhook: webhook(
                raw.sms_webhook_url,
                raw.sms_webhook_secret,
                ("sms_webhook_url", "sms_webhook_secret"),
            )?,
            smtp_url: match raw.smtp_url {
                None => None,
                Some(u) => {
                    let parsed = url::Url::parse(u.trim()).ok();
                    let ok = parsed.as_ref().is_some_and(|p| {
                        matches!(p.scheme(), "smtp" | "smtps") && p.host_str().is_some()
                    });
                    // SECURITY: credentials (and the codes in the mails) never cross the network
                    // in clear: smtp:// with a user needs STARTTLS required.
                    let plain_login = parsed.as_ref().is_some_and(|p| {
                        p.scheme() == "smtp"
                            && !p.username().is_empty()
                            && !p.query_pairs().any(|(k, v)| k == "tls" && v == "required")
                    });
                    if plain_login {
                        return Err(invalid(
                            "smtp_url",
                            "(redacted)",
                            "with a user and password, smtps:// or smtp://...?tls=required (credentials are never sent in clear)",
                        ));
                    }
                    if !ok {
                        return Err(invalid(
                            "smtp_url",
                            "(redacted)",
                            "smtp://host[:port] or smtps://user:password@host[:port]",
                        ));
                    }
                    Some(Redacted(u.trim().to_owned()))
                }
            },
            mail_from: {
                let from = raw
                    .mail_from
                    .unwrap_or_else(|| "Authify <authify@localhost>".into());
                if !from.contains('@') || from.chars().any(char::is_control) {
                    return Err(invalid(
                        "mail_from",
                        &from,
                        "a mailbox, e.g. Authify <id@example.com>",
                    ));
                }
                from
            },
            mail_dir: raw.mail_dir.unwrap_or_else(|| "./data/mail".into()).into(),
            webauthn_rp_id: fields::rp_id(raw.webauthn_rp_id)?,
            upstream: upstream::parse(upstream::RawProviders {
                github_key: raw.github_key,
                github_secret: raw.github_secret,
                github_url: raw.github_url,
                github_api_url: raw.github_api_url,
                google_client_id: raw.google_client_id,
                google_client_secret: raw.google_client_secret,
                google_issuer: raw.google_issuer,
                upstream: raw.upstream.unwrap_or_default(),
            })?,
            budgets,
            unverified_account_days,
            flows_per_address,
            flows_per_address_per_minute,
            signup_work_bits,
            outbound: fields::outbound(
                raw.outbound_allow.as_deref(),
                raw.outbound_http.as_deref(),
            )?,
        };
        fields::outbound_urls(&settings)?;
        Ok(settings)
    }

    /// The keys directory, when keys come from one.
    pub fn keys_dir(&self) -> Option<&Path> {
        match &self.keys {
            KeySource::Directory(dir) => Some(dir),
            KeySource::Database { .. } => None,
            KeySource::Files { .. } => None,
        }
    }
}

#[cfg(test)]
mod tests;
