//! Single logout: a back-channel receiver on loopback gets a valid logout token for every app
//! that received a token in the session (OpenID and legacy apps alike) when it ends, also when
//! the receiver was down and the server crashed in between (the outbox is in the database);
//! RP-initiated logout with `id_token_hint`; sessions listed and ended on `/account`.

use std::io::Write as _;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use actix_web::{App, HttpServer, web};
use authify_core::apps::AppOptions;
use authify_testkit::{FreshDatabase, b64, location, spawn_app};
use serde_json::Value;

use crate::oidc::{REDIRECT, authorize_url, code_for, exchange, param, pkce, signed_in, verify};

type Received = Arc<Mutex<Vec<String>>>;

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A back-channel receiver on `port`: records each `logout_token`, answers 200.
fn receiver(port: u16) -> Received {
    let got: Received = Arc::default();
    let store = got.clone();
    let server = HttpServer::new(move || {
        let store = store.clone();
        App::new().route(
            "/backchannel",
            web::post().to(move |form: web::Form<Vec<(String, String)>>| {
                let store = store.clone();
                async move {
                    for (k, v) in form.into_inner() {
                        if k == "logout_token" {
                            store.lock().unwrap().push(v);
                        }
                    }
                    "ok"
                }
            }),
        )
    })
    .workers(1)
    .bind(("127.0.0.1", port))
    .unwrap()
    .run();
    tokio::spawn(server);
    got
}

