//! A person in headless Chromium signs in to an OpenID Connect app that is not first-party,
//! allows it on the consent page and lands back on the app with a code; then their account page
//! shows where they are signed in and the apps they allowed. Every page on the way passes axe-core
//! (WCAG 2.2 AA). Screenshots go to docs/screenshots/.

use authify_testkit::{repo_root, spawn_app};

const REDIRECT_URI: &str = "http://127.0.0.1:1/cb";

#[tokio::test]
async fn a_person_consents_in_chromium_and_the_new_pages_pass_axe() {
    let app = spawn_app().await;
    app.create_user("ann@example.com", false).await;
    let (client_id, _secret) = app
        .create_app_with(
            "Team Wiki",
            &[REDIRECT_URI],
            authify_core::apps::AppOptions::default(),
        )
        .await;
    let authorize = format!(
        "{}/oauth/authorize?response_type=code&client_id={client_id}\
         &redirect_uri=http%3A%2F%2F127.0.0.1%3A1%2Fcb&scope=openid+profile+email\
         &state=s1&nonce=n1",
        app.address
    );
    let shots = authify_testkit::screenshots_dir();
    std::fs::create_dir_all(&shots).unwrap();
    let pngs = ["consent", "account-sessions"].map(|shot| shots.join(format!("{shot}.png")));
    // The checks at the end then see this run's screenshots, not a previous run's.
    for png in &pngs {
        let _ = std::fs::remove_file(png);
    }

    assert!(
        repo_root()
            .join("tests/browser/node_modules/axe-core")
            .exists(),
        "run `bash tests/setup.sh` first"
    );
    let script = repo_root().join("tests/browser/oidc-flow.mjs");
    let args = [app.address.clone(), authorize, shots.display().to_string()];
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
    // Shown with --nocapture or when an assertion below fails.
    println!("oidc flow saw: {seen}\n{stderr}");

    let final_url = seen["final_url"].as_str().unwrap();
    assert!(
        final_url.starts_with(&format!("{REDIRECT_URI}?")),
        "{final_url}"
    );
    assert!(final_url.contains("code="), "{final_url}");
    assert!(final_url.contains("state=s1"), "{final_url}");
    assert_eq!(seen["violations"], 0, "{stderr}");
    assert_eq!(seen["consent_heading"], "Allow Team Wiki?", "{seen}");
    assert_eq!(
        seen["apps_allowed"],
        serde_json::json!(["Team Wiki"]),
        "{seen}"
    );
    assert_eq!(seen["csp_violations"], 0, "{stderr}");
    assert_eq!(seen["console_errors"], 0, "{stderr}");

    for png in &pngs {
        let bytes = std::fs::read(png).unwrap_or_else(|e| panic!("{}: {e}", png.display()));
        assert!(
            bytes.starts_with(b"\x89PNG") && bytes.len() > 5_000,
            "{} is not a PNG over 5 KB",
            png.display()
        );
    }
}
