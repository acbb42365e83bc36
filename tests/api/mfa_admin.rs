//! Second factors from the administrator's side: an application that requires one (registered
//! from the command line), a user's factors reset by `authify users reset-factors` (and the mail
//! that tells them), and a failing push webhook reported on the console.

use std::process::{Command, Output};

use authify_testkit::{PASSWORD, TestApp, b64, location, spawn_app, spawn_app_in};

use crate::mfa::{CALLBACK, enrol_totp, signed_in};
use crate::mfa_push::{register_device, waiting};

/// Runs the real `authify` binary on the test server's database, in its directory.
fn authify(app: &TestApp, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_authify"))
        .args(args)
        .current_dir(app.dir.path())
        .env("AUTHIFY_CONFIG", app.dir.path().join("authify.toml"))
        .env("AUTHIFY_DB_URL", &app.settings.db_url)
        .env("AUTHIFY_KEYS_DIR", &app.keys_dir)
        .env("AUTHIFY_LOG", "warn")
        .output()
        .unwrap()
}

#[tokio::test]
async fn the_command_line_requires_a_second_factor_for_an_app_and_resets_a_users_factors() {
    let app = spawn_app().await;
    app.create_app("Wiki", &[CALLBACK]).await;
    let out = authify(
        &app,
        &[
            "apps",
            "create",
            "--name",
            "Vault",
            "--callback",
            "https://vault.example/cb",
            "--require-mfa",
            "--json",
        ],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let ann = signed_in(&app, "ann@example.com").await;
    // Without a factor: the wiki signs Ann in, the vault leads her to enrolment first.
    let b = app.browser();
    let res = b
        .sign_in(
            &format!("?callback={}", b64(CALLBACK)),
            "ann@example.com",
            PASSWORD,
        )
        .await;
    assert!(location(&res).starts_with(CALLBACK));
    let b = app.browser();
    let vault = format!("?callback={}", b64("https://vault.example/cb"));
    let res = b.sign_in(&vault, "ann@example.com", PASSWORD).await;
    assert_eq!(location(&res), "/login/enrol");
    assert!(
        b.get("/login/enrol")
            .await
            .text()
            .await
            .unwrap()
            .contains("<strong>Vault</strong> requires")
    );

    // Ann's session (password only) does not open the vault by single sign-on: step-up first.
    let res = ann.get(&format!("/login{vault}")).await;
    assert_eq!(location(&res), "/login/enrol");
    // With a factor every app asks for it; after the reset, the wiki no longer does.
    enrol_totp(&app, &ann).await;
    let res = ann.get(&format!("/login{vault}")).await;
    assert_eq!(
        location(&res),
        "/login/factor",
        "step-up to the factor Ann now has"
    );
    let res = app
        .browser()
        .sign_in(
            &format!("?callback={}", b64(CALLBACK)),
            "ann@example.com",
            PASSWORD,
        )
        .await;
    assert_eq!(location(&res), "/login/factor");
    let out = authify(
        &app,
        &["users", "reset-factors", "--email", "ann@example.com"],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("removed 1 second factor"));
    let res = app
        .browser()
        .sign_in(
            &format!("?callback={}", b64(CALLBACK)),
            "ann@example.com",
            PASSWORD,
        )
        .await;
    assert!(location(&res).starts_with(CALLBACK));
    // The command told her by mail (no SMTP: a file in its mail directory).
    let mails: Vec<String> = std::fs::read_dir(app.dir.path().join("data/mail"))
        .unwrap()
        .map(|e| std::fs::read_to_string(e.unwrap().path()).unwrap())
        .collect();
    assert!(
        mails
            .iter()
            .any(|m| m.contains("were reset") && m.contains("To: ann@example.com")),
        "{mails:?}"
    );
    let unknown = authify(
        &app,
        &["users", "reset-factors", "--email", "nobody@example.com"],
    );
    assert!(!unknown.status.success());
}

#[tokio::test]
async fn a_push_webhook_failing_three_times_in_a_row_is_reported_on_the_console() {
    let dir = tempfile::tempdir().unwrap();
    let keys = dir.path().join("keys");
    // Nothing listens on port 1: every delivery fails.
    let app = spawn_app_in(
        dir,
        &[
            ("AUTHIFY_KEYS_DIR", keys.to_str().unwrap()),
            ("AUTHIFY_PUSH_WEBHOOK_URL", "http://127.0.0.1:1/push"),
            ("AUTHIFY_PUSH_WEBHOOK_SECRET", "a-push-secret-long-enough"),
        ],
    )
    .await;
    app.create_app("Wiki", &[CALLBACK]).await;
    app.create_user("root@example.com", true).await;
    let root = app.browser();
    root.sign_in("", "root@example.com", PASSWORD).await;
    let device = signed_in(&app, "ann@example.com").await;
    register_device(&device).await;
    let page = root.get("/admin/users").await.text().await.unwrap();
    assert!(!page.contains("webhook has failed"), "nothing reported yet");
    for _ in 0..3 {
        waiting(&app, "ann@example.com").await;
    }
    let mut reported = String::new();
    for _ in 0..50 {
        reported = root.get("/admin/users").await.text().await.unwrap();
        if reported.contains("The push webhook has failed 3 times in a row") {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert!(
        reported.contains("The push webhook has failed 3 times in a row"),
        "{reported}"
    );
}

#[tokio::test]
async fn a_global_admin_resets_a_users_factors_from_the_console_only_after_confirming() {
    let app = spawn_app().await;
    app.create_app("Wiki", &[CALLBACK]).await;
    app.create_user("root@example.com", true).await;
    let root = app.browser();
    root.sign_in("", "root@example.com", PASSWORD).await;
    let ann = signed_in(&app, "ann@example.com").await;
    enrol_totp(&app, &ann).await;
    let uid = app.actor("ann@example.com").await.user.public_id;
    let action = format!("/admin/users/{uid}/factors/reset");
    let asked = root.submit("/admin/users", &action, &[]).await;
    assert_eq!(asked.status(), 200);
    assert!(
        asked
            .text()
            .await
            .unwrap()
            .contains("Reset the second factors of ann@example.com?")
    );
    let res = app
        .browser()
        .sign_in(
            &format!("?callback={}", b64(CALLBACK)),
            "ann@example.com",
            PASSWORD,
        )
        .await;
    assert_eq!(
        location(&res),
        "/login/factor",
        "nothing changed before the confirmation"
    );
    let done = root
        .submit("/admin/users", &action, &[("confirmed", "yes")])
        .await;
    assert_eq!(location(&done), "/admin/users?done=factors_reset");
    let res = app
        .browser()
        .sign_in(
            &format!("?callback={}", b64(CALLBACK)),
            "ann@example.com",
            PASSWORD,
        )
        .await;
    assert!(location(&res).starts_with(CALLBACK));
}

#[tokio::test]
async fn the_root_address_sends_browsers_to_their_account() {
    let app = spawn_app().await;
    let res = app.browser().get("/").await;
    assert_eq!(res.status(), 303);
    assert_eq!(location(&res), "/account");
    assert!(
        res.headers().get("strict-transport-security").is_none(),
        "not over http"
    );
}
