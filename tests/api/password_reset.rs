//! Password reset by mail, through a loopback SMTP server: the same answer for every address,
//! a link that works once for 30 minutes (fixed clock), opening it spends nothing, setting the
//! password ends every session and is mailed to the user.

use authify_testkit::{Browser, PASSWORD, TestApp, location, spawn_app_in};
use chrono::Duration;

use crate::mfa_support::{Mail, SmtpReceiver};

const NEW_PASSWORD: &str = "a brand new passphrase";

async fn app_with_smtp() -> (TestApp, SmtpReceiver) {
    let smtp = SmtpReceiver::start().await;
    let dir = tempfile::tempdir().unwrap();
    let app = spawn_app_in(dir, &[("AUTHIFY_SMTP_URL", &smtp.url())]).await;
    (app, smtp)
}

/// Asks for a reset of `email` from a fresh browser; returns the page's status and text.
async fn ask(app: &TestApp, email: &str) -> (u16, String) {
    let res = app
        .browser()
        .submit("/password/forgot", "/password/forgot", &[("email", email)])
        .await;
    (res.status().as_u16(), res.text().await.unwrap())
}

/// The reset link in a mail: its path and query.
fn link_in(mail: &Mail) -> String {
    let text = mail.plain();
    let start = text.find("/password/reset?token=").expect("a reset link");
    text[start..].split_whitespace().next().unwrap().to_owned()
}

async fn signed_in(app: &TestApp, email: &str, password: &str) -> Option<Browser> {
    let b = app.browser();
    let res = b.sign_in("", email, password).await;
    (res.status() == 303).then_some(b)
}

async fn has_session(b: &Browser) -> bool {
    let res = b.get("/account").await;
    res.status() == 200 || (res.status() == 303 && location(&res) != "/login")
}

#[tokio::test]
async fn a_mailed_link_sets_a_new_password_once_and_signs_out_every_session() {
    let (app, smtp) = app_with_smtp().await;
    app.create_user("ann@example.com", false).await;
    let laptop = signed_in(&app, "ann@example.com", PASSWORD).await.unwrap();
    let phone = signed_in(&app, "ann@example.com", PASSWORD).await.unwrap();

    let (status, page) = ask(&app, "ann@example.com").await;
    assert_eq!(status, 200);
    assert!(page.contains("is on its way"), "{page}");
    let mail = smtp.next().await;
    assert_eq!(mail.to, "ann@example.com");
    assert!(mail.data.contains("Subject: Reset your password"));
    let link = link_in(&mail);
    // The same text in HTML, in the app's look, the link clickable.
    // (handlebars writes `=` as the entity `&#x3D;`, which browsers and mail readers decode)
    let html = mail
        .part("text/html")
        .expect("an HTML part")
        .replace("&#x3D;", "=");
    assert!(
        html.contains("<h1") && html.contains("Reset your password</h1>"),
        "{html}"
    );
    assert!(
        html.contains(&format!("<a href=\"{}{link}\"", app.address)),
        "{html}"
    );
    assert!(mail.plain().contains(&link));

    // Opening the link (as a mail scanner would) spends nothing.
    let browser = app.browser();
    for _ in 0..2 {
        let res = browser.get(&link).await;
        assert_eq!(res.status(), 200);
        let html = res.text().await.unwrap();
        assert!(html.contains("Choose a new password") && html.contains("ann@example.com"));
    }
    let token = link.split("token=").nth(1).unwrap();
    let res = browser
        .submit(
            &link,
            "/password/reset",
            &[("token", token), ("password", NEW_PASSWORD)],
        )
        .await;
    assert_eq!(res.status(), 200);
    assert!(res.text().await.unwrap().contains("Password changed"));

    // Every session ended; the new password works, the old one does not.
    assert!(!has_session(&laptop).await && !has_session(&phone).await);
    assert!(signed_in(&app, "ann@example.com", PASSWORD).await.is_none());
    assert!(
        signed_in(&app, "ann@example.com", NEW_PASSWORD)
            .await
            .is_some()
    );
    let told = smtp.next().await;
    assert_eq!(told.to, "ann@example.com");
    assert!(told.data.contains("Subject: Your password was changed"));

    // The link worked once.
    assert_eq!(browser.get(&link).await.status(), 410);
    let again = app.browser();
    let html = again.get("/password/forgot").await.text().await.unwrap();
    let csrf = authify_testkit::hidden_value(&html, "csrf_token").unwrap();
    let res = again
        .post(
            "/password/reset",
            &[
                ("csrf_token", &csrf),
                ("token", token),
                ("password", "yet another one!"),
            ],
        )
        .await;
    assert_eq!(res.status(), 410);
    assert!(
        signed_in(&app, "ann@example.com", NEW_PASSWORD)
            .await
            .is_some()
    );
}

