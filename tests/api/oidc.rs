//! The OpenID Connect provider over HTTP: discovery, the code flow with PKCE as a return of the
//! sign-in flow, tokens checked with an independent JWT library (jsonwebtoken), refresh rotation
//! and reuse detection, revocation, introspection, userinfo, consent, prompt handling, client
//! credentials, and the legacy flow's code exchange. The negative matrix is in
//! `oidc_refusals.rs`; stock relying-party libraries in `oidc_clients.rs`.

use authify_core::apps::AppOptions;
use authify_core::oidc::ClientType;
use authify_testkit::{Browser, PASSWORD, TestApp, b64, location, spawn_app};
use base64::Engine as _;
use serde_json::Value;

pub const REDIRECT: &str = "https://rp.example/cb";

/// A registered relying party.
pub struct Rp {
    pub id: String,
    pub secret: String,
}

pub async fn rp(app: &TestApp, options: AppOptions) -> Rp {
    let callbacks: &[&str] = if options.client_type == ClientType::Service {
        &[]
    } else {
        &[REDIRECT]
    };
    let (id, secret) = app.create_app_with("Wiki", callbacks, options).await;
    Rp { id, secret }
}

pub fn first_party() -> AppOptions {
    AppOptions {
        first_party: true,
        ..AppOptions::default()
    }
}

/// A browser signed in as ann.
pub async fn signed_in(app: &TestApp) -> Browser {
    app.create_user("ann@example.com", false).await;
    let browser = app.browser();
    let res = browser.sign_in("", "ann@example.com", PASSWORD).await;
    assert_eq!(res.status(), 303);
    browser
}

/// A PKCE verifier and its S256 challenge.
pub fn pkce() -> (String, String) {
    let verifier = format!("v{}", "erifier-0123456789-abcdefghijklmnopqrstuvwxyz");
    let challenge = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .encode(<sha2::Sha256 as sha2::Digest>::digest(verifier.as_bytes()));
    (verifier, challenge)
}

pub fn authorize_url(client_id: &str, extra: &[(&str, &str)]) -> String {
    let mut q = url::form_urlencoded::Serializer::new(String::new());
    q.append_pair("response_type", "code")
        .append_pair("client_id", client_id)
        .append_pair("redirect_uri", REDIRECT)
        .append_pair("scope", "openid profile email offline_access organizations")
        .append_pair("state", "st-1")
        .append_pair("nonce", "n-1");
    for (k, v) in extra {
        q.append_pair(k, v);
    }
    format!("/oauth/authorize?{}", q.finish())
}

pub fn param(url: &str, name: &str) -> Option<String> {
    url::Url::parse(url)
        .ok()?
        .query_pairs()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.into_owned())
}

/// GETs an authorization URL and returns the code sent back to the client.
pub async fn code_for(browser: &Browser, url: &str) -> String {
    let res = browser.get(url).await;
    assert_eq!(res.status(), 303, "{:?}", res.text().await);
    let to = location(&res);
    assert!(to.starts_with(REDIRECT), "{to}");
    param(&to, "code").expect("a code")
}

/// POSTs to the token endpoint with HTTP Basic client authentication.
pub async fn token(app: &TestApp, rp: &Rp, fields: &[(&str, &str)]) -> (u16, Value) {
    let res = app
        .http
        .post(format!("{}/oauth/token", app.address))
        .basic_auth(&rp.id, Some(&rp.secret))
        .form(fields)
        .send()
        .await
        .unwrap();
    let status = res.status().as_u16();
    (status, res.json().await.unwrap_or(Value::Null))
}

pub async fn exchange(app: &TestApp, rp: &Rp, code: &str, verifier: &str) -> (u16, Value) {
    token(
        app,
        rp,
        &[
            ("grant_type", "authorization_code"),
            ("code", code),
            ("redirect_uri", REDIRECT),
            ("code_verifier", verifier),
        ],
    )
    .await
}

/// Verifies a token with jsonwebtoken against the published JWKS; returns header and claims.
pub async fn verify(app: &TestApp, token: &str, audience: &str) -> (jsonwebtoken::Header, Value) {
    let header = jsonwebtoken::decode_header(token).unwrap();
    let jwks: jsonwebtoken::jwk::JwkSet = app
        .get("/.well-known/jwks.json")
        .await
        .json()
        .await
        .unwrap();
    let jwk = jwks
        .find(header.kid.as_deref().unwrap())
        .expect("kid published");
    let key = jsonwebtoken::DecodingKey::from_jwk(jwk).unwrap();
    let mut v = jsonwebtoken::Validation::new(header.alg);
    v.set_audience(&[audience]);
    v.set_issuer(&[app.address.as_str()]);
    v.validate_nbf = false;
    v.required_spec_claims = ["exp", "iss", "aud", "sub"].map(String::from).into();
    let data = jsonwebtoken::decode::<Value>(token, &key, &v).unwrap();
    (data.header, data.claims)
}

