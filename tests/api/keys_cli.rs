//! The `authify` binary as an operator runs it: first start, restarts, `keys generate|list|rotate|import`
//! (key files and keys in the database), and every way a setting or key file can stop start-up.

use std::io::{BufRead as _, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use authify_domain::Algorithm;
use authify_jwt::JwkSet;
use authify_testkit::{APP_ID, repo_root, spawn_app_in};

/// `authify` in `dir` with keys in `dir/keys` (`AUTHIFY_KEYS_DIR` set: key files).
fn authify(dir: &Path) -> Command {
    let mut cmd = authify_db(dir);
    cmd.env("AUTHIFY_KEYS_DIR", "keys");
    cmd
}

/// `authify` in `dir` with the default key source: the database.
fn authify_db(dir: &Path) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_authify"));
    cmd.current_dir(dir)
        .env_clear()
        .env("AUTHIFY_BIND", "127.0.0.1:0")
        .env("AUTHIFY_WORKERS", "1");
    cmd
}

/// A running `authify serve`, killed on drop.
struct Serve {
    child: Child,
    port: u16,
    log: Vec<String>,
}

impl Drop for Serve {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Starts `authify serve` and waits for it to listen, or returns its exit code and stderr.
fn serve(mut cmd: Command) -> Result<Serve, (Option<i32>, String)> {
    let mut child = cmd
        .arg("serve")
        .stderr(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    let stderr = child.stderr.take().unwrap();
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        // Keep draining after the test stops listening, so the server never writes to a closed pipe.
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            let _ = tx.send(line);
        }
    });
    let mut log = Vec::new();
    loop {
        match rx.recv_timeout(Duration::from_secs(60)) {
            Ok(line) => {
                if let Some(port) = line
                    .split("port=")
                    .nth(1)
                    .filter(|_| line.contains("listening"))
                {
                    log.push(line.clone());
                    let port = port.trim().parse().unwrap();
                    return Ok(Serve { child, port, log });
                }
                log.push(line);
            }
            Err(_) => {
                let status = child.wait().unwrap();
                return Err((status.code(), log.join("\n")));
            }
        }
    }
}