async fn wait_for(got: &Received, n: usize, secs: u64) -> Vec<String> {
    for _ in 0..secs * 10 {
        if got.lock().unwrap().len() >= n {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    got.lock().unwrap().clone()
}

fn header(token: &str) -> Value {
    let part = token.split('.').next().unwrap();
    let bytes =
        base64::Engine::decode(&base64::engine::general_purpose::URL_SAFE_NO_PAD, part).unwrap();
    serde_json::from_slice(&bytes).unwrap()
}

#[tokio::test]
async fn every_app_that_got_a_token_in_a_session_gets_a_logout_token_when_it_ends() {
    let app = spawn_app().await;
    let port = free_port();
    let got = receiver(port);
    let hook = format!("http://127.0.0.1:{port}/backchannel");
    let (oidc_id, oidc_secret) = app
        .create_app_with(
            "Wiki",
            &[REDIRECT],
            AppOptions {
                first_party: true,
                backchannel_logout_uri: Some(hook.clone()),
                ..AppOptions::default()
            },
        )
        .await;
    let (legacy_id, _) = app
        .create_app_with(
            "Legacy",
            &["https://legacy.example/cb"],
            AppOptions {
                backchannel_logout_uri: Some(hook.clone()),
                ..AppOptions::default()
            },
        )
        .await;
    // A third app the user never reached is not told.
    app.create_app_with(
        "Unvisited",
        &["https://unvisited.example/cb"],
        AppOptions {
            backchannel_logout_uri: Some(hook),
            ..AppOptions::default()
        },
    )
    .await;
    let browser = signed_in(&app).await;
    let (verifier, challenge) = pkce();
    let code = code_for(
        &browser,
        &authorize_url(
            &oidc_id,
            &[
                ("code_challenge", &challenge),
                ("code_challenge_method", "S256"),
            ],
        ),
    )
    .await;
    let rp = crate::oidc::Rp {
        id: oidc_id.clone(),
        secret: oidc_secret,
    };
    let (_, tokens) = exchange(&app, &rp, &code, &verifier).await;
    let (_, id_claims) = verify(&app, tokens["id_token"].as_str().unwrap(), &oidc_id).await;
    let res = browser
        .get(&format!(
            "/login?callback={}",
            b64("https://legacy.example/cb")
        ))
        .await;
    let legacy_jwt = param(&location(&res), "jwt").unwrap();
    let legacy = app.client(&legacy_id).verify(&legacy_jwt).await.unwrap();
    assert_eq!(
        legacy.sid.as_deref(),
        id_claims["sid"].as_str(),
        "one session, one sid"
    );

    let res = browser.submit("/logout", "/logout", &[]).await;
    assert_eq!(res.status(), 303);
    let tokens = wait_for(&got, 2, 10).await;
    assert_eq!(tokens.len(), 2, "one delivery per app that got a token");
    let mut audiences = Vec::new();
    for t in &tokens {
        assert_eq!(header(t)["typ"], "logout+jwt");
        let claims: Value = {
            let payload = t.split('.').nth(1).unwrap();
            let bytes =
                base64::Engine::decode(&base64::engine::general_purpose::URL_SAFE_NO_PAD, payload)
                    .unwrap();
            serde_json::from_slice(&bytes).unwrap()
        };
        let audience = claims["aud"].as_str().unwrap().to_owned();
        // The signature and registered claims, by an independent library.
        let (_, verified) = verify(&app, t, &audience).await;
        assert_eq!(verified["sid"], id_claims["sid"]);
        assert_eq!(verified["sub"], id_claims["sub"]);
        assert!(verified.get("nonce").is_none());
        assert!(
            verified["events"]["http://schemas.openid.net/event/backchannel-logout"].is_object()
        );
        assert!(verified["jti"].is_string() && verified["iat"].is_i64());
        audiences.push(audience);
    }
    audiences.sort();
    let mut expected = vec![oidc_id, legacy_id];
    expected.sort();
    assert_eq!(audiences, expected);
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(got.lock().unwrap().len(), 2, "delivered once each");
}

/// A server process (so the test can kill it) on `port` over `db`.
fn server(dir: &std::path::Path, db: &str, port: u16) -> Child {
    Command::new(env!("CARGO_BIN_EXE_authify"))
        .current_dir(dir)
        .env_clear()
        .env("AUTHIFY_DB_URL", db)
        .env("AUTHIFY_BIND", format!("127.0.0.1:{port}"))
        .env("AUTHIFY_PUBLIC_URL", format!("http://127.0.0.1:{port}"))
        .env("AUTHIFY_KEYS_DIR", dir.join("keys"))
        .env("AUTHIFY_ARGON2_MEMORY_KIB", "1024")
        .env("AUTHIFY_DB_POOL_SIZE", "2")
        .env("AUTHIFY_LOG", "warn")
        // The receiver listens on loopback over http, as in a private deployment.
        .env("AUTHIFY_OUTBOUND_ALLOW", authify_testkit::LOOPBACK)
        .env("AUTHIFY_OUTBOUND_HTTP", "on")
        .arg("serve")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap()
}

fn cli(dir: &std::path::Path, db: &str, args: &[&str], stdin: &str) -> String {
    let mut child = Command::new(env!("CARGO_BIN_EXE_authify"))
        .current_dir(dir)
        .env_clear()
        .env("AUTHIFY_DB_URL", db)
        .env("AUTHIFY_KEYS_DIR", dir.join("keys"))
        .env("AUTHIFY_ARGON2_MEMORY_KIB", "1024")
        .env("AUTHIFY_OUTBOUND_ALLOW", authify_testkit::LOOPBACK)
        .env("AUTHIFY_OUTBOUND_HTTP", "on")
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(stdin.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

async fn up(base: &str) {
    for _ in 0..200 {
        if reqwest::get(format!("{base}/health")).await.is_ok() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("{base} did not start");
}

#[tokio::test]
async fn a_logout_queued_while_the_receiver_is_down_is_delivered_after_a_server_crash_and_restart()
{
    let dir = tempfile::tempdir().unwrap();
    let db = FreshDatabase::new(dir.path());
    let (port, hook_port) = (free_port(), free_port());
    let base = format!("http://127.0.0.1:{port}");
    let mut first = server(dir.path(), &db.url, port);
    up(&base).await;
    cli(
        dir.path(),
        &db.url,
        &[
            "users",
            "create",
            "--email",
            "ann@example.com",
            "--password-stdin",
        ],
        "s3cret-passphrase\n",
    );
    let hook = format!("http://127.0.0.1:{hook_port}/backchannel");
    let made: Value = serde_json::from_str(&cli(
        dir.path(),
        &db.url,
        &[
            "apps",
            "create",
            "--name",
            "Wiki",
            "--callback",
            REDIRECT,
            "--first-party",
            "--backchannel-logout-uri",
            &hook,
            "--json",
        ],
        "",
    ))
    .unwrap();
    let client_id = made["app_id"].as_str().unwrap().to_owned();

    let browser = authify_testkit::Browser {
        base: base.clone(),
        http: reqwest::Client::builder()
            .cookie_store(true)
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap(),
    };
    let res = browser
        .sign_in("", "ann@example.com", "s3cret-passphrase")
        .await;
    assert_eq!(res.status(), 303);
    code_for(&browser, &authorize_url(&client_id, &[])).await;
    let res = browser.submit("/logout", "/logout", &[]).await;
    assert_eq!(res.status(), 303);
    // The first attempt fails (nothing listens), then the server dies without a goodbye.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    first.kill().unwrap();
    first.wait().unwrap();

    let got = receiver(hook_port);
    let mut second = server(dir.path(), &db.url, port);
    up(&base).await;
    let tokens = wait_for(&got, 1, 30).await;
    second.kill().unwrap();
    second.wait().unwrap();
    assert_eq!(tokens.len(), 1, "the queued logout survived the crash");
    let payload = tokens[0].split('.').nth(1).unwrap();
    let claims: Value = serde_json::from_slice(
        &base64::Engine::decode(&base64::engine::general_purpose::URL_SAFE_NO_PAD, payload)
            .unwrap(),
    )
    .unwrap();
    assert_eq!(claims["aud"], client_id);
    assert!(claims["sid"].is_string());
}

#[tokio::test]
async fn rp_initiated_logout_with_a_matching_id_token_hint_ends_the_session_and_returns_to_the_app()
{
    let app = spawn_app().await;
    let (id, secret) = app
        .create_app_with(
            "Wiki",
            &[REDIRECT],
            AppOptions {
                first_party: true,
                post_logout_redirect_uri: Some("https://rp.example/bye".into()),
                ..AppOptions::default()
            },
        )
        .await;
    let rp = crate::oidc::Rp {
        id: id.clone(),
        secret,
    };
    let browser = signed_in(&app).await;
    let code = code_for(&browser, &authorize_url(&id, &[])).await;
    let (_, tokens) = crate::oidc::token(
        &app,
        &rp,
        &[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("redirect_uri", REDIRECT),
        ],
    )
    .await;
    let hint = tokens["id_token"].as_str().unwrap();

    // An unregistered destination is refused, and nobody is signed out by it.
    let bad = format!(
        "/logout?id_token_hint={hint}&post_logout_redirect_uri=https%3A%2F%2Fevil.example%2F"
    );
    assert_eq!(browser.get(&bad).await.status(), 400);
    assert_eq!(browser.get("/account").await.status(), 200);

    let good = format!(
        "/logout?id_token_hint={hint}&post_logout_redirect_uri=https%3A%2F%2Frp.example%2Fbye&state=bye-1"
    );
    let res = browser.get(&good).await;
    assert_eq!(res.status(), 303);
    assert_eq!(location(&res), "https://rp.example/bye?state=bye-1");
    assert_eq!(browser.get("/account").await.status(), 303, "signed out");
}

#[tokio::test]
async fn the_account_page_lists_sessions_with_their_apps_and_logs_out_everywhere() {
    let app = spawn_app().await;
    let rp = crate::oidc::rp(&app, crate::oidc::first_party()).await;
    let laptop = signed_in(&app).await;
    let phone = app.browser();
    phone
        .sign_in("", "ann@example.com", authify_testkit::PASSWORD)
        .await;
    code_for(&phone, &authorize_url(&rp.id, &[])).await;
    let page = laptop.get("/account").await.text().await.unwrap();
    assert!(page.contains("Where you are signed in"));
    assert_eq!(
        page.matches("name=\"sid\" value=\"").count(),
        3,
        "two sessions and the everywhere form"
    );
    assert!(
        page.contains("Wiki"),
        "the phone's session lists the app it reached"
    );
    let res = laptop
        .submit("/account", "/account/sessions/revoke", &[("sid", "all")])
        .await;
    assert_eq!(location(&res), "/login?signed_out=1");
    assert_eq!(laptop.get("/account").await.status(), 303);
    assert_eq!(phone.get("/account").await.status(), 303);
}

#[tokio::test]
async fn a_receiver_failing_three_times_in_a_row_is_shown_as_failing_in_the_console() {
    let app = spawn_app().await;
    let dead = format!("http://127.0.0.1:{}/backchannel", free_port());
    let (id, _) = app
        .create_app_with(
            "Wiki",
            &[REDIRECT],
            AppOptions {
                first_party: true,
                backchannel_logout_uri: Some(dead),
                ..AppOptions::default()
            },
        )
        .await;
    let browser = signed_in(&app).await;
    code_for(&browser, &authorize_url(&id, &[])).await;
    browser.submit("/logout", "/logout", &[]).await;

    app.create_user("root@example.com", true).await;
    let admin = app.browser();
    admin
        .sign_in("", "root@example.com", authify_testkit::PASSWORD)
        .await;
    let page = format!("/admin/apps/{id}");
    let mut failing = false;
    for _ in 0..40 {
        // Each retry waits out its backoff on the server's clock.
        app.clock.advance(chrono::Duration::hours(1));
        tokio::time::sleep(Duration::from_millis(400)).await;
        let html = admin.get(&page).await.text().await.unwrap();
        if html.contains("Back-channel logout is failing") {
            failing = true;
            break;
        }
    }
    assert!(failing, "three failed deliveries mark the endpoint failing");
}

#[tokio::test]
async fn disabling_a_user_ends_their_sessions_and_tells_the_apps() {
    let app = spawn_app().await;
    let port = free_port();
    let got = receiver(port);
    let (id, _) = app
        .create_app_with(
            "Wiki",
            &[REDIRECT],
            AppOptions {
                first_party: true,
                backchannel_logout_uri: Some(format!("http://127.0.0.1:{port}/backchannel")),
                ..AppOptions::default()
            },
        )
        .await;
    let browser = signed_in(&app).await;
    code_for(&browser, &authorize_url(&id, &[])).await;
    app.create_user("root@example.com", true).await;
    let admin = app.browser();
    admin
        .sign_in("", "root@example.com", authify_testkit::PASSWORD)
        .await;
    let ann = app.actor("ann@example.com").await.user.public_id;
    let res = admin
        .submit(
            "/admin/users",
            &format!("/admin/users/{ann}/disabled"),
            &[("value", "yes"), ("confirmed", "yes")],
        )
        .await;
    assert_eq!(location(&res), "/admin/users?done=user_disabled");
    assert_eq!(browser.get("/account").await.status(), 303, "signed out");
    let tokens = wait_for(&got, 1, 10).await;
    assert_eq!(tokens.len(), 1);
    let (_, claims) = verify(&app, &tokens[0], &id).await;
    assert_eq!(claims["sub"], ann);
}

#[tokio::test]
async fn ending_one_session_on_the_account_page_keeps_the_others() {
    let app = spawn_app().await;
    let laptop = signed_in(&app).await;
    let phone = app.browser();
    phone
        .sign_in("", "ann@example.com", authify_testkit::PASSWORD)
        .await;
    let page = laptop.get("/account").await.text().await.unwrap();
    // The phone's session is the one not marked as this browser: the newest, listed first.
    let first_sid = page
        .split("name=\"sid\" value=\"")
        .nth(1)
        .unwrap()
        .split('"')
        .next()
        .unwrap()
        .to_owned();
    let res = laptop
        .submit(
            "/account",
            "/account/sessions/revoke",
            &[("sid", &first_sid)],
        )
        .await;
    assert_eq!(location(&res), "/account?done=session_ended");
    assert_eq!(
        phone.get("/account").await.status(),
        303,
        "the phone is signed out"
    );
    assert_eq!(
        laptop.get("/account").await.status(),
        200,
        "the laptop is not"
    );
}

#[tokio::test]
async fn the_logout_page_without_a_hint_asks_first_and_then_returns_to_the_registered_uri() {
    let app = spawn_app().await;
    let (id, _) = app
        .create_app_with(
            "Wiki",
            &[REDIRECT],
            AppOptions {
                post_logout_redirect_uri: Some("https://rp.example/bye".into()),
                ..AppOptions::default()
            },
        )
        .await;
    let browser = signed_in(&app).await;
    let url = format!(
        "/logout?client_id={id}&post_logout_redirect_uri=https%3A%2F%2Frp.example%2Fbye&state=s2"
    );
    let page = browser.get(&url).await;
    assert_eq!(page.status(), 200, "no hint: the user confirms");
    assert_eq!(
        browser.get("/account").await.status(),
        200,
        "still signed in"
    );
    let html = page.text().await.unwrap();
    let carried = |name| authify_testkit::hidden_value(&html, name).unwrap();
    let (client, uri) = (carried("client_id"), carried("post_logout_redirect_uri"));
    let res = browser
        .submit(
            &url,
            "/logout",
            &[("client_id", &client), ("post_logout_redirect_uri", &uri)],
        )
        .await;
    assert_eq!(location(&res), "https://rp.example/bye?state=s2");
    assert_eq!(browser.get("/account").await.status(), 303);
}
