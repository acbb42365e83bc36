//! E-mail sign-in links through the real server and a loopback SMTP server: asked for on the
//! login page (`AUTHIFY_MAGIC_LINKS=on`), mailed, opened without being spent, confirmed only in
//! the browser that asked, single use, 10 minutes (fixed clock), the same answer for known and
//! unknown addresses, throttled per address; as a second factor where the address is confirmed.
//! Off by default. And the whole walk in headless Chromium, every page through axe-core (light
//! and dark).

use authify_testkit::{Browser, TestApp, b64, hidden_value, location, spawn_app, spawn_app_in};
use chrono::Duration;

use crate::mfa::{enrol_totp, signed_in};
use crate::mfa_support::{Mail, SmtpReceiver, jwt_claims};

const CALLBACK: &str = "https://wiki.example/cb";

async fn app_with_links() -> (TestApp, SmtpReceiver) {
    let smtp = SmtpReceiver::start().await;
    let dir = tempfile::tempdir().unwrap();
    let app = spawn_app_in(
        dir,
        &[
            ("AUTHIFY_SMTP_URL", &smtp.url()),
            ("AUTHIFY_MAGIC_LINKS", "on"),
        ],
    )
    .await;
    app.create_app("Wiki", &[CALLBACK]).await;
    (app, smtp)
}

/// Asks for a link for `email` in `browser`, from the login page of the wiki's sign-in; returns
/// the page's status and text.
async fn ask(browser: &Browser, email: &str) -> (u16, String) {
    let login = browser
        .get(&format!("/login?callback={}", b64(CALLBACK)))
        .await
        .text()
        .await
        .unwrap();
    let start = login
        .find("/login/email-link?")
        .expect("the login page offers a link");
    let href = login[start..]
        .split('"')
        .next()
        .unwrap()
        .replace("&amp;", "&");
    let res = browser
        .submit(&href, "/login/email-link", &[("email", email)])
        .await;
    (res.status().as_u16(), res.text().await.unwrap())
}

/// The sign-in link in the next mail that has one (earlier mails, such as "a factor was
/// added", are skipped): its path and query.
async fn next_link(smtp: &SmtpReceiver) -> String {
    loop {
        let text = smtp.next().await.plain();
        if let Some(start) = text.find("/login/email-link/confirm?token=") {
            return text[start..].split_whitespace().next().unwrap().to_owned();
        }
    }
}

/// The sign-in link in a mail: its path and query.
fn link_in(mail: &Mail) -> String {
    let text = mail.plain();
    let start = text
        .find("/login/email-link/confirm?token=")
        .expect("a sign-in link");
    text[start..].split_whitespace().next().unwrap().to_owned()
}

/// Posts the confirm button of the page `link` shows in `browser`.
async fn confirm(browser: &Browser, link: &str) -> reqwest::Response {
    let token = link.split("token=").nth(1).unwrap();
    browser
        .submit(link, "/login/email-link/confirm", &[("token", token)])
        .await
}

/// Confirms `email`'s address in the database (as its confirmation link would).
fn mark_verified(app: &TestApp, email: &str) {
    let changed = app
        .state
        .db()
        .run_blocking(|conn| {
            let user = authify_store::users::find_user_by_email(conn, email)?
                .ok_or(authify_core::StoreError::NotFound("user"))?;
            authify_store::users::set_email_verified(conn, user.id, email)
        })
        .unwrap();
    assert!(changed);
}