async fn jwks(port: u16) -> JwkSet {
    reqwest::get(format!("http://127.0.0.1:{port}/.well-known/jwks.json"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

fn pem_files(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "pem"))
        .collect();
    files.sort();
    files
}

#[tokio::test]
async fn serve_generates_a_key_on_first_start_logs_its_kid_and_keeps_it_across_restarts() {
    let dir = tempfile::tempdir().unwrap();
    let first = serve(authify(dir.path())).unwrap();
    let kid = jwks(first.port)
        .await
        .keys
        .iter()
        .filter_map(|k| k.kid.clone())
        .find(|k| k.starts_with("es512-"))
        .expect("an ES512 key");
    assert!(kid.starts_with("es512-"), "ES512 is the default: {kid}");
    assert!(
        first
            .log
            .iter()
            .any(|l| l.contains("generated a signing key") && l.contains(&kid)),
        "{:?}",
        first.log
    );
    // The configured algorithm signs; one key of each other algorithm is kept for apps
    // registered with `--alg`.
    let files = pem_files(&dir.path().join("keys"));
    assert_eq!(files.len(), 3, "{files:?}");
    assert!(files.contains(&dir.path().join("keys").join(format!("{kid}.pem"))));
    for prefix in ["es256-", "es384-", "es512-"] {
        assert!(
            files
                .iter()
                .any(|f| f.file_name().unwrap().to_string_lossy().starts_with(prefix)),
            "{prefix}: {files:?}"
        );
    }
    #[cfg(unix)]
    for file in &files {
        use std::os::unix::fs::PermissionsExt as _;
        assert_eq!(
            std::fs::metadata(file).unwrap().permissions().mode() & 0o777,
            0o600
        );
    }
    drop(first);

    let second = serve(authify(dir.path())).unwrap();
    let again = jwks(second.port).await;
    assert_eq!(again.keys.len(), 3);
    assert!(
        again
            .keys
            .iter()
            .any(|k| k.kid.as_deref() == Some(kid.as_str()))
    );
    assert!(
        !second.log.iter().any(|l| l.contains("generated")),
        "{:?}",
        second.log
    );
    assert_eq!(pem_files(&dir.path().join("keys")).len(), 3);
}

#[test]
fn keys_generate_adds_a_private_file_named_by_its_kid_and_list_shows_which_is_active() {
    let dir = tempfile::tempdir().unwrap();
    let run = |args: &[&str]| {
        let out = authify(dir.path()).args(args).output().unwrap();
        assert!(
            out.status.success(),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    };
    let es256 = run(&["keys", "generate", "--alg", "ES256"])
        .trim()
        .to_owned();
    let es512 = run(&["keys", "generate"]).trim().to_owned();
    assert!(
        es256.starts_with("es256-") && es512.starts_with("es512-"),
        "{es256} {es512}"
    );
    assert!(
        dir.path()
            .join("keys")
            .join(format!("{es256}.pem"))
            .is_file()
    );

    let table = run(&["keys", "list"]);
    let header = table.lines().next().unwrap();
    for column in ["KID", "ALGORITHM", "CREATED", "ACTIVE"] {
        assert!(header.contains(column), "{table}");
    }
    let row = |kid: &str| {
        table
            .lines()
            .find(|l| l.starts_with(kid))
            .unwrap()
            .to_owned()
    };
    assert!(
        row(&es512).contains("ES512") && row(&es512).trim_end().ends_with("yes"),
        "{table}"
    );
    assert!(
        row(&es256).contains("ES256") && row(&es256).trim_end().ends_with("no"),
        "{table}"
    );

    let json: serde_json::Value = serde_json::from_str(&run(&["keys", "list", "--json"])).unwrap();
    let active: Vec<_> = json
        .as_array()
        .unwrap()
        .iter()
        .filter(|k| k["active"] == true)
        .collect();
    assert_eq!(active.len(), 1);
    assert_eq!(active[0]["kid"], es512.as_str());
    assert!(active[0]["created"].as_str().unwrap().ends_with('Z'));

    let out = authify(dir.path())
        .args(["keys", "generate", "--alg", "HS256"])
        .output()
        .unwrap();
    assert!(!out.status.success());
}

#[test]
fn an_invalid_algorithm_stops_start_up_with_one_line_naming_the_setting_and_the_allowed_values() {
    let dir = tempfile::tempdir().unwrap();
    let mut cmd = authify(dir.path());
    cmd.env("AUTHIFY_JWT_ALGORITHM", "HS256");
    let (code, stderr) = serve(cmd).err().expect("must not start");
    assert_eq!(code, Some(2));
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    for needle in ["AUTHIFY_JWT_ALGORITHM", "HS256", "ES256", "ES384", "ES512"] {
        assert!(stderr.contains(needle), "{stderr}");
    }
    assert!(
        !dir.path().join("keys").exists(),
        "nothing may be generated for a bad setting"
    );
}

#[test]
fn an_unknown_or_invalid_setting_stops_start_up() {
    for (var, value, needle) in [
        ("AUTHIFY_JWT_ALGORITM", "ES256", "jwt_algoritm"),
        ("AUTHIFY_JWT_EXPIRATION", "soon", "AUTHIFY_JWT_EXPIRATION"),
        ("AUTHIFY_LOG", "info,[", "AUTHIFY_LOG"),
    ] {
        let dir = tempfile::tempdir().unwrap();
        let mut cmd = authify(dir.path());
        cmd.env(var, value);
        let (code, stderr) = serve(cmd).err().expect("must not start");
        assert_eq!(code, Some(2), "{var}: {stderr}");
        assert!(stderr.contains(needle), "{var}: {stderr}");
    }
}

#[test]
fn a_corrupt_key_file_stops_start_up_naming_the_file_and_is_left_untouched() {
    let dir = tempfile::tempdir().unwrap();
    let keys = dir.path().join("keys");
    std::fs::create_dir(&keys).unwrap();
    let broken = keys.join("es512-20260101T000000000Z-broken00.pem");
    let garbage = "-----BEGIN PRIVATE KEY-----\nTm90IGEga2V5\n-----END PRIVATE KEY-----\n";
    std::fs::write(&broken, garbage).unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        std::fs::set_permissions(&broken, std::fs::Permissions::from_mode(0o600)).unwrap();
    }
    let (code, stderr) = serve(authify(dir.path())).err().expect("must not start");
    assert_eq!(code, Some(1));
    assert!(
        stderr.contains("keys/es512-20260101T000000000Z-broken00.pem: the key file is damaged"),
        "{stderr}"
    );
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert_eq!(std::fs::read_to_string(&broken).unwrap(), garbage);
    assert_eq!(pem_files(&keys), std::slice::from_ref(&broken));

    // A truncated key (the copy stopped half-way) is named and called damaged the same way.
    let truncated = "-----BEGIN PRIVATE KEY-----\nMIHuAgEAMBAGByqGSM49AgEGBSuBBAAjBIHWMIHTAgEBBEI";
    std::fs::write(&broken, truncated).unwrap();
    let (_, stderr) = serve(authify(dir.path())).err().expect("must not start");
    assert!(
        stderr.contains("broken00.pem: the key file is damaged"),
        "{stderr}"
    );
}

/// The original Authify's key pair, made with `openssl ecparam -genkey` (SEC1), copied with mode 0600.
fn original_key_pair(dir: &Path) -> (PathBuf, PathBuf) {
    let source = repo_root().join("keys/test");
    let private = dir.join("private.pem");
    let public = dir.join("public.pem");
    std::fs::copy(
        source.join("TEST-ONLY-original-authify-private.pem"),
        &private,
    )
    .unwrap();
    std::fs::copy(
        source.join("TEST-ONLY-original-authify-public.pem"),
        &public,
    )
    .unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        std::fs::set_permissions(&private, std::fs::Permissions::from_mode(0o600)).unwrap();
    }
    (private, public)
}

