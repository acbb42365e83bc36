//! The sign-in engine through its real parts: flows, sessions and API keys expire by the
//! server's clock (moved by the test, never slept), an abandoned flow leaves nothing usable,
//! form tokens are bound to a live session or flow, and what the audit log keeps of a typo.

use authify_core::authn::{
    Authn, AuthnSettings, Client, Cookies, FlowState, Opened, Progress, ReturnRequest,
};
use authify_domain::Password;
use authify_testkit::{PASSWORD, TestApp, b64, hidden_value, location, spawn_app};
use chrono::Duration;
use diesel::prelude::*;

/// `(action, actor, outcome)` of every audit entry, oldest first.
fn audit(app: &TestApp) -> Vec<(String, Option<String>, String)> {
    use authify_store::schema::audit_events::dsl::*;
    app.state
        .db()
        .run_blocking(|conn| {
            Ok::<_, authify_core::StoreError>(
                audit_events
                    .order(id)
                    .select((action, actor, outcome))
                    .load(conn)?,
            )
        })
        .unwrap()
}

fn sessions_of(app: &TestApp, user_id: i64) -> i64 {
    app.state
        .db()
        .run_blocking(|conn| authify_store::sessions::count_user_sessions(conn, user_id))
        .unwrap()
}

fn flows(app: &TestApp) -> i64 {
    app.state
        .db()
        .run_blocking(authify_store::flows::count_flows)
        .unwrap()
}

#[tokio::test]
async fn a_session_ends_when_its_lifetime_is_over_on_the_servers_clock() {
    let app = spawn_app().await;
    app.create_user("ann@example.com", false).await;
    let browser = app.browser();
    assert_eq!(
        browser
            .sign_in("", "ann@example.com", PASSWORD)
            .await
            .status(),
        303
    );
    assert_eq!(browser.get("/account").await.status(), 200);

    // AUTHIFY_SESSION_TTL defaults to 12 hours.
    app.clock
        .advance(Duration::hours(12) - Duration::seconds(1));
    assert_eq!(browser.get("/account").await.status(), 200, "still valid");
    app.clock.advance(Duration::seconds(2));
    let res = browser.get("/account").await;
    assert_eq!(
        (res.status().as_u16(), location(&res)),
        (303, "/login".into())
    );

    let (sessions, _) = app.state.authn().sweep(app.clock_now()).await.unwrap();
    assert_eq!(
        sessions, 1,
        "the housekeeping job deletes the expired session"
    );
}

#[tokio::test]
async fn a_sign_in_form_older_than_its_flow_is_refused_and_a_fresh_one_works() {
    let app = spawn_app().await;
    app.create_user("ann@example.com", false).await;
    let browser = app.browser();
    let html = browser.get("/login").await.text().await.unwrap();
    let token = hidden_value(&html, "csrf_token").unwrap();
    assert_eq!(flows(&app), 1, "opening the form starts a flow");

    app.clock
        .advance(Duration::minutes(10) + Duration::seconds(1));
    let late = browser
        .post(
            "/login",
            &[
                ("csrf_token", &token),
                ("email", "ann@example.com"),
                ("password", PASSWORD),
            ],
        )
        .await;
    assert_eq!(late.status(), 403);
    assert!(late.text().await.unwrap().contains("This form has expired"));
    let (_, swept) = app.state.authn().sweep(app.clock_now()).await.unwrap();
    assert_eq!((swept, flows(&app)), (1, 0));

    let res = browser.sign_in("", "ann@example.com", PASSWORD).await;
    assert_eq!(
        (res.status().as_u16(), location(&res)),
        (303, "/account".into())
    );
    assert_eq!(flows(&app), 0, "the last step ends the flow");
}

#[tokio::test]
async fn an_api_key_stops_working_the_moment_it_expires() {
    let app = spawn_app().await;
    app.create_user("ann@example.com", false).await;
    let actor = app.actor("ann@example.com").await;
    let key = authify_core::manage::api_keys::create(
        app.state.db(),
        &actor,
        "one day",
        false,
        Some(1),
        app.clock_now(),
    )
    .await
    .unwrap();
    let body = serde_json::json!({
        "access_key": key.key.access_key,
        "secret_key": key.secret_key,
    });
    let exchange = async |app: &TestApp| {
        app.call(None, "POST", "/jwt/token", Some(body.clone()))
            .await
    };
    assert_eq!(exchange(&app).await.status, 200);

    // A token taken five minutes before the key expires outlives it by ten minutes: the key
    // is checked on every request, so the token dies with the key.
    app.clock.advance(Duration::days(1) - Duration::minutes(5));
    let late = exchange(&app).await;
    assert_eq!(late.status, 200);
    let token = late.body["jwt"].as_str().unwrap().to_owned();
    assert_eq!(
        app.call(Some(&token), "GET", "/api/v1/me", None)
            .await
            .status,
        200
    );

    app.clock.advance(Duration::minutes(6));
    assert_eq!(exchange(&app).await.status, 401);
    let refused = app.call(Some(&token), "GET", "/api/v1/me", None).await;
    assert_eq!(refused.status, 401, "{:?}", refused.body);
}

