//! The sign-in flow as a browser and a relying app see it: sign-up, login through the callback,
//! single sign-on, logout, CSRF, and what a token says about the user.

use authify_client::{AuthifyClient, ClientConfig};
use authify_domain::Algorithm;
use authify_testkit::{
    PASSWORD, b64, hidden_value, jwt_in, location, spawn_app, spawn_app_in, spawn_app_with,
};
use base64::Engine as _;

fn callback_of(app: &authify_testkit::TestApp) -> String {
    format!("{}/app/callback", app.address)
}

async fn verify(app: &authify_testkit::TestApp, app_id: &str, url: &str) -> authify_client::Claims {
    let token = jwt_in(url).unwrap_or_else(|| panic!("no jwt in {url}"));
    AuthifyClient::new(ClientConfig::new(&app.address, app_id))
        .unwrap()
        .verify(&token)
        .await
        .unwrap()
}

#[tokio::test]
async fn signup_creates_an_account_signs_in_and_shows_it_on_the_account_page() {
    let app = spawn_app().await;
    let browser = app.browser();
    let res = browser.sign_up("", "Ann Lee", "Ann@Example.com").await;
    assert_eq!(res.status(), 303);
    assert_eq!(location(&res), "/account");
    let page = browser.get("/account").await;
    assert_eq!(page.status(), 200);
    let html = page.text().await.unwrap();
    assert!(
        html.contains("Ann Lee") && html.contains("ann@example.com"),
        "{html}"
    );
}

#[tokio::test]
async fn login_redirects_to_the_callback_with_a_verifiable_jwt_for_every_base64_variant() {
    let app = spawn_app().await;
    let cb = callback_of(&app);
    let app_id = app.create_app("Wiki", &[&cb]).await;
    let user = app.create_user("ann@example.com", false).await;
    let standard = b64(&cb);
    let ruby: String = standard
        .as_bytes()
        .chunks(60)
        .map(|c| format!("{}\n", std::str::from_utf8(c).unwrap()))
        .collect();
    let url_safe = base64::engine::general_purpose::URL_SAFE.encode(&cb);
    let variants = [
        standard.clone(),
        standard.trim_end_matches('=').to_owned(),
        url_safe.clone(),
        url_safe.trim_end_matches('=').to_owned(),
        ruby,
    ];
    for variant in variants {
        let browser = app.browser();
        let query = format!("?callback={}", urlencode(&variant));
        let res = browser.sign_in(&query, "ann@example.com", PASSWORD).await;
        assert_eq!(res.status(), 303, "{variant:?}");
        let to = location(&res);
        assert!(to.starts_with(&format!("{cb}?jwt=")), "{variant:?} -> {to}");
        let claims = verify(&app, &app_id, &to).await;
        assert_eq!(claims.sub, user.public_id);
        assert_eq!(claims.aud, app_id);
        assert_eq!(claims.user.username, "ann@example.com");
    }
}

