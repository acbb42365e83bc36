//! Building and running the server: keys, state, listener, workers.

use std::net::TcpListener;

use actix_web::dev::Server;
use actix_web::{App, HttpServer, middleware, web};
use authify_core::throttle::SignInThrottle;
use std::sync::Arc;

use authify_core::mfa::MfaConfig;
use authify_core::notify::Notifier;
use authify_core::secrets::MasterKey;
use authify_core::{Clock, Db, PasswordHasher};
use authify_jwt::{Algorithm, Keyring, KeyringError};
use authify_web::{AppState, WebConfig};
use chrono::{DateTime, Utc};

use crate::keystore::{self, KeyFileError};
use crate::outbound::Outbound;
use crate::settings::{KeySource, Settings};
use crate::shared_keys::SharedKeys;

mod tasks;
use tasks::{housekeeping, metrics_server, passkey_rp};

/// Why the server did not start.
#[derive(Debug, thiserror::Error)]
pub enum StartupError {
    /// A key file or the keys directory.
    #[error("{0}")]
    KeyFile(#[from] KeyFileError),
    /// No usable key for the algorithm.
    #[error("{0}")]
    Keyring(String),
    /// The page templates (parsed on a thread of their own).
    #[error("page templates: {0}")]
    Templates(String),
    /// The database is unreachable or its migrations failed.
    #[error("{0}")]
    Database(String),
    /// Binding the listener.
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        /// The address.
        addr: String,
        /// Why.
        source: std::io::Error,
    },
}

/// Loads the keyring for `settings`. In directory mode a key for the configured algorithm is
/// generated when none exists (first start); the returned kid says so. The compatibility key pair
/// is never generated.
pub fn prepare_keyring(
    settings: &Settings,
    now: DateTime<Utc>,
) -> Result<(Keyring, Option<String>), StartupError> {
    let alg = settings.jwt_algorithm;
    let mut entries = keystore::load(&settings.keys)?;
    let mut generated = None;
    match &settings.keys {
        KeySource::Directory(dir) => {
            // The configured algorithm signs; a key of each other algorithm is kept for apps
            // registered with `--alg` (OpenID Connect ID tokens use the app's algorithm).
            let order =
                std::iter::once(alg).chain(Algorithm::ALL.into_iter().filter(|a| *a != alg));
            for wanted in order {
                if !entries.iter().any(|e| e.key.algorithm() == wanted) {
                    let entry = keystore::generate(dir, wanted, now)?;
                    if wanted == alg {
                        generated = Some(entry.kid.clone());
                    }
                    entries.push(entry);
                }
            }
        }
        KeySource::Database { .. } => {
            return Err(StartupError::Keyring(
                "keys are in the database: read them with crate::shared_keys".into(),
            ));
        }
        KeySource::Files { private, .. } => {
            if let Some(entry) = entries.first()
                && entry.key.algorithm() != alg
            {
                return Err(StartupError::Keyring(format!(
                    "{}: wrong curve: the key is on {} but AUTHIFY_JWT_ALGORITHM is {alg} (needs {})",
                    private.display(),
                    entry.key.algorithm().curve(),
                    alg.curve()
                )));
            }
        }
    }
    let keyring = Keyring::new(&entries, alg)
        .map_err(|e: KeyringError| StartupError::Keyring(e.to_string()))?;
    Ok((keyring, generated))
}

/// Connects to `settings.db_url` and applies pending migrations.
pub fn open_database(settings: &Settings) -> Result<Db, StartupError> {
    let pool = authify_store::connect(&settings.db_url, settings.db_pool_size)
        .map_err(|e| StartupError::Database(format!("AUTHIFY_DB_URL: {e}")))?;
    let db = Db::new(pool);
    let applied = db
        .run_blocking(authify_store::run_migrations)
        .map_err(|e| StartupError::Database(e.to_string()))?;
    if applied > 0 {
        tracing::info!(applied, "database migrations applied");
    }
    Ok(db)
}