#[tokio::test]
async fn an_unknown_address_gets_the_same_page_and_no_mail() {
    let (app, smtp) = app_with_smtp().await;
    app.create_user("ann@example.com", false).await;
    let (known_status, known) = ask(&app, "ann@example.com").await;
    let (unknown_status, unknown) = ask(&app, "nobody@example.com").await;
    assert_eq!(known_status, unknown_status);
    let strip = |page: &str, email: &str| {
        // The pages differ only in the address they repeat and their form tokens.
        page.replace(email, "ADDRESS")
            .lines()
            .filter(|l| !l.contains("csrf_token"))
            .collect::<Vec<_>>()
            .join("\n")
    };
    assert_eq!(
        strip(&known, "ann@example.com"),
        strip(&unknown, "nobody@example.com")
    );
    // Mails leave in order: the next one after Ann's is Bob's, so none went to the unknown one.
    app.create_user("bob@example.com", false).await;
    ask(&app, "bob@example.com").await;
    assert_eq!(smtp.next().await.to, "ann@example.com");
    assert_eq!(smtp.next().await.to, "bob@example.com");
    // Not an address at all: said so, nothing sent.
    let (status, page) = ask(&app, "not an address").await;
    assert_eq!(status, 400);
    assert!(page.contains("valid e-mail address"), "{page}");
}

#[tokio::test]
async fn a_link_expires_after_thirty_minutes_and_a_short_password_spends_nothing() {
    let (app, smtp) = app_with_smtp().await;
    app.create_user("ann@example.com", false).await;
    ask(&app, "ann@example.com").await;
    let link = link_in(&smtp.next().await);
    let token = link.split("token=").nth(1).unwrap().to_owned();
    let browser = app.browser();

    let res = browser
        .submit(
            &link,
            "/password/reset",
            &[("token", &token), ("password", "short")],
        )
        .await;
    assert_eq!(res.status(), 400);
    assert!(res.text().await.unwrap().contains("characters"));
    assert_eq!(browser.get(&link).await.status(), 200, "still live");

    app.clock.advance(Duration::minutes(29));
    assert_eq!(browser.get(&link).await.status(), 200);
    app.clock.advance(Duration::minutes(2));
    let res = browser.get(&link).await;
    assert_eq!(res.status(), 410);
    assert!(res.text().await.unwrap().contains("no longer works"));
    let html = browser.get("/password/forgot").await.text().await.unwrap();
    let csrf = authify_testkit::hidden_value(&html, "csrf_token").unwrap();
    let res = browser
        .post(
            "/password/reset",
            &[
                ("csrf_token", &csrf),
                ("token", &token),
                ("password", NEW_PASSWORD),
            ],
        )
        .await;
    assert_eq!(res.status(), 410);
    assert!(signed_in(&app, "ann@example.com", PASSWORD).await.is_some());
}

#[tokio::test]
async fn requests_for_one_address_are_throttled_without_saying_so() {
    let (app, smtp) = app_with_smtp().await;
    app.create_user("ann@example.com", false).await;
    app.create_user("bob@example.com", false).await;
    for _ in 0..3 {
        let (status, page) = ask(&app, "ann@example.com").await;
        assert_eq!(status, 200);
        assert!(page.contains("is on its way"));
    }
    ask(&app, "bob@example.com").await;
    // Two links a minute per address: the third request sent nothing.
    let sent: Vec<String> = [smtp.next().await, smtp.next().await, smtp.next().await]
        .into_iter()
        .map(|m| m.to)
        .collect();
    assert_eq!(
        sent,
        ["ann@example.com", "ann@example.com", "bob@example.com"]
    );
}

