//! Outbound URLs that cannot reach inside (issue 32): a back-channel logout URI pointing at an
//! internal address is refused when saved, with the reason; a name that resolves to loopback only
//! when the server connects is never contacted; http only where the settings allow it; a
//! post-logout redirect never goes to 0.0.0.0 or a metadata service.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use authify_core::apps::AppOptions;
use authify_testkit::{TestApp, UNSET, spawn_app_in, spawn_app_resolving};
use serde_json::{Value, json};

use crate::oidc::{REDIRECT, authorize_url, code_for, signed_in};

/// The server's own policy, as the operator gets it by default (no allow-list, https only).
const DEFAULT_POLICY: &[(&str, &str)] = &[
    ("AUTHIFY_OUTBOUND_ALLOW", UNSET),
    ("AUTHIFY_OUTBOUND_HTTP", UNSET),
];

/// An admin's API token.
async fn admin_token(app: &TestApp) -> String {
    app.create_user("root@example.com", true).await;
    app.api_token("root@example.com", false).await
}

/// `POST /api/v1/applications` with `options` merged into a minimal body.
async fn create_app(app: &TestApp, token: &str, options: Value) -> (u16, Value) {
    let mut body = json!({ "name": "Wiki", "callbacks": ["https://wiki.example/cb"] });
    for (k, v) in options.as_object().unwrap() {
        body[k] = v.clone();
    }
    let reply = app
        .call(Some(token), "POST", "/api/v1/applications", Some(body))
        .await;
    (reply.status, reply.body)
}

/// A TCP listener on 127.0.0.1 that counts the connections it gets and answers 200.
async fn counting_listener() -> (u16, Arc<AtomicUsize>) {
    use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
    let socket = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = socket.local_addr().unwrap().port();
    let count = Arc::new(AtomicUsize::new(0));
    let seen = count.clone();
    tokio::spawn(async move {
        while let Ok((mut stream, _)) = socket.accept().await {
            seen.fetch_add(1, Ordering::SeqCst);
            let mut buf = [0u8; 8192];
            let _ = stream.read(&mut buf).await;
            let _ = stream
                .write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\nconnection: close\r\n\r\n")
                .await;
        }
    });
    (port, count)
}

#[tokio::test]
async fn creating_an_app_with_an_internal_backchannel_logout_uri_is_refused_with_the_reason() {
    let app = spawn_app_in(tempfile::tempdir().unwrap(), DEFAULT_POLICY).await;
    let token = admin_token(&app).await;
    let forms = [
        (
            "https://169.254.169.254/latest/meta-data/",
            "points at a cloud metadata address",
        ),
        (
            "https://metadata.google.internal/computeMetadata/v1/",
            "points at a cloud metadata address by its name",
        ),
        (
            "https://[fd00:ec2::254]/latest/meta-data/",
            "points at a cloud metadata address",
        ),
        ("https://10.0.0.1/logout", "points at a private address"),
        (
            "https://127.0.0.1:9100/metrics",
            "points at a loopback address",
        ),
        (
            "https://localhost:22/",
            "points at a loopback address by its name",
        ),
        ("https://0.0.0.0/logout", "points at an unspecified address"),
        ("https://[::1]/logout", "points at a loopback address"),
        (
            "https://127.1/logout",
            "points at a loopback address (127.0.0.1)",
        ),
        (
            "https://2130706433/logout",
            "points at a loopback address (127.0.0.1)",
        ),
    ];
    for (uri, reason) in forms {
        let (status, body) =
            create_app(&app, &token, json!({ "backchannel_logout_uri": uri })).await;
        assert_eq!(status, 400, "{uri}: {body}");
        let text = body.to_string();
        assert!(
            text.contains("backchannel logout URI") && text.contains(reason),
            "{uri}: {text}"
        );
    }
    let (status, body) = create_app(
        &app,
        &token,
        json!({ "backchannel_logout_uri": "https://wiki.example/backchannel" }),
    )
    .await;
    assert_eq!(status, 201, "{body}");
    // Changing an existing app is held to the same rule.
    let id = body["app_id"].as_str().unwrap();
    let reply = app
        .call(
            Some(&token),
            "PATCH",
            &format!("/api/v1/applications/{id}"),
            Some(json!({ "backchannel_logout_uri": "https://[::ffff:a9fe:a9fe]/" })),
        )
        .await;
    assert_eq!(reply.status, 400, "{:?}", reply.body);
    assert!(
        reply
            .body
            .to_string()
            .contains("points at a cloud metadata address"),
        "{:?}",
        reply.body
    );
}

