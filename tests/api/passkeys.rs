//! Passkeys over HTTP, without an authenticator: what the pages offer, the JSON endpoints' CSRF
//! gate and options (WebAuthn L3 shapes from webauthn-rs), the password before registering,
//! forged and replayed assertions refused and audited. The ceremonies themselves run in
//! Chromium with a virtual authenticator (`browser_passkeys.rs`).

use authify_testkit::{Browser, PASSWORD, TestApp, b64, hidden_value, spawn_app};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

use crate::mfa::{CALLBACK, signed_in};

/// A server whose public URL is `http://localhost:<port>`: WebAuthn needs a domain name.
pub(crate) async fn spawn_localhost(extra: &[(&str, &str)]) -> TestApp {
    authify_testkit::spawn_app_at(tempfile::tempdir().unwrap(), "localhost", extra).await
}

/// The token a page hands its script (`data-csrf`).
fn data_csrf(html: &str) -> String {
    let i = html.find("data-csrf=\"").expect("a data-csrf attribute") + 11;
    html[i..i + html[i..].find('"').unwrap()].to_owned()
}

/// POSTs JSON to `path` with the page token in `X-CSRF-Token` (none when `token` is `None`).
pub(crate) async fn post_json(
    b: &Browser,
    path: &str,
    token: Option<&str>,
    body: &serde_json::Value,
) -> (u16, serde_json::Value) {
    let mut req = b.http.post(format!("{}{path}", b.base)).json(body);
    if let Some(t) = token {
        req = req.header("X-CSRF-Token", t);
    }
    let res = req.send().await.unwrap();
    let status = res.status().as_u16();
    let text = res.text().await.unwrap();
    let json =
        serde_json::from_str(&text).unwrap_or_else(|_| panic!("not JSON ({status}): {text}"));
    (status, json)
}