#[tokio::test]
async fn a_mailed_link_signs_in_only_in_the_browser_that_asked_and_only_once() {
    let (app, smtp) = app_with_links().await;
    app.create_user("ann@example.com", false).await;
    let asking = app.browser();
    let (status, page) = ask(&asking, "ann@example.com").await;
    assert_eq!(status, 200);
    assert!(page.contains("is on its way"), "{page}");
    let mail = smtp.next().await;
    assert_eq!(mail.to, "ann@example.com");
    assert!(mail.data.contains("Subject: Your sign-in link"));
    let link = link_in(&mail);

    // Another browser (someone who reads the mail elsewhere) signs nothing in, by GET or POST.
    let other = app.browser();
    let res = other.get(&link).await;
    assert_eq!(res.status(), 403);
    assert!(
        res.text()
            .await
            .unwrap()
            .contains("works only in the browser where you asked")
    );
    let other_page = other.get("/login").await.text().await.unwrap();
    let csrf = hidden_value(&other_page, "csrf_token").unwrap();
    let token = link.split("token=").nth(1).unwrap();
    let res = other
        .post(
            "/login/email-link/confirm",
            &[("csrf_token", &csrf), ("token", token)],
        )
        .await;
    assert_eq!(res.status(), 403);
    assert_eq!(location(&other.get("/account").await), "/login");

    // Opening it (as a mail scanner would) spends nothing.
    for _ in 0..2 {
        let res = asking.get(&link).await;
        assert_eq!(res.status(), 200);
        assert!(res.text().await.unwrap().contains("Confirm to sign in"));
    }
    let res = confirm(&asking, &link).await;
    assert_eq!(res.status(), 303);
    let back = location(&res);
    assert!(back.starts_with(&format!("{CALLBACK}?jwt=")), "{back}");
    let claims = jwt_claims(&back);
    assert_eq!(claims["user"]["username"], "ann@example.com");
    assert_eq!(claims["amr"], serde_json::json!(["email"]));
    // The link proved the address.
    assert_eq!(claims["user"]["email_verified"], true);

    // Used: the page says so, and it signs nothing in again.
    let res = asking.get(&link).await;
    assert_eq!(res.status(), 410);
    let again = app.browser();
    let (_, _) = ask(&again, "someone@example.com").await;
    let html = again.get("/login").await.text().await.unwrap();
    let csrf = hidden_value(&html, "csrf_token").unwrap();
    let res = again
        .post(
            "/login/email-link/confirm",
            &[("csrf_token", &csrf), ("token", token)],
        )
        .await;
    assert_eq!(res.status(), 410);
}

#[tokio::test]
async fn an_unknown_address_gets_the_same_page_and_no_mail() {
    let (app, smtp) = app_with_links().await;
    app.create_user("ann@example.com", false).await;
    let (status, unknown) = ask(&app.browser(), "nobody@example.com").await;
    let (status2, known) = ask(&app.browser(), "ann@example.com").await;
    assert_eq!((status, status2), (200, 200));
    let strip = |page: &str, email: &str| page.replace(email, "ADDRESS");
    let (a, b) = (
        strip(&unknown, "nobody@example.com"),
        strip(&known, "ann@example.com"),
    );
    // The pages differ only in their form tokens.
    let without_tokens = |p: &str| {
        p.lines()
            .filter(|l| !l.contains("csrf_token") && !l.contains("data-csrf"))
            .collect::<Vec<_>>()
            .join("\n")
    };
    assert_eq!(without_tokens(&a), without_tokens(&b));
    // The first mail is the known address's: the unknown one got none.
    assert_eq!(smtp.next().await.to, "ann@example.com");
}

#[tokio::test]
async fn a_link_expires_after_ten_minutes() {
    let (app, smtp) = app_with_links().await;
    app.create_user("ann@example.com", false).await;
    let browser = app.browser();
    ask(&browser, "ann@example.com").await;
    let link = link_in(&smtp.next().await);
    app.clock.advance(Duration::minutes(9));
    assert_eq!(browser.get(&link).await.status(), 200);
    app.clock.advance(Duration::minutes(2));
    assert_eq!(browser.get(&link).await.status(), 410);
    assert_eq!(confirm_expired(&browser, &link).await, 410);
}