#[tokio::test]
async fn the_reset_forms_need_their_token() {
    let (app, _smtp) = app_with_smtp().await;
    let b = app.browser();
    let res = b
        .post("/password/forgot", &[("email", "ann@example.com")])
        .await;
    assert_eq!(res.status(), 403);
    let res = b
        .post(
            "/password/reset",
            &[("token", "x"), ("password", NEW_PASSWORD)],
        )
        .await;
    assert_eq!(res.status(), 403);
}

/// Asks for a reset of `email`, follows the mailed link and sets `password`.
async fn reset(app: &TestApp, smtp: &SmtpReceiver, email: &str, password: &str) -> Mail {
    assert_eq!(ask(app, email).await.0, 200);
    let mail = smtp.next().await;
    let link = link_in(&mail);
    let token = link.split("token=").nth(1).unwrap().to_owned();
    let res = app
        .browser()
        .submit(
            &link,
            "/password/reset",
            &[("token", &token), ("password", password)],
        )
        .await;
    assert_eq!(res.status(), 200);
    assert!(res.text().await.unwrap().contains("Password changed"));
    let told = smtp.next().await;
    assert!(told.data.contains("Subject: Your password was changed"));
    told
}

/// `user_id`'s provider subjects and live API keys.
fn ways_in(app: &TestApp, user_id: i64) -> (Vec<String>, usize) {
    app.state
        .db()
        .run_blocking(move |c| {
            let subjects = authify_store::upstream::list_identities(c, user_id)?
                .into_iter()
                .map(|i| i.subject)
                .collect();
            let keys = authify_store::api_keys::list_api_keys(c, user_id)?
                .iter()
                .filter(|k| k.revoked_at.is_none())
                .count();
            Ok::<_, authify_store::StoreError>((subjects, keys))
        })
        .unwrap()
}

#[tokio::test]
async fn a_reset_that_first_proves_the_address_drops_the_provider_links_and_api_keys_made_before() {
    let (app, smtp) = app_with_smtp().await;
    // Someone signed up with ann's address (never confirmed) and attached ways in.
    let squatter = app.create_user("ann@example.com", false).await;
    assert!(!squatter.email_verified);
    app.api_key("ann@example.com", false).await;
    let link = |subject: &'static str| {
        let id = squatter.id;
        app.state
            .db()
            .run_blocking(move |c| {
                authify_store::upstream::insert_identity(
                    c,
                    id,
                    "github",
                    subject,
                    None,
                    chrono::Utc::now().naive_utc(),
                )
            })
            .unwrap()
    };
    link("666");
    assert_eq!(ways_in(&app, squatter.id), (vec!["666".to_owned()], 1));

    // Ann resets through her mailbox: the address is proven, and those ways in are gone.
    let told = reset(&app, &smtp, "ann@example.com", NEW_PASSWORD).await;
    assert_eq!(ways_in(&app, squatter.id), (vec![], 0));
    assert!(
        told.plain()
            .contains("1 linked sign-in provider(s) and 1 API key(s) were removed"),
        "{}",
        told.plain()
    );
    let ann = app
        .state
        .db()
        .run_blocking(|c| authify_store::users::find_user_by_email(c, "ann@example.com"))
        .unwrap()
        .unwrap();
    assert!(ann.email_verified);

    // Once the address is proven, a later reset keeps what its owner set up.
    link("7");
    app.api_key("ann@example.com", false).await;
    let told = reset(&app, &smtp, "ann@example.com", "a third passphrase!").await;
    assert_eq!(ways_in(&app, ann.id), (vec!["7".to_owned()], 1));
    assert!(!told.plain().contains("were removed"));
}
