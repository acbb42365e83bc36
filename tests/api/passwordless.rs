//! "Sign in with my phone": an e-mail address only, approved with number matching on a second
//! browser that is the user's approver device; an unknown address looks the same to the
//! requester; requests are throttled per account; policy may still ask for a second factor.

use authify_testkit::{Browser, TestApp, b64, location, spawn_app};
use chrono::Duration;

use crate::mfa::{CALLBACK, signed_in};
use crate::mfa_push::{answer, pending, register_device, status};
use crate::mfa_support::{jwt_claims, page_values};

/// Asks for a passwordless sign-in to the wiki for `email` in `b`; returns the response.
async fn ask(b: &Browser, email: &str) -> reqwest::Response {
    b.submit(
        &format!("/login/phone?callback={}", b64(CALLBACK)),
        "/login/phone",
        &[("email", email)],
    )
    .await
}

/// The waiting page's number and its text with the number taken out.
async fn waiting_page(b: &Browser) -> (String, String) {
    let page = b.get("/login/approval").await;
    assert_eq!(page.status(), 200);
    assert_eq!(page.headers()["refresh"], "5");
    let html = page.text().await.unwrap();
    let number = page_values(&html, "approval-number")
        .pop()
        .expect("a number");
    // Only where the number is shown: a bare replace would also hit, say, the logo's
    // `width="32"` when the number drawn is 32.
    let page = html
        .replace(
            &format!("Number to pick: {number}\""),
            "Number to pick: NN\"",
        )
        .replace(&format!(">{number}<"), ">NN<");
    (number, page)
}

async fn with_device(app: &TestApp, email: &str) -> Browser {
    let device = signed_in(app, email).await;
    register_device(&device).await;
    device
}

#[tokio::test]
async fn an_e_mail_address_and_an_approval_on_a_second_browser_sign_in_without_a_password() {
    let app = spawn_app().await;
    app.create_app("Wiki", &[CALLBACK]).await;
    let device = with_device(&app, "bob@example.com").await;
    let a = app.browser();
    let form = a
        .get(&format!("/login/phone?callback={}", b64(CALLBACK)))
        .await;
    let html = form.text().await.unwrap();
    assert!(
        html.contains("to continue to <strong>Wiki</strong>"),
        "{html}"
    );
    let res = ask(&a, "bob@example.com").await;
    assert_eq!(location(&res), "/login/approval");
    let (number, _) = waiting_page(&a).await;
    assert_eq!(status(&a).await, "pending");
    // The device sees who asks: the requesting browser's address and user agent.
    let approvals = device.get("/account/approvals").await.text().await.unwrap();
    assert!(approvals.contains("127.0.0.1"), "{approvals}");
    let (id, choices) = pending(&device).await;
    assert!(choices.contains(&number), "{choices:?} offers {number}");
    answer(&device, &id, "approve", &number).await;
    assert_eq!(status(&a).await, "approved");
    let callback = location(&a.get("/login/approval").await);
    assert!(callback.starts_with(CALLBACK), "{callback}");
    let claims = jwt_claims(&callback);
    // One factor, the device: no password, no `mfa`.
    assert_eq!(claims["amr"], serde_json::json!(["swk"]));
    assert_eq!(claims["user"]["username"], "bob@example.com");
    // Single use.
    assert_eq!(answer(&device, &id, "approve", &number).await.status(), 404);
}

#[tokio::test]
async fn an_unknown_address_gets_the_same_page_and_wait_then_expires_alike() {
    let app = spawn_app().await;
    app.create_app("Wiki", &[CALLBACK]).await;
    with_device(&app, "bob@example.com").await;
    app.create_user("carol@example.com", false).await; // an account without a device
    let mut pages = Vec::new();
    let mut browsers = Vec::new();
    for email in ["bob@example.com", "nobody@example.com", "carol@example.com"] {
        let b = app.browser();
        let res = ask(&b, email).await;
        assert_eq!(
            (res.status().as_u16(), location(&res)),
            (303, "/login/approval".to_owned())
        );
        let (number, page) = waiting_page(&b).await;
        assert_eq!(number.len(), 2);
        assert_eq!(status(&b).await, "pending", "{email}");
        pages.push(page);
        browsers.push(b);
    }
    assert_eq!(pages[0], pages[1], "unknown address looks like a known one");
    assert_eq!(pages[0], pages[2], "no device looks like a device");
    app.clock.advance(Duration::seconds(121));
    for b in &browsers {
        assert_eq!(status(b).await, "expired");
        let html = b.get("/login/approval").await.text().await.unwrap();
        assert!(html.contains("The request expired"), "{html}");
        assert!(html.contains("Sign in another way"), "{html}");
    }
}