/// Posts `link`'s token with a fresh form token of the browser (the link page has no button).
async fn confirm_expired(browser: &Browser, link: &str) -> u16 {
    let html = browser.get("/login").await.text().await.unwrap();
    let csrf = hidden_value(&html, "csrf_token").unwrap();
    let token = link.split("token=").nth(1).unwrap();
    browser
        .post(
            "/login/email-link/confirm",
            &[("csrf_token", &csrf), ("token", token)],
        )
        .await
        .status()
        .as_u16()
}

#[tokio::test]
async fn asking_again_and_again_for_one_address_mails_it_twice_a_minute_at_most() {
    let (app, smtp) = app_with_links().await;
    app.create_user("ann@example.com", false).await;
    app.create_user("bob@example.com", false).await;
    for _ in 0..4 {
        let (status, page) = ask(&app.browser(), "ann@example.com").await;
        assert_eq!(status, 200);
        assert!(page.contains("is on its way"));
    }
    ask(&app.browser(), "bob@example.com").await;
    let to: Vec<String> = [smtp.next().await, smtp.next().await, smtp.next().await]
        .into_iter()
        .map(|m| m.to)
        .collect();
    assert_eq!(
        to,
        ["ann@example.com", "ann@example.com", "bob@example.com"]
    );
}

#[tokio::test]
async fn a_forged_form_token_or_no_flow_changes_nothing() {
    let (app, smtp) = app_with_links().await;
    app.create_user("ann@example.com", false).await;
    let browser = app.browser();
    ask(&browser, "ann@example.com").await;
    let link = link_in(&smtp.next().await);
    let token = link.split("token=").nth(1).unwrap();
    let res = browser
        .post(
            "/login/email-link/confirm",
            &[("csrf_token", "forged"), ("token", token)],
        )
        .await;
    assert_eq!(res.status(), 403);
    // Still live for the right form.
    assert_eq!(confirm(&browser, &link).await.status(), 303);
}

#[tokio::test]
async fn links_are_off_by_default() {
    let app = spawn_app().await;
    let login = app.browser().get("/login").await.text().await.unwrap();
    assert!(!login.contains("email-link"), "{login}");
    assert_eq!(app.browser().get("/login/email-link").await.status(), 404);
    let res = app.browser().get("/login/email-link/confirm?token=x").await;
    assert_eq!(res.status(), 404);
}

/// Adds e-mail codes as Ann's second factor from her account page.
async fn add_email_factor(account: &Browser) {
    let res = account
        .submit(
            "/account",
            "/account/factors/email",
            &[("current_password", authify_testkit::PASSWORD)],
        )
        .await;
    // The page with the recovery codes for a first factor, else back to the account page.
    assert!(
        [200, 303].contains(&res.status().as_u16()),
        "{}",
        res.status()
    );
}

/// The password step of a sign-in to the wiki in a fresh browser; it must wait for a factor.
async fn password_step(app: &TestApp) -> Browser {
    let browser = app.browser();
    let res = browser
        .sign_in(
            &format!("?callback={}", b64(CALLBACK)),
            "ann@example.com",
            authify_testkit::PASSWORD,
        )
        .await;
    assert_eq!(location(&res), "/login/factor");
    browser
}

#[tokio::test]
async fn as_a_second_factor_a_link_serves_a_confirmed_address_chosen_as_a_factor() {
    let (app, smtp) = app_with_links().await;
    let account = signed_in(&app, "ann@example.com").await;
    enrol_totp(&app, &account).await;
    // Not offered while e-mail is not one of her factors, even with the address confirmed.
    mark_verified(&app, "ann@example.com");
    let browser = password_step(&app).await;
    let factor = browser.get("/login/factor").await.text().await.unwrap();
    assert!(!factor.contains("/login/email-link"), "{factor}");

    add_email_factor(&account).await;
    let browser = password_step(&app).await;
    let factor = browser.get("/login/factor").await.text().await.unwrap();
    assert!(factor.contains("href=\"/login/email-link\""), "{factor}");
    let page = browser.get("/login/email-link").await.text().await.unwrap();
    assert!(page.contains("We mail a link to <strong>ann@example.com</strong>"));
    let res = browser
        .submit("/login/email-link", "/login/email-link", &[])
        .await;
    assert_eq!(res.status(), 200);
    let link = next_link(&smtp).await;
    let res = confirm(&browser, &link).await;
    assert_eq!(res.status(), 303);
    let back = location(&res);
    assert!(back.starts_with(&format!("{CALLBACK}?jwt=")), "{back}");
    assert_eq!(
        jwt_claims(&back)["amr"],
        serde_json::json!(["pwd", "email", "mfa"])
    );
}

