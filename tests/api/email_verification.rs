//! E-mail verification through a loopback SMTP server: a link at sign-up and on a change of
//! address, opened without being spent, confirmed by its POST; tokens say `email_verified`;
//! `required` keeps unverified accounts out; `off` mails nothing.

use authify_testkit::{Browser, PASSWORD, TestApp, b64, location, spawn_app_in};

use crate::mfa_support::{Mail, SmtpReceiver, jwt_claims};

const CALLBACK: &str = "https://wiki.example/cb";

async fn app_with(mode: &str) -> (TestApp, SmtpReceiver) {
    let smtp = SmtpReceiver::start().await;
    let dir = tempfile::tempdir().unwrap();
    let app = spawn_app_in(
        dir,
        &[
            ("AUTHIFY_SMTP_URL", &smtp.url()),
            ("AUTHIFY_EMAIL_VERIFICATION", mode),
        ],
    )
    .await;
    app.create_app("Wiki", &[CALLBACK]).await;
    (app, smtp)
}

fn verify_link(mail: &Mail) -> String {
    let text = mail.plain();
    let start = text
        .find("/email/verify?token=")
        .expect("a confirmation link");
    text[start..].split_whitespace().next().unwrap().to_owned()
}

/// The `user.email_verified` of a token from a single sign-on redirect of `browser`.
async fn verified_claim(browser: &Browser) -> bool {
    let res = browser
        .get(&format!("/login?callback={}", b64(CALLBACK)))
        .await;
    assert_eq!(res.status(), 303);
    jwt_claims(&location(&res))["user"]["email_verified"]
        .as_bool()
        .unwrap()
}

async fn confirm(browser: &Browser, link: &str) -> reqwest::Response {
    let token = link.split("token=").nth(1).unwrap();
    browser
        .submit(link, "/email/verify", &[("token", token)])
        .await
}

#[tokio::test]
async fn a_link_mailed_at_sign_up_confirms_the_address_once_and_tokens_say_so() {
    let (app, smtp) = app_with("optional").await;
    let ann = app.browser();
    let res = ann.sign_up("", "Ann", "ann@example.com").await;
    assert_eq!(res.status(), 303, "optional: signed in at once");
    assert!(!verified_claim(&ann).await);
    let mail = smtp.next().await;
    assert_eq!(mail.to, "ann@example.com");
    assert!(mail.data.contains("Subject: Confirm your e-mail address"));
    let link = verify_link(&mail);

    // Opening the link (a mail scanner) spends nothing; its button does.
    let other = app.browser();
    for _ in 0..2 {
        let res = other.get(&link).await;
        assert_eq!(res.status(), 200);
        assert!(res.text().await.unwrap().contains("Confirm my address"));
    }
    let res = confirm(&other, &link).await;
    assert_eq!(res.status(), 200);
    assert!(res.text().await.unwrap().contains("Address confirmed"));
    assert!(verified_claim(&ann).await, "the next token says so");
    let account = ann.get("/account").await.text().await.unwrap();
    assert!(account.contains("Confirmed"));

    assert_eq!(other.get(&link).await.status(), 410, "used once");
    assert_eq!(confirm_again(&app, &link).await, 410);
}

/// POSTs a used or dead link from a fresh browser (its form token comes from another page).
async fn confirm_again(app: &TestApp, link: &str) -> u16 {
    let b = app.browser();
    let html = b.get("/password/forgot").await.text().await.unwrap();
    let csrf = authify_testkit::hidden_value(&html, "csrf_token").unwrap();
    let token = link.split("token=").nth(1).unwrap();
    b.post("/email/verify", &[("csrf_token", &csrf), ("token", token)])
        .await
        .status()
        .as_u16()
}

#[tokio::test]
async fn a_new_address_is_unconfirmed_until_its_own_link_is_followed() {
    let (app, smtp) = app_with("optional").await;
    let ann = app.browser();
    ann.sign_up("", "Ann", "ann@example.com").await;
    let first = verify_link(&smtp.next().await);
    let res = ann
        .submit(
            "/account",
            "/account/email",
            &[("email", "ann@new.example"), ("current_password", PASSWORD)],
        )
        .await;
    assert_eq!(res.status(), 303);
    let mail = smtp.next().await;
    assert_eq!(mail.to, "ann@new.example");
    let second = verify_link(&mail);
    // The link for the old address is dead: it would confirm an address the account left.
    assert_eq!(ann.get(&first).await.status(), 410);
    assert_eq!(confirm_again(&app, &first).await, 410);
    assert!(!verified_claim(&ann).await);
    let page = ann.get("/account").await.text().await.unwrap();
    assert!(page.contains("Not confirmed") && page.contains("Send the confirmation link again"));

    // Asked again from the account page: another link to the new address.
    let res = ann.submit("/account", "/account/email/verify", &[]).await;
    assert_eq!(location(&res), "/account?done=verification_sent");
    let third = verify_link(&smtp.next().await);
    assert_ne!(third, second);
    assert_eq!(confirm(&ann, &second).await.status(), 200);
    assert!(verified_claim(&ann).await);
}

#[tokio::test]
async fn required_verification_keeps_an_unconfirmed_account_out_and_mails_a_new_link() {
    let (app, smtp) = app_with("required").await;
    let ann = app.browser();
    let res = ann.sign_up("", "Ann", "ann@example.com").await;
    assert_eq!(res.status(), 202);
    assert!(
        res.text()
            .await
            .unwrap()
            .contains("Confirm your e-mail address first")
    );
    assert_eq!(
        location(&ann.get("/account").await),
        "/login",
        "not signed in"
    );
    let first = verify_link(&smtp.next().await);

    let res = ann.sign_in("", "ann@example.com", PASSWORD).await;
    assert_eq!(res.status(), 403);
    assert!(
        res.text()
            .await
            .unwrap()
            .contains("Confirm your e-mail address first")
    );
    let again = smtp.next().await;
    assert_eq!(again.to, "ann@example.com", "the refusal mails a new link");
    // A wrong password says nothing about verification.
    let res = ann.sign_in("", "ann@example.com", "wrong password").await;
    assert_eq!(res.status(), 401);

    assert_eq!(confirm(&app.browser(), &first).await.status(), 200);
    let res = ann.sign_in("", "ann@example.com", PASSWORD).await;
    assert_eq!(res.status(), 303);
    assert!(verified_claim(&ann).await);
}

#[tokio::test]
async fn with_verification_off_nothing_is_mailed_at_sign_up() {
    let (app, smtp) = app_with("off").await;
    let ann = app.browser();
    assert_eq!(
        ann.sign_up("", "Ann", "ann@example.com").await.status(),
        303
    );
    assert!(!verified_claim(&ann).await);
    let page = ann.get("/account").await.text().await.unwrap();
    assert!(!page.contains("Send the confirmation link again"));
    // The next mail out is a reset link, so no confirmation link went first.
    app.browser()
        .submit(
            "/password/forgot",
            "/password/forgot",
            &[("email", "ann@example.com")],
        )
        .await;
    assert!(smtp.next().await.text().contains("/password/reset?token="));
}
