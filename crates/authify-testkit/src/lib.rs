//! Dev-only helpers for the integration tests: a real server on a loopback port with its own
//! keys directory ([`spawn_app`]), a sample user, and runners for the independent verifiers.
//! [`Browser`] (in `browser.rs`) is a cookie-keeping client that fills in our forms.
#![allow(clippy::unwrap_used, clippy::expect_used)]
// The test kit starts its fixed clocks from the real time.
#![allow(clippy::disallowed_methods)]

mod api;
mod browser;
mod external;
pub mod setup;

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use actix_web::web;
use authify_client::{AuthifyClient, ClientConfig};
use authify_domain::{Algorithm, GroupClaim, OrganizationClaim, SCOPE_USER, UserClaim};
use authify_jwt::TokenSubject;
use authify_server::outbound::{Hosts, Outbound};
use authify_server::settings::CONFIG_FILE_ENV;
use authify_server::{Application, Settings};
use authify_web::AppState;
use tempfile::TempDir;

pub use api::ApiReply;
pub use browser::{Browser, b64, hidden_value, jwt_in, location};
pub use external::{ExternalRun, run_jose, run_pyjwt};

/// The issuer every test server uses.
pub const ISSUER: &str = "http://authify.test";
/// An application id for tokens.
pub const APP_ID: &str = "app-under-test";

/// A running server and what tests need to talk to it. Dropping it drops its database.
pub struct TestApp {
    /// `http://127.0.0.1:<port>`.
    pub address: String,
    /// The validated settings it runs with.
    pub settings: Settings,
    /// Its shared state (keys).
    pub state: web::Data<AppState>,
    /// The server's clock: stands still until a test moves it.
    pub clock: authify_core::FixedClock,
    /// A plain HTTP client.
    pub http: reqwest::Client,
    /// The keys directory (inside [`TestApp::dir`]).
    pub keys_dir: PathBuf,
    /// Owns the temporary directory; dropped with the app.
    pub dir: TempDir,
    /// The PostgreSQL database to drop afterwards, if the test ran on PostgreSQL.
    pg_database: Option<(String, String)>,
    /// Stops the server when the test is done: its background tasks end with it.
    server: actix_web::dev::ServerHandle,
    /// The metrics listener's port (`AUTHIFY_METRICS_BIND`).
    pub metrics_port: Option<u16>,
}

/// Environment variable with an admin URL of a PostgreSQL server (e.g.
/// `postgres://authify_test:authify_test@127.0.0.1:5432/postgres`): when set, every test gets a
/// fresh database there instead of a SQLite file.
pub const TEST_POSTGRES_URL: &str = "TEST_POSTGRES_URL";