/// The master key for secrets at rest: `AUTHIFY_MASTER_KEY`, else the key file, generated
/// (mode 0600) on first start. A damaged file, or a missing one while the database holds sealed
/// secrets, stops start-up: secrets sealed under a lost key are lost, so nothing is silently
/// replaced.
pub fn load_master_key(settings: &Settings, db: &Db) -> Result<MasterKey, StartupError> {
    if let Some(k) = &settings.master_key {
        return MasterKey::from_base64(&k.0)
            .map_err(|e| StartupError::Keyring(format!("AUTHIFY_MASTER_KEY: {e}")));
    }
    let path = &settings.master_key_file;
    let text = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            // SECURITY: a new key would silently orphan every sealed secret (a wrong working
            // directory, a lost volume): start only when nothing is sealed yet.
            let sealed = authify_core::mfa::sealed_secrets(db)
                .and_then(|totp| Ok(totp + authify_core::signing_keys::count_sealed(db)?))
                .map_err(|e| StartupError::Database(e.to_string()))?;
            if sealed > 0 {
                return Err(StartupError::Keyring(format!(
                    "the master key file {} is missing, but the database holds {sealed} secret(s) sealed under a master key: restore the file (or set AUTHIFY_MASTER_KEY) instead of starting with a new key",
                    path.display()
                )));
            }
            let fresh = MasterKey::generate().map_err(|e| StartupError::Keyring(e.to_string()))?;
            write_secret_file(path, &fresh).map_err(|e| {
                StartupError::Keyring(format!(
                    "cannot create the master key file {}: {e}",
                    path.display()
                ))
            })?;
            tracing::info!(path = %path.display(), "generated the master key for secrets at rest; back it up apart from the database");
            fresh
        }
        Err(e) => {
            return Err(StartupError::Keyring(format!(
                "cannot read the master key file {}: {e}",
                path.display()
            )));
        }
    };
    MasterKey::from_base64(&text).map_err(|e| {
        StartupError::Keyring(format!(
            "the master key file {} is damaged ({e}); restore it from backup",
            path.display()
        ))
    })
}

/// Creates `path` (and its directory) with `text`, readable by the owner only.
fn write_secret_file(path: &std::path::Path, text: &str) -> std::io::Result<()> {
    use std::io::Write as _;
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)?;
    }
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options.open(path)?;
    file.write_all(text.as_bytes())?;
    file.sync_all()
}

fn web_config(settings: &Settings, mfa: MfaConfig) -> WebConfig {
    let public_origin = url::Url::parse(&settings.public_url)
        .map(|u| u.origin().ascii_serialization())
        .unwrap_or_else(|_| settings.public_url.clone());
    WebConfig {
        issuer: settings.jwt_issuer.clone(),
        expiration_minutes: settings.jwt_expiration,
        secure_cookies: settings.public_url.starts_with("https://"),
        public_origin,
        public_url: settings.public_url.trim_end_matches('/').to_owned(),
        signup_enabled: settings.signup,
        org_creation: settings.org_creation,
        session_ttl_hours: settings.session_ttl,
        flow_ttl_minutes: settings.flow_ttl,
        mfa,
        trusted_proxies: settings.trusted_proxies.clone(),
        email_verification: settings.email_verification,
        magic_links: settings.magic_links,
        unverified_account_days: settings.unverified_account_days,
        flows_per_address: settings.flows_per_address,
        signup_work_bits: settings.signup_work_bits,
        flows_per_address_per_minute: settings.flows_per_address_per_minute,
        outbound: settings.outbound.clone(),
    }
}

/// A bound, not yet running server.
pub struct Application {
    port: u16,
    server: Server,
    state: web::Data<AppState>,
    /// The metrics listener's port and handle.
    metrics: Option<(u16, actix_web::dev::ServerHandle)>,
}

impl Application {
    /// Loads keys, binds `settings.bind` (port 0 picks a free port) and prepares the workers,
    /// which read the time from `clock`. Must be called inside an async runtime.
    pub fn build(settings: &Settings, clock: Arc<dyn Clock>) -> Result<Self, StartupError> {
        Self::build_with(settings, clock, Outbound::new(settings.outbound.clone()))
    }