#[tokio::test]
async fn an_abandoned_flow_creates_no_session_and_no_token() {
    let app = spawn_app().await;
    let wiki = app.create_app("Wiki", &["https://wiki.example/cb"]).await;
    let ann = app.create_user("ann@example.com", false).await;
    // The same engine over the same database, with a policy that wants one more factor (every
    // user needs a second factor; Ann has none, so she must enrol one first).
    let engine = Authn::new(
        app.state.db().clone(),
        app.state.hasher().clone(),
        authify_core::throttle::SignInThrottle::new(
            app.state.db().clone(),
            std::sync::Arc::new(app.clock.clone()),
            "signin",
            0,
        ),
        app.state.token_issuer().clone(),
        AuthnSettings {
            flow_ttl: Duration::minutes(10),
            session_ttl: Duration::hours(12),
            signup_enabled: true,
            public_url: app.address.clone(),
            email_verification: authify_core::account::verify::EmailVerification::Optional,
            magic_links: false,
            unverified_account_days: 0,
            flows_per_address: 0,
            signup_work_bits: 0,
            flows_per_address_per_minute: 0,
        },
        authify_core::mfa::MfaConfig {
            mode: authify_core::mfa::MfaMode::Required,
            ..app.state.authn().mfa().clone()
        },
    );
    let keys = app.state.keys().keyring.clone();
    let now = app.clock_now();
    let request = ReturnRequest::new(Some(b64("https://wiki.example/cb")), Some("s1".into()));
    let Opened::Form(form) = engine
        .open(
            Cookies::default(),
            request.clone(),
            keys.clone(),
            Client::default(),
            now,
        )
        .await
        .unwrap()
    else {
        panic!("a browser without a session gets the form");
    };
    assert_eq!(form.ret.app_name(), Some("Wiki"));
    let cookies = Cookies {
        session: None,
        flow: Some(form.flow.token.clone()),
        device: None,
    };
    let progress = engine
        .password(
            cookies.clone(),
            request,
            "ann@example.com",
            Password::attempt(PASSWORD),
            keys.clone(),
            Client::default(),
            now,
        )
        .await
        .unwrap();
    let Progress::Pending { state, .. } = progress else {
        panic!("the password alone must not finish: {progress:?}");
    };
    assert_eq!(state, FlowState::Enrol);
    assert_eq!(
        sessions_of(&app, ann.id),
        0,
        "no session before the last step"
    );
    let actions: Vec<String> = audit(&app).into_iter().map(|(a, _, _)| a).collect();
    assert!(actions.contains(&"signin.factor".to_owned()), "{actions:?}");
    assert!(
        !actions.iter().any(|a| a == "token.issue" || a == "signin"),
        "no token and no sign-in before the last step: {actions:?}"
    );

    // Abandoned: the flow expires and is swept; its cookie then opens a new, empty flow.
    app.clock.advance(Duration::minutes(11));
    let (_, swept) = engine.sweep(app.clock_now()).await.unwrap();
    assert_eq!(swept, 1);
    let again = engine
        .open(
            cookies,
            ReturnRequest::default(),
            keys,
            Client::default(),
            app.clock_now(),
        )
        .await
        .unwrap();
    assert!(matches!(again, Opened::Form(f) if f.flow.new));
    assert_eq!(sessions_of(&app, ann.id), 0);
    assert!(!audit(&app).iter().any(|(a, _, _)| a == "token.issue"));
    let _ = wiki;
}

