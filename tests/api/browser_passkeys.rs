//! Passkeys in headless Chromium with a virtual authenticator (DevTools' WebAuthn domain): a
//! person registers a passkey on their account page, signs in to an app with it alone (no
//! e-mail, no password), uses it as the second step after a password, removes it and is
//! refused with it; the "Sign in with my phone" pages are shown. Every page passes axe-core
//! (WCAG 2.2 AA). Screenshots go to the screenshots directory as passkey-*.png.

use std::path::PathBuf;

use authify_testkit::{b64, repo_root, run_pyjwt};

use crate::mfa_support::jwt_claims;
use crate::passkeys::{audit_actions, spawn_localhost};

const SHOTS: [&str; 6] = [
    "passkey-account",
    "passkey-added",
    "passkey-login",
    "passkey-factor",
    "passkey-phone",
    "passkey-phone-wait",
];

#[tokio::test]
async fn a_passkey_registered_on_the_account_page_signs_in_alone_and_as_second_step_until_removed_in_chromium()
 {
    assert!(
        repo_root()
            .join("tests/browser/node_modules/axe-core")
            .exists(),
        "run `bash tests/setup.sh` first"
    );
    let app = spawn_localhost(&[]).await;
    // The app's callback need not answer: the walk sees the browser's request to it.
    let callback = "http://127.0.0.1:1/cb";
    let app_id = app.create_app("Team Wiki", &[callback]).await;
    app.create_user("ann@example.com", false).await;
    let dir = authify_testkit::screenshots_dir();
    std::fs::create_dir_all(&dir).unwrap();
    let pngs: Vec<PathBuf> = SHOTS.iter().map(|s| dir.join(format!("{s}.png"))).collect();
    for png in &pngs {
        let _ = std::fs::remove_file(png);
    }
    // WebAuthn needs a domain: the browser uses the public URL, http://localhost:<port>.
    let base = app.settings.public_url.clone();
    assert!(base.starts_with("http://localhost:"), "{base}");
    let script = repo_root().join("tests/browser/passkey-flow.mjs");
    let args = vec![
        "passkeys".to_owned(),
        base,
        dir.display().to_string(),
        b64(callback),
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
    assert!(out.status.success(), "passkey walk failed: {stderr}");
    let seen: serde_json::Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out.stdout)));
    println!("passkey walk saw: {seen}\n{stderr}");
    assert_eq!(seen["violations"], 0, "{stderr}");
    assert_eq!(seen["csp_violations"], 0, "{stderr}");
    assert_eq!(seen["console_errors"], 0, "{stderr}");
    assert_eq!(seen["resident"], true);
    assert_eq!(
        seen["recovery_codes"], 10,
        "the first factor brings recovery codes"
    );

    // The passkey alone: device-bound key, user verified, two factors in one; the token verifies
    // with our client and with PyJWT.
    let client = app.client(&app_id);
    let now = app.clock_now().timestamp();
    let alone = seen["passkey_jwt"].as_str().unwrap().to_owned();
    let claims = client.verify_at(&alone, now).await.unwrap();
    assert_eq!(claims.user.username, "ann@example.com");
    let url = format!("{callback}?jwt={alone}");
    assert_eq!(
        jwt_claims(&url)["amr"],
        serde_json::json!(["hwk", "user", "mfa"])
    );
    let (address, token, id) = (app.address.clone(), alone.clone(), app_id.clone());
    let run = tokio::task::spawn_blocking(move || run_pyjwt(&address, &id, &token))
        .await
        .unwrap();
    assert!(run.ok, "PyJWT refused the passkey token: {}", run.stderr);

    // After the password, the passkey is the second factor.
    let second = seen["factor_jwt"].as_str().unwrap().to_owned();
    client.verify_at(&second, now).await.unwrap();
    assert_eq!(
        jwt_claims(&format!("{callback}?jwt={second}"))["amr"],
        serde_json::json!(["pwd", "hwk", "user", "mfa"])
    );

    // Removed, it is refused with the one answer for unknown passkeys, and the refusal audited.
    let refused = seen["removed_message"].as_str().unwrap();
    assert!(refused.contains("not registered"), "{refused}");
    let audit = audit_actions(&app);
    assert!(
        audit
            .iter()
            .any(|(a, o)| a == "signin.passkey" && o == "failure"),
        "{audit:?}"
    );
    assert!(audit.iter().any(|(a, _)| a == "factor.add"), "{audit:?}");
    assert!(audit.iter().any(|(a, _)| a == "factor.remove"), "{audit:?}");
    assert_eq!(seen["approval_number"].as_str().unwrap().len(), 2);

    for png in &pngs {
        let bytes = std::fs::read(png).unwrap_or_else(|e| panic!("{}: {e}", png.display()));
        assert!(
            bytes.starts_with(b"\x89PNG") && bytes.len() > 5_000,
            "{} is not a PNG over 5 KB",
            png.display()
        );
    }
}