    /// Like [`Application::build`], every request of the server's own sent through `outbound`
    /// (tests give one that answers some names without DNS).
    pub fn build_with(
        settings: &Settings,
        clock: Arc<dyn Clock>,
        outbound: Outbound,
    ) -> Result<Self, StartupError> {
        let outbound = Arc::new(outbound);
        let now = clock.now();
        // Start-up phases at debug level: what `tests/load/coldstart.py` measures, broken down.
        let started = std::time::Instant::now();
        let phase = |name: &str| {
            tracing::debug!(
                phase = name,
                ms = started.elapsed().as_secs_f64() * 1e3,
                "start-up"
            )
        };
        // Parsing the page templates is the longest step (about 25 ms for 69 KB): it runs on a
        // thread of its own while the keys and the database are opened.
        let templates = std::thread::Builder::new()
            .name("templates".into())
            .spawn(authify_web::templates::Templates::new)
            .map_err(|e| StartupError::Templates(format!("no thread to parse them: {e}")))?;
        // Key files are read first: a broken one stops start-up before the database is touched.
        let file_keys = match &settings.keys {
            KeySource::Database { .. } => None,
            _ => Some(prepare_keyring(settings, now)?),
        };
        let db = open_database(settings)?;
        phase("database");
        let hasher = PasswordHasher::new(settings.argon2, settings.hash_concurrency)
            .map_err(|e| StartupError::Database(format!("password hashing: {e}")))?;
        let master = load_master_key(settings, &db)?;
        phase("master key");
        let (keyring, shared) = match (file_keys, &settings.keys) {
            (Some((keyring, generated)), _) => {
                if let Some(kid) = &generated {
                    tracing::info!(kid = %kid, algorithm = %settings.jwt_algorithm, "generated a signing key");
                }
                (keyring, None)
            }
            (None, KeySource::Database { import }) => {
                let shared = SharedKeys::new(settings, db.clone(), master.clone())?;
                let (keyring, keys, made) = shared.prepare(import, now)?;
                for kid in made {
                    tracing::info!(kid = %kid, "signing key stored in the database");
                }
                let print = authify_core::signing_keys::fingerprint(&keys, now);
                (keyring, Some((shared, print)))
            }
            (None, _) => prepare_keyring(settings, now).map(|(k, _)| (k, None))?,
        };
        phase("keys");
        tracing::info!(kid = %keyring.signer().kid(), algorithm = %settings.jwt_algorithm, "signing key");
        let clock_for_delivery = clock.clone();
        let delivery = crate::deliver::Delivery::new(settings, outbound.clone())
            .map_err(StartupError::Keyring)?;
        phase("delivery");
        let (notifier, notices) = Notifier::channel();
        let mfa = MfaConfig {
            mode: settings.mfa,
            master,
            costs: authify_core::costs::Costs::new(
                db.clone(),
                clock.clone(),
                settings.budgets.clone(),
                notifier,
            ),
            totp_issuer: url::Url::parse(&settings.public_url)
                .ok()
                .and_then(|u| u.host_str().map(str::to_owned))
                .unwrap_or_else(|| "Authify".into()),
            sms: settings.sms_webhook.is_some(),
            passkeys: passkey_rp(settings)?,
        };
        let state = web::Data::new(
            AppState::new(
                web_config(settings, mfa),
                keyring,
                db.clone(),
                hasher,
                SignInThrottle::new(
                    db.clone(),
                    clock.clone(),
                    "signin",
                    settings.signin_attempts_per_minute,
                )
                .with_addresses(settings.signin_attempts_per_address_per_minute),
                clock,
                templates
                    .join()
                    .map_err(|_| StartupError::Templates("parsing them panicked".into()))?
                    .map_err(|e| StartupError::Templates(e.to_string()))?,
            )
            .map_err(|e| StartupError::Keyring(e.to_string()))?
            .with_key_rotation(match &shared {
                Some((keys, _)) => {
                    let keys = keys.clone();
                    Box::new(move |state: &AppState, now: DateTime<Utc>| {
                        rotate_shared_key(&keys, state, now).map_err(|e| e.to_string())
                    })
                }
                None => {
                    let settings = settings.clone();
                    Box::new(move |state: &AppState, now: DateTime<Utc>| {
                        rotate_signing_key(&settings, state, now).map_err(|e| e.to_string())
                    })
                }
            })
            .with_upstream(std::sync::Arc::new(crate::upstream::Upstream::new(
                settings.upstream.clone(),
                outbound.clone(),
            ))),
        );
        phase("state");
        let bind_err = |source| StartupError::Bind {
            addr: settings.bind.to_string(),
            source,
        };
        let listener = TcpListener::bind(settings.bind).map_err(bind_err)?;
        let port = listener.local_addr().map_err(bind_err)?.port();
        // Bound before anything starts: a taken address stops start-up with nothing running.
        let metrics_listener = match settings.metrics_bind {
            Some(addr) => Some(
                TcpListener::bind(addr).map_err(|source| StartupError::Bind {
                    addr: addr.to_string(),
                    source,
                })?,
            ),
            None => None,
        };
        // The tasks hold the state weakly: they end with the server (tests start many).
        let weak = Arc::downgrade(&state.clone().into_inner());
        tokio::spawn(housekeeping(weak.clone()));
        tokio::spawn(crate::deliver::run(
            notices,
            delivery,
            weak.clone(),
            clock_for_delivery,
        ));
        tokio::spawn(crate::deliver::backchannel_logout(weak.clone(), outbound));
        if let Some((keys, print)) = shared {
            let every = std::time::Duration::from_secs(u64::from(settings.key_refresh_seconds));
            tokio::spawn(crate::shared_keys::refresh(weak, keys, print, every));
        }
        let app_state = state.clone();
        let https = settings.public_url.starts_with("https://");
        let server = HttpServer::new(move || {
            App::new()
                .app_data(app_state.clone())
                // Forms are small; refuse big bodies before parsing them.
                .app_data(web::FormConfig::default().limit(16 * 1024))
                .wrap(middleware::from_fn(authify_web::error::error_pages))
                .wrap(authify_web::headers::security_headers(https))
                .wrap(middleware::from_fn(authify_web::headers::access_log))
                .wrap(middleware::from_fn(authify_web::headers::server_timing))
                .wrap(middleware::from_fn(authify_web::metrics::observe))
                // Outermost: every line logged for the request, errors included, names its id.
                .wrap(middleware::from_fn(authify_web::request_id::request_id))
                .configure(authify_web::configure)
        })
        .workers(settings.workers)
        .shutdown_timeout(10)
        .listen(listener)
        .map_err(bind_err)?
        .run();
        phase("listening");
        let metrics = metrics_listener.map(|l| metrics_server(l, state.clone()));
        let metrics = metrics.transpose()?;
        Ok(Application {
            port,
            server,
            state,
            metrics,
        })
    }

