//! A person in headless Chromium signs in to a relying app with the loopback OpenID provider
//! (`oidc-provider` from npm) from Authify's sign-in page, lands on the app's callback with a
//! token, and finds the provider linked on their account page. Authify's pages on the way pass
//! axe-core (WCAG 2.2 AA). Screenshots go to target/screenshots/.

use authify_testkit::{b64, repo_root};

use crate::upstream_support::app_with_openid;

const APP_CALLBACK: &str = "http://127.0.0.1:9/notes/callback";

#[tokio::test]
async fn a_person_signs_in_with_an_openid_provider_from_the_login_page_in_chromium() {
    let (app, op) = app_with_openid(&[]).await;
    let app_id = app.create_app("Notes", &[APP_CALLBACK]).await;
    let shots = authify_testkit::screenshots_dir();
    let pngs = ["login-providers", "account-providers"].map(|s| shots.join(format!("{s}.png")));
    for png in &pngs {
        let _ = std::fs::remove_file(png);
    }
    let script = repo_root().join("tests/browser/upstream-flow.mjs");
    let args = [
        app.address.clone(),
        b64(APP_CALLBACK),
        shots.display().to_string(),
        "grace@example.test".to_owned(),
    ];
    let out = tokio::task::spawn_blocking(move || {
        std::process::Command::new("node")
            .arg(script)
            .args(args)
            .output()
            .unwrap()
    })
    .await
    .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "browser flow failed: {stderr}");
    let seen: serde_json::Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out.stdout)));
    println!("upstream flow saw: {seen}\n{stderr}");

    assert_eq!(seen["button"], "Sign in with Loopback ID", "{seen}");
    assert!(
        seen["provider_page"]
            .as_str()
            .unwrap()
            .starts_with(&op.issuer),
        "{seen}"
    );
    let final_url = seen["final_url"].as_str().unwrap();
    assert!(final_url.starts_with(APP_CALLBACK), "{final_url}");
    let token = authify_testkit::jwt_in(final_url).unwrap();
    let claims = app.client(&app_id).verify(&token).await.unwrap();
    assert_eq!(claims.user.username, "grace@example.test");
    assert!(
        seen["account_providers"]
            .as_str()
            .unwrap()
            .contains("Loopback ID: linked (grace@example.test)"),
        "{seen}"
    );
    assert_eq!(seen["violations"], 0, "{stderr}");
    assert_eq!(
        seen["pages_checked"],
        serde_json::json!(["login-providers", "account-providers"])
    );
    for png in &pngs {
        let bytes = std::fs::read(png).unwrap_or_else(|e| panic!("{}: {e}", png.display()));
        assert!(
            bytes.starts_with(b"\x89PNG") && bytes.len() > 5_000,
            "{}",
            png.display()
        );
    }
}
