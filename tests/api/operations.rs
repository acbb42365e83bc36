//! What operators see: request ids on every response, in every log line of the request and on
//! error pages; JSON logs; a graceful stop on SIGTERM that finishes what is in flight.

use std::io::{BufRead as _, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use authify_testkit::{spawn_app, spawn_app_in};

fn request_id(res: &reqwest::Response) -> String {
    res.headers()["x-request-id"].to_str().unwrap().to_owned()
}

#[tokio::test]
async fn every_response_carries_a_fresh_request_id_and_an_error_page_shows_it() {
    let app = spawn_app().await;
    let a = app.get("/health").await;
    let b = app.get("/health").await;
    let (ia, ib) = (request_id(&a), request_id(&b));
    assert_eq!(ia.len(), 16);
    assert!(ia.bytes().all(|c| c.is_ascii_hexdigit()), "{ia}");
    assert_ne!(ia, ib);
    // Someone who is not a trusted proxy cannot choose the id.
    let forged = app
        .http
        .get(format!("{}/health", app.address))
        .header("x-request-id", "chosen-by-me")
        .send()
        .await
        .unwrap();
    assert_ne!(request_id(&forged), "chosen-by-me");
    // An error page names the id of its response.
    let browser = app.browser();
    let res = browser.post("/login", &[("email", "a@example.com")]).await;
    assert_eq!(res.status(), 403);
    let id = request_id(&res);
    let html = res.text().await.unwrap();
    assert!(
        html.contains(&format!("Request id: <span class=\"mono\">{id}</span>")),
        "{html}"
    );
}

#[tokio::test]
async fn a_trusted_proxys_request_id_is_kept() {
    let dir = tempfile::tempdir().unwrap();
    let app = spawn_app_in(dir, &[("AUTHIFY_TRUSTED_PROXIES", "127.0.0.1")]).await;
    let res = app
        .http
        .get(format!("{}/health", app.address))
        .header("x-request-id", "lb-4bf92f3577b34da6")
        .send()
        .await
        .unwrap();
    assert_eq!(request_id(&res), "lb-4bf92f3577b34da6");
    // Not one that could break a log line.
    let res = app
        .http
        .get(format!("{}/health", app.address))
        .header("x-request-id", "has space")
        .send()
        .await
        .unwrap();
    assert_eq!(request_id(&res).len(), 16);
}

/// `authify serve` in `dir` with `env`; its stderr lines arrive on the receiver.
fn serve(dir: &std::path::Path, env: &[(&str, &str)]) -> (Child, mpsc::Receiver<String>) {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_authify"));
    cmd.current_dir(dir)
        .env_clear()
        .env("AUTHIFY_BIND", "127.0.0.1:0")
        .env("AUTHIFY_WORKERS", "1")
        .env("AUTHIFY_SIGNIN_ATTEMPTS_PER_MINUTE", "0");
    for (k, v) in env {
        cmd.env(k, v);
    }
    let mut child = cmd
        .arg("serve")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stderr = child.stderr.take().unwrap();
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            let _ = tx.send(line);
        }
    });
    (child, rx)
}

/// Waits for the line that says where the server listens; returns the port and the lines so far.
fn port_of(rx: &mpsc::Receiver<String>, json: bool) -> (u16, Vec<String>) {
    let mut seen = Vec::new();
    loop {
        let line = rx
            .recv_timeout(Duration::from_secs(60))
            .unwrap_or_else(|_| panic!("no listening line: {seen:?}"));
        seen.push(line.clone());
        if !line.contains("listening") {
            continue;
        }
        let port = if json {
            let v: serde_json::Value = serde_json::from_str(&line).unwrap();
            v["fields"]["port"].as_u64().unwrap() as u16
        } else {
            line.split("port=").nth(1).unwrap().trim().parse().unwrap()
        };
        return (port, seen);
    }
}

fn sigterm(child: &Child) {
    let ok = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap()
        .success();
    assert!(ok);
}

/// Every line until the process ends (or 30 s), and its exit status.
fn rest_of(
    child: &mut Child,
    rx: &mpsc::Receiver<String>,
) -> (Vec<String>, std::process::ExitStatus) {
    let mut lines = Vec::new();
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            lines.extend(rx.try_iter());
            return (lines, status);
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the server did not stop: {lines:?}"
        );
        lines.extend(rx.recv_timeout(Duration::from_millis(50)));
    }
}

#[tokio::test]
async fn json_logs_are_one_object_per_line_and_name_the_request_id() {
    let dir = tempfile::tempdir().unwrap();
    let (mut child, rx) = serve(
        dir.path(),
        &[
            ("AUTHIFY_LOG_FORMAT", "json"),
            ("AUTHIFY_LOG", "info,authify_web=debug"),
        ],
    );
    let (port, mut lines) = port_of(&rx, true);
    // A refused form logs a line inside its request.
    let res = reqwest::Client::new()
        .post(format!("http://127.0.0.1:{port}/login"))
        .form(&[("email", "a@example.com")])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 403);
    let id = request_id(&res);
    sigterm(&child);
    let (rest, status) = rest_of(&mut child, &rx);
    lines.extend(rest);
    assert!(status.success(), "{status:?}: {lines:?}");
    let events: Vec<serde_json::Value> = lines
        .iter()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: not JSON: {l}")))
        .collect();
    assert!(
        events
            .iter()
            .all(|e| e["level"].is_string() && e["timestamp"].is_string())
    );
    let of_request: Vec<&serde_json::Value> = events
        .iter()
        .filter(|e| e["span"]["id"] == id.as_str())
        .collect();
    assert!(
        of_request.iter().any(|e| e["fields"]["message"]
            .as_str()
            .is_some_and(|m| m.contains("form refused"))),
        "{lines:?}"
    );
    assert!(
        of_request
            .iter()
            .any(|e| e["fields"]["message"] == "request"),
        "the access log line names the id too: {lines:?}"
    );
    assert!(
        events
            .iter()
            .any(|e| e["fields"]["message"] == "authify stopped")
    );
}