fn urlencode(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

#[tokio::test]
async fn the_apps_query_is_kept_jwt_replaced_and_state_returned_unchanged() {
    let app = spawn_app().await;
    let registered = callback_of(&app);
    app.create_app("Wiki", &[&registered]).await;
    app.create_user("ann@example.com", false).await;
    let with_query = format!("{registered}?next=%2Fdocs%2F1&jwt=stale");
    let query = format!(
        "?callback={}&state={}",
        urlencode(&b64(&with_query)),
        urlencode("xyz 123/+=")
    );
    let res = app
        .browser()
        .sign_in(&query, "ann@example.com", PASSWORD)
        .await;
    let to = reqwest::Url::parse(&location(&res)).unwrap();
    let pairs: Vec<(String, String)> = to
        .query_pairs()
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    assert_eq!(pairs[0], ("next".to_owned(), "/docs/1".to_owned()));
    assert_eq!(pairs.iter().filter(|(k, _)| k == "jwt").count(), 1);
    assert_ne!(pairs[1].1, "stale");
    assert_eq!(pairs[2], ("state".to_owned(), "xyz 123/+=".to_owned()));
}

#[tokio::test]
async fn a_signed_in_user_is_sent_straight_back_to_another_app_with_a_fresh_token() {
    let app = spawn_app().await;
    let (cb1, cb2) = (callback_of(&app), format!("{}/other/callback", app.address));
    let (wiki, chat) = (
        app.create_app("Wiki", &[&cb1]).await,
        app.create_app("Chat", &[&cb2]).await,
    );
    app.create_user("ann@example.com", false).await;
    let browser = app.browser();
    let first = browser
        .sign_in(
            &format!("?callback={}", urlencode(&b64(&cb1))),
            "ann@example.com",
            PASSWORD,
        )
        .await;
    assert_eq!(verify(&app, &wiki, &location(&first)).await.aud, wiki);

    let again = browser
        .get(&format!(
            "/login?callback={}&state=s2",
            urlencode(&b64(&cb2))
        ))
        .await;
    assert_eq!(
        again.status(),
        303,
        "single sign-on: no form for a signed-in user"
    );
    let to = location(&again);
    assert!(to.starts_with(&cb2) && to.ends_with("&state=s2"), "{to}");
    assert_eq!(verify(&app, &chat, &to).await.aud, chat);
}

#[tokio::test]
async fn login_without_a_callback_signs_in_to_the_account_page() {
    let app = spawn_app().await;
    app.create_user("ann@example.com", false).await;
    let browser = app.browser();
    let res = browser.sign_in("", "ann@example.com", PASSWORD).await;
    assert_eq!(
        (res.status().as_u16(), location(&res)),
        (303, "/account".to_owned())
    );
    assert_eq!(
        browser.get("/login").await.status(),
        303,
        "signed in: /login goes on to /account"
    );
}

#[tokio::test]
async fn a_wrong_password_and_an_unknown_user_get_the_same_status_and_message() {
    let app = spawn_app().await;
    app.create_user("ann@example.com", false).await;
    let wrong = app
        .browser()
        .sign_in("", "ann@example.com", "not the password")
        .await;
    let unknown = app
        .browser()
        .sign_in("", "nobody@example.com", "not the password")
        .await;
    let malformed = app.browser().sign_in("", "not-an-email", "x").await;
    let message = |html: &str| {
        html.split("role=\"alert\"")
            .nth(1)
            .map(|s| s[..s.find("</div>").unwrap()].to_owned())
    };
    let (s1, s2, s3) = (wrong.status(), unknown.status(), malformed.status());
    let (h1, h2, h3) = (
        wrong.text().await.unwrap(),
        unknown.text().await.unwrap(),
        malformed.text().await.unwrap(),
    );
    assert_eq!((s1.as_u16(), s2.as_u16(), s3.as_u16()), (401, 401, 401));
    assert!(
        message(&h1)
            .unwrap()
            .contains("Incorrect e-mail address or password")
    );
    assert_eq!(message(&h1), message(&h2));
    assert_eq!(message(&h1), message(&h3));
}

#[tokio::test]
async fn a_disabled_user_cannot_sign_in_and_loses_their_sessions() {
    let app = spawn_app().await;
    app.create_user("ann@example.com", false).await;
    let browser = app.browser();
    browser.sign_in("", "ann@example.com", PASSWORD).await;
    assert_eq!(browser.get("/account").await.status(), 200);
    authify_testkit::setup::set_disabled(app.state.db(), "ann@example.com", true, app.clock_now())
        .await
        .unwrap();
    assert_eq!(browser.get("/account").await.status(), 303, "session ended");
    let res = app.browser().sign_in("", "ann@example.com", PASSWORD).await;
    assert_eq!(res.status(), 403);
    assert!(res.text().await.unwrap().contains("disabled"));
}

#[tokio::test]
async fn a_post_without_the_csrf_token_is_refused_and_changes_nothing() {
    let app = spawn_app().await;
    app.create_user("ann@example.com", false).await;
    let browser = app.browser();
    browser.get("/login").await; // has the CSRF cookie, but the forms below omit the token
    let res = browser
        .post(
            "/login",
            &[("email", "ann@example.com"), ("password", PASSWORD)],
        )
        .await;
    assert_eq!(res.status(), 403);
    assert!(
        res.headers()
            .get("set-cookie")
            .is_none_or(|c| !c.to_str().unwrap().contains("authify_session"))
    );
    assert_eq!(browser.get("/account").await.status(), 303, "not signed in");

    let res = browser
        .post(
            "/signup",
            &[
                ("name", "Eve"),
                ("email", "eve@example.com"),
                ("password", PASSWORD),
                ("csrf_token", "forged"),
            ],
        )
        .await;
    assert_eq!(res.status(), 403);
    let taken = app.browser().sign_up("", "Eve", "eve@example.com").await;
    assert_eq!(
        taken.status(),
        303,
        "the refused sign-up created no account"
    );

    let signed_in = app.browser();
    signed_in.sign_in("", "ann@example.com", PASSWORD).await;
    assert_eq!(signed_in.post("/logout", &[]).await.status(), 403);
    assert_eq!(
        signed_in.get("/account").await.status(),
        200,
        "still signed in"
    );
}

#[tokio::test]
async fn a_form_posted_from_another_origin_is_refused() {
    let app = spawn_app().await;
    app.create_user("ann@example.com", false).await;
    let browser = app.browser();
    let html = browser.get("/login").await.text().await.unwrap();
    let token = hidden_value(&html, "csrf_token").unwrap();
    let res = browser
        .http
        .post(format!("{}/login", app.address))
        .header("origin", "https://evil.example")
        .form(&[
            ("csrf_token", token.as_str()),
            ("email", "ann@example.com"),
            ("password", PASSWORD),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 403);
}

#[tokio::test]
async fn logout_revokes_the_session_on_the_server_not_just_the_cookie() {
    let app = spawn_app().await;
    app.create_user("ann@example.com", false).await;
    let browser = app.browser();
    let res = browser.sign_in("", "ann@example.com", PASSWORD).await;
    let cookie = res.headers()["set-cookie"].to_str().unwrap().to_owned();
    let session = cookie.split(';').next().unwrap().to_owned();
    let res = browser.submit("/logout", "/logout", &[]).await;
    assert_eq!(
        (res.status().as_u16(), location(&res)),
        (303, "/login?signed_out=1".to_owned())
    );
    // Replaying the old cookie by hand: the server no longer knows it.
    let replay = app
        .http
        .get(format!("{}/account", app.address))
        .header("cookie", &session)
        .send()
        .await
        .unwrap();
    assert_eq!(
        replay.status(),
        200,
        "reqwest follows the redirect to /login"
    );
    assert!(replay.url().path() == "/login", "{}", replay.url());
}

#[tokio::test]
async fn the_session_cookie_is_http_only_lax_and_renewed_at_every_sign_in() {
    let app = spawn_app().await;
    app.create_user("ann@example.com", false).await;
    let browser = app.browser();
    let first = browser.sign_in("", "ann@example.com", PASSWORD).await;
    let c1 = first.headers()["set-cookie"].to_str().unwrap().to_owned();
    assert!(
        c1.starts_with("authify_session=")
            && c1.contains("HttpOnly")
            && c1.contains("SameSite=Lax"),
        "{c1}"
    );
    assert!(!c1.contains("Secure"), "http public URL: no Secure flag");
    // Signing in again (e.g. after a form resubmit) issues a new id and revokes the old one.
    let second = browser
        .post(
            "/login",
            &[
                ("csrf_token", &csrf(&browser).await),
                ("email", "ann@example.com"),
                ("password", PASSWORD),
            ],
        )
        .await;
    let c2 = second.headers()["set-cookie"].to_str().unwrap().to_owned();
    assert_ne!(c1.split(';').next(), c2.split(';').next());
    let old = app
        .http
        .get(format!("{}/logout", app.address))
        .header("cookie", c1.split(';').next().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(old.url().path(), "/login", "the old session id is dead");
}

/// The CSRF token of a signed-in browser (the sign-out page has a form).
async fn csrf(browser: &authify_testkit::Browser) -> String {
    let html = browser.get("/logout").await.text().await.unwrap();
    hidden_value(&html, "csrf_token").unwrap()
}

#[tokio::test]
async fn the_cookies_are_secure_and_host_prefixed_when_the_public_url_is_https() {
    let dir = tempfile::tempdir().unwrap();
    let app = spawn_app_in(dir, &[("AUTHIFY_PUBLIC_URL", "https://id.example.com")]).await;
    app.create_user("ann@example.com", false).await;
    let res = app.browser().sign_in("", "ann@example.com", PASSWORD).await;
    assert_eq!(res.status(), 303);
    // Browsers are told to use https only, for a year.
    assert_eq!(
        res.headers()["strict-transport-security"],
        "max-age=31536000"
    );
    let cookies: Vec<&str> = res
        .headers()
        .get_all("set-cookie")
        .iter()
        .map(|c| c.to_str().unwrap())
        .collect();
    assert!(
        cookies
            .iter()
            .any(|c| c.starts_with("__Host-authify_session=")),
        "{cookies:?}"
    );
    // __Host-: Secure, Path=/, no Domain, so no sibling subdomain can plant or read it.
    for c in &cookies {
        assert!(c.starts_with("__Host-"), "{c}");
        assert!(
            c.contains("Secure") && c.contains("Path=/") && !c.contains("Domain"),
            "{c}"
        );
    }
}

#[tokio::test]
async fn signup_can_be_disabled() {
    let dir = tempfile::tempdir().unwrap();
    let app = spawn_app_in(dir, &[("AUTHIFY_SIGNUP", "false")]).await;
    let browser = app.browser();
    assert_eq!(browser.get("/signup").await.status(), 403);
    let login = browser.get("/login").await.text().await.unwrap();
    assert!(
        !login.contains("href=\"/signup"),
        "no sign-up link when disabled"
    );
    let token = hidden_value(&login, "csrf_token").unwrap();
    let res = browser
        .post(
            "/signup",
            &[
                ("csrf_token", &token),
                ("name", "E"),
                ("email", "e@example.com"),
                ("password", PASSWORD),
            ],
        )
        .await;
    assert_eq!(res.status(), 403);
    let created = app
        .state
        .db()
        .run_blocking(|conn| authify_store::users::find_user_by_email(conn, "e@example.com"))
        .unwrap();
    assert!(created.is_none(), "no account was created");
}

#[tokio::test]
async fn a_taken_e_mail_or_invalid_input_gets_the_form_back_with_a_clear_error() {
    let app = spawn_app().await;
    app.create_user("ann@example.com", false).await;
    let taken = app.browser().sign_up("", "Ann", "ANN@example.com").await;
    assert_eq!(taken.status(), 409);
    assert!(taken.text().await.unwrap().contains("already exists"));
    let browser = app.browser();
    let short = browser
        .submit(
            "/signup",
            "/signup",
            &[
                ("name", "Bo"),
                ("email", "bo@example.com"),
                ("password", "short"),
            ],
        )
        .await;
    assert_eq!(short.status(), 400);
    let html = short.text().await.unwrap();
    assert!(
        html.contains("8 to 1024 characters") && html.contains("value=\"bo@example.com\""),
        "{html}"
    );
    let bad = browser
        .submit(
            "/signup",
            "/signup",
            &[("name", "Bo"), ("email", "bo@"), ("password", PASSWORD)],
        )
        .await;
    assert_eq!(bad.status(), 400);
}

#[tokio::test]
async fn the_token_carries_organizations_groups_and_admin_scope_on_every_algorithm() {
    for alg in Algorithm::ALL {
        let app = spawn_app_with(alg).await;
        let cb = callback_of(&app);
        let app_id = app.create_app("Wiki", &[&cb]).await;
        let admin = app.create_user("root@example.com", true).await;
        let db = app.state.db();
        let now = chrono::Utc::now();
        let acme = authify_testkit::setup::create_org(db, "Acme", now)
            .await
            .unwrap();
        authify_testkit::setup::create_org(db, "Zeta", now)
            .await
            .unwrap();
        authify_testkit::setup::add_org_member(db, "Acme", "root@example.com", true, now)
            .await
            .unwrap();
        authify_testkit::setup::add_org_member(db, "Zeta", "root@example.com", false, now)
            .await
            .unwrap();
        let ops = authify_testkit::setup::create_group(db, "Acme", "ops", now)
            .await
            .unwrap();
        authify_testkit::setup::create_group(db, "Acme", "sales", now)
            .await
            .unwrap();
        authify_testkit::setup::add_group_member(db, "Acme", "ops", "root@example.com", now)
            .await
            .unwrap();

        let res = app
            .browser()
            .sign_in(
                &format!("?callback={}", urlencode(&b64(&cb))),
                "root@example.com",
                PASSWORD,
            )
            .await;
        let to = location(&res);
        let header: serde_json::Value = serde_json::from_slice(
            &base64::engine::general_purpose::URL_SAFE_NO_PAD
                .decode(jwt_in(&to).unwrap().split('.').next().unwrap())
                .unwrap(),
        )
        .unwrap();
        assert_eq!(header["alg"], alg.as_str());
        let claims = verify(&app, &app_id, &to).await;
        assert_eq!(claims.scopes, ["user_access", "admin_access"]);
        assert_eq!(claims.sub, admin.public_id);
        assert_eq!(claims.user.uid, admin.public_id);
        let orgs = &claims.user.organizations;
        assert_eq!(orgs.len(), 2);
        assert_eq!(
            (orgs[0].name.as_str(), orgs[0].oid.as_str(), orgs[0].admin),
            ("Acme", acme.public_id.as_str(), true)
        );
        assert_eq!(orgs[0].memberships.len(), 1);
        assert_eq!(
            (
                orgs[0].memberships[0].name.as_str(),
                orgs[0].memberships[0].gid.as_str()
            ),
            ("ops", ops.public_id.as_str())
        );
        assert_eq!(
            (
                orgs[1].name.as_str(),
                orgs[1].admin,
                orgs[1].memberships.len()
            ),
            ("Zeta", false, 0)
        );
        assert_eq!(claims.exp - claims.iat, 15 * 60);
    }
}

#[tokio::test]
async fn passwords_are_stored_as_argon2id_with_owasp_parameters_by_default() {
    // No argon2 setting given: the running server's defaults decide what it stores.
    let app = spawn_app().await;
    let res = app.browser().sign_up("", "Ann", "ann@example.com").await;
    assert_eq!(res.status(), 303);
    let stored = app
        .state
        .db()
        .run_blocking(|conn| authify_store::users::find_user_by_email(conn, "ann@example.com"))
        .unwrap()
        .unwrap()
        .password_hash;
    assert!(
        stored.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"),
        "the server stored {stored}"
    );
    let res = app.browser().sign_in("", "ann@example.com", PASSWORD).await;
    assert_eq!(res.status(), 303);
}

#[tokio::test]
async fn pages_have_labelled_fields_autocomplete_hints_and_no_inline_script() {
    let app = spawn_app().await;
    app.create_user("ann@example.com", false).await;
    let browser = app.browser();
    for path in ["/login", "/signup"] {
        let res = browser.get(path).await;
        assert_eq!(res.headers()["cache-control"], "no-store");
        assert!(
            res.headers()["content-security-policy"]
                .to_str()
                .unwrap()
                .contains("default-src 'self'")
        );
        let html = res.text().await.unwrap();
        assert!(!html.contains("<script"), "{path}");
        assert!(!html.contains("style=\""), "{path}");
        for field in ["email", "password"] {
            assert!(
                html.contains(&format!("name=\"{field}\"")),
                "{path} {field}"
            );
            assert!(
                html.contains(&format!("for=\"{field}\"")),
                "{path} label for {field}"
            );
        }
        assert!(html.contains("autocomplete=\""), "{path}");
    }
    let css = browser.get("/static/css/authify.css").await;
    assert_eq!(css.headers()["content-type"], "text/css; charset=utf-8");
}

#[tokio::test]
async fn repeated_sign_in_attempts_for_one_account_are_throttled_known_or_not() {
    let dir = tempfile::tempdir().unwrap();
    let app = spawn_app_in(dir, &[("AUTHIFY_SIGNIN_ATTEMPTS_PER_MINUTE", "3")]).await;
    app.create_user("ann@example.com", false).await;
    for _ in 0..3 {
        assert_eq!(
            app.browser()
                .sign_in("", "ann@example.com", "wrong password")
                .await
                .status(),
            401
        );
    }
    // Even the right password waits now: the limit is per account, not per failure.
    let res = app.browser().sign_in("", "ANN@example.com", PASSWORD).await;
    assert_eq!(res.status(), 429);
    let wait: u64 = res.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=20).contains(&wait), "{wait}");
    assert!(
        res.headers()
            .get("set-cookie")
            .is_none_or(|c| !c.to_str().unwrap().contains("authify_session"))
    );
    assert!(
        res.text()
            .await
            .unwrap()
            .contains("Too many sign-in attempts")
    );

    // An unknown address is throttled the same way, so the limit reveals nothing.
    for _ in 0..3 {
        assert_eq!(
            app.browser()
                .sign_in("", "nobody@example.com", "x")
                .await
                .status(),
            401
        );
    }
    assert_eq!(
        app.browser()
            .sign_in("", "nobody@example.com", "x")
            .await
            .status(),
        429
    );
    // Other accounts are unaffected.
    app.create_user("bob@example.com", false).await;
    assert_eq!(
        app.browser()
            .sign_in("", "bob@example.com", PASSWORD)
            .await
            .status(),
        303
    );
}