fn b64u(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

/// An assertion of the right shape that no authenticator made, for `user_handle`.
fn forged_assertion(user_handle: &[u8]) -> serde_json::Value {
    let id = b64u(&[7u8; 32]);
    serde_json::json!({
        "id": id,
        "rawId": id,
        "type": "public-key",
        "response": {
            "authenticatorData": b64u(&[0u8; 37]),
            "clientDataJSON": b64u(br#"{"type":"webauthn.get","challenge":"AAAA","origin":"http://localhost"}"#),
            "signature": b64u(&[1u8; 70]),
            "userHandle": b64u(user_handle),
        },
        "extensions": {},
    })
}

#[tokio::test]
async fn the_sign_in_page_offers_a_passkey_with_conditional_ui_and_the_phone() {
    let app = spawn_localhost(&[]).await;
    app.create_app("Wiki", &[CALLBACK]).await;
    let b = app.browser();
    let html = b.get("/login").await.text().await.unwrap();
    assert!(
        html.contains("autocomplete=\"username webauthn\""),
        "{html}"
    );
    assert!(html.contains("id=\"passkey-signin\""));
    assert!(html.contains("src=\"/static/js/passkey.js\""));
    assert!(html.contains("href=\"/login/phone\""));
    let script = b.get("/static/js/passkey.js").await;
    assert_eq!(script.status(), 200);
    assert!(
        script.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/javascript")
    );
    // Without the page's token the endpoint refuses; with it, options for any passkey.
    let token = data_csrf(&html);
    let (status, body) =
        post_json(&b, "/webauthn/login/options", None, &serde_json::json!({})).await;
    assert_eq!(status, 403, "{body}");
    let (status, body) = post_json(
        &b,
        "/webauthn/login/options",
        Some("not-the-token"),
        &serde_json::json!({}),
    )
    .await;
    assert_eq!(status, 403, "{body}");
    let (status, body) = post_json(
        &b,
        "/webauthn/login/options",
        Some(&token),
        &serde_json::json!({}),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let pk = &body["publicKey"];
    assert_eq!(pk["rpId"], "localhost");
    assert_eq!(pk["userVerification"], "required");
    assert!(pk["challenge"].as_str().unwrap().len() >= 43);
    assert_eq!(pk["allowCredentials"], serde_json::json!([]));
    // A legacy sign-in keeps its app across the passkey path: the flow holds the return.
    let html = b
        .get(&format!("/login?callback={}", b64(CALLBACK)))
        .await
        .text()
        .await
        .unwrap();
    assert!(html.contains("/login/phone?callback"), "{html}");
}

#[tokio::test]
async fn passkeys_are_off_when_the_public_url_is_an_ip_address_and_the_endpoints_say_so() {
    let app = spawn_app().await;
    let b = app.browser();
    let html = b.get("/login").await.text().await.unwrap();
    assert!(!html.contains("id=\"passkey-signin\""));
    assert!(!html.contains("passkey.js"));
    // The form token is still the flow's: the refusal is about passkeys, not CSRF.
    let token = hidden_value(&html, "csrf_token").unwrap();
    let (status, body) = post_json(
        &b,
        "/webauthn/login/options",
        Some(&token),
        &serde_json::json!({}),
    )
    .await;
    assert_eq!(status, 400, "{body}");
    assert!(
        body["message"]
            .as_str()
            .unwrap()
            .contains("passkeys are not available"),
        "{body}"
    );
}

#[tokio::test]
async fn registering_a_passkey_needs_the_current_password_and_asks_for_a_discoverable_credential() {
    let app = spawn_localhost(&[]).await;
    let b = signed_in(&app, "ann@example.com").await;
    let html = b.get("/account").await.text().await.unwrap();
    assert!(html.contains("id=\"passkey-register\""), "{html}");
    let token = data_csrf(&html);
    let ask =
        |name: &str, password: &str| serde_json::json!({ "name": name, "password": password });
    let (status, body) = post_json(
        &b,
        "/webauthn/register/options",
        Some(&token),
        &ask("Laptop", "wrong password"),
    )
    .await;
    assert_eq!(status, 403, "{body}");
    let (status, body) = post_json(
        &b,
        "/webauthn/register/options",
        Some(&token),
        &ask("  ", PASSWORD),
    )
    .await;
    assert_eq!(status, 400, "{body}");
    assert!(body["message"].as_str().unwrap().contains("name"), "{body}");
    let (status, body) = post_json(
        &b,
        "/webauthn/register/options",
        Some(&token),
        &ask("Laptop", PASSWORD),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let pk = &body["publicKey"];
    assert_eq!(pk["rp"]["id"], "localhost");
    assert_eq!(pk["user"]["name"], "ann@example.com");
    assert_eq!(pk["authenticatorSelection"]["residentKey"], "required");
    assert_eq!(pk["authenticatorSelection"]["userVerification"], "required");
    // The user handle is the account's public id (16 bytes), never the e-mail address.
    let handle = URL_SAFE_NO_PAD
        .decode(pk["user"]["id"].as_str().unwrap())
        .unwrap();
    assert_eq!(handle.len(), 16);
    // An attestation no authenticator made is refused, and ends that registration.
    let forged = serde_json::json!({
        "id": b64u(&[9u8; 32]),
        "rawId": b64u(&[9u8; 32]),
        "type": "public-key",
        "response": {
            "attestationObject": b64u(&[0xa0]),
            "clientDataJSON": b64u(br#"{"type":"webauthn.create"}"#),
        },
        "extensions": {},
    });
    let (status, body) = post_json(&b, "/webauthn/register/finish", Some(&token), &forged).await;
    assert_eq!(status, 400, "{body}");
    let (status, body) = post_json(&b, "/webauthn/register/finish", Some(&token), &forged).await;
    assert_eq!(status, 404, "the challenge worked once: {body}");
    // A body that is not a credential is a JSON 400, not actix's plain text.
    let (status, body) = post_json(
        &b,
        "/webauthn/register/finish",
        Some(&token),
        &serde_json::json!({"id": 1}),
    )
    .await;
    assert_eq!(status, 400, "{body}");
    assert!(
        body["message"].as_str().unwrap().contains("not valid"),
        "{body}"
    );
    // Nothing counts as a factor: the account page shows none.
    let html = b.get("/account").await.text().await.unwrap();
    assert!(html.contains("No second factor yet"), "{html}");
}

#[tokio::test]
async fn a_forged_assertion_is_refused_audited_and_its_challenge_works_once() {
    let app = spawn_localhost(&[]).await;
    let ann = app.create_user("ann@example.com", false).await;
    let b = app.browser();
    let html = b.get("/login").await.text().await.unwrap();
    let token = data_csrf(&html);
    let (status, _) = post_json(
        &b,
        "/webauthn/login/options",
        Some(&token),
        &serde_json::json!({}),
    )
    .await;
    assert_eq!(status, 200);
    // Ann's user handle, a credential she never registered: the same answer as anyone's.
    let handle = uuid_bytes(&ann.public_id);
    let (status, body) = post_json(
        &b,
        "/webauthn/login/finish",
        Some(&token),
        &forged_assertion(&handle),
    )
    .await;
    assert_eq!(status, 401, "{body}");
    let unknown_user = body["message"].as_str().unwrap().to_owned();
    assert!(unknown_user.contains("not registered"), "{body}");
    let account = b.get("/account").await;
    assert!(
        authify_testkit::location(&account).starts_with("/login"),
        "nothing signed in"
    );
    // The challenge was spent by that answer.
    let (status, body) = post_json(
        &b,
        "/webauthn/login/finish",
        Some(&token),
        &forged_assertion(&handle),
    )
    .await;
    assert_eq!(status, 401, "{body}");
    assert!(
        body["message"].as_str().unwrap().contains("expired"),
        "{body}"
    );
    // A handle that is nobody's: indistinguishable from Ann's.
    post_json(
        &b,
        "/webauthn/login/options",
        Some(&token),
        &serde_json::json!({}),
    )
    .await;
    let (status, body) = post_json(
        &b,
        "/webauthn/login/finish",
        Some(&token),
        &forged_assertion(&[3u8; 16]),
    )
    .await;
    assert_eq!(
        (status, body["message"].as_str().unwrap()),
        (401, unknown_user.as_str())
    );
    let audit = audit_actions(&app);
    assert_eq!(
        audit
            .iter()
            .filter(|(a, o)| a == "signin.passkey" && o == "failure")
            .count(),
        2,
        "{audit:?}"
    );
}

/// `(action, outcome)` of every audit entry.
pub(crate) fn audit_actions(app: &TestApp) -> Vec<(String, String)> {
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
        .map(|e| (e.action, e.outcome))
        .collect()
}

fn uuid_bytes(public_id: &str) -> Vec<u8> {
    let hex: String = public_id.chars().filter(|c| *c != '-').collect();
    (0..16)
        .map(|i| u8::from_str_radix(&hex[2 * i..2 * i + 2], 16).unwrap())
        .collect()
}