impl Drop for TestApp {
    fn drop(&mut self) {
        // The stop command is sent now; awaiting it is not needed.
        drop(self.server.stop(false));
        if let Some((admin_url, name)) = self.pg_database.take() {
            use diesel::{Connection as _, RunQueryDsl as _};
            if let Ok(mut conn) = diesel::PgConnection::establish(&admin_url) {
                let _ = diesel::sql_query(format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                    .execute(&mut conn);
            }
        }
    }
}

/// A fresh database (a SQLite file in `dir`, or a PostgreSQL database under
/// [`TEST_POSTGRES_URL`]) for servers a test runs as separate processes; dropped with it.
pub struct FreshDatabase {
    /// Its URL.
    pub url: String,
    pg: Option<(String, String)>,
}

impl FreshDatabase {
    /// A new database for one test.
    pub fn new(dir: &Path) -> Self {
        let (url, pg) = fresh_database(dir);
        FreshDatabase { url, pg }
    }
}

impl Drop for FreshDatabase {
    fn drop(&mut self) {
        if let Some((admin_url, name)) = self.pg.take() {
            use diesel::{Connection as _, RunQueryDsl as _};
            if let Ok(mut conn) = diesel::PgConnection::establish(&admin_url) {
                let _ = diesel::sql_query(format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                    .execute(&mut conn);
            }
        }
    }
}

/// A fresh database for one test: `(db_url, postgres database to drop)`.
fn fresh_database(dir: &Path) -> (String, Option<(String, String)>) {
    let Ok(admin_url) = std::env::var(TEST_POSTGRES_URL) else {
        return (
            format!("sqlite://{}", dir.join("authify.db").display()),
            None,
        );
    };
    use diesel::{Connection as _, RunQueryDsl as _};
    let name = format!(
        "authify_test_{}",
        authify_core::random::token::<9>()
            .unwrap()
            .to_lowercase()
            .replace(['-', '_'], "x")
    );
    let mut conn =
        diesel::PgConnection::establish(&admin_url).expect("TEST_POSTGRES_URL reachable");
    diesel::sql_query(format!("CREATE DATABASE {name}"))
        .execute(&mut conn)
        .expect("create test database");
    let (base, _) = admin_url.rsplit_once('/').expect("URL ends with /database");
    (format!("{base}/{name}"), Some((admin_url, name)))
}

/// A server signing with ES512 (the default) in a fresh keys directory.
pub async fn spawn_app() -> TestApp {
    spawn_app_with(Algorithm::ES512).await
}

/// A server signing with `alg` in a fresh keys directory.
pub async fn spawn_app_with(alg: Algorithm) -> TestApp {
    let dir = tempfile::tempdir().unwrap();
    let keys_dir = dir.path().join("keys");
    spawn_app_in(
        dir,
        &[
            ("AUTHIFY_KEYS_DIR", keys_dir.to_str().unwrap()),
            ("AUTHIFY_JWT_ALGORITHM", alg.as_str()),
        ],
    )
    .await
}

/// A server with extra `AUTHIFY_*` settings, in `dir`.
pub async fn spawn_app_in(dir: TempDir, vars: &[(&str, &str)]) -> TestApp {
    spawn_app_at(dir, "127.0.0.1", vars).await
}

/// A server whose public URL names `host` (`127.0.0.1`, or `localhost` where WebAuthn needs a
/// domain), with extra `AUTHIFY_*` settings, in `dir`. It listens on 127.0.0.1.
pub async fn spawn_app_at(dir: TempDir, host: &str, vars: &[(&str, &str)]) -> TestApp {
    spawn_app_since(dir, host, vars, chrono::Utc::now()).await
}

/// Keys in the database (`AUTHIFY_KEYS_DIR` unset), extra settings `vars`, in `dir`.
pub async fn spawn_app_with_database_keys(dir: TempDir, vars: &[(&str, &str)]) -> TestApp {
    let mut all = vec![("AUTHIFY_KEYS_DIR", UNSET)];
    all.extend_from_slice(vars);
    spawn_app_in(dir, &all).await
}

/// A setting value that removes the setting (the test kit sets `AUTHIFY_KEYS_DIR` by default).
pub const UNSET: &str = "\0unset";

/// The test kit's `AUTHIFY_OUTBOUND_ALLOW`: loopback, where tests run their receivers.
pub const LOOPBACK: &str = "127.0.0.0/8, ::1";

/// Like [`spawn_app_at`], with the server's fixed clock starting at `start` (keys made at first
/// start carry that time).
pub async fn spawn_app_since(
    dir: TempDir,
    host: &str,
    vars: &[(&str, &str)],
    start: chrono::DateTime<chrono::Utc>,
) -> TestApp {
    spawn(dir, host, vars, start, Hosts::new()).await
}

/// Like [`spawn_app_in`], the server's outbound requests resolving the names of `hosts` to their
/// addresses without DNS (to point a public-looking name at a receiver on loopback). Their
/// addresses still pass the outbound policy when connecting.
pub async fn spawn_app_resolving(
    dir: TempDir,
    vars: &[(&str, &str)],
    hosts: &[(&str, std::net::IpAddr)],
) -> TestApp {
    let hosts = hosts
        .iter()
        .map(|(name, ip)| (name.to_string(), vec![*ip]))
        .collect();
    spawn(dir, "127.0.0.1", vars, chrono::Utc::now(), hosts).await
}

async fn spawn(
    dir: TempDir,
    host: &str,
    vars: &[(&str, &str)],
    start: chrono::DateTime<chrono::Utc>,
    hosts: Hosts,
) -> TestApp {
    let (db_url, pg_database) = fresh_database(dir.path());
    let mut vars: Vec<(String, String)> = vars
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    if !vars.iter().any(|(k, _)| k == "AUTHIFY_DB_URL") {
        vars.push(("AUTHIFY_DB_URL".into(), db_url));
    }
    // The public URL is the address the server will answer on, so the OpenID issuer is the URL
    // stock clients discover it at: a free port is picked first, then bound by the server. Tests
    // run side by side, so another may take the port in between: then another port is tried.
    let choose_port = !vars
        .iter()
        .any(|(k, _)| k == "AUTHIFY_PUBLIC_URL" || k == "AUTHIFY_BIND");
    let mut attempt = 0;
    let (settings, app) = loop {
        attempt += 1;
        let mut these = vars.clone();
        if choose_port {
            let port = std::net::TcpListener::bind("127.0.0.1:0")
                .and_then(|l| l.local_addr())
                .expect("a free port")
                .port();
            these.push(("AUTHIFY_BIND".into(), format!("127.0.0.1:{port}")));
            these.push(("AUTHIFY_PUBLIC_URL".into(), format!("http://{host}:{port}")));
        }
        let refs: Vec<(&str, &str)> = these
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        let settings = test_settings(dir.path(), &refs);
        let clock = authify_core::FixedClock::at(start);
        let outbound = Outbound::with_hosts(settings.outbound.clone(), hosts.clone());
        match Application::build_with(&settings, std::sync::Arc::new(clock.clone()), outbound) {
            Ok(app) => break (settings, (app, clock)),
            Err(authify_server::StartupError::Bind { .. }) if choose_port && attempt < 10 => {
                continue;
            }
            Err(e) => panic!("server starts: {e:?}"),
        }
    };
    let (app, clock) = app;
    let address = format!("http://127.0.0.1:{}", app.port());
    let metrics_port = app.metrics_port();
    let state = app.state();
    let server = app.handle();
    tokio::spawn(app.run_until_stopped());
    let keys_dir = settings
        .keys_dir()
        .map_or_else(|| dir.path().join("keys"), Path::to_path_buf);
    TestApp {
        address,
        settings,
        state,
        clock,
        http: client().build().unwrap(),
        keys_dir,
        dir,
        pg_database,
        server,
        metrics_port,
    }
}

/// An HTTP client for tests. Idle connections are dropped after a second, before the server's
/// keep-alive (5 s) closes them: a request sent on a connection the server is closing at that
/// moment fails with "IncompleteMessage" (a known race of keep-alive pools under load).
pub fn client() -> reqwest::ClientBuilder {
    reqwest::Client::builder().pool_idle_timeout(std::time::Duration::from_secs(1))
}

/// Settings as the server would load them from the environment, isolated in `dir`.
pub fn test_settings(dir: &Path, vars: &[(&str, &str)]) -> Settings {
    let config = dir.join("authify.toml");
    if !config.exists() {
        std::fs::write(&config, "").unwrap();
    }
    let mut env: HashMap<String, String> = HashMap::from([
        (CONFIG_FILE_ENV.into(), config.to_str().unwrap().into()),
        ("AUTHIFY_BIND".into(), "127.0.0.1:0".into()),
        ("AUTHIFY_WORKERS".into(), "1".into()),
        // Tests run side by side, each server with its own pool: three connections are plenty
        // and keep a shared PostgreSQL within its connection limit.
        ("AUTHIFY_DB_POOL_SIZE".into(), "3".into()),
        ("AUTHIFY_JWT_ISSUER".into(), ISSUER.into()),
        ("AUTHIFY_LOG".into(), "warn".into()),
        (
            "AUTHIFY_KEYS_DIR".into(),
            dir.join("keys").to_str().unwrap().into(),
        ),
        (
            "AUTHIFY_MASTER_KEY_FILE".into(),
            dir.join("master.key").to_str().unwrap().into(),
        ),
        (
            "AUTHIFY_MAIL_DIR".into(),
            dir.join("mail").to_str().unwrap().into(),
        ),
        // Receivers and mock providers listen on loopback over http: allowed, as a private
        // deployment would allow its own network. UNSET both to test the default policy.
        ("AUTHIFY_OUTBOUND_ALLOW".into(), LOOPBACK.into()),
        ("AUTHIFY_OUTBOUND_HTTP".into(), "on".into()),
    ]);
    env.extend(vars.iter().map(|(k, v)| (k.to_string(), v.to_string())));
    env.retain(|_, v| v != UNSET);
    let mut settings = Settings::load(&env).expect("valid test settings");
    // Keys in the database import an earlier version's `./keys`: the test's own, not the
    // working directory's.
    if let authify_server::KeySource::Database { import } = &mut settings.keys {
        *import = dir.join("keys");
    }
    settings
}

/// A user with one organization and one group.
pub fn sample_subject() -> TokenSubject {
    TokenSubject {
        sub: "7d0f8a1e-5b1c-4f0e-9d2a-3c4b5a6d7e8f".into(),
        user: UserClaim {
            email_verified: false,
            username: "ann@example.com".into(),
            uid: "7d0f8a1e-5b1c-4f0e-9d2a-3c4b5a6d7e8f".into(),
            organizations: vec![OrganizationClaim {
                name: "Acme".into(),
                oid: "o-1".into(),
                admin: true,
                memberships: vec![GroupClaim {
                    name: "ops".into(),
                    gid: "g-1".into(),
                }],
            }],
        },
        scopes: vec![SCOPE_USER.into()],
    }
}

impl TestApp {
    /// GET `path` on the server.
    pub async fn get(&self, path: &str) -> reqwest::Response {
        self.http
            .get(format!("{}{path}", self.address))
            .send()
            .await
            .unwrap()
    }

