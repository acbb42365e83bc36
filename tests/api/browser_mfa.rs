//! Second factors in headless Chromium: a person sets up an authenticator app from the QR page of
//! their account (the code computed in the browser script from the URI the page shows, for the
//! server's fixed clock), keeps the recovery codes, and then signs in to an app with a code;
//! another makes a browser an approver device and signs in elsewhere by approving the number
//! shown. A member of an organization that requires a second factor is led through setting one
//! up inside the sign-in, and on a server with an SMS gateway a person adds a phone from their
//! account page. Every new page passes axe-core (WCAG 2.2 AA). Screenshots go to
//! docs/screenshots/mfa-*.png.

use std::path::PathBuf;

use authify_testkit::{b64, repo_root, spawn_app, spawn_app_in};
use chrono::Duration;

use crate::mfa_support::{SmsReceiver, jwt_claims};

const SHOTS: [&str; 6] = [
    "mfa-totp-setup",
    "mfa-recovery-codes",
    "mfa-factor-step",
    "mfa-approvals",
    "mfa-approval-wait",
    "mfa-approval-request",
];

const POLICY_SHOTS: [&str; 4] = [
    "mfa-enrol-required",
    "mfa-enrol-recovery-codes",
    "mfa-account-section",
    "mfa-phone-confirm",
];

const SMS_SECRET: &str = "a-webhook-secret-of-some-length";

/// The screenshots directory and the paths of `shots` in it, with any previous run's removed (the
/// checks at the end then see this run's screenshots).
fn fresh_shots(shots: &[&str]) -> (String, Vec<PathBuf>) {
    let dir = authify_testkit::screenshots_dir();
    std::fs::create_dir_all(&dir).unwrap();
    let pngs: Vec<PathBuf> = shots
        .iter()
        .map(|shot| dir.join(format!("{shot}.png")))
        .collect();
    for png in &pngs {
        let _ = std::fs::remove_file(png);
    }
    (dir.display().to_string(), pngs)
}

/// Each of `pngs` is a PNG of some size.
fn assert_pngs(pngs: &[PathBuf]) {
    for png in pngs {
        let bytes = std::fs::read(png).unwrap_or_else(|e| panic!("{}: {e}", png.display()));
        assert!(
            bytes.starts_with(b"\x89PNG") && bytes.len() > 5_000,
            "{} is not a PNG over 5 KB",
            png.display()
        );
    }
}

/// Runs `tests/browser/mfa-flow.mjs` with `args` off the async threads; returns what it saw.
async fn walk(args: Vec<String>) -> serde_json::Value {
    assert!(
        repo_root()
            .join("tests/browser/node_modules/axe-core")
            .exists(),
        "run `bash tests/setup.sh` first"
    );
    let script = repo_root().join("tests/browser/mfa-flow.mjs");
    let mode = args[0].clone();
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
    assert!(
        out.status.success(),
        "browser walk ({mode}) failed: {stderr}"
    );
    let seen: serde_json::Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out.stdout)));
    // Shown with --nocapture or when an assertion below fails.
    println!("mfa flow ({mode}) saw: {seen}\n{stderr}");
    assert_eq!(seen["violations"], 0, "{stderr}");
    assert_eq!(seen["csp_violations"], 0, "{stderr}");
    assert_eq!(seen["console_errors"], 0, "{stderr}");
    seen
}

