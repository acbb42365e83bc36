//! The management API's behaviours beyond the authorization matrix and API tokens:
//! pagination and filters, the last-admin rule, credentials changes, the audit log, and the served
//! description matching the routes.

use authify_testkit::{PASSWORD, TestApp, b64, jwt_in, location, spawn_app};
use serde_json::json;

async fn admin_app() -> (TestApp, String) {
    let app = spawn_app().await;
    app.create_user("root@example.com", true).await;
    let token = app.api_token("root@example.com", false).await;
    (app, token)
}

#[tokio::test]
async fn user_lists_page_with_a_cursor_and_refuse_unknown_filters() {
    let (app, token) = admin_app().await;
    for i in 0..5 {
        app.create_user(&format!("user{i}@example.com"), false)
            .await;
    }
    let first = app
        .call(Some(&token), "GET", "/api/v1/users?limit=4", None)
        .await;
    assert_eq!(first.status, 200);
    assert_eq!(first.body["items"].as_array().unwrap().len(), 4);
    let cursor = first.body["next_cursor"].as_str().unwrap();
    let second = app
        .call(
            Some(&token),
            "GET",
            &format!("/api/v1/users?limit=4&cursor={cursor}"),
            None,
        )
        .await;
    let emails: Vec<&str> = first.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .chain(second.body["items"].as_array().unwrap())
        .map(|u| u["email"].as_str().unwrap())
        .collect();
    assert_eq!(emails.len(), 6);
    assert!(emails.windows(2).all(|w| w[0] < w[1]), "{emails:?}");
    assert!(second.body["next_cursor"].is_null());
    let search = app
        .call(Some(&token), "GET", "/api/v1/users?q=USER3", None)
        .await;
    assert_eq!(search.body["items"][0]["email"], "user3@example.com");
    assert_eq!(search.body["items"].as_array().unwrap().len(), 1);
    let unknown = app
        .call(Some(&token), "GET", "/api/v1/users?password=x", None)
        .await;
    assert_eq!(unknown.status, 400);
    let bad_limit = app
        .call(Some(&token), "GET", "/api/v1/users?limit=0", None)
        .await;
    assert_eq!(bad_limit.status, 400);
}

#[tokio::test]
async fn the_last_admin_of_an_organization_can_be_neither_removed_nor_demoted() {
    let (app, token) = admin_app().await;
    app.create_user("ann@example.com", false).await;
    let org = app
        .call(
            Some(&token),
            "POST",
            "/api/v1/organizations",
            Some(json!({"name": "Acme"})),
        )
        .await;
    assert_eq!(org.status, 201);
    let oid = org.body["oid"].as_str().unwrap().to_owned();
    let added = app
        .call(
            Some(&token),
            "POST",
            &format!("/api/v1/organizations/{oid}/members"),
            Some(json!({"email": "ann@example.com", "admin": true})),
        )
        .await;
    assert_eq!(added.status, 201);
    let uid = added.body["uid"].as_str().unwrap().to_owned();
    let member = format!("/api/v1/organizations/{oid}/members/{uid}");
    let demote = app
        .call(
            Some(&token),
            "PATCH",
            &member,
            Some(json!({"admin": false})),
        )
        .await;
    assert_eq!(demote.status, 409, "{}", demote.body);
    let ann = app.api_token("ann@example.com", false).await;
    let leave = app.call(Some(&ann), "DELETE", &member, None).await;
    assert_eq!(leave.status, 409);
    assert_eq!(leave.body["error"], "conflict");
    let members = app
        .call(
            Some(&token),
            "GET",
            &format!("/api/v1/organizations/{oid}/members"),
            None,
        )
        .await;
    assert_eq!(members.body["items"][0]["admin"], true);
}

