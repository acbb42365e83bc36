//! A person in headless Chromium: signs up from an app's link, lands back on the app with a token,
//! sees their account, signs out. Screenshots of each page go to docs/screenshots/.

use authify_testkit::{b64, jwt_in, repo_root, spawn_app};

#[tokio::test]
async fn a_person_signs_up_in_chromium_and_returns_to_the_app_with_a_valid_token() {
    let app = spawn_app().await;
    let callback = format!("{}/app/callback", app.address);
    let app_id = app.create_app("Team Wiki", &[&callback]).await;
    let shots = repo_root().join("docs/screenshots");
    std::fs::create_dir_all(&shots).unwrap();
    let script = repo_root().join("tests/browser/signup-flow.mjs");
    assert!(
        repo_root()
            .join("tests/browser/node_modules/playwright-core")
            .exists(),
        "run `bash tests/setup.sh` first"
    );
    let (address, cb, dir) = (app.address.clone(), b64(&callback), shots.clone());
    let out = tokio::task::spawn_blocking(move || {
        std::process::Command::new("node")
            .arg(script)
            .args([&address, &cb])
            .arg(&dir)
            .output()
            .unwrap()
    })
    .await
    .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "browser flow failed: {stderr}");
    let result: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let final_url = result["final_url"].as_str().unwrap();
    assert!(
        final_url.starts_with(&format!("{callback}?jwt=")),
        "{final_url}"
    );
    assert!(final_url.ends_with("&state=browser-test"), "{final_url}");
    let claims = app
        .client(&app_id)
        .verify(&jwt_in(final_url).unwrap())
        .await
        .unwrap();
    assert_eq!(claims.user.username, result["email"].as_str().unwrap());
    for shot in [
        "signup",
        "account",
        "logout",
        "login",
        "error",
        "login-mobile",
    ] {
        let png = std::fs::read(shots.join(format!("{shot}.png"))).unwrap();
        assert!(
            png.starts_with(b"\x89PNG") && png.len() > 5_000,
            "{shot}.png"
        );
    }
    assert!(
        !stderr.contains("Content Security Policy"),
        "CSP violations: {stderr}"
    );
}