#[tokio::test]
async fn a_first_factor_link_leaves_the_second_factor_to_another_channel_than_the_mailbox() {
    let (app, smtp) = app_with_links().await;
    let account = signed_in(&app, "ann@example.com").await;
    enrol_totp(&app, &account).await;
    add_email_factor(&account).await;
    mark_verified(&app, "ann@example.com");
    let browser = app.browser();
    // Two links asked at the first factor: the second must not pass the second factor.
    ask(&browser, "ann@example.com").await;
    ask(&browser, "ann@example.com").await;
    let (first, second) = (next_link(&smtp).await, next_link(&smtp).await);
    let res = confirm(&browser, &first).await;
    assert_eq!(res.status(), 303);
    assert_eq!(location(&res), "/login/factor");
    // Neither a link nor an e-mail code is offered or taken as the second factor.
    let factor = browser.get("/login/factor").await.text().await.unwrap();
    assert!(!factor.contains("/login/email-link"), "{factor}");
    assert!(!factor.contains("method=email"), "{factor}");
    let csrf = hidden_value(&factor, "csrf_token").unwrap();
    let token = second.split("token=").nth(1).unwrap();
    let res = browser
        .post(
            "/login/email-link/confirm",
            &[("csrf_token", &csrf), ("token", token)],
        )
        .await;
    assert_eq!(res.status(), 410, "the other link died with the first");
    assert_eq!(browser.get(&second).await.status(), 410);
    let res = browser
        .post(
            "/login/factor",
            &[
                ("csrf_token", &csrf),
                ("method", "email"),
                ("action", "send"),
            ],
        )
        .await;
    assert_eq!(res.status(), 400);
    let res = browser.get("/login/email-link").await.text().await.unwrap();
    assert!(!res.contains("We mail a link to"), "{res}");
    assert_eq!(location(&browser.get("/account").await), "/login");
}

#[tokio::test]
async fn a_person_signs_in_with_a_mailed_link_in_chromium() {
    let dir = tempfile::tempdir().unwrap();
    // Without SMTP the server writes mails as .eml files: the walk reads the link from one.
    let app = spawn_app_in(dir, &[("AUTHIFY_MAGIC_LINKS", "on")]).await;
    let callback = format!("{}/app/callback", app.address);
    let app_id = app.create_app("Team Wiki", &[&callback]).await;
    app.create_user("link@example.com", false).await;
    let shots = authify_testkit::screenshots_dir();
    std::fs::create_dir_all(&shots).unwrap();
    let mail = app.dir.path().join("mail");
    let out = crate::browser::run_browser_script(
        "magic-link-flow.mjs",
        vec![
            app.address.clone(),
            b64(&callback),
            "link@example.com".into(),
            shots.display().to_string(),
            mail.display().to_string(),
        ],
    )
    .await;
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "browser walk failed: {stderr}");
    let result: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let final_url = result["final_url"].as_str().unwrap();
    let claims = app
        .client(&app_id)
        .verify(&authify_testkit::jwt_in(final_url).unwrap())
        .await
        .unwrap();
    assert_eq!(claims.user.username, "link@example.com");
    for shot in ["ask", "sent", "other-browser", "confirm", "expired"] {
        let png = std::fs::read(shots.join(format!("magic-link-{shot}.png"))).unwrap();
        assert!(png.starts_with(b"\x89PNG") && png.len() > 5_000, "{shot}");
    }
}