#[tokio::test]
async fn any_user_may_create_an_organization_when_the_setting_allows_and_becomes_its_admin() {
    let dir = tempfile::tempdir().unwrap();
    let keys = dir.path().join("keys");
    let app = authify_testkit::spawn_app_in(
        dir,
        &[
            ("AUTHIFY_KEYS_DIR", keys.to_str().unwrap()),
            ("AUTHIFY_ORG_CREATION", "users"),
        ],
    )
    .await;
    app.create_user("ann@example.com", false).await;
    let ann = app.api_token("ann@example.com", false).await;
    let org = app
        .call(
            Some(&ann),
            "POST",
            "/api/v1/organizations",
            Some(json!({"name": "Ann's"})),
        )
        .await;
    assert_eq!(org.status, 201, "{}", org.body);
    assert_eq!(org.body["role"], "admin");
    let oid = org.body["oid"].as_str().unwrap();
    let group = app
        .call(
            Some(&ann),
            "POST",
            &format!("/api/v1/organizations/{oid}/groups"),
            Some(json!({"name": "ops"})),
        )
        .await;
    assert_eq!(group.status, 201);
}

#[tokio::test]
async fn changing_email_or_password_requires_the_current_password() {
    let app = spawn_app().await;
    app.create_user("ann@example.com", false).await;
    let token = app.api_token("ann@example.com", false).await;
    let wrong = app
        .call(
            Some(&token),
            "PATCH",
            "/api/v1/me",
            Some(json!({"current_password": "guess", "password": "a brand new password"})),
        )
        .await;
    assert_eq!(wrong.status, 403);
    assert_eq!(wrong.body["error"], "wrong_password");
    let missing = app
        .call(
            Some(&token),
            "PATCH",
            "/api/v1/me",
            Some(json!({"email": "x@example.com"})),
        )
        .await;
    assert_eq!(missing.status, 400);
    let ok = app
        .call(Some(&token), "PATCH", "/api/v1/me", Some(json!({"current_password": PASSWORD, "email": "ann.lee@example.com", "password": "a brand new password"})))
        .await;
    assert_eq!(ok.status, 200, "{}", ok.body);
    assert_eq!(ok.body["email"], "ann.lee@example.com");
    let browser = app.browser();
    assert_eq!(
        browser
            .sign_in("", "ann.lee@example.com", PASSWORD)
            .await
            .status(),
        401
    );
    assert_eq!(
        browser
            .sign_in("", "ann.lee@example.com", "a brand new password")
            .await
            .status(),
        303
    );
}

#[tokio::test]
async fn token_claims_reflect_membership_changes_on_the_next_sign_in() {
    let (app, token) = admin_app().await;
    app.create_user("ann@example.com", false).await;
    let callback = format!("{}/app/callback", app.address);
    app.create_app("Wiki", &[&callback]).await;
    let login = format!("?callback={}", b64(&callback));
    let claims_of = |url: String| {
        let t = jwt_in(&url).unwrap();
        let payload = t.split('.').nth(1).unwrap().to_owned();
        use base64::Engine as _;
        serde_json::from_slice::<serde_json::Value>(
            &base64::engine::general_purpose::URL_SAFE_NO_PAD
                .decode(payload)
                .unwrap(),
        )
        .unwrap()
    };
    let before = claims_of(location(
        &app.browser()
            .sign_in(&login, "ann@example.com", PASSWORD)
            .await,
    ));
    assert_eq!(before["user"]["organizations"], json!([]));

    let oid = app
        .call(
            Some(&token),
            "POST",
            "/api/v1/organizations",
            Some(json!({"name": "Acme"})),
        )
        .await
        .body["oid"]
        .as_str()
        .unwrap()
        .to_owned();
    let uid = app
        .call(
            Some(&token),
            "POST",
            &format!("/api/v1/organizations/{oid}/members"),
            Some(json!({"email": "ann@example.com"})),
        )
        .await
        .body["uid"]
        .as_str()
        .unwrap()
        .to_owned();
    let gid = app
        .call(
            Some(&token),
            "POST",
            &format!("/api/v1/organizations/{oid}/groups"),
            Some(json!({"name": "ops"})),
        )
        .await
        .body["gid"]
        .as_str()
        .unwrap()
        .to_owned();
    let joined = app
        .call(
            Some(&token),
            "POST",
            &format!("/api/v1/organizations/{oid}/groups/{gid}/members"),
            Some(json!({"uid": uid})),
        )
        .await;
    assert_eq!(joined.status, 201);
    let after = claims_of(location(
        &app.browser()
            .sign_in(&login, "ann@example.com", PASSWORD)
            .await,
    ));
    assert_eq!(after["user"]["organizations"][0]["oid"], oid.as_str());
    assert_eq!(
        after["user"]["organizations"][0]["memberships"][0]["gid"],
        gid.as_str()
    );

    app.call(
        Some(&token),
        "DELETE",
        &format!("/api/v1/organizations/{oid}/members/{uid}"),
        None,
    )
    .await;
    let removed = claims_of(location(
        &app.browser()
            .sign_in(&login, "ann@example.com", PASSWORD)
            .await,
    ));
    assert_eq!(removed["user"]["organizations"], json!([]));
}