#[tokio::test]
async fn a_planted_flow_cookie_with_its_computed_token_is_refused() {
    let app = spawn_app().await;
    app.create_user("ann@example.com", false).await;
    let planted = "A".repeat(43);
    let token = authify_core::authn::csrf::token_for(&planted);
    let res = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
        .post(format!("{}/login", app.address))
        .header("cookie", format!("authify_flow={planted}"))
        .form(&[
            ("csrf_token", token.as_str()),
            ("email", "ann@example.com"),
            ("password", PASSWORD),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 403, "a flow the server never issued");
    assert!(res.headers().get("set-cookie").is_none());
    assert!(!audit(&app).iter().any(|(a, _, _)| a == "signin"));
}

#[tokio::test]
async fn the_form_token_changes_at_sign_in_and_at_sign_out() {
    let app = spawn_app().await;
    app.create_user("ann@example.com", false).await;
    let browser = app.browser();
    let token_of = |html: String| hidden_value(&html, "csrf_token").unwrap();
    let before = token_of(browser.get("/login").await.text().await.unwrap());
    browser.sign_in("", "ann@example.com", PASSWORD).await;
    let signed_in = token_of(browser.get("/logout").await.text().await.unwrap());
    assert_ne!(before, signed_in);
    let res = browser.post("/logout", &[("csrf_token", &signed_in)]).await;
    assert_eq!(location(&res), "/login?signed_out=1");
    let after = token_of(browser.get("/login").await.text().await.unwrap());
    assert_ne!(after, signed_in);
    // The signed-out session's token no longer opens any form.
    let stale = browser.post("/logout", &[("csrf_token", &signed_in)]).await;
    assert_eq!(stale.status(), 403);
}

#[tokio::test]
async fn a_password_typed_into_the_email_field_is_not_kept_in_the_audit_log() {
    let app = spawn_app().await;
    app.create_user("ann@example.com", false).await;
    let browser = app.browser();
    let res = browser.sign_in("", "Tr0ub4dor&3-secret", "whatever").await;
    assert_eq!(res.status(), 401);
    let res = browser.sign_in("", "nobody@example.com", "whatever").await;
    assert_eq!(res.status(), 401);
    let entries = audit(&app);
    assert!(
        !entries
            .iter()
            .any(|(_, actor, _)| actor.as_deref().is_some_and(|a| a.contains("Tr0ub4dor"))),
        "{entries:?}"
    );
    assert!(
        entries.iter().any(|(a, actor, o)| a == "signin"
            && o == "failure"
            && actor.as_deref() == Some("nobody@example.com")),
        "a mistyped password of a real address is still recorded: {entries:?}"
    );
}

#[tokio::test]
async fn guessing_the_current_password_through_the_api_is_throttled_like_a_sign_in() {
    let app = spawn_app().await;
    app.create_user("ann@example.com", false).await;
    let token = app.api_token("ann@example.com", false).await;
    let guess = |n: usize| serde_json::json!({ "current_password": format!("guess number {n}"), "email": "mallory@example.com" });
    // AUTHIFY_SIGNIN_ATTEMPTS_PER_MINUTE defaults to 10, shared with /login.
    let mut statuses = Vec::new();
    for n in 0..12 {
        statuses.push(
            app.call(Some(&token), "PATCH", "/api/v1/me", Some(guess(n)))
                .await
                .status,
        );
    }
    assert_eq!(&statuses[..10], &[403; 10], "{statuses:?}");
    assert_eq!(&statuses[10..], &[429, 429], "{statuses:?}");
    // The browser form is throttled by the same count.
    let res = app.browser().sign_in("", "ann@example.com", PASSWORD).await;
    assert_eq!(res.status(), 429);
}

#[tokio::test]
async fn a_taken_address_at_sign_up_keeps_the_flow_so_the_form_can_be_sent_again() {
    let app = spawn_app().await;
    app.create_user("ann@example.com", false).await;
    let browser = app.browser();
    // Signed in, the sign-up form is posted with the session's token: the step starts a new flow
    // in the same transaction as the insert that fails.
    browser.sign_in("", "ann@example.com", PASSWORD).await;
    let html = browser.get("/logout").await.text().await.unwrap();
    let token = hidden_value(&html, "csrf_token").unwrap();
    let taken = browser
        .post(
            "/signup",
            &[
                ("csrf_token", &token),
                ("name", "Ann"),
                ("email", "ann@example.com"),
                ("password", PASSWORD),
            ],
        )
        .await;
    assert_eq!(taken.status(), 409);
    let form_token = hidden_value(&taken.text().await.unwrap(), "csrf_token").unwrap();
    assert_ne!(form_token, token, "the form belongs to the new flow");
    let res = browser
        .post(
            "/signup",
            &[
                ("csrf_token", &form_token),
                ("name", "Bo"),
                ("email", "bo@example.com"),
                ("password", PASSWORD),
            ],
        )
        .await;
    assert_eq!(
        (res.status().as_u16(), location(&res)),
        (303, "/account".into())
    );
}