async fn userinfo(app: &TestApp, access: &str) -> reqwest::Response {
    app.http
        .get(format!("{}/oauth/userinfo", app.address))
        .bearer_auth(access)
        .send()
        .await
        .unwrap()
}

pub async fn introspect(app: &TestApp, rp: &Rp, token: &str) -> Value {
    app.http
        .post(format!("{}/oauth/introspect", app.address))
        .basic_auth(&rp.id, Some(&rp.secret))
        .form(&[("token", token)])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

#[tokio::test]
async fn discovery_names_every_endpoint_under_the_public_url_and_the_three_algorithms() {
    let app = spawn_app().await;
    let doc: Value = app
        .get("/.well-known/openid-configuration")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(doc["issuer"], app.address);
    for (k, path) in [
        ("authorization_endpoint", "/oauth/authorize"),
        ("token_endpoint", "/oauth/token"),
        ("userinfo_endpoint", "/oauth/userinfo"),
        ("jwks_uri", "/.well-known/jwks.json"),
        ("end_session_endpoint", "/logout"),
    ] {
        assert_eq!(doc[k], format!("{}{path}", app.address), "{k}");
    }
    let algs = doc["id_token_signing_alg_values_supported"]
        .as_array()
        .unwrap();
    for alg in ["ES256", "ES384", "ES512"] {
        assert!(algs.contains(&Value::from(alg)), "{alg}");
    }
    assert_eq!(
        doc["code_challenge_methods_supported"],
        serde_json::json!(["S256"])
    );
    assert_eq!(doc["response_types_supported"], serde_json::json!(["code"]));
}

#[tokio::test]
async fn a_signed_in_user_gets_a_code_whose_tokens_verify_with_the_jwks_and_work_at_userinfo() {
    let app = spawn_app().await;
    let rp = rp(&app, first_party()).await;
    let browser = signed_in(&app).await;
    let (verifier, challenge) = pkce();
    let url = authorize_url(
        &rp.id,
        &[
            ("code_challenge", &challenge),
            ("code_challenge_method", "S256"),
        ],
    );
    let res = browser.get(&url).await;
    assert_eq!(res.status(), 303);
    let to = location(&res);
    assert_eq!(param(&to, "state").as_deref(), Some("st-1"));
    assert_eq!(param(&to, "iss").as_deref(), Some(app.address.as_str()));
    let code = param(&to, "code").unwrap();

    let (status, body) = exchange(&app, &rp, &code, &verifier).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["token_type"], "Bearer");
    let id_token = body["id_token"].as_str().unwrap();
    let access = body["access_token"].as_str().unwrap();
    assert!(body["refresh_token"].is_string());

    let (header, claims) = verify(&app, id_token, &rp.id).await;
    assert_eq!(header.alg, jsonwebtoken::Algorithm::ES256);
    assert_eq!(claims["nonce"], "n-1");
    assert_eq!(claims["email"], "ann@example.com");
    assert_eq!(claims["amr"], serde_json::json!(["pwd"]));
    assert!(claims["auth_time"].is_i64() && claims["sid"].is_string());
    let expected_at_hash = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .encode(&<sha2::Sha256 as sha2::Digest>::digest(access.as_bytes())[..16]);
    assert_eq!(claims["at_hash"], expected_at_hash);

    let (header, at) = verify(&app, access, &rp.id).await;
    assert_eq!(header.typ.as_deref(), Some("at+jwt"));
    assert_eq!(at["client_id"], rp.id);
    assert_eq!(at["sub"], claims["sub"]);

    let info: Value = userinfo(&app, access).await.json().await.unwrap();
    assert_eq!(info["sub"], claims["sub"]);
    assert_eq!(info["email"], "ann@example.com");
    assert!(info["organizations"].is_array());
    // An ID token is not an access token.
    assert_eq!(userinfo(&app, id_token).await.status(), 401);
}