#[tokio::test]
async fn the_audit_log_records_sign_ins_tokens_logouts_and_admin_changes_and_is_append_only() {
    let (app, token) = admin_app().await;
    let browser = app.browser();
    browser.sign_up("", "Ann Lee", "ann@example.com").await;
    let page = browser.get("/logout").await.text().await.unwrap();
    let csrf = authify_testkit::hidden_value(&page, "csrf_token").unwrap();
    browser.post("/logout", &[("csrf_token", &csrf)]).await;
    browser
        .sign_in("", "ann@example.com", "wrong password!")
        .await;
    browser
        .sign_in("", "nobody@example.com", "wrong password!")
        .await;
    app.call(
        Some(&token),
        "POST",
        "/api/v1/organizations",
        Some(json!({"name": "Acme"})),
    )
    .await;
    let events = app
        .call(Some(&token), "GET", "/api/v1/audit-events?limit=200", None)
        .await;
    assert_eq!(events.status, 200);
    let items = events.body["items"].as_array().unwrap();
    let has = |action: &str, outcome: &str, actor: &str| {
        items.iter().any(|e| {
            e["action"] == action
                && e["outcome"] == outcome
                && e["actor"] == actor
                && e["ip"] == "127.0.0.1"
        })
    };
    assert!(has("signup", "success", "ann@example.com"), "{items:#?}");
    assert!(has("logout", "success", "ann@example.com"));
    assert!(has("signin", "failure", "ann@example.com"));
    assert!(has("signin", "failure", "nobody@example.com"));
    assert!(has("token.issue", "success", "root@example.com"));
    assert!(has("organization.create", "success", "root@example.com"));
    let filtered = app
        .call(
            Some(&token),
            "GET",
            "/api/v1/audit-events?action=signin&outcome=failure",
            None,
        )
        .await;
    assert_eq!(filtered.body["items"].as_array().unwrap().len(), 2);

    let tampered = app
        .state
        .db()
        .run_blocking(|conn| {
            use diesel::RunQueryDsl as _;
            let update =
                diesel::sql_query("UPDATE audit_events SET action = 'nothing'").execute(conn);
            let delete = diesel::sql_query("DELETE FROM audit_events").execute(conn);
            Ok::<_, authify_core::StoreError>((update.is_err(), delete.is_err()))
        })
        .unwrap();
    assert_eq!(
        tampered,
        (true, true),
        "the database must refuse changes to the audit log"
    );
}

#[tokio::test]
async fn the_served_openapi_description_matches_the_route_table() {
    let app = spawn_app().await;
    let res = app.get("/api/v1/openapi.json").await;
    assert_eq!(res.status(), 200);
    let doc: serde_json::Value = res.json().await.unwrap();
    let mut described: Vec<(String, String)> = Vec::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for method in ["get", "post", "patch", "put", "delete"] {
            if item.get(method).is_some() {
                described.push((method.to_uppercase(), path.clone()));
            }
        }
    }
    let mut served: Vec<(String, String)> = authify_web::api::ROUTES
        .iter()
        .map(|(m, p)| (m.to_string(), format!("/api/v1{p}")))
        .chain([("POST".to_owned(), "/jwt/token".to_owned())])
        .collect();
    described.sort();
    served.sort();
    assert_eq!(
        described, served,
        "web/static/openapi.json and api::ROUTES differ"
    );
    // Every described operation is really answered: never 405, and never the unknown-route 404.
    for (method, path) in &described {
        let concrete = path
            .replace("{oid}", "o")
            .replace("{gid}", "g")
            .replace("{uid}", "u")
            .replace("{app_id}", "a")
            .replace("{access_key}", "k");
        let reply = app.call(None, method, &concrete, None).await;
        assert!(
            !matches!(reply.status, 404 | 405) || path.ends_with("openapi.json"),
            "{method} {path}: {}",
            reply.status
        );
    }
}
