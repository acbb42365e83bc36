//! API tokens: exchanging a personal API key at `POST /jwt/token` (the original's interface),
//! uniform refusals, refusing tokens issued to apps, and revocation taking effect at once.

use authify_testkit::{PASSWORD, b64, jwt_in, location, spawn_app};
use serde_json::json;

#[tokio::test]
async fn jwt_token_exchanges_an_api_key_for_an_api_token_with_the_original_interface() {
    let app = spawn_app().await;
    app.create_user("ann@example.com", false).await;
    let (ak, sk) = app.api_key("ann@example.com", false).await;
    // The original's dashed field names still work.
    let reply = app
        .call(
            None,
            "POST",
            "/jwt/token",
            Some(json!({"access-key": ak, "secret-key": sk})),
        )
        .await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    let jwt = reply.body["jwt"].as_str().unwrap();
    let me = app.call(Some(jwt), "GET", "/api/v1/me", None).await;
    assert_eq!(me.status, 200);
    assert_eq!(me.body["email"], "ann@example.com");
    let claims = authify_jwt::verify(
        jwt,
        &app.state.keys().verify_keys,
        &authify_jwt::Validation::new(authify_testkit::ISSUER, authify_domain::API_AUDIENCE),
        chrono::Utc::now().timestamp(),
    )
    .unwrap();
    assert_eq!(claims.api_key.as_deref(), Some(ak.as_str()));
    assert_eq!(claims.user.username, "ann@example.com");
}

#[tokio::test]
async fn unknown_access_keys_and_wrong_secrets_get_the_same_401() {
    let app = spawn_app().await;
    app.create_user("ann@example.com", false).await;
    let (ak, _) = app.api_key("ann@example.com", false).await;
    let wrong = app
        .call(
            None,
            "POST",
            "/jwt/token",
            Some(json!({"access_key": ak, "secret_key": "nope"})),
        )
        .await;
    let unknown = app
        .call(
            None,
            "POST",
            "/jwt/token",
            Some(json!({"access_key": "ak_nobody", "secret_key": "nope"})),
        )
        .await;
    assert_eq!((wrong.status, unknown.status), (401, 401));
    assert_eq!(wrong.body, unknown.body);
    let malformed = app
        .call(None, "POST", "/jwt/token", Some(json!({"access_key": 1})))
        .await;
    assert_eq!(malformed.status, 400);
    assert_eq!(malformed.body["error"], "invalid_request");
}

#[tokio::test]
async fn a_token_issued_to_an_app_through_the_callback_is_refused_by_the_api() {
    let app = spawn_app().await;
    app.create_user("root@example.com", true).await;
    let callback = format!("{}/app/callback", app.address);
    let app_id = app.create_app("Wiki", &[&callback]).await;
    let browser = app.browser();
    let res = browser
        .sign_in(
            &format!("?callback={}", b64(&callback)),
            "root@example.com",
            PASSWORD,
        )
        .await;
    let app_token = jwt_in(&location(&res)).unwrap();
    let reply = app
        .call(Some(&app_token), "GET", "/api/v1/users", None)
        .await;
    assert_eq!(reply.status, 401);
    assert_eq!(reply.body["error"], "unauthorized");
    assert!(
        reply.body["message"]
            .as_str()
            .unwrap()
            .contains("issued to an application")
    );
    // Nor is a token with our audience forged without a key, or garbage.
    let none = app
        .call(Some("not.a.token"), "GET", "/api/v1/me", None)
        .await;
    assert_eq!(none.status, 401);
    let anonymous = app.call(None, "GET", "/api/v1/me", None).await;
    assert_eq!(anonymous.status, 401);
    assert!(app_id.starts_with("app_"));
}

#[tokio::test]
async fn revoking_a_key_ends_its_tokens_at_once_and_disabling_the_owner_does_too() {
    let app = spawn_app().await;
    app.create_user("root@example.com", true).await;
    app.create_user("ann@example.com", false).await;
    let (ak, sk) = app.api_key("ann@example.com", false).await;
    let token = app
        .call(
            None,
            "POST",
            "/jwt/token",
            Some(json!({"access_key": ak, "secret_key": sk})),
        )
        .await
        .body["jwt"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(
        app.call(Some(&token), "GET", "/api/v1/me", None)
            .await
            .status,
        200
    );
    let revoke = app
        .call(
            Some(&token),
            "DELETE",
            &format!("/api/v1/api-keys/{ak}"),
            None,
        )
        .await;
    assert_eq!(revoke.status, 204);
    assert_eq!(
        app.call(Some(&token), "GET", "/api/v1/me", None)
            .await
            .status,
        401
    );
    let again = app
        .call(
            None,
            "POST",
            "/jwt/token",
            Some(json!({"access_key": ak, "secret_key": sk})),
        )
        .await;
    assert_eq!(again.status, 401);

    let second = app.api_token("ann@example.com", false).await;
    let root = app.api_token("root@example.com", false).await;
    let uid = app.actor("ann@example.com").await.user.public_id;
    let disable = app
        .call(
            Some(&root),
            "PATCH",
            &format!("/api/v1/users/{uid}"),
            Some(json!({"disabled": true})),
        )
        .await;
    assert_eq!(disable.status, 200, "{}", disable.body);
    assert_eq!(
        app.call(Some(&second), "GET", "/api/v1/me", None)
            .await
            .status,
        401
    );
}

#[tokio::test]
async fn failed_exchanges_from_one_client_are_throttled_and_aggregated_in_the_audit_log() {
    let app = spawn_app().await;
    let mut statuses = Vec::new();
    for i in 0..130 {
        let reply = app
            .call(
                None,
                "POST",
                "/jwt/token",
                Some(json!({"access_key": format!("ak_guess{i}"), "secret_key": "nope"})),
            )
            .await;
        statuses.push(reply.status);
    }
    assert!(statuses[..100].iter().all(|s| *s == 401), "{statuses:?}");
    assert_eq!(statuses.last(), Some(&429), "the client is throttled");
    // One audit entry, not 130: repeated failures from one address are folded into it.
    let rows = app
        .state
        .db()
        .run_blocking(|conn| {
            authify_store::audit::list_events(
                conn,
                &authify_store::audit::EventFilter::default(),
                None,
                1000,
            )
        })
        .unwrap();
    let failures = rows
        .iter()
        .filter(|e| e.action == "api_key.exchange" && e.outcome == "failure")
        .count();
    assert_eq!(failures, 1, "{rows:?}");
}