    /// A token for [`sample_subject`] and `audience`, issued now by the server's active key.
    pub fn token_for(&self, audience: &str) -> String {
        self.token_at(audience, chrono::Utc::now().timestamp())
    }

    /// A token issued at `iat` (seconds since the epoch) by the server's active key.
    pub fn token_at(&self, audience: &str, iat: i64) -> String {
        let keys = self.state.keys();
        let issuer =
            authify_jwt::TokenIssuer::new(&self.settings.jwt_issuer, self.settings.jwt_expiration);
        issuer
            .issue(
                keys.keyring.signer(),
                sample_subject(),
                audience,
                iat,
                rand_jti(),
            )
            .unwrap()
            .0
    }

    /// Generates a new signing key, as an operator would, and makes it active.
    pub fn rotate_key(&self) -> String {
        // The fixed clock stands still: a millisecond on, so the new key is the newest.
        self.clock.advance(chrono::Duration::milliseconds(1));
        self.state.rotate_key(self.state.now()).unwrap()
    }

    /// A relying-app verifier for `audience` pointed at this server.
    pub fn client(&self, audience: &str) -> AuthifyClient {
        AuthifyClient::new(ClientConfig::new(&self.address, audience)).unwrap()
    }
}

fn rand_jti() -> [u8; 16] {
    use std::sync::atomic::{AtomicU64, Ordering};
    static COUNTER: AtomicU64 = AtomicU64::new(1);
    let mut jti = [0u8; 16];
    jti[..8].copy_from_slice(&COUNTER.fetch_add(1, Ordering::Relaxed).to_be_bytes());
    jti
}

/// The repository root.
pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .unwrap()
}

/// Where the Chromium tests write their screenshots: `target/screenshots/`, so a test run leaves
/// the tracked `docs/screenshots/` alone. `tests/browser/update-screenshots.sh` copies them there
/// on purpose.
pub fn screenshots_dir() -> PathBuf {
    let dir = repo_root().join("target/screenshots");
    std::fs::create_dir_all(&dir).expect("target/screenshots can be created");
    dir
}

/// A password the sample users have.
pub const PASSWORD: &str = "correct horse battery staple";

impl TestApp {
    /// The server's current time (its fixed clock).
    pub fn clock_now(&self) -> chrono::DateTime<chrono::Utc> {
        authify_core::Clock::now(&self.clock)
    }