    /// The port of the metrics listener, when there is one.
    pub fn metrics_port(&self) -> Option<u16> {
        self.metrics.as_ref().map(|(port, _)| *port)
    }

    /// The port actually bound.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// A handle that stops the server.
    pub fn handle(&self) -> actix_web::dev::ServerHandle {
        self.server.handle()
    }

    /// The shared state (keys), e.g. to publish a newly generated key.
    pub fn state(&self) -> web::Data<AppState> {
        self.state.clone()
    }

    /// Serves until SIGINT/SIGTERM, then drains in-flight requests.
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        let result = self.server.await;
        if let Some((_, metrics)) = self.metrics {
            metrics.stop(true).await;
        }
        result
    }
}

/// Generates a key for the configured algorithm, makes it the signer and publishes it next to
/// the others. Directory mode only.
pub fn rotate_signing_key(
    settings: &Settings,
    state: &AppState,
    now: DateTime<Utc>,
) -> Result<String, StartupError> {
    let KeySource::Directory(dir) = &settings.keys else {
        return Err(StartupError::Keyring(
            "keys come from AUTHIFY_PRIVKEY_PATH; unset it to manage keys in AUTHIFY_KEYS_DIR"
                .into(),
        ));
    };
    let entry = keystore::generate(dir, settings.jwt_algorithm, now)?;
    let (keyring, _) = prepare_keyring(settings, now)?;
    state
        .replace_keyring(keyring)
        .map_err(|e| StartupError::Keyring(e.to_string()))?;
    Ok(entry.kid)
}

/// Makes a key of the configured algorithm in the database that signs at once (the console's
/// "rotate"), and publishes it here; the other instances pick it up at their next refresh.
fn rotate_shared_key(
    keys: &SharedKeys,
    state: &AppState,
    now: DateTime<Utc>,
) -> Result<String, StartupError> {
    let kid = keys.rotate(keys.algorithm(), true, now)?;
    let (keyring, _) = keys.keyring(now)?;
    state
        .replace_keyring(keyring)
        .map_err(|e| StartupError::Keyring(e.to_string()))?;
    Ok(kid)
}