#[test]
fn a_key_on_the_wrong_curve_for_the_algorithm_stops_start_up() {
    let dir = tempfile::tempdir().unwrap();
    let (private, public) = original_key_pair(dir.path());
    let mut cmd = authify(dir.path());
    cmd.env("AUTHIFY_PRIVKEY_PATH", &private)
        .env("AUTHIFY_PUBKEY_PATH", &public)
        .env("AUTHIFY_JWT_ALGORITHM", "ES256");
    let (code, stderr) = serve(cmd).err().expect("must not start");
    assert_eq!(code, Some(1));
    assert!(
        stderr.contains("wrong curve") && stderr.contains(private.to_str().unwrap()),
        "{stderr}"
    );
}

#[tokio::test]
async fn the_original_authify_key_pair_is_served_and_signs_when_configured() {
    let dir = tempfile::tempdir().unwrap();
    let (private, public) = original_key_pair(dir.path());
    let app = spawn_app_in(
        dir,
        &[
            ("AUTHIFY_PRIVKEY_PATH", private.to_str().unwrap()),
            ("AUTHIFY_PUBKEY_PATH", public.to_str().unwrap()),
        ],
    )
    .await;
    let served: serde_json::Value = app.get("/jwt/key").await.json().await.unwrap();
    let expected =
        authify_jwt::PublicKey::from_spki_pem(&std::fs::read_to_string(&public).unwrap()).unwrap();
    let actual = authify_jwt::PublicKey::from_spki_pem(served["data"].as_str().unwrap()).unwrap();
    assert_eq!(actual, expected);
    assert_eq!(actual.algorithm(), Algorithm::ES512);
    let claims = app
        .client(APP_ID)
        .verify(&app.token_for(APP_ID))
        .await
        .unwrap();
    assert_eq!(claims.aud, APP_ID);
    assert!(
        !app.keys_dir.exists(),
        "compatibility mode must not generate keys"
    );
}

