//! `authify-client` against a live server: what a relying app gets for good and bad tokens.

use authify_client::{AuthifyClient, ClientConfig, ClientError, VerifyError};
use authify_domain::Algorithm;
use authify_jwt::{PrivateKey, Signer, TokenIssuer};
use authify_testkit::{APP_ID, ISSUER, TestApp, sample_subject, spawn_app, spawn_app_with};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::json;

fn refused(result: Result<authify_client::Claims, ClientError>) -> VerifyError {
    match result {
        Err(ClientError::Token(e)) => e,
        other => panic!("expected a refused token, got {other:?}"),
    }
}

fn b64json(v: serde_json::Value) -> String {
    URL_SAFE_NO_PAD.encode(serde_json::to_vec(&v).unwrap())
}

/// A token with the server's active kid, signed by `key` instead of the server's key.
fn forged_with(app: &TestApp, key: &PrivateKey) -> String {
    let kid = app.state.keys().keyring.signer().kid().to_owned();
    let signer = Signer::new(kid, key).unwrap();
    let now = chrono::Utc::now().timestamp();
    TokenIssuer::new(ISSUER, 15)
        .issue(&signer, sample_subject(), APP_ID, now, [3; 16])
        .unwrap()
        .0
}

#[tokio::test]
async fn the_client_accepts_a_fresh_token_on_every_algorithm_and_returns_typed_claims() {
    for alg in Algorithm::ALL {
        let app = spawn_app_with(alg).await;
        let client = app.client(APP_ID);
        let claims = client.verify(&app.token_for(APP_ID)).await.unwrap();
        assert_eq!(claims.iss, ISSUER);
        assert_eq!(claims.aud, APP_ID);
        assert_eq!(claims.sub, sample_subject().sub);
        assert_eq!(claims.user.organizations[0].memberships[0].gid, "g-1");
        assert_eq!(claims.scopes, ["user_access"]);
        assert_eq!(client.key_fetches(), 1);
        // Cached: a second token costs no fetch.
        client.verify(&app.token_for(APP_ID)).await.unwrap();
        assert_eq!(client.key_fetches(), 1);
    }
}

#[tokio::test]
async fn the_client_refuses_a_tampered_payload() {
    let app = spawn_app_with(Algorithm::ES256).await;
    let token = app.token_for(APP_ID);
    let parts: Vec<&str> = token.split('.').collect();
    let mut claims: serde_json::Value =
        serde_json::from_slice(&URL_SAFE_NO_PAD.decode(parts[1]).unwrap()).unwrap();
    claims["scopes"] = json!(["user_access", "admin_access"]);
    let forged = format!("{}.{}.{}", parts[0], b64json(claims), parts[2]);
    assert_eq!(
        refused(app.client(APP_ID).verify(&forged).await),
        VerifyError::BadSignature
    );
}

#[tokio::test]
async fn the_client_refuses_a_token_signed_by_another_key() {
    for alg in Algorithm::ALL {
        let app = spawn_app_with(alg).await;
        let forged = forged_with(&app, &PrivateKey::generate(alg).unwrap());
        assert_eq!(
            refused(app.client(APP_ID).verify(&forged).await),
            VerifyError::BadSignature,
            "{alg}"
        );
    }
}

#[tokio::test]
async fn the_client_refuses_alg_none() {
    let app = spawn_app().await;
    let token = app.token_for(APP_ID);
    let (header, rest) = token.split_once('.').unwrap();
    let payload = rest.split('.').next().unwrap();
    let mut h: serde_json::Value =
        serde_json::from_slice(&URL_SAFE_NO_PAD.decode(header).unwrap()).unwrap();
    h["alg"] = json!("none");
    let none = format!("{}.{payload}.", b64json(h));
    assert_eq!(
        refused(app.client(APP_ID).verify(&none).await),
        VerifyError::AlgorithmNotAllowed("none".into())
    );
}

#[tokio::test]
async fn the_client_refuses_hs256_signed_with_the_public_key_as_secret() {
    let app = spawn_app_with(Algorithm::ES256).await;
    let pem: serde_json::Value = app.get("/jwt/key").await.json().await.unwrap();
    let kid = app.state.keys().keyring.signer().kid().to_owned();
    let claims = TokenIssuer::new(ISSUER, 15).claims(
        sample_subject(),
        APP_ID,
        chrono::Utc::now().timestamp(),
        [1; 16],
    );
    let mut header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256);
    header.kid = Some(kid);
    let key = jsonwebtoken::EncodingKey::from_secret(pem["data"].as_str().unwrap().as_bytes());
    let token = jsonwebtoken::encode(&header, &claims, &key).unwrap();
    assert_eq!(
        refused(app.client(APP_ID).verify(&token).await),
        VerifyError::AlgorithmNotAllowed("HS256".into())
    );
}