#[tokio::test]
async fn sigterm_lets_in_flight_sign_ups_finish_then_stops_accepting() {
    let dir = tempfile::tempdir().unwrap();
    let (mut child, rx) = serve(dir.path(), &[("AUTHIFY_LOG", "info")]);
    let (port, _) = port_of(&rx, false);
    let base = format!("http://127.0.0.1:{port}");
    // Ten browsers, each with its form open (connection and CSRF token in hand).
    let mut forms = Vec::new();
    for i in 0..10 {
        let b = authify_testkit::Browser {
            base: base.clone(),
            http: authify_testkit::client()
                .cookie_store(true)
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .unwrap(),
        };
        let html = b.get("/signup").await.text().await.unwrap();
        let token = authify_testkit::hidden_value(&html, "csrf_token").unwrap();
        forms.push((b, token, format!("user{i}@example.com")));
    }
    let posts: Vec<_> = forms
        .into_iter()
        .map(|(b, token, email)| {
            tokio::spawn(async move {
                b.post(
                    "/signup",
                    &[
                        ("csrf_token", token.as_str()),
                        ("name", "User"),
                        ("email", email.as_str()),
                        ("password", authify_testkit::PASSWORD),
                    ],
                )
                .await
                .status()
                .as_u16()
            })
        })
        .collect();
    // The sign-ups queue for the hash pool (argon2id each) while the server is told to stop.
    tokio::time::sleep(Duration::from_millis(40)).await;
    sigterm(&child);
    let mut statuses = Vec::new();
    for p in posts {
        statuses.push(p.await.unwrap());
    }
    assert_eq!(statuses, vec![303; 10], "every sign-up in flight finished");
    let (lines, status) = rest_of(&mut child, &rx);
    assert!(status.success(), "{status:?}: {lines:?}");
    assert!(
        lines.iter().any(|l| l.contains("authify stopped")),
        "{lines:?}"
    );
    // Stopped: nothing answers any more.
    assert!(reqwest::get(format!("{base}/health")).await.is_err());
    // And what was answered was kept: the ten accounts sign in after a restart.
    let (mut again, rx2) = serve(dir.path(), &[("AUTHIFY_LOG", "info")]);
    let (port, _) = port_of(&rx2, false);
    let b = authify_testkit::Browser {
        base: format!("http://127.0.0.1:{port}"),
        http: authify_testkit::client()
            .cookie_store(true)
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap(),
    };
    let res = b
        .sign_in("", "user9@example.com", authify_testkit::PASSWORD)
        .await;
    assert_eq!(authify_testkit::location(&res), "/account");
    sigterm(&again);
    rest_of(&mut again, &rx2);
}

#[tokio::test]
async fn metrics_are_served_on_their_own_listener_only_and_count_what_happened() {
    let dir = tempfile::tempdir().unwrap();
    let app = spawn_app_in(dir, &[("AUTHIFY_METRICS_BIND", "127.0.0.1:0")]).await;
    // Never on the public listener.
    assert_eq!(app.get("/metrics").await.status(), 404);
    let port = app.metrics_port.expect("a metrics listener");
    let wiki = "https://wiki.example/cb";
    app.create_app("Wiki", &[wiki]).await;
    app.create_user("ann@example.com", false).await;
    let b = app.browser();
    let res = b
        .sign_in(
            &format!("?callback={}", authify_testkit::b64(wiki)),
            "ann@example.com",
            authify_testkit::PASSWORD,
        )
        .await;
    assert!(authify_testkit::location(&res).starts_with(wiki));
    let res = app.browser().sign_in("", "ann@example.com", "wrong").await;
    assert_eq!(res.status(), 401);
    let scrape = reqwest::get(format!("http://127.0.0.1:{port}/metrics"))
        .await
        .unwrap();
    assert_eq!(scrape.status(), 200);
    assert!(
        scrape.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/plain; version=0.0.4")
    );
    let text = scrape.text().await.unwrap();
    // Metrics are per process (this test binary runs many servers): present and counting.
    let value = |series: &str| -> f64 {
        text.lines()
            .find(|l| l.starts_with(series))
            .and_then(|l| l.rsplit(' ').next())
            .and_then(|v| v.parse().ok())
            .unwrap_or_else(|| panic!("{series} missing:\n{text}"))
    };
    assert!(
        value("authify_http_requests_total{method=\"POST\",route=\"/login\",status=\"303\"}")
            >= 1.0
    );
    assert!(
        value("authify_http_requests_total{method=\"POST\",route=\"/login\",status=\"401\"}")
            >= 1.0
    );
    assert!(value("authify_http_request_duration_seconds_count{route=\"/login\"}") >= 2.0);
    assert!(value("authify_signins_total{method=\"password\",result=\"success\"}") >= 1.0);
    assert!(value("authify_signins_total{method=\"password\",result=\"failure\"}") >= 1.0);
    assert!(value("authify_tokens_signed_total{algorithm=\"ES512\"}") >= 1.0);
    assert!(value("authify_db_pool_connections{state=\"idle\"}") >= 0.0);
    assert_eq!(value("authify_logout_outbox_backlog"), 0.0);
    assert!(text.contains("authify_hash_pool_running"), "{text}");
    assert!(text.contains("authify_hash_pool_queued"), "{text}");
    // No path with ids or queries becomes a label: only route patterns.
    assert!(!text.contains("wiki.example"), "{text}");
}