fn json_list(dir: &Path) -> Vec<serde_json::Value> {
    let out = authify_db(dir)
        .args(["keys", "list", "--json"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

#[tokio::test]
async fn by_default_keys_live_in_the_database_survive_restarts_and_rotate_from_the_command_line() {
    let dir = tempfile::tempdir().unwrap();
    let first = serve(authify_db(dir.path())).unwrap();
    let kid = jwks(first.port)
        .await
        .keys
        .iter()
        .filter_map(|k| k.kid.clone())
        .find(|k| k.starts_with("es512-"))
        .expect("an ES512 key");
    assert!(
        first
            .log
            .iter()
            .any(|l| l.contains("signing key stored in the database") && l.contains(&kid)),
        "{:?}",
        first.log
    );
    assert!(!dir.path().join("keys").exists(), "no key file is written");
    assert!(dir.path().join("data/master.key").is_file());
    drop(first);
    let second = serve(authify_db(dir.path())).unwrap();
    assert!(
        jwks(second.port)
            .await
            .keys
            .iter()
            .any(|k| k.kid.as_deref() == Some(kid.as_str())),
        "the same key after a restart"
    );
    drop(second);

    // `keys rotate` pre-publishes: listed, not active; `--now` signs at once.
    let out = authify_db(dir.path())
        .args(["keys", "rotate"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let pending = String::from_utf8(out.stdout).unwrap().trim().to_owned();
    let list = json_list(dir.path());
    let row = |k: &str| list.iter().find(|r| r["kid"] == k).cloned().unwrap();
    assert_eq!(row(&pending)["active"], false);
    assert_eq!(row(&kid)["active"], true);
    assert!(row(&pending)["signs_from"].as_str() > row(&pending)["created"].as_str());
    let out = authify_db(dir.path())
        .args(["keys", "rotate", "--now"])
        .output()
        .unwrap();
    let now_kid = String::from_utf8(out.stdout).unwrap().trim().to_owned();
    let list = json_list(dir.path());
    let active: Vec<_> = list.iter().filter(|r| r["active"] == true).collect();
    assert_eq!(active.len(), 1);
    assert_eq!(active[0]["kid"], now_kid.as_str());
    assert_eq!(list.len(), 5, "three first keys and two more: {list:?}");

    // Key files import by hand; a file already imported is skipped; a missing directory is named.
    let old = authify_server::keystore::generate(
        &dir.path().join("old"),
        Algorithm::ES384,
        chrono::Utc::now(),
    )
    .unwrap();
    for expected in [old.kid.as_str(), ""] {
        let out = authify_db(dir.path())
            .args(["keys", "import", "--from", "old"])
            .output()
            .unwrap();
        assert!(out.status.success());
        assert_eq!(String::from_utf8(out.stdout).unwrap().trim(), expected);
    }
    let out = authify_db(dir.path())
        .args(["keys", "import", "--from", "nowhere"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("nowhere: no such directory"));
}

#[test]
fn a_damaged_keys_directory_to_import_stops_the_first_start_naming_the_file() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("keys")).unwrap();
    let broken = dir
        .path()
        .join("keys/es512-20260101T000000000Z-broken00.pem");
    std::fs::write(
        &broken,
        "-----BEGIN PRIVATE KEY-----\nnot a key\n-----END PRIVATE KEY-----\n",
    )
    .unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        std::fs::set_permissions(&broken, std::fs::Permissions::from_mode(0o600)).unwrap();
    }
    let (code, stderr) = serve(authify_db(dir.path())).err().expect("must not start");
    assert_eq!(code, Some(1));
    assert!(
        stderr.contains("broken00.pem") && stderr.contains("damaged"),
        "{stderr}"
    );
}
