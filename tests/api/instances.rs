//! Several instances on one database: signing keys in the database (sealed, shared, rotated on
//! the fixed clock) and attempt budgets that hold across instances. Two in-process servers share
//! one database here; `tests/multi/two_instances.py` does the same with two `authify serve`
//! processes behind a load balancer.

use authify_testkit::{
    PASSWORD, TestApp, run_pyjwt, spawn_app_since, spawn_app_with_database_keys,
};
use chrono::{Duration, Utc};
use serde_json::Value;

const MASTER_KEY: &str = "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=";

async fn jwks(app: &TestApp) -> (Vec<String>, String) {
    let res = app
        .http
        .get(format!("{}/.well-known/jwks.json", app.address))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let etag = res.headers()["etag"].to_str().unwrap().to_owned();
    let body: Value = res.json().await.unwrap();
    let mut kids: Vec<String> = body["keys"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k["kid"].as_str().unwrap().to_owned())
        .collect();
    kids.sort();
    (kids, etag)
}

/// The ES512 kids published, sorted.
async fn es512_kids(app: &TestApp) -> Vec<String> {
    jwks(app)
        .await
        .0
        .into_iter()
        .filter(|k| k.starts_with("es512-"))
        .collect()
}

/// Waits (up to 10 s; the refresh runs every second here) until `check` holds for the JWKS.
async fn until_published(app: &TestApp, what: &str, check: impl Fn(&[String]) -> bool) {
    for _ in 0..100 {
        if check(&es512_kids(app).await) {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    panic!("{what}: JWKS has {:?}", es512_kids(app).await);
}

/// The `kid` of a token's header (jsonwebtoken's header type has no ES512).
fn kid_of(token: &str) -> String {
    use base64::Engine as _;
    let header = token.split('.').next().unwrap();
    let json = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(header)
        .unwrap();
    let header: Value = serde_json::from_slice(&json).unwrap();
    header["kid"].as_str().unwrap().to_owned()
}

fn signer(app: &TestApp) -> String {
    app.state.keys().keyring.signer().kid().to_owned()
}

async fn second_instance(first: &TestApp, vars: &[(&str, &str)]) -> TestApp {
    let mut all = vec![
        ("AUTHIFY_DB_URL", first.settings.db_url.as_str()),
        ("AUTHIFY_MASTER_KEY", MASTER_KEY),
    ];
    all.extend_from_slice(vars);
    spawn_app_with_database_keys(tempfile::tempdir().unwrap(), &all).await
}

#[tokio::test]
async fn instances_on_one_database_sign_with_the_same_sealed_keys_and_publish_the_same_jwks() {
    let a = spawn_app_with_database_keys(
        tempfile::tempdir().unwrap(),
        &[("AUTHIFY_MASTER_KEY", MASTER_KEY)],
    )
    .await;
    let b = second_instance(&a, &[]).await;
    assert_eq!(jwks(&a).await, jwks(&b).await, "same keys, same ETag");
    assert_eq!(signer(&a), signer(&b));
    assert!(!a.keys_dir.exists(), "no key file is written");

    // A token signed by one instance verifies against the other's JWKS, with the relying-app
    // crate and with PyJWT.
    let token = a.token_for("app-1");
    let claims = b.client("app-1").verify(&token).await.unwrap();
    assert_eq!(claims.aud, "app-1");
    let run = run_pyjwt(&b.address, "app-1", &token);
    assert!(run.ok, "{}", run.stderr);

    // The private halves are sealed in the database, never in clear.
    let db = a.state.db().clone();
    let rows = db
        .run_blocking(authify_store::instances::list_signing_keys)
        .unwrap();
    assert_eq!(rows.len(), 3, "one key per algorithm");
    for row in &rows {
        assert!(!row.private_sealed.contains("PRIVATE KEY"));
        assert!(row.private_sealed.len() > 100);
    }

    // A session made on one instance works on the other (sessions live in the database).
    a.create_user("ann@example.com", false).await;
    let browser = a.browser();
    assert_eq!(
        browser
            .sign_in("", "ann@example.com", PASSWORD)
            .await
            .status(),
        303
    );
    // Both listen on 127.0.0.1, and cookies are not scoped by port: the browser's session
    // cookie from A goes to B.
    let res = browser.get(&format!("{}/account", b.address)).await;
    assert_eq!(res.status(), 200);
    assert!(res.text().await.unwrap().contains("ann@example.com"));
}

#[tokio::test]
async fn a_key_made_by_one_instance_is_served_by_the_other_at_its_next_refresh() {
    let a = spawn_app_with_database_keys(
        tempfile::tempdir().unwrap(),
        &[("AUTHIFY_MASTER_KEY", MASTER_KEY)],
    )
    .await;
    let b = second_instance(&a, &[("AUTHIFY_KEY_REFRESH_SECONDS", "1")]).await;
    let old_token = a.token_for("app-1");
    let (before, etag_before) = jwks(&b).await;

    // The fixed clocks stand still: move them, so the new key is younger than the first.
    a.clock.advance(Duration::seconds(1));
    b.clock.advance(Duration::seconds(1));
    let kid = a.rotate_key();
    assert_eq!(
        signer(&a),
        kid,
        "the rotating instance signs with it at once"
    );
    until_published(&b, "the other instance publishes the new key", |kids| {
        kids.contains(&kid)
    })
    .await;
    assert_eq!(signer(&b), kid, "and signs with it");
    let (after, etag_after) = jwks(&b).await;
    assert_eq!(after.len(), before.len() + 1, "the old key stays published");
    assert_ne!(etag_before, etag_after, "the ETag follows the keys");
    // Tokens of the old key still verify; new ones carry the new kid.
    b.client("app-1").verify(&old_token).await.unwrap();
    let new_token = b.token_for("app-1");
    assert_eq!(kid_of(&new_token), kid);
    a.client("app-1").verify(&new_token).await.unwrap();
}

#[tokio::test]
async fn keys_rotate_on_schedule_pre_published_then_signing_then_retired() {
    // One-day rotation, one hour of pre-publication, tokens living one day: the fixed clock
    // starts a day and ten minutes ago so that tokens signed on it are still valid now, when
    // outside verifiers check them.
    let start = Utc::now() - Duration::days(1) - Duration::minutes(10);
    let app = spawn_app_since(
        tempfile::tempdir().unwrap(),
        "127.0.0.1",
        &[
            ("AUTHIFY_KEYS_DIR", authify_testkit::UNSET),
            ("AUTHIFY_KEY_ROTATION_DAYS", "1"),
            ("AUTHIFY_KEY_PREPUBLISH_HOURS", "1"),
            ("AUTHIFY_KEY_REFRESH_SECONDS", "1"),
            ("AUTHIFY_JWT_EXPIRATION", "1440"),
        ],
        start,
    )
    .await;
    let first = signer(&app);
    assert_eq!(es512_kids(&app).await, vec![first.clone()]);
    let (_, etag_first) = jwks(&app).await;

    // 23 h in: the successor is published, not signing.
    app.clock
        .advance(Duration::hours(23) + Duration::minutes(1));
    until_published(&app, "pre-publication", |kids| kids.len() == 2).await;
    let second = es512_kids(&app)
        .await
        .into_iter()
        .find(|k| *k != first)
        .unwrap();
    assert_eq!(signer(&app), first, "a pre-published key does not sign");
    assert_ne!(jwks(&app).await.1, etag_first);
    let by_first = app.token_at("app-1", app.clock_now().timestamp());

    // 24 h in: the successor signs; both keys are published.
    app.clock.advance(Duration::hours(1));
    for _ in 0..100 {
        if signer(&app) == second {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert_eq!(signer(&app), second, "activation on schedule");
    let by_second = app.token_at("app-1", app.clock_now().timestamp());
    for token in [&by_first, &by_second] {
        app.client("app-1").verify(token).await.unwrap();
        let run = run_pyjwt(&app.address, "app-1", token);
        assert!(run.ok, "PyJWT: {}", run.stderr);
    }

    // Once every token of the first key has expired (one day, plus five minutes of skew), the
    // first key is deleted; the second key's successor is pre-published meanwhile.
    app.clock.advance(Duration::days(1) + Duration::minutes(6));
    until_published(&app, "retirement", |kids| !kids.contains(&first)).await;
    assert!(es512_kids(&app).await.contains(&second));
    assert!(app.client("app-1").verify(&by_second).await.is_ok());
    assert!(
        app.client("app-1").verify(&by_first).await.is_err(),
        "a retired key verifies nothing"
    );
    assert!(!run_pyjwt(&app.address, "app-1", &by_first).ok);
    let rows = app
        .state
        .db()
        .run_blocking(authify_store::instances::list_signing_keys)
        .unwrap();
    assert!(
        rows.iter().all(|r| r.kid != first),
        "its private half is gone"
    );
}

#[tokio::test]
async fn the_sign_in_budget_of_an_account_holds_across_instances() {
    let a = spawn_app_with_database_keys(
        tempfile::tempdir().unwrap(),
        &[
            ("AUTHIFY_MASTER_KEY", MASTER_KEY),
            ("AUTHIFY_SIGNIN_ATTEMPTS_PER_MINUTE", "4"),
        ],
    )
    .await;
    let b = second_instance(&a, &[("AUTHIFY_SIGNIN_ATTEMPTS_PER_MINUTE", "4")]).await;
    a.create_user("ann@example.com", false).await;
    // Four guesses in all, alternating between the instances: not four on each.
    for (i, app) in [&a, &b, &a, &b].into_iter().enumerate() {
        let status = app
            .browser()
            .sign_in("", "ann@example.com", "wrong password")
            .await
            .status();
        assert_eq!(status, 401, "attempt {i}");
    }
    for app in [&a, &b] {
        let res = app
            .browser()
            .sign_in("", "ann@example.com", "wrong password")
            .await;
        assert_eq!(res.status(), 429);
        assert!(res.headers().contains_key("retry-after"));
    }
    // The budget refills with time (the instances share the fixed clock's view of it through
    // the database rows: each reads its own clock, both moved here).
    a.clock.advance(Duration::seconds(16));
    b.clock.advance(Duration::seconds(16));
    assert_eq!(
        b.browser()
            .sign_in("", "ann@example.com", PASSWORD)
            .await
            .status(),
        303
    );
}

#[tokio::test]
async fn an_earlier_versions_keys_directory_is_imported_on_first_start() {
    let dir = tempfile::tempdir().unwrap();
    // The test kit points the import at DIR/keys (a server's ./keys).
    let old = authify_server::keystore::generate(
        &dir.path().join("keys"),
        authify_jwt::Algorithm::ES512,
        Utc::now() - Duration::days(3),
    )
    .unwrap();
    let app = spawn_app_with_database_keys(dir, &[("AUTHIFY_KEY_ROTATION_DAYS", "0")]).await;
    // The old ES512 key signs: it was imported, not replaced; keys of the other algorithms
    // were made next to it.
    assert_eq!(signer(&app), old.kid);
    assert_eq!(es512_kids(&app).await, vec![old.kid.clone()]);
    assert_eq!(jwks(&app).await.0.len(), 3);
    let token = app.token_for("app-1");
    app.client("app-1").verify(&token).await.unwrap();
    // By hand, a second time: nothing new.
    let keys = authify_server::shared_keys::SharedKeys::new(
        &app.settings,
        app.state.db().clone(),
        authify_server::startup::load_master_key(&app.settings, app.state.db()).unwrap(),
    )
    .unwrap();
    assert!(
        keys.import(&app.dir.path().join("keys"))
            .unwrap()
            .is_empty()
    );
}

#[tokio::test]
async fn one_instance_at_a_time_holds_the_rotation_lease_until_it_runs_out() {
    use authify_store::instances::{release_lease, take_lease};
    let app = spawn_app_with_database_keys(tempfile::tempdir().unwrap(), &[]).await;
    let db = app.state.db().clone();
    let lease = |holder: &'static str, now: i64| {
        db.run_blocking(|c| take_lease(c, "test-lease", holder, now, now + 1_000))
            .unwrap()
    };
    assert!(lease("a", 0), "a free lease is taken");
    assert!(!lease("b", 500), "held by a, b is refused");
    assert!(lease("a", 900), "the holder renews it (until 1900)");
    assert!(!lease("b", 1_800), "renewed: still a's");
    assert!(lease("b", 2_000), "run out: b takes it over");
    assert!(!lease("a", 2_100));
    db.run_blocking(|c| release_lease(c, "test-lease", "b"))
        .unwrap();
    assert!(lease("a", 2_200), "released: free again");
}
