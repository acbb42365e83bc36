//! Stock relying-party libraries complete the code flow with PKCE from the discovery URL alone:
//! `openid-client` (Node), Authlib (Python) and the `openidconnect` crate. Each checks the ID
//! token itself (signature via the JWKS, iss, aud, exp, nonce), and the scripts also drive
//! userinfo, refresh rotation, reuse detection, revocation and introspection.

use std::process::Command;

use authify_core::apps::AppOptions;
use authify_core::oidc::ClientType;
use authify_domain::Algorithm;
use authify_testkit::{TestApp, repo_root, spawn_app};
use serde_json::Value;

const CALLBACK: &str = "http://127.0.0.1:1/callback";

async fn session_cookie(app: &TestApp) -> String {
    app.create_user("ann@example.com", false).await;
    let browser = app.browser();
    let res = browser
        .sign_in("", "ann@example.com", authify_testkit::PASSWORD)
        .await;
    res.headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|c| c.starts_with("authify_session="))
        .expect("a session cookie")
        .split(';')
        .next()
        .unwrap()
        .to_owned()
}

fn run(program: &str, args: &[&str]) -> (bool, String, String) {
    let out = Command::new(program)
        .args(args)
        .current_dir(repo_root())
        .output()
        .unwrap_or_else(|e| panic!("{program}: {e} (run tests/setup.sh)"));
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

async fn check_script(program: &'static str, script: &'static str) {
    for (alg, public) in [(Algorithm::ES256, false), (Algorithm::ES512, true)] {
        let app = spawn_app().await;
        let options = AppOptions {
            first_party: true,
            algorithm: alg,
            client_type: if public {
                ClientType::Public
            } else {
                ClientType::Confidential
            },
            ..AppOptions::default()
        };
        let (id, secret) = app.create_app_with("Stock", &[CALLBACK], options).await;
        let secret = if public { "-".to_owned() } else { secret };
        let cookie = session_cookie(&app).await;
        let args = [
            script.to_owned(),
            app.address.clone(),
            id,
            secret,
            CALLBACK.to_owned(),
            cookie,
        ];
        let (ok, stdout, stderr) = tokio::task::spawn_blocking(move || {
            let args: Vec<&str> = args.iter().map(String::as_str).collect();
            run(program, &args)
        })
        .await
        .unwrap();
        assert!(ok, "{script} {alg} public={public}: {stderr}");
        let out: Value = serde_json::from_str(stdout.trim()).unwrap();
        assert_eq!(out["email"], "ann@example.com", "{out}");
        assert_eq!(out["alg"], alg.as_str());
        assert_eq!(out["userinfo_email"], "ann@example.com");
        for check in [
            "refresh_rotated",
            "reuse_refused",
            "family_revoked",
            "introspected_active",
            "revoked_inactive",
        ] {
            assert_eq!(out[check], true, "{script} {alg}: {check} in {out}");
        }
        let claims = out["claims"].to_string();
        for c in ["sid", "amr", "auth_time", "at_hash", "nonce"] {
            assert!(claims.contains(c), "{c} in {claims}");
        }
    }
}

#[tokio::test]
async fn node_openid_client_signs_in_through_discovery_with_pkce() {
    let node_modules = repo_root().join("tests/interop/node_modules/openid-client");
    assert!(node_modules.exists(), "run tests/setup.sh");
    check_script("node", "tests/interop/oidc-openid-client.mjs").await;
}

#[tokio::test]
async fn python_authlib_signs_in_through_discovery_with_pkce() {
    let python = repo_root().join("tests/interop/.venv/bin/python");
    assert!(python.exists(), "run tests/setup.sh");
    let python: &'static str = Box::leak(python.to_string_lossy().into_owned().into_boxed_str());
    check_script(python, "tests/interop/oidc_authlib.py").await;
}
