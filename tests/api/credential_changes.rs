//! What a change of credentials does to the user's sessions: a new e-mail address, like a new
//! password, signs out every other session, from the account page or through the API.

use authify_testkit::{Browser, PASSWORD, TestApp, location, spawn_app};
use serde_json::json;

async fn sign_in(app: &TestApp, email: &str) -> Browser {
    let browser = app.browser();
    let res = browser.sign_in("", email, PASSWORD).await;
    assert_eq!(res.status(), 303, "{email} signs in");
    browser
}

/// Whether `browser` still has a session: the account page, or a redirect to sign in.
async fn signed_in(browser: &Browser) -> bool {
    let res = browser.get("/account").await;
    match res.status().as_u16() {
        200 => true,
        303 if location(&res) == "/login" => false,
        other => panic!("unexpected {other} from /account"),
    }
}

#[tokio::test]
async fn an_e_mail_change_on_the_account_page_signs_out_the_other_sessions_but_not_this_one() {
    let app = spawn_app().await;
    app.create_user("ann@example.com", false).await;
    let laptop = sign_in(&app, "ann@example.com").await;
    let phone = sign_in(&app, "ann@example.com").await;
    let res = laptop
        .submit(
            "/account",
            "/account/email",
            &[("current_password", PASSWORD), ("email", "ann@new.example")],
        )
        .await;
    assert_eq!(location(&res), "/account?done=email_changed");
    assert!(!signed_in(&phone).await, "the other session ends");
    assert!(
        signed_in(&laptop).await,
        "the session that made the change stays"
    );
}

#[tokio::test]
async fn an_e_mail_change_through_the_api_signs_out_every_browser_session() {
    let app = spawn_app().await;
    app.create_user("ann@example.com", false).await;
    let browser = sign_in(&app, "ann@example.com").await;
    let token = app.api_token("ann@example.com", false).await;
    let refused = app
        .call(
            Some(&token),
            "PATCH",
            "/api/v1/me",
            Some(json!({"current_password": "guess", "email": "ann@new.example"})),
        )
        .await;
    assert_eq!(refused.status, 403);
    assert!(signed_in(&browser).await, "a refused change ends nothing");
    let changed = app
        .call(
            Some(&token),
            "PATCH",
            "/api/v1/me",
            Some(json!({"current_password": PASSWORD, "email": "ann@new.example"})),
        )
        .await;
    assert_eq!(changed.status, 200, "{}", changed.body);
    assert!(!signed_in(&browser).await, "the browser session ends");
}
