//! The callback allow-list: an open-redirect corpus that must never produce a redirect, signed in
//! or not, and garbage that must produce a 400 page, never a 500.

use authify_testkit::{PASSWORD, TestApp, b64, location, spawn_app};

/// Registered: `{address}/app/callback` and `https://app.example.com/auth/cb`.
fn corpus(app: &TestApp) -> Vec<String> {
    let a = &app.address;
    let host = a.trim_start_matches("http://");
    vec![
        "https://evil.example/auth/cb".into(),
        "https://app.example.com.evil.example/auth/cb".into(),
        "https://evil.example/app.example.com/auth/cb".into(),
        "https://app.example.com@evil.example/auth/cb".into(),
        "https://user:pass@app.example.com/auth/cb".into(),
        "https://app.example.com/auth/cb#fragment".into(),
        "https://app.example.com/auth/cb#".into(),
        "https://app.example.com/auth/cb/".into(),
        "https://app.example.com/auth/cb/../../evil".into(),
        "https://app.example.com/auth/cbx".into(),
        "https://app.example.com/auth".into(),
        "https://app.example.com/AUTH/CB".into(),
        "https://app.example.com:444/auth/cb".into(),
        "http://app.example.com/auth/cb".into(),
        "https://sub.app.example.com/auth/cb".into(),
        "https://app.example.co/auth/cb".into(),
        "//evil.example/auth/cb".into(),
        "/auth/cb".into(),
        "javascript:alert(document.cookie)".into(),
        "JaVaScRiPt:alert(1)".into(),
        "data:text/html,<script>alert(1)</script>".into(),
        "vbscript:msgbox(1)".into(),
        "file:///etc/passwd".into(),
        "ftp://app.example.com/auth/cb".into(),
        "https:\\\\evil.example\\auth\\cb".into(),
        "https://app.example.com\\@evil.example/auth/cb".into(),
        "https://app.example.com/auth/cb\r\nSet-Cookie: x=1".into(),
        "https://app.example.com/auth/cb\t".into(),
        " https://app.example.com/auth/cb".into(),
        "https://app.example.com%2F@evil.example/auth/cb".into(),
        "https://%65vil.example/auth/cb".into(),
        "https://evil.example%23@app.example.com/auth/cb".into(),
        format!("http://{host}/app/callback/../../evil"),
        format!("http://{host}/app/callbackevil"),
        format!("http://{host}@evil.example/app/callback"),
        format!("https://{host}/app/callback"),
        format!("http://{host}.evil.example/app/callback"),
        format!(
            "http://localhost.evil.example:{}/app/callback",
            app.address.rsplit(':').next().unwrap()
        ),
        format!("{a}/app/callback#x"),
        format!("{a}/app/callback?x=1#y"),
    ]
}

async fn registered_app(app: &TestApp) {
    app.create_app(
        "Wiki",
        &[
            &format!("{}/app/callback", app.address),
            "https://app.example.com/auth/cb",
        ],
    )
    .await;
    app.create_user("ann@example.com", false).await;
}

fn refused(res: &reqwest::Response, what: &str) {
    assert_eq!(res.status(), 400, "{what}");
    assert!(
        res.headers().get("location").is_none(),
        "{what} redirected to {}",
        location(res)
    );
}

#[tokio::test]
async fn no_crafted_callback_is_ever_redirected_to_signed_out_or_signed_in() {
    let app = spawn_app().await;
    registered_app(&app).await;
    let urls = corpus(&app);
    assert!(urls.len() >= 30, "the corpus has {} URLs", urls.len());

    let signed_in = app.browser();
    assert_eq!(
        signed_in
            .sign_in("", "ann@example.com", PASSWORD)
            .await
            .status(),
        303
    );
    let signed_out = app.browser();
    for url in &urls {
        let q = format!("/login?callback={}", enc(&b64(url)));
        refused(&signed_out.get(&q).await, &format!("signed out: {url:?}"));
        refused(&signed_in.get(&q).await, &format!("signed in: {url:?}"));
    }
    // Posting valid credentials with a crafted callback signs nobody in anywhere.
    for url in urls.iter().take(10) {
        let fresh = app.browser();
        let html = fresh.get("/login").await.text().await.unwrap();
        let token = authify_testkit::hidden_value(&html, "csrf_token").unwrap();
        let res = fresh
            .post(
                "/login",
                &[
                    ("csrf_token", &token),
                    ("email", "ann@example.com"),
                    ("password", PASSWORD),
                    ("callback", &b64(url)),
                ],
            )
            .await;
        refused(&res, &format!("POST: {url:?}"));
        assert!(
            res.headers()
                .get("set-cookie")
                .is_none_or(|c| !c.to_str().unwrap().contains("authify_session"))
        );
    }
}

#[tokio::test]
async fn the_registered_callbacks_work_and_differ_only_by_the_query() {
    let app = spawn_app().await;
    registered_app(&app).await;
    let browser = app.browser();
    browser.sign_in("", "ann@example.com", PASSWORD).await;
    for url in [
        "https://app.example.com/auth/cb",
        "https://APP.example.com:443/auth/cb?a=1",
        &format!("{}/app/callback?x=y", app.address),
    ] {
        let res = browser
            .get(&format!("/login?callback={}", enc(&b64(url))))
            .await;
        assert_eq!(res.status(), 303, "{url}");
    }
}

#[tokio::test]
async fn garbage_callbacks_get_a_400_page_that_names_the_problem() {
    let app = spawn_app().await;
    registered_app(&app).await;
    let cases = [
        ("not-base64!!", "not valid base64"),
        ("%FF%FE", "not valid base64"),
        (&b64("https://unregistered.example/cb"), "not registered"),
        (
            &b64("javascript:alert(1)"),
            "scheme &quot;javascript&quot; is not allowed",
        ),
        (&b64("https://app.example.com/auth/cb#x"), "fragment"),
        (
            &b64("https://u:p@app.example.com/auth/cb"),
            "user name or password",
        ),
        (&"A".repeat(5000), "longer than"),
    ];
    for (raw, needle) in cases {
        let res = app
            .browser()
            .get(&format!("/login?callback={}", enc(raw)))
            .await;
        assert_eq!(res.status(), 400, "{raw:.40}");
        assert_eq!(res.headers()["content-type"], "text/html; charset=utf-8");
        let html = res.text().await.unwrap();
        assert!(html.contains(needle), "{raw:.40}: expected {needle:?}");
    }
}

fn enc(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}
