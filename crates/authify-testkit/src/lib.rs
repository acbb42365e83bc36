//! Dev-only helpers for the integration tests: a real server on a loopback port with its own
//! keys directory ([`spawn_app`]), a sample user, and runners for the independent verifiers.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use actix_web::web;
use authify_client::{AuthifyClient, ClientConfig};
use authify_domain::{Algorithm, GroupClaim, OrganizationClaim, SCOPE_USER, UserClaim};
use authify_jwt::TokenSubject;
use authify_server::settings::CONFIG_FILE_ENV;
use authify_server::{Application, Settings};
use authify_web::AppState;
use tempfile::TempDir;

/// The issuer every test server uses.
pub const ISSUER: &str = "http://authify.test";
/// An application id for tokens.
pub const APP_ID: &str = "app-under-test";

/// A running server and what tests need to talk to it.
pub struct TestApp {
    /// `http://127.0.0.1:<port>`.
    pub address: String,
    /// The validated settings it runs with.
    pub settings: Settings,
    /// Its shared state (keys).
    pub state: web::Data<AppState>,
    /// A plain HTTP client.
    pub http: reqwest::Client,
    /// The keys directory (inside [`TestApp::dir`]).
    pub keys_dir: PathBuf,
    /// Owns the temporary directory; dropped with the app.
    pub dir: TempDir,
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
    let settings = test_settings(dir.path(), vars);
    let app = Application::build(&settings, chrono::Utc::now()).expect("server starts");
    let address = format!("http://127.0.0.1:{}", app.port());
    let state = app.state();
    tokio::spawn(app.run_until_stopped());
    let keys_dir = settings
        .keys_dir()
        .map_or_else(|| dir.path().join("keys"), Path::to_path_buf);
    TestApp {
        address,
        settings,
        state,
        http: reqwest::Client::new(),
        keys_dir,
        dir,
    }
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
        ("AUTHIFY_JWT_ISSUER".into(), ISSUER.into()),
        ("AUTHIFY_LOG".into(), "warn".into()),
        (
            "AUTHIFY_KEYS_DIR".into(),
            dir.join("keys").to_str().unwrap().into(),
        ),
    ]);
    env.extend(vars.iter().map(|(k, v)| (k.to_string(), v.to_string())));
    Settings::load(&env).expect("valid test settings")
}

/// A user with one organization and one group.
pub fn sample_subject() -> TokenSubject {
    TokenSubject {
        sub: "7d0f8a1e-5b1c-4f0e-9d2a-3c4b5a6d7e8f".into(),
        user: UserClaim {
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
        authify_server::startup::rotate_signing_key(&self.settings, &self.state, chrono::Utc::now())
            .unwrap()
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

/// Output of an independent verifier run.
#[derive(Debug)]
pub struct ExternalRun {
    /// Exit status was success.
    pub ok: bool,
    /// Standard output.
    pub stdout: String,
    /// Standard error.
    pub stderr: String,
}

/// Runs `tests/interop/verify_authify.py` (PyJWT) on `token`. The venv comes from `tests/setup.sh`.
pub fn run_pyjwt(authify_url: &str, app_id: &str, token: &str) -> ExternalRun {
    let interop = repo_root().join("tests/interop");
    let python = interop.join(".venv/bin/python");
    assert!(
        python.exists(),
        "{} missing: run `bash tests/setup.sh` first",
        python.display()
    );
    run(Command::new(python)
        .arg(interop.join("verify_authify.py"))
        .args([authify_url, app_id, token]))
}

/// Runs `tests/interop/verify-authify.mjs` (node jose) on `token`. Modules come from `tests/setup.sh`.
pub fn run_jose(authify_url: &str, app_id: &str, token: &str) -> ExternalRun {
    let interop = repo_root().join("tests/interop");
    assert!(
        interop.join("node_modules/jose").exists(),
        "jose missing: run `bash tests/setup.sh` first"
    );
    run(Command::new("node")
        .arg(interop.join("verify-authify.mjs"))
        .args([authify_url, app_id, token]))
}

fn run(command: &mut Command) -> ExternalRun {
    let out = command.output().expect("interpreter runs");
    ExternalRun {
        ok: out.status.success(),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}
