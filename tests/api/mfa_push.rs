//! Push approval with number matching: a browser waits showing a number, the user's approver
//! device (another browser, or a phone app through the API) picks it; wrong number, denial,
//! expiry (by the fixed clock) and another user's device all leave nothing issued.

use authify_testkit::{Browser, PASSWORD, TestApp, location, spawn_app, spawn_app_in};
use chrono::Duration;

use crate::mfa::{CALLBACK, password_step, signed_in};
use crate::mfa_support::{SmsReceiver, jwt_claims, page_values, text_between};

/// Makes `browser` (signed in) an approver device.
pub(crate) async fn register_device(browser: &Browser) {
    let res = browser
        .submit(
            "/account/approvals",
            "/account/approvals",
            &[("current_password", PASSWORD)],
        )
        .await;
    assert!(
        res.headers()
            .get_all("set-cookie")
            .iter()
            .any(|c| c.to_str().unwrap().starts_with("authify_device=")),
        "the device cookie is set"
    );
}

/// Starts a push sign-in in a fresh browser; returns it and the number it shows.
pub(crate) async fn waiting(app: &TestApp, email: &str) -> (Browser, String) {
    let (b, res) = password_step(app, email).await;
    assert_eq!(location(&res), "/login/factor");
    let html = b.get("/login/factor").await.text().await.unwrap();
    assert!(
        html.contains("Send a request to my device"),
        "push is preferred: {html}"
    );
    let res = b
        .submit(
            "/login/factor",
            "/login/factor",
            &[("method", "push"), ("action", "push")],
        )
        .await;
    assert_eq!(location(&res), "/login/approval");
    let page = b.get("/login/approval").await;
    assert_eq!(
        page.headers()["refresh"],
        "5",
        "refreshes itself without JavaScript"
    );
    let html = page.text().await.unwrap();
    assert!(html.contains("src=\"/static/js/approval.js\""));
    let number = page_values(&html, "approval-number")
        .pop()
        .expect("a number");
    assert_eq!(number.len(), 2);
    (b, number)
}

pub(crate) async fn status(b: &Browser) -> String {
    let res = b
        .http
        .get(format!("{}/login/approval", b.base))
        .header("accept", "application/json")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let v: serde_json::Value = res.json().await.unwrap();
    v["status"].as_str().unwrap().to_owned()
}

/// The approver's pending request: its id and the three numbers offered.
pub(crate) async fn pending(device: &Browser) -> (String, Vec<String>) {
    let html = device.get("/account/approvals").await.text().await.unwrap();
    let id = text_between(&html, "action=\"/account/approvals/", "\"");
    let mut choices = Vec::new();
    let mut rest = html.as_str();
    while let Some(i) = rest.find("name=\"number\" value=\"") {
        rest = &rest[i + 21..];
        choices.push(rest[..rest.find('"').unwrap()].to_owned());
    }
    (id, choices)
}

pub(crate) async fn answer(
    device: &Browser,
    id: &str,
    decision: &str,
    number: &str,
) -> reqwest::Response {
    device
        .submit(
            "/account",
            &format!("/account/approvals/{id}"),
            &[("decision", decision), ("number", number)],
        )
        .await
}

#[tokio::test]
async fn approving_with_the_shown_number_signs_the_waiting_browser_in_with_swk_and_mfa() {
    let hook = SmsReceiver::start("a-push-secret-long-enough").await;
    let dir = tempfile::tempdir().unwrap();
    let keys = dir.path().join("keys");
    let app = spawn_app_in(
        dir,
        &[
            ("AUTHIFY_KEYS_DIR", keys.to_str().unwrap()),
            ("AUTHIFY_PUSH_WEBHOOK_URL", &hook.url()),
            ("AUTHIFY_PUSH_WEBHOOK_SECRET", "a-push-secret-long-enough"),
        ],
    )
    .await;
    app.create_app("Wiki", &[CALLBACK]).await;
    let device = signed_in(&app, "ann@example.com").await;
    register_device(&device).await;
    let (a, number) = waiting(&app, "ann@example.com").await;
    assert_eq!(status(&a).await, "pending");
    // The push gateway was told (signed), without the number.
    let pushed = hook.next_json().await;
    assert_eq!(pushed["type"], "approval_request");
    assert!(!pushed.to_string().contains(&format!("\"number\":{number}")));

    let (id, choices) = pending(&device).await;
    assert_eq!(pushed["id"], id);
    assert_eq!(choices.len(), 3);
    assert!(choices.contains(&number), "{choices:?} offers {number}");
    let res = answer(&device, &id, "approve", &number).await;
    assert_eq!(location(&res), "/account/approvals?done=approved");
    assert_eq!(status(&a).await, "approved");
    let res = a.get("/login/approval").await;
    let callback = location(&res);
    assert!(callback.starts_with(CALLBACK), "{callback}");
    assert_eq!(
        jwt_claims(&callback)["amr"],
        serde_json::json!(["pwd", "swk", "mfa"])
    );
    // Single use: the request cannot be answered or spent again.
    assert_eq!(answer(&device, &id, "approve", &number).await.status(), 404);
    assert_eq!(status(&a).await, "expired");
}