#[tokio::test]
async fn a_user_not_signed_in_signs_in_on_the_authorize_page_and_returns_with_a_code() {
    let app = spawn_app().await;
    let rp = rp(&app, first_party()).await;
    app.create_user("ann@example.com", false).await;
    let browser = app.browser();
    let url = authorize_url(&rp.id, &[("login_hint", "ann@example.com")]);
    let page = browser.get(&url).await;
    assert_eq!(page.status(), 200);
    let html = page.text().await.unwrap();
    assert!(html.contains("Wiki"), "the form names the app");
    assert!(
        html.contains("value=\"ann@example.com\""),
        "login_hint prefills"
    );
    let res = browser
        .submit(
            &url,
            "/login",
            &[("email", "ann@example.com"), ("password", PASSWORD)],
        )
        .await;
    assert_eq!(res.status(), 303);
    let to = location(&res);
    assert!(to.starts_with(REDIRECT), "{to}");
    let code = param(&to, "code").unwrap();
    let (status, body) = token(
        &app,
        &rp,
        &[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("redirect_uri", REDIRECT),
        ],
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let (_, claims) = verify(&app, body["id_token"].as_str().unwrap(), &rp.id).await;
    assert_eq!(claims["nonce"], "n-1");
}

#[tokio::test]
async fn refresh_tokens_rotate_and_a_reused_one_revokes_the_whole_family() {
    let app = spawn_app().await;
    let rp = rp(&app, first_party()).await;
    let browser = signed_in(&app).await;
    let (verifier, challenge) = pkce();
    let code = code_for(
        &browser,
        &authorize_url(
            &rp.id,
            &[
                ("code_challenge", &challenge),
                ("code_challenge_method", "S256"),
            ],
        ),
    )
    .await;
    let (_, first) = exchange(&app, &rp, &code, &verifier).await;
    let r1 = first["refresh_token"].as_str().unwrap().to_owned();
    let refresh = |t: String| {
        let (app, rp) = (&app, &rp);
        async move {
            token(
                app,
                rp,
                &[("grant_type", "refresh_token"), ("refresh_token", &t)],
            )
            .await
        }
    };
    let (status, second) = refresh(r1.clone()).await;
    assert_eq!(status, 200, "{second}");
    let r2 = second["refresh_token"].as_str().unwrap().to_owned();
    assert_ne!(r1, r2, "rotated");
    assert!(second["id_token"].is_string());
    let a2 = second["access_token"].as_str().unwrap().to_owned();
    assert_eq!(introspect(&app, &rp, &r2).await["active"], true);

    let (status, again) = refresh(r1).await;
    assert_eq!(
        (status, again["error"].as_str()),
        (400, Some("invalid_grant"))
    );
    // The reuse revoked the family: the new refresh token and its access token are dead too.
    let (status, _) = refresh(r2.clone()).await;
    assert_eq!(status, 400);
    assert_eq!(introspect(&app, &rp, &r2).await["active"], false);
    assert_eq!(introspect(&app, &rp, &a2).await["active"], false);
    assert_eq!(userinfo(&app, &a2).await.status(), 401);
}

#[tokio::test]
async fn a_reused_code_is_refused_and_revokes_what_it_issued() {
    let app = spawn_app().await;
    let rp = rp(&app, first_party()).await;
    let browser = signed_in(&app).await;
    let (verifier, challenge) = pkce();
    let code = code_for(
        &browser,
        &authorize_url(
            &rp.id,
            &[
                ("code_challenge", &challenge),
                ("code_challenge_method", "S256"),
            ],
        ),
    )
    .await;
    let (status, body) = exchange(&app, &rp, &code, &verifier).await;
    assert_eq!(status, 200);
    let access = body["access_token"].as_str().unwrap().to_owned();
    assert_eq!(introspect(&app, &rp, &access).await["active"], true);
    let (status, again) = exchange(&app, &rp, &code, &verifier).await;
    assert_eq!(
        (status, again["error"].as_str()),
        (400, Some("invalid_grant"))
    );
    assert!(again.get("access_token").is_none());
    assert_eq!(introspect(&app, &rp, &access).await["active"], false);
    assert_eq!(userinfo(&app, &access).await.status(), 401);
}

#[tokio::test]
async fn revoking_an_access_token_ends_it_at_userinfo_and_introspection() {
    let app = spawn_app().await;
    let rp = rp(&app, first_party()).await;
    let browser = signed_in(&app).await;
    let code = code_for(&browser, &authorize_url(&rp.id, &[])).await;
    // client_secret_post this time.
    let res: Value = app
        .http
        .post(format!("{}/oauth/token", app.address))
        .form(&[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("redirect_uri", REDIRECT),
            ("client_id", &rp.id),
            ("client_secret", &rp.secret),
        ])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let access = res["access_token"].as_str().unwrap();
    assert_eq!(userinfo(&app, access).await.status(), 200);
    let revoke = app
        .http
        .post(format!("{}/oauth/revoke", app.address))
        .basic_auth(&rp.id, Some(&rp.secret))
        .form(&[("token", access)])
        .send()
        .await
        .unwrap();
    assert_eq!(revoke.status(), 200);
    let res = userinfo(&app, access).await;
    assert_eq!(res.status(), 401);
    assert!(
        res.headers()["www-authenticate"]
            .to_str()
            .unwrap()
            .contains("invalid_token")
    );
    assert_eq!(introspect(&app, &rp, access).await["active"], false);
}

#[tokio::test]
async fn consent_is_asked_once_remembered_listed_and_revocable() {
    let app = spawn_app().await;
    let rp = rp(&app, AppOptions::default()).await;
    let browser = signed_in(&app).await;
    let url = authorize_url(&rp.id, &[]);
    let res = browser.get(&url).await;
    assert_eq!(location(&res), "/oauth/consent");
    let page = browser.get("/oauth/consent").await.text().await.unwrap();
    assert!(page.contains("Wiki") && page.contains("e-mail address"));

    // Deny: the client hears access_denied, no code.
    let res = browser
        .submit("/oauth/consent", "/oauth/consent", &[("decision", "deny")])
        .await;
    let to = location(&res);
    assert_eq!(
        param(&to, "error").as_deref(),
        Some("access_denied"),
        "{to}"
    );
    assert!(param(&to, "code").is_none());

    // Allow: a code; the next request goes straight back.
    browser.get(&url).await;
    let res = browser
        .submit("/oauth/consent", "/oauth/consent", &[("decision", "allow")])
        .await;
    assert!(param(&location(&res), "code").is_some());
    assert!(param(&location(&browser.get(&url).await), "code").is_some());
    // prompt=none needs no page now; prompt=consent asks again.
    let none = authorize_url(&rp.id, &[("prompt", "none")]);
    assert!(param(&location(&browser.get(&none).await), "code").is_some());
    let ask = authorize_url(&rp.id, &[("prompt", "consent")]);
    assert_eq!(location(&browser.get(&ask).await), "/oauth/consent");

    // Listed on the account page; revoking it brings the question back.
    let account = browser.get("/account").await.text().await.unwrap();
    assert!(account.contains("Apps you allowed") && account.contains(&rp.id));
    let res = browser
        .submit("/account", "/account/grants/revoke", &[("app_id", &rp.id)])
        .await;
    assert_eq!(res.status(), 303);
    assert_eq!(location(&browser.get(&url).await), "/oauth/consent");
    let res = browser.get(&none).await;
    assert_eq!(
        param(&location(&res), "error").as_deref(),
        Some("consent_required")
    );
}

#[tokio::test]
async fn prompt_none_without_a_session_says_login_required_and_prompt_login_asks_again() {
    let app = spawn_app().await;
    let rp = rp(&app, first_party()).await;
    let stranger = app.browser();
    let res = stranger
        .get(&authorize_url(&rp.id, &[("prompt", "none")]))
        .await;
    let to = location(&res);
    assert_eq!(param(&to, "error").as_deref(), Some("login_required"));
    assert_eq!(param(&to, "state").as_deref(), Some("st-1"));
    assert_eq!(param(&to, "iss").as_deref(), Some(app.address.as_str()));

    let browser = signed_in(&app).await;
    for extra in [("prompt", "login"), ("max_age", "0")] {
        app.clock.advance(chrono::Duration::seconds(2));
        let res = browser.get(&authorize_url(&rp.id, &[extra])).await;
        assert_eq!(res.status(), 200, "{extra:?} shows the sign-in form");
    }
    let res = browser
        .get(&authorize_url(&rp.id, &[("max_age", "3600")]))
        .await;
    assert_eq!(res.status(), 303);
}

#[tokio::test]
async fn a_service_app_gets_client_credentials_tokens_and_other_apps_do_not() {
    let app = spawn_app().await;
    let service = rp(
        &app,
        AppOptions {
            client_type: ClientType::Service,
            ..AppOptions::default()
        },
    )
    .await;
    let (status, body) = token(&app, &service, &[("grant_type", "client_credentials")]).await;
    assert_eq!(status, 200, "{body}");
    assert!(body.get("id_token").is_none() && body.get("refresh_token").is_none());
    let (header, claims) = verify(&app, body["access_token"].as_str().unwrap(), &service.id).await;
    assert_eq!(header.typ.as_deref(), Some("at+jwt"));
    assert_eq!(claims["sub"], service.id);
    let web = rp(&app, first_party()).await;
    let (status, body) = token(&app, &web, &[("grant_type", "client_credentials")]).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("unauthorized_client"))
    );
}