#[tokio::test]
async fn an_unknown_kid_is_refused_after_one_refetch_and_further_refetches_are_rate_limited() {
    let app = spawn_app().await;
    let client = app.client(APP_ID);
    client.verify(&app.token_for(APP_ID)).await.unwrap();
    assert_eq!(client.key_fetches(), 1);

    let stranger = Signer::new(
        "kid-nobody-published",
        &PrivateKey::generate(Algorithm::ES512).unwrap(),
    )
    .unwrap();
    let now = chrono::Utc::now().timestamp();
    let token = TokenIssuer::new(ISSUER, 15)
        .issue(&stranger, sample_subject(), APP_ID, now, [5; 16])
        .unwrap()
        .0;
    assert_eq!(
        refused(client.verify(&token).await),
        VerifyError::UnknownKey(Some("kid-nobody-published".into()))
    );
    assert_eq!(client.key_fetches(), 2, "one refetch for an unknown kid");
    for _ in 0..5 {
        assert!(matches!(
            refused(client.verify(&token).await),
            VerifyError::UnknownKey(_)
        ));
    }
    assert_eq!(
        client.key_fetches(),
        2,
        "junk tokens must not make the client hammer the server"
    );
}

#[tokio::test]
async fn after_a_key_rotation_the_client_learns_the_new_key_by_refetching() {
    let app = spawn_app_with(Algorithm::ES256).await;
    let client = app.client(APP_ID);
    let old = app.token_for(APP_ID);
    client.verify(&old).await.unwrap();
    app.rotate_key();
    let new = app.token_for(APP_ID);
    client.verify(&new).await.unwrap();
    assert_eq!(client.key_fetches(), 2);
    client.verify(&old).await.unwrap();
}

#[tokio::test]
async fn the_client_refuses_expired_and_not_yet_valid_tokens() {
    let app = spawn_app_with(Algorithm::ES384).await;
    let client = app.client(APP_ID);
    let iat = chrono::Utc::now().timestamp();
    let token = app.token_at(APP_ID, iat);
    let exp = iat + 15 * 60;
    assert!(
        client.verify_at(&token, exp + 29).await.is_ok(),
        "30 s leeway"
    );
    assert_eq!(
        refused(client.verify_at(&token, exp + 31).await),
        VerifyError::Expired
    );
    assert_eq!(
        refused(client.verify_at(&token, iat - 120).await),
        VerifyError::NotYetValid
    );
}

#[tokio::test]
async fn the_client_refuses_a_wrong_issuer_or_audience() {
    let app = spawn_app().await;
    let for_other_app = app.token_for("some-other-app");
    assert_eq!(
        refused(app.client(APP_ID).verify(&for_other_app).await),
        VerifyError::WrongAudience
    );

    let mut config = ClientConfig::new(&app.address, APP_ID);
    config.issuer = Some("https://not-our-issuer.example".into());
    let strict = AuthifyClient::new(config).unwrap();
    assert_eq!(
        refused(strict.verify(&app.token_for(APP_ID)).await),
        VerifyError::WrongIssuer
    );
}

#[tokio::test]
async fn the_client_honours_its_algorithm_allow_list() {
    let app = spawn_app_with(Algorithm::ES512).await;
    let mut config = ClientConfig::new(&app.address, APP_ID);
    config.algorithms = vec![Algorithm::ES256];
    let client = AuthifyClient::new(config).unwrap();
    assert_eq!(
        refused(client.verify(&app.token_for(APP_ID)).await),
        VerifyError::AlgorithmNotAllowed("ES512".into())
    );
}

#[tokio::test]
async fn an_unreachable_server_is_a_fetch_error_not_a_bad_token() {
    let app = spawn_app().await;
    let token = app.token_for(APP_ID);
    // A port nothing listens on: bind one, then free it.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let client = AuthifyClient::new(ClientConfig::new(
        format!("http://127.0.0.1:{port}"),
        APP_ID,
    ))
    .unwrap();
    assert!(matches!(
        client.verify(&token).await,
        Err(ClientError::Fetch { .. })
    ));
}