    /// Registers an application with options; returns its app id and secret (empty for a
    /// public app).
    pub async fn create_app_with(
        &self,
        name: &str,
        callbacks: &[&str],
        options: authify_core::apps::AppOptions,
    ) -> (String, String) {
        let callbacks: Vec<String> = callbacks.iter().map(|c| c.to_string()).collect();
        let (app, secret) = authify_core::manage::apps::create(
            self.state.db(),
            &authify_core::manage::Actor::system(),
            name,
            &callbacks,
            &options,
            &self.settings.outbound,
            self.state.now(),
        )
        .await
        .unwrap();
        (app.app_id, secret.unwrap_or_default())
    }

    /// Registers an application with `callbacks`; returns its app id.
    pub async fn create_app(&self, name: &str, callbacks: &[&str]) -> String {
        self.create_app_with(name, callbacks, authify_core::apps::AppOptions::default())
            .await
            .0
    }

    /// Creates a user with [`PASSWORD`].
    pub async fn create_user(&self, email: &str, admin: bool) -> authify_core::User {
        setup::create_user(
            self.state.db(),
            self.state.hasher(),
            email,
            None,
            PASSWORD,
            admin,
            chrono::Utc::now(),
        )
        .await
        .unwrap()
    }

    /// A browser: keeps cookies, does not follow redirects (tests look at each hop).
    pub fn browser(&self) -> Browser {
        Browser {
            base: self.address.clone(),
            http: client()
                .cookie_store(true)
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .unwrap(),
        }
    }
}