#[tokio::test]
async fn an_app_signs_with_the_algorithm_it_was_registered_with() {
    let app = spawn_app().await;
    let rp = rp(
        &app,
        AppOptions {
            first_party: true,
            algorithm: authify_domain::Algorithm::ES384,
            ..AppOptions::default()
        },
    )
    .await;
    let browser = signed_in(&app).await;
    let code = code_for(&browser, &authorize_url(&rp.id, &[])).await;
    let (_, body) = token(
        &app,
        &rp,
        &[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("redirect_uri", REDIRECT),
        ],
    )
    .await;
    let (header, _) = verify(&app, body["id_token"].as_str().unwrap(), &rp.id).await;
    assert_eq!(header.alg, jsonwebtoken::Algorithm::ES384);
}

#[tokio::test]
async fn the_legacy_flow_exchanges_a_code_for_its_jwt_and_an_access_token() {
    let app = spawn_app().await;
    let (app_id, secret) = app
        .create_app_with(
            "Legacy",
            &["https://legacy.example/cb"],
            AppOptions::default(),
        )
        .await;
    let browser = signed_in(&app).await;
    let query = format!(
        "/login?callback={}&state=s9&response_type=code",
        b64("https://legacy.example/cb")
    );
    let res = browser.get(&query).await;
    let to = location(&res);
    assert!(to.starts_with("https://legacy.example/cb?"), "{to}");
    assert!(param(&to, "jwt").is_none(), "no token in the URL");
    assert_eq!(param(&to, "state").as_deref(), Some("s9"));
    let code = param(&to, "code").unwrap();
    let legacy = Rp {
        id: app_id.clone(),
        secret,
    };
    let (status, body) = token(
        &app,
        &legacy,
        &[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("redirect_uri", "https://legacy.example/cb"),
        ],
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let claims = app
        .client(&app_id)
        .verify(body["jwt"].as_str().unwrap())
        .await
        .unwrap();
    assert_eq!(claims.user.username, "ann@example.com");
    assert!(claims.sid.is_some(), "the legacy token names its session");
    let access = body["access_token"].as_str().unwrap();
    assert_eq!(userinfo(&app, access).await.status(), 200);
}

#[tokio::test]
async fn a_user_who_signs_in_on_the_authorize_page_is_asked_for_consent_then_gets_a_code() {
    let app = spawn_app().await;
    let rp = rp(&app, AppOptions::default()).await;
    app.create_user("ann@example.com", false).await;
    let browser = app.browser();
    let url = authorize_url(&rp.id, &[]);
    let res = browser
        .submit(
            &url,
            "/login",
            &[("email", "ann@example.com"), ("password", PASSWORD)],
        )
        .await;
    assert_eq!(location(&res), "/oauth/consent");
    let res = browser
        .submit("/oauth/consent", "/oauth/consent", &[("decision", "allow")])
        .await;
    let to = location(&res);
    assert!(param(&to, "code").is_some(), "{to}");
    assert_eq!(param(&to, "state").as_deref(), Some("st-1"));
}

#[tokio::test]
async fn a_public_app_cannot_use_the_legacy_code_exchange_which_has_no_pkce() {
    let app = spawn_app().await;
    let (app_id, _) = app
        .create_app_with(
            "Spa",
            &["https://spa.example/cb"],
            AppOptions {
                client_type: ClientType::Public,
                ..AppOptions::default()
            },
        )
        .await;
    let browser = signed_in(&app).await;
    let res = browser
        .get(&format!(
            "/login?callback={}&response_type=code",
            b64("https://spa.example/cb")
        ))
        .await;
    let code = param(&location(&res), "code").unwrap();
    let res: Value = app
        .http
        .post(format!("{}/oauth/token", app.address))
        .form(&[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("redirect_uri", "https://spa.example/cb"),
            ("client_id", &app_id),
        ])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(res["error"], "unauthorized_client");
    assert!(res.get("jwt").is_none());
}