#[tokio::test]
async fn a_user_sets_up_an_authenticator_app_from_the_qr_page_and_signs_in_with_its_code_in_chromium()
 {
    let app = spawn_app().await;
    let callback = format!("{}/app/callback", app.address);
    let app_id = app.create_app("Team Wiki", &[&callback]).await;
    app.create_user("ann@example.com", false).await;
    app.create_user("bob@example.com", false).await;
    let (dir, pngs) = fresh_shots(&SHOTS);

    // Ann sets up the app at the server's time.
    let enrolled = walk(vec![
        "enrol".into(),
        app.address.clone(),
        dir.clone(),
        app.clock_now().timestamp().to_string(),
    ])
    .await;
    assert_eq!(enrolled["setup_heading"], "Set up an authenticator app");
    assert!(enrolled["qr_width"].as_u64().unwrap() > 0, "{enrolled}");
    assert_eq!(enrolled["qr_type"], "image/svg+xml");
    assert_eq!(
        enrolled["uri_hidden_at_first"], true,
        "the URI waits behind its summary"
    );
    let uri = enrolled["uri"].as_str().unwrap().to_owned();
    assert!(uri.starts_with("otpauth://totp/"), "{uri}");
    assert!(uri.contains("ann%40example.com") || uri.contains("ann@example.com"));
    assert_eq!(enrolled["done_heading"], "Your authenticator app is set up");
    let codes: Vec<&str> = enrolled["recovery_codes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c.as_str().unwrap())
        .collect();
    assert_eq!(codes.len(), 10, "{codes:?}");
    let mut distinct = codes.clone();
    distinct.sort_unstable();
    distinct.dedup();
    assert_eq!(distinct.len(), 10, "{codes:?}");
    assert!(codes.iter().all(|c| c.len() >= 8), "{codes:?}");
    assert_eq!(enrolled["factors_listed"], 1, "{enrolled}");
    assert_eq!(enrolled["setup_link_left"], 0, "{enrolled}");

    // A time step is accepted once per user: the sign-in uses the next one.
    app.clock.advance(Duration::seconds(30));
    let signed = walk(vec![
        "sign-in".into(),
        app.address.clone(),
        dir,
        app.clock_now().timestamp().to_string(),
        b64(&callback),
        uri,
    ])
    .await;
    assert_eq!(signed["factor_heading"], "Two-step verification");
    assert!(
        signed["other_ways"]
            .as_array()
            .unwrap()
            .contains(&serde_json::json!("?method=recovery")),
        "a recovery code is offered as another way: {signed}"
    );
    assert_ne!(
        signed["code"], enrolled["code"],
        "the next step has another code"
    );

    let final_url = signed["final_url"].as_str().unwrap();
    assert!(
        final_url.starts_with(&format!("{callback}?jwt=")),
        "{final_url}"
    );
    let client = app.client(&app_id);
    let now = app.clock_now().timestamp();
    let token = authify_testkit::jwt_in(final_url).unwrap();
    let claims = client.verify_at(&token, now).await.unwrap();
    assert_eq!(claims.user.username, "ann@example.com");
    assert_eq!(
        jwt_claims(final_url)["amr"],
        serde_json::json!(["pwd", "otp", "mfa"])
    );

    // Bob's approver device, his first factor, came with recovery codes; the number shown while
    // waiting was among those offered on the device, and the waiting page went on.
    assert_eq!(
        signed["device_heading"],
        "This browser now approves your sign-ins"
    );
    assert_eq!(signed["device_recovery_codes"], 10, "{signed}");
    let number = signed["approval_number"].as_str().unwrap();
    assert_eq!(number.len(), 2, "{signed}");
    assert_eq!(signed["approval_choices"].as_array().unwrap().len(), 3);
    let push_url = signed["push_final_url"].as_str().unwrap();
    assert!(
        push_url.starts_with(&format!("{callback}?jwt=")),
        "{push_url}"
    );
    let token = authify_testkit::jwt_in(push_url).unwrap();
    let claims = client.verify_at(&token, now).await.unwrap();
    assert_eq!(claims.user.username, "bob@example.com");
    assert_eq!(
        jwt_claims(push_url)["amr"],
        serde_json::json!(["pwd", "swk", "mfa"])
    );

    assert_pngs(&pngs);
}

#[tokio::test]
async fn a_member_sets_up_a_required_factor_inside_the_sign_in_and_a_user_adds_a_phone_in_chromium()
{
    // A server with an SMS gateway (the receiver checks each delivery's signature).
    let sms = SmsReceiver::start(SMS_SECRET).await;
    let data = tempfile::tempdir().unwrap();
    let keys = data.path().join("keys");
    let app = spawn_app_in(
        data,
        &[
            ("AUTHIFY_KEYS_DIR", keys.to_str().unwrap()),
            ("AUTHIFY_SMS_WEBHOOK_URL", &sms.url()),
            ("AUTHIFY_SMS_WEBHOOK_SECRET", SMS_SECRET),
        ],
    )
    .await;
    let callback = format!("{}/app/callback", app.address);
    let app_id = app.create_app("Team Wiki", &[&callback]).await;
    app.create_user("root@example.com", true).await;
    let carol = app.create_user("carol@example.com", false).await;
    app.create_user("dan@example.com", false).await;

    // Carol's organization requires a second factor (set through the API, as its admin would).
    let token = app.api_token("root@example.com", false).await;
    let org = app
        .call(
            Some(&token),
            "POST",
            "/api/v1/organizations",
            Some(serde_json::json!({"name": "Acme"})),
        )
        .await;
    let oid = org.body["oid"].as_str().unwrap().to_owned();
    let added = app
        .call(
            Some(&token),
            "POST",
            &format!("/api/v1/organizations/{oid}/members"),
            Some(serde_json::json!({"email": carol.email})),
        )
        .await;
    assert!(added.status < 300, "{:?}", added.body);
    let set = app
        .call(
            Some(&token),
            "PUT",
            &format!("/api/v1/organizations/{oid}/mfa"),
            Some(serde_json::json!({"required": true})),
        )
        .await;
    assert_eq!(set.status, 200, "{:?}", set.body);
    let (dir, pngs) = fresh_shots(&POLICY_SHOTS);

    // Carol, who has no factor, signs in to the app and sets one up on the way.
    let enrolled = walk(vec![
        "required".into(),
        app.address.clone(),
        dir.clone(),
        app.clock_now().timestamp().to_string(),
        b64(&callback),
    ])
    .await;
    assert_eq!(enrolled["enrol_heading"], "Set up an authenticator app");
    let why = enrolled["enrol_why"].as_str().unwrap();
    assert!(why.contains("Your organization requires"), "{why}");
    assert_eq!(
        enrolled["enrol_back_link"], "/login",
        "inside the sign-in the way out starts again, not the account page"
    );
    let uri = enrolled["uri"].as_str().unwrap();
    assert!(uri.starts_with("otpauth://totp/"), "{uri}");
    assert!(uri.contains("carol%40example.com") || uri.contains("carol@example.com"));
    assert_eq!(enrolled["codes_heading"], "Two-step verification is on");
    assert_eq!(enrolled["recovery_codes"], 10, "{enrolled}");
    let final_url = enrolled["final_url"].as_str().unwrap();
    assert!(
        final_url.starts_with(&format!("{callback}?jwt=")),
        "{final_url}"
    );
    let token = authify_testkit::jwt_in(final_url).unwrap();
    let claims = app
        .client(&app_id)
        .verify_at(&token, app.clock_now().timestamp())
        .await
        .unwrap();
    assert_eq!(claims.user.username, "carol@example.com");
    assert_eq!(
        jwt_claims(final_url)["amr"],
        serde_json::json!(["pwd", "otp", "mfa"])
    );

    // Dan adds a phone from his account page: a code goes to it through the gateway.
    let phone = walk(vec!["phone".into(), app.address.clone(), dir]).await;
    assert_eq!(phone["phone_form_heading"], "Codes by text message");
    assert_eq!(phone["confirm_heading"], "Confirm your phone");
    assert_eq!(
        phone["destination"], "+44••••••••58",
        "the number is masked"
    );
    assert_eq!(phone["code_label"], "Code from the text message");
    let sent = sms.next().await;
    assert_eq!(sent.to, "+442079460958");
    assert_eq!(sms.bad_signatures(), 0);

    assert_pngs(&pngs);
}
