//! The client's address behind trusted proxies (`AUTHIFY_TRUSTED_PROXIES`) and the per-address
//! budget of password checks, taken before the shared hash queue: one client runs out, everyone
//! else still signs in; a forged `X-Forwarded-For` from an untrusted peer changes nothing.

use authify_testkit::{Browser, PASSWORD, TestApp, client, location, spawn_app_in};

/// A browser whose requests carry `X-Forwarded-For: <xff>`.
fn browser_from(app: &TestApp, xff: &str) -> Browser {
    let mut headers = reqwest::header::HeaderMap::new();
    headers.insert("x-forwarded-for", xff.parse().unwrap());
    Browser {
        base: app.address.clone(),
        http: client()
            .cookie_store(true)
            .redirect(reqwest::redirect::Policy::none())
            .default_headers(headers)
            .build()
            .unwrap(),
    }
}

async fn attempts(b: &Browser, n: usize, password: &str) -> Vec<u16> {
    let mut out = Vec::new();
    for _ in 0..n {
        out.push(
            b.sign_in("", "ann@example.com", password)
                .await
                .status()
                .as_u16(),
        );
    }
    out
}

/// The client address of the latest audit entry with `action`.
fn last_ip(app: &TestApp, action: &str) -> Option<String> {
    app.state
        .db()
        .run_blocking(|conn| {
            authify_store::audit::list_events(
                conn,
                &authify_store::audit::EventFilter::default(),
                None,
                1000,
            )
        })
        .unwrap()
        .into_iter()
        .filter(|e| e.action == action)
        .map(|e| e.ip)
        .next()
        .flatten()
}

#[tokio::test]
async fn one_client_address_runs_out_of_password_checks_and_others_still_sign_in() {
    let dir = tempfile::tempdir().unwrap();
    let app = spawn_app_in(
        dir,
        &[
            ("AUTHIFY_TRUSTED_PROXIES", "127.0.0.1, ::1"),
            ("AUTHIFY_SIGNIN_ATTEMPTS_PER_ADDRESS_PER_MINUTE", "3"),
            ("AUTHIFY_SIGNIN_ATTEMPTS_PER_MINUTE", "0"),
        ],
    )
    .await;
    app.create_user("ann@example.com", false).await;
    // A guesser behind the proxy: 3 checks, then 429 with Retry-After, before any hashing.
    let guesser = browser_from(&app, "198.51.100.7");
    assert_eq!(attempts(&guesser, 3, "wrong").await, [401, 401, 401]);
    let refused = guesser.sign_in("", "ann@example.com", PASSWORD).await;
    assert_eq!(refused.status(), 429);
    assert!(refused.headers().contains_key("retry-after"));
    // Another client through the same proxy is not affected, and is audited under its address.
    let other = browser_from(&app, "203.0.113.9");
    let res = other.sign_in("", "ann@example.com", PASSWORD).await;
    assert_eq!(location(&res), "/account");
    assert_eq!(last_ip(&app, "signin").as_deref(), Some("203.0.113.9"));
    // Entries forged to the left of the proxy's own are ignored: still the guesser.
    let forging = browser_from(&app, "10.9.9.9, 198.51.100.7");
    assert_eq!(
        forging
            .sign_in("", "ann@example.com", PASSWORD)
            .await
            .status(),
        429
    );
}

#[tokio::test]
async fn x_forwarded_for_from_an_untrusted_peer_is_ignored() {
    let dir = tempfile::tempdir().unwrap();
    let app = spawn_app_in(
        dir,
        &[
            ("AUTHIFY_SIGNIN_ATTEMPTS_PER_ADDRESS_PER_MINUTE", "2"),
            ("AUTHIFY_SIGNIN_ATTEMPTS_PER_MINUTE", "0"),
        ],
    )
    .await;
    app.create_user("ann@example.com", false).await;
    // Each request claims another address; without trusted proxies the peer is the client.
    let mut statuses = Vec::new();
    for i in 0..3 {
        let b = browser_from(&app, &format!("198.51.100.{i}"));
        statuses.push(
            b.sign_in("", "ann@example.com", "wrong")
                .await
                .status()
                .as_u16(),
        );
    }
    assert_eq!(statuses, [401, 401, 429]);
    assert_eq!(last_ip(&app, "signin").as_deref(), Some("127.0.0.1"));
}