#[tokio::test]
async fn a_backchannel_logout_name_that_resolves_to_loopback_when_connecting_is_never_contacted() {
    let (port, connections) = counting_listener().await;
    // The name is public-looking and passes when saved; only the server's resolver says loopback.
    let app = spawn_app_resolving(
        tempfile::tempdir().unwrap(),
        &[("AUTHIFY_OUTBOUND_ALLOW", UNSET)],
        &[("rp.example.com", [127, 0, 0, 1].into())],
    )
    .await;
    let hook = format!("http://rp.example.com:{port}/backchannel");
    let (client_id, _) = app
        .create_app_with(
            "Wiki",
            &[REDIRECT],
            AppOptions {
                first_party: true,
                backchannel_logout_uri: Some(hook),
                ..AppOptions::default()
            },
        )
        .await;
    let browser = signed_in(&app).await;
    code_for(&browser, &authorize_url(&client_id, &[])).await;
    let res = browser.submit("/logout", "/logout", &[]).await;
    assert_eq!(res.status(), 303);

    // The delivery task runs every second: wait for its first attempt to be recorded.
    let mut last_error = None;
    for _ in 0..100 {
        last_error = app
            .state
            .db()
            .run_blocking(|conn| {
                use authify_store::schema::logout_outbox::dsl::*;
                use diesel::prelude::*;
                logout_outbox
                    .select(last_error)
                    .first::<Option<String>>(conn)
                    .optional()
                    .map_err(authify_store::StoreError::from)
            })
            .unwrap()
            .flatten();
        if last_error.is_some() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(
        last_error.as_deref(),
        Some("refused: rp.example.com points at a loopback address (127.0.0.1)")
    );
    assert_eq!(
        connections.load(Ordering::SeqCst),
        0,
        "the receiver on loopback was never connected to"
    );
}

#[tokio::test]
async fn an_http_backchannel_logout_uri_is_refused_unless_outbound_http_is_on() {
    let https_only = spawn_app_in(
        tempfile::tempdir().unwrap(),
        &[("AUTHIFY_OUTBOUND_HTTP", UNSET)],
    )
    .await;
    let token = admin_token(&https_only).await;
    let (status, body) = create_app(
        &https_only,
        &token,
        json!({ "backchannel_logout_uri": "http://wiki.example/backchannel" }),
    )
    .await;
    assert_eq!(status, 400, "{body}");
    assert!(
        body.to_string().contains("uses http: https is required"),
        "{body}"
    );
    let (status, body) = create_app(
        &https_only,
        &token,
        json!({ "backchannel_logout_uri": "https://wiki.example/backchannel" }),
    )
    .await;
    assert_eq!(status, 201, "{body}");

    let http_allowed = spawn_app_in(
        tempfile::tempdir().unwrap(),
        &[("AUTHIFY_OUTBOUND_HTTP", "on")],
    )
    .await;
    let token = admin_token(&http_allowed).await;
    let (status, body) = create_app(
        &http_allowed,
        &token,
        json!({ "backchannel_logout_uri": "http://wiki.example/backchannel" }),
    )
    .await;
    assert_eq!(status, 201, "{body}");
}

#[tokio::test]
async fn a_post_logout_redirect_may_be_local_but_never_unspecified_or_a_metadata_service() {
    let app = spawn_app_in(tempfile::tempdir().unwrap(), DEFAULT_POLICY).await;
    let token = admin_token(&app).await;
    for uri in [
        "http://0.0.0.0:3000/bye",
        "http://169.254.169.254/bye",
        "http://metadata.google.internal/bye",
        "http://[fd00:ec2::254]/bye",
    ] {
        let (status, body) =
            create_app(&app, &token, json!({ "post_logout_redirect_uri": uri })).await;
        assert_eq!(status, 400, "{uri}: {body}");
        assert!(
            body.to_string().contains("post-logout redirect URI"),
            "{body}"
        );
    }
    // The browser goes there, not the server: a developer's own machine is fine, as for callbacks.
    let (status, body) = create_app(
        &app,
        &token,
        json!({ "post_logout_redirect_uri": "http://localhost:3000/bye" }),
    )
    .await;
    assert_eq!(status, 201, "{body}");
}
