//! Second factors through the real server: an authenticator app set up from the URI Authify
//! shows and driven by an independent implementation (pyotp), codes by SMS through a loopback
//! webhook receiver that checks the signature, codes by e-mail through a loopback SMTP server,
//! recovery codes, the throttle and the policy that makes a member enrol. The server's clock is
//! fixed and moved by the tests, never slept on.

use std::process::Command;

use authify_testkit::{
    PASSWORD, TestApp, b64, hidden_value, location, repo_root, spawn_app, spawn_app_in,
};
use chrono::Duration;

use crate::mfa_support::{SmsReceiver, SmtpReceiver, jwt_claims, page_values, text_between};

pub(crate) const CALLBACK: &str = "https://wiki.example/cb";

/// The TOTP code of `uri` at `at`, from pyotp.
pub(crate) fn pyotp(uri: &str, at: i64) -> String {
    let interop = repo_root().join("tests/interop");
    let out = Command::new(interop.join(".venv/bin/python"))
        .arg(interop.join("totp.py"))
        .args([uri, &at.to_string()])
        .output()
        .expect("the venv from tests/setup.sh");
    assert!(
        out.status.success(),
        "pyotp refused the URI: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap().trim().to_owned()
}

/// Signs Ann up for an authenticator app from `/account/totp`; returns the otpauth URI and the
/// recovery codes shown once.
pub(crate) async fn enrol_totp(
    app: &TestApp,
    browser: &authify_testkit::Browser,
) -> (String, Vec<String>) {
    let page = browser.get("/account/totp").await;
    assert_eq!(page.status(), 200);
    let html = page.text().await.unwrap();
    assert!(html.contains("src=\"/account/totp/qr.svg\""), "a QR image");
    let uri = text_between(&html, "<code class=\"mono otpauth-uri\">", "</code>");
    assert!(uri.starts_with("otpauth://totp/"), "{uri}");
    let qr = browser.get("/account/totp/qr.svg").await;
    assert_eq!(qr.headers()["content-type"], "image/svg+xml");
    let csrf = hidden_value(&html, "csrf_token").unwrap();
    let code = pyotp(&uri, app.clock_now().timestamp());
    let res = browser
        .post(
            "/account/totp",
            &[
                ("csrf_token", &csrf),
                ("code", &code),
                ("current_password", PASSWORD),
            ],
        )
        .await;
    assert_eq!(res.status(), 200);
    let codes = page_values(&res.text().await.unwrap(), "recovery-code");
    (uri, codes)
}

/// A browser signed in as a new user with `email`.
pub(crate) async fn signed_in(app: &TestApp, email: &str) -> authify_testkit::Browser {
    app.create_user(email, false).await;
    let browser = app.browser();
    let res = browser.sign_in("", email, PASSWORD).await;
    assert_eq!(location(&res), "/account");
    browser
}

/// The password step of a sign-in to the wiki in a fresh browser.
pub(crate) async fn password_step(
    app: &TestApp,
    email: &str,
) -> (authify_testkit::Browser, reqwest::Response) {
    let browser = app.browser();
    let res = browser
        .sign_in(&format!("?callback={}", b64(CALLBACK)), email, PASSWORD)
        .await;
    (browser, res)
}

async fn submit_code(
    browser: &authify_testkit::Browser,
    method: &str,
    code: &str,
) -> reqwest::Response {
    let html = browser
        .get(&format!("/login/factor?method={method}"))
        .await
        .text()
        .await
        .unwrap();
    let csrf = hidden_value(&html, "csrf_token").expect("the step has a form");
    browser
        .post(
            "/login/factor",
            &[
                ("csrf_token", &csrf),
                ("method", method),
                ("action", "verify"),
                ("code", code),
            ],
        )
        .await
}

#[tokio::test]
async fn an_authenticator_app_set_up_with_pyotp_is_asked_after_the_password_and_each_code_works_once()
 {
    let app = spawn_app().await;
    app.create_app("Wiki", &[CALLBACK]).await;
    let ann = signed_in(&app, "ann@example.com").await;
    let (uri, codes) = enrol_totp(&app, &ann).await;
    assert_eq!(codes.len(), 10, "ten recovery codes with the first factor");

    // Next time step, a fresh browser: the password alone no longer signs in.
    app.clock.advance(Duration::seconds(30));
    let (other, res) = password_step(&app, "ann@example.com").await;
    assert_eq!(location(&res), "/login/factor");
    let page = other.get("/login/factor").await.text().await.unwrap();
    assert!(page.contains("Code from your authenticator app"), "{page}");
    let code = pyotp(&uri, app.clock_now().timestamp());
    let res = submit_code(&other, "totp", &code).await;
    let callback = location(&res);
    assert!(callback.starts_with(CALLBACK), "{callback}");
    let claims = jwt_claims(&callback);
    assert_eq!(claims["amr"], serde_json::json!(["pwd", "otp", "mfa"]));

    // The same code again, within its 30 seconds, in a third browser: refused (RFC 6238 §5.2).
    let (third, res) = password_step(&app, "ann@example.com").await;
    assert_eq!(location(&res), "/login/factor");
    let replay = submit_code(&third, "totp", &code).await;
    assert_eq!(replay.status(), 401);
    assert!(replay.text().await.unwrap().contains("not correct"));
    // A code two steps old is refused; the current one works.
    app.clock.advance(Duration::seconds(30));
    let old = pyotp(&uri, app.clock_now().timestamp() - 60);
    assert_eq!(submit_code(&third, "totp", &old).await.status(), 401);
    let now = pyotp(&uri, app.clock_now().timestamp());
    assert!(location(&submit_code(&third, "totp", &now).await).starts_with(CALLBACK));
}

#[tokio::test]
async fn a_recovery_code_signs_in_once_from_any_code_field_and_is_refused_the_second_time() {
    let app = spawn_app().await;
    app.create_app("Wiki", &[CALLBACK]).await;
    let ann = signed_in(&app, "ann@example.com").await;
    let (_, codes) = enrol_totp(&app, &ann).await;
    let (b1, _) = password_step(&app, "ann@example.com").await;
    let res = submit_code(&b1, "recovery", &codes[3].to_uppercase()).await;
    let callback = location(&res);
    assert!(callback.starts_with(CALLBACK), "{callback}");
    let (b2, _) = password_step(&app, "ann@example.com").await;
    let again = submit_code(&b2, "recovery", &codes[3]).await;
    assert_eq!(again.status(), 401);
    // The authenticator app's code field takes a recovery code too (the phone is lost).
    let res = submit_code(&b2, "totp", &codes[4]).await;
    assert!(location(&res).starts_with(CALLBACK), "{:?}", res.status());
}

#[tokio::test]
async fn five_wrong_codes_end_the_attempt_and_nothing_is_issued() {
    let app = spawn_app().await;
    app.create_app("Wiki", &[CALLBACK]).await;
    let ann = signed_in(&app, "ann@example.com").await;
    enrol_totp(&app, &ann).await;
    let (b, _) = password_step(&app, "ann@example.com").await;
    for _ in 0..4 {
        assert_eq!(submit_code(&b, "totp", "000000").await.status(), 401);
    }
    let html = b.get("/login/factor").await.text().await.unwrap();
    let csrf = hidden_value(&html, "csrf_token").unwrap();
    let last = b
        .post(
            "/login/factor",
            &[
                ("csrf_token", &csrf),
                ("method", "totp"),
                ("action", "verify"),
                ("code", "000000"),
            ],
        )
        .await;
    assert_eq!(location(&last), "/login?ended=failures");
    // The flow is gone: the step page sends the browser back to the start.
    assert_eq!(
        location(&b.get("/login/factor").await),
        "/login?ended=expired"
    );
}

#[tokio::test]
async fn codes_by_text_message_go_through_the_signed_webhook_and_expire() {
    let sms = SmsReceiver::start("a-webhook-secret-of-some-length").await;
    let dir = tempfile::tempdir().unwrap();
    let keys = dir.path().join("keys");
    let app = spawn_app_in(
        dir,
        &[
            ("AUTHIFY_KEYS_DIR", keys.to_str().unwrap()),
            ("AUTHIFY_SMS_WEBHOOK_URL", &sms.url()),
            (
                "AUTHIFY_SMS_WEBHOOK_SECRET",
                "a-webhook-secret-of-some-length",
            ),
        ],
    )
    .await;
    app.create_app("Wiki", &[CALLBACK]).await;
    let ann = signed_in(&app, "ann@example.com").await;
    // Add the phone: a code is sent to it, in E.164, and confirms it.
    let res = ann
        .submit(
            "/account",
            "/account/phone",
            &[
                ("phone", "+44 20 7946-0958"),
                ("current_password", PASSWORD),
            ],
        )
        .await;
    assert_eq!(res.status(), 200);
    let html = res.text().await.unwrap();
    let sent = sms.next().await;
    assert_eq!(sent.to, "+442079460958");
    let code = sent.code();
    let csrf = hidden_value(&html, "csrf_token").unwrap();
    let res = ann
        .post(
            "/account/phone/confirm",
            &[("csrf_token", &csrf), ("code", &code)],
        )
        .await;
    assert_eq!(
        page_values(&res.text().await.unwrap(), "recovery-code").len(),
        10
    );

    // Sign in: send a code, a wrong one is refused, the right one signs in with amr sms.
    let (b, res) = password_step(&app, "ann@example.com").await;
    assert_eq!(location(&res), "/login/factor");
    let html = b
        .get("/login/factor?method=sms")
        .await
        .text()
        .await
        .unwrap();
    assert!(html.contains("+44••••••••58"), "the number is masked");
    let csrf = hidden_value(&html, "csrf_token").unwrap();
    let res = b
        .post(
            "/login/factor",
            &[("csrf_token", &csrf), ("method", "sms"), ("action", "send")],
        )
        .await;
    assert_eq!(res.status(), 200);
    let code = sms.next().await.code();
    assert_eq!(submit_code(&b, "sms", "999999").await.status(), 401);
    let res = submit_code(&b, "sms", &code).await;
    let claims = jwt_claims(&location(&res));
    assert_eq!(claims["amr"], serde_json::json!(["pwd", "sms", "mfa"]));

    // A code older than 5 minutes is refused.
    let (b, _) = password_step(&app, "ann@example.com").await;
    let html = b
        .get("/login/factor?method=sms")
        .await
        .text()
        .await
        .unwrap();
    let csrf = hidden_value(&html, "csrf_token").unwrap();
    b.post(
        "/login/factor",
        &[("csrf_token", &csrf), ("method", "sms"), ("action", "send")],
    )
    .await;
    let code = sms.next().await.code();
    app.clock.advance(Duration::minutes(6));
    assert_eq!(submit_code(&b, "sms", &code).await.status(), 401);
    assert!(
        sms.bad_signatures() == 0,
        "every delivery was signed with the shared secret"
    );
}

#[tokio::test]
async fn codes_by_e_mail_arrive_over_smtp_and_factor_changes_are_mailed() {
    let smtp = SmtpReceiver::start().await;
    let dir = tempfile::tempdir().unwrap();
    let keys = dir.path().join("keys");
    let app = spawn_app_in(
        dir,
        &[
            ("AUTHIFY_KEYS_DIR", keys.to_str().unwrap()),
            ("AUTHIFY_SMTP_URL", &smtp.url()),
            ("AUTHIFY_MAIL_FROM", "Authify <id@authify.test>"),
        ],
    )
    .await;
    app.create_app("Wiki", &[CALLBACK]).await;
    let ann = signed_in(&app, "ann@example.com").await;
    let res = ann
        .submit(
            "/account",
            "/account/factors/email",
            &[("current_password", PASSWORD)],
        )
        .await;
    assert_eq!(
        page_values(&res.text().await.unwrap(), "recovery-code").len(),
        10
    );
    let added = smtp.next().await;
    assert_eq!(added.to, "ann@example.com");
    assert!(added.data.contains("was added"), "{}", added.data);

    let (b, _) = password_step(&app, "ann@example.com").await;
    let html = b.get("/login/factor").await.text().await.unwrap();
    let csrf = hidden_value(&html, "csrf_token").unwrap();
    b.post(
        "/login/factor",
        &[
            ("csrf_token", &csrf),
            ("method", "email"),
            ("action", "send"),
        ],
    )
    .await;
    let mail = smtp.next().await;
    assert!(
        mail.data.contains("From: Authify <id@authify.test>"),
        "{}",
        mail.data
    );
    let code = crate::mfa_support::six_digits_in(&mail.plain());
    let res = submit_code(&b, "email", &code).await;
    let claims = jwt_claims(&location(&res));
    assert_eq!(claims["amr"], serde_json::json!(["pwd", "otp", "mfa"]));
}

#[tokio::test]
async fn without_smtp_mails_are_written_as_eml_files_readable_by_the_owner_only() {
    let app = spawn_app().await;
    let ann = signed_in(&app, "ann@example.com").await;
    ann.submit(
        "/account",
        "/account/factors/email",
        &[("current_password", PASSWORD)],
    )
    .await;
    let dir = app.dir.path().join("mail");
    let mut found = None;
    for _ in 0..50 {
        if let Some(entry) = std::fs::read_dir(&dir).ok().and_then(|mut d| d.next()) {
            found = Some(entry.unwrap().path());
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    let path = found.expect("a mail file");
    assert_eq!(path.extension().unwrap(), "eml");
    let text = std::fs::read_to_string(&path).unwrap();
    assert!(text.contains("To: ann@example.com"), "{text}");
    use std::os::unix::fs::PermissionsExt as _;
    assert_eq!(
        std::fs::metadata(&path).unwrap().permissions().mode() & 0o777,
        0o600
    );
}

#[tokio::test]
async fn the_totp_secret_is_sealed_at_rest_and_removing_a_factor_needs_the_password() {
    let app = spawn_app().await;
    app.create_app("Wiki", &[CALLBACK]).await;
    let ann = signed_in(&app, "ann@example.com").await;
    let (uri, _) = enrol_totp(&app, &ann).await;
    let secret = uri
        .split("secret=")
        .nth(1)
        .unwrap()
        .split('&')
        .next()
        .unwrap()
        .to_owned();
    let stored: Vec<Option<String>> = app
        .state
        .db()
        .run_blocking(|conn| {
            use authify_store::schema::user_factors::dsl::*;
            use diesel::prelude::*;
            Ok::<_, authify_core::StoreError>(user_factors.select(secret).load(conn)?)
        })
        .unwrap();
    let sealed = stored[0].clone().unwrap();
    assert!(
        !sealed.contains(&secret),
        "the database holds no usable secret"
    );
    assert!(std::fs::read(app.dir.path().join("master.key")).is_ok());

    let html = ann.get("/account").await.text().await.unwrap();
    let action = text_between(&html, "action=\"/account/factors/", "/remove\"");
    let path = format!("/account/factors/{action}/remove");
    let csrf = hidden_value(&html, "csrf_token").unwrap();
    let wrong = ann
        .post(
            &path,
            &[("csrf_token", &csrf), ("current_password", "not it")],
        )
        .await;
    assert_eq!(wrong.status(), 403);
    let ok = ann
        .post(
            &path,
            &[("csrf_token", &csrf), ("current_password", PASSWORD)],
        )
        .await;
    assert_eq!(location(&ok), "/account?done=factor_removed");
    // Without a factor the password alone signs in again.
    let (_, res) = password_step(&app, "ann@example.com").await;
    assert!(location(&res).starts_with(CALLBACK));
}

#[tokio::test]
async fn an_organization_requiring_a_second_factor_leads_a_member_without_one_through_enrolment() {
    let app = spawn_app().await;
    app.create_app("Wiki", &[CALLBACK]).await;
    app.create_user("root@example.com", true).await;
    let bob = app.create_user("bob@example.com", false).await;
    // An organization with Bob, requiring a second factor (through the API, as its admin would).
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
            Some(serde_json::json!({"email": bob.email})),
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

    let (b, res) = password_step(&app, "bob@example.com").await;
    assert_eq!(location(&res), "/login/enrol");
    let html = b.get("/login/enrol").await.text().await.unwrap();
    assert!(
        html.contains("<strong>Your organization</strong> requires"),
        "{html}"
    );
    let uri = text_between(&html, "<code class=\"mono otpauth-uri\">", "</code>");
    let csrf = hidden_value(&html, "csrf_token").unwrap();
    assert_eq!(b.get("/login/enrol/qr.svg").await.status(), 200);
    let code = pyotp(&uri, app.clock_now().timestamp());
    let res = b
        .post("/login/enrol", &[("csrf_token", &csrf), ("code", &code)])
        .await;
    let html = res.text().await.unwrap();
    assert_eq!(page_values(&html, "recovery-code").len(), 10);
    let csrf = hidden_value(&html, "csrf_token").unwrap();
    let res = b.post("/login/continue", &[("csrf_token", &csrf)]).await;
    let callback = location(&res);
    assert!(callback.starts_with(CALLBACK), "{callback}");
    assert_eq!(
        jwt_claims(&callback)["amr"],
        serde_json::json!(["pwd", "otp", "mfa"])
    );
}

#[tokio::test]
async fn an_admin_resets_a_users_factors_through_the_api_and_the_user_signs_in_with_the_password() {
    let app = spawn_app().await;
    app.create_app("Wiki", &[CALLBACK]).await;
    app.create_user("root@example.com", true).await;
    let ann = signed_in(&app, "ann@example.com").await;
    enrol_totp(&app, &ann).await;
    let (_, res) = password_step(&app, "ann@example.com").await;
    assert_eq!(location(&res), "/login/factor");
    let uid = app
        .state
        .db()
        .run_blocking(|conn| authify_store::users::find_user_by_email(conn, "ann@example.com"))
        .unwrap()
        .unwrap()
        .public_id;
    let token = app.api_token("root@example.com", false).await;
    let own = app.api_token("ann@example.com", false).await;
    let refused = app
        .call(
            Some(&own),
            "DELETE",
            &format!("/api/v1/users/{uid}/factors"),
            None,
        )
        .await;
    assert_eq!(refused.status, 403, "only global admins reset factors");
    let reset = app
        .call(
            Some(&token),
            "DELETE",
            &format!("/api/v1/users/{uid}/factors"),
            None,
        )
        .await;
    assert_eq!(reset.status, 204, "{:?}", reset.body);
    let (_, res) = password_step(&app, "ann@example.com").await;
    assert!(location(&res).starts_with(CALLBACK));
}

#[tokio::test]
async fn a_totp_set_up_belongs_to_the_session_it_was_shown_to_and_needs_the_password() {
    let app = spawn_app().await;
    let ann = signed_in(&app, "ann@example.com").await;
    // Someone else with Ann's session or password opens the set-up page elsewhere first.
    let other = app.browser();
    assert_eq!(
        location(&other.sign_in("", "ann@example.com", PASSWORD).await),
        "/account"
    );
    let planted = other.get("/account/totp").await.text().await.unwrap();
    let planted_uri = text_between(&planted, "<code class=\"mono otpauth-uri\">", "</code>");
    // Ann's own set-up shows another secret, and the planted one cannot be confirmed in her
    // session.
    let html = ann.get("/account/totp").await.text().await.unwrap();
    let uri = text_between(&html, "<code class=\"mono otpauth-uri\">", "</code>");
    assert_ne!(uri, planted_uri, "a fresh secret per session");
    let csrf = hidden_value(&html, "csrf_token").unwrap();
    let now = app.clock_now().timestamp();
    let refused = ann
        .post(
            "/account/totp",
            &[
                ("csrf_token", &csrf),
                ("code", &pyotp(&planted_uri, now)),
                ("current_password", PASSWORD),
            ],
        )
        .await;
    assert_eq!(
        refused.status(),
        400,
        "the planted secret is not Ann's set-up"
    );
    // Without the password the right code is refused too; with it, the app is on.
    let code = pyotp(&uri, now);
    let no_password = ann
        .post(
            "/account/totp",
            &[
                ("csrf_token", &csrf),
                ("code", &code),
                ("current_password", "guess"),
            ],
        )
        .await;
    assert_eq!(no_password.status(), 403);
    let ok = ann
        .post(
            "/account/totp",
            &[
                ("csrf_token", &csrf),
                ("code", &code),
                ("current_password", PASSWORD),
            ],
        )
        .await;
    assert_eq!(
        page_values(&ok.text().await.unwrap(), "recovery-code").len(),
        10
    );
}