#[tokio::test]
async fn a_wrong_number_or_a_denial_denies_and_nothing_is_issued() {
    let app = spawn_app().await;
    app.create_app("Wiki", &[CALLBACK]).await;
    let device = signed_in(&app, "ann@example.com").await;
    register_device(&device).await;
    for (decision, right) in [("approve", false), ("deny", true)] {
        let (a, number) = waiting(&app, "ann@example.com").await;
        let (id, choices) = pending(&device).await;
        let picked = if right {
            number.clone()
        } else {
            choices.iter().find(|c| **c != number).unwrap().clone()
        };
        let res = answer(&device, &id, decision, &picked).await;
        assert_eq!(location(&res), "/account/approvals?done=denied");
        assert_eq!(status(&a).await, "denied");
        let page = a.get("/login/approval").await;
        assert_eq!(page.status(), 200);
        assert!(page.text().await.unwrap().contains("Sign-in denied"));
    }
}

#[tokio::test]
async fn an_unanswered_request_expires_after_two_minutes() {
    let app = spawn_app().await;
    app.create_app("Wiki", &[CALLBACK]).await;
    let device = signed_in(&app, "ann@example.com").await;
    register_device(&device).await;
    let (a, number) = waiting(&app, "ann@example.com").await;
    let (id, _) = pending(&device).await;
    app.clock.advance(Duration::seconds(121));
    assert_eq!(status(&a).await, "expired");
    assert_eq!(answer(&device, &id, "approve", &number).await.status(), 404);
    assert!(
        a.get("/login/approval")
            .await
            .text()
            .await
            .unwrap()
            .contains("expired")
    );
}

#[tokio::test]
async fn another_users_device_or_an_unregistered_browser_cannot_approve() {
    let app = spawn_app().await;
    app.create_app("Wiki", &[CALLBACK]).await;
    let device = signed_in(&app, "ann@example.com").await;
    // Ann is also signed in here, but this browser is not an approver device.
    let plain = app.browser();
    assert_eq!(
        location(&plain.sign_in("", "ann@example.com", PASSWORD).await),
        "/account"
    );
    register_device(&device).await;
    let bob = signed_in(&app, "bob@example.com").await;
    register_device(&bob).await;
    let (a, number) = waiting(&app, "ann@example.com").await;
    let (id, _) = pending(&device).await;
    // Bob's device does not see Ann's request, and cannot answer it.
    let bobs = bob.get("/account/approvals").await.text().await.unwrap();
    assert!(!bobs.contains(&id));
    assert_eq!(answer(&bob, &id, "approve", &number).await.status(), 404);
    assert_eq!(answer(&plain, &id, "approve", &number).await.status(), 403);
    assert_eq!(status(&a).await, "pending", "nothing was decided");
    assert_eq!(
        a.get("/login/approval").await.status(),
        200,
        "still waiting, no session"
    );
}

#[tokio::test]
async fn a_phone_app_registers_through_the_api_and_approves_with_its_device_token() {
    let app = spawn_app().await;
    app.create_app("Wiki", &[CALLBACK]).await;
    app.create_user("ann@example.com", false).await;
    let token = app.api_token("ann@example.com", false).await;
    let reg = app
        .call(
            Some(&token),
            "POST",
            "/api/v1/me/approvers",
            Some(serde_json::json!({"name": "Ann's phone", "current_password": PASSWORD})),
        )
        .await;
    assert_eq!(reg.status, 201, "{:?}", reg.body);
    let device_token = reg.body["device_token"].as_str().unwrap().to_owned();
    assert_eq!(reg.body["recovery_codes"].as_array().unwrap().len(), 10);

    let (a, number) = waiting(&app, "ann@example.com").await;
    let list = app
        .call(Some(&token), "GET", "/api/v1/me/approvals", None)
        .await;
    let request = &list.body["approvals"][0];
    let id = request["id"].as_str().unwrap().to_owned();
    assert_eq!(request["app"], "Wiki");
    let body = serde_json::json!({"decision": "approve", "number": number.parse::<i32>().unwrap()});
    // Without the device token the answer is refused.
    let refused = app
        .call(
            Some(&token),
            "POST",
            &format!("/api/v1/me/approvals/{id}"),
            Some(body.clone()),
        )
        .await;
    assert_eq!(refused.status, 403, "{:?}", refused.body);
    let res = app
        .http
        .post(format!("{}/api/v1/me/approvals/{id}", app.address))
        .bearer_auth(&token)
        .header("x-authify-device", &device_token)
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let v: serde_json::Value = res.json().await.unwrap();
    assert_eq!(v["decision"], "approved");
    assert!(location(&a.get("/login/approval").await).starts_with(CALLBACK));
}

#[tokio::test]
async fn the_approver_browser_itself_signs_in_with_its_password_alone() {
    let app = spawn_app().await;
    app.create_app("Wiki", &[CALLBACK]).await;
    let device = signed_in(&app, "ann@example.com").await;
    register_device(&device).await;
    device.submit("/account", "/logout", &[]).await;
    let res = device
        .sign_in(
            &format!("?callback={}", authify_testkit::b64(CALLBACK)),
            "ann@example.com",
            PASSWORD,
        )
        .await;
    let callback = location(&res);
    assert!(callback.starts_with(CALLBACK), "{callback}");
    assert_eq!(
        jwt_claims(&callback)["amr"],
        serde_json::json!(["pwd", "swk", "mfa"])
    );
}