#[tokio::test]
async fn a_flood_of_requests_is_throttled_per_account_and_never_reaches_the_phone() {
    let app = spawn_app().await;
    app.create_app("Wiki", &[CALLBACK]).await;
    let device = with_device(&app, "bob@example.com").await;
    let mut statuses = Vec::new();
    for _ in 0..12 {
        let b = app.browser();
        statuses.push(ask(&b, "bob@example.com").await.status().as_u16());
    }
    // Bob spent two attempts signing in and registering his device; 10 a minute in all.
    let sent = statuses.iter().filter(|s| **s == 303).count();
    assert_eq!(sent, 8, "{statuses:?}");
    assert!(statuses[..sent].iter().all(|s| *s == 303), "{statuses:?}");
    assert!(statuses[sent..].iter().all(|s| *s == 429), "{statuses:?}");
    let html = device.get("/account/approvals").await.text().await.unwrap();
    let mut ids: Vec<&str> = html
        .split("action=\"/account/approvals/")
        .skip(1)
        .map(|rest| &rest[..rest.find('"').unwrap()])
        .collect();
    ids.dedup();
    assert_eq!(
        ids.len(),
        sent,
        "one request per accepted ask, none after: {statuses:?}"
    );
    // An unknown address is throttled the same way.
    let mut unknown = Vec::new();
    for _ in 0..12 {
        unknown.push(
            ask(&app.browser(), "nobody@example.com")
                .await
                .status()
                .as_u16(),
        );
    }
    let mut expected = vec![303; 10];
    expected.extend([429, 429]);
    assert_eq!(unknown, expected);
}

#[tokio::test]
async fn an_app_that_requires_two_factors_asks_for_another_after_the_approval() {
    let app = spawn_app().await;
    let wiki = app.create_app("Wiki", &[CALLBACK]).await;
    let device = with_device(&app, "bob@example.com").await;
    // Bob also has e-mail codes; the wiki requires a second factor.
    let res = device
        .submit(
            "/account",
            "/account/factors/email",
            &[("current_password", authify_testkit::PASSWORD)],
        )
        .await;
    assert!(res.status().is_redirection() || res.status() == 200);
    app.state
        .db()
        .run_blocking(|conn| authify_store::factors::set_app_require_mfa(conn, &wiki, true))
        .unwrap();
    let a = app.browser();
    ask(&a, "bob@example.com").await;
    let (number, _) = waiting_page(&a).await;
    let (id, _) = pending(&device).await;
    answer(&device, &id, "approve", &number).await;
    let res = a.get("/login/approval").await;
    assert_eq!(location(&res), "/login/factor");
    let html = a.get("/login/factor").await.text().await.unwrap();
    // Another approval would not be a second factor.
    assert!(!html.contains("method=push"), "{html}");
    assert!(!html.contains("Send a request to my device"), "{html}");
    assert!(html.contains("Send me a code"), "{html}");
}

#[tokio::test]
async fn a_malformed_address_shows_the_form_again_with_the_reason() {
    let app = spawn_app().await;
    let b = app.browser();
    let res = b
        .submit(
            "/login/phone",
            "/login/phone",
            &[("email", "not an address")],
        )
        .await;
    assert_eq!(res.status(), 400);
    let html = res.text().await.unwrap();
    assert!(
        html.contains("Enter the e-mail address of your account."),
        "{html}"
    );
    assert!(html.contains("value=\"not an address\""), "{html}");
}
