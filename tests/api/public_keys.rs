//! `/jwt/key`, `/jwt/meta`, `/about/jwt/download_key` and the JWKS, as relying apps see them.

use authify_domain::Algorithm;
use authify_jwt::{JwkSet, KeySet, PublicKey, Validation};
use authify_testkit::{APP_ID, ISSUER, spawn_app, spawn_app_in, spawn_app_with};
use serde_json::Value;

const ENDPOINTS: [&str; 4] = [
    "/jwt/key",
    "/jwt/meta",
    "/about/jwt/download_key",
    "/.well-known/jwks.json",
];

#[tokio::test]
async fn jwt_key_serves_the_active_public_key_as_pem_in_json_and_it_verifies_our_tokens() {
    for alg in Algorithm::ALL {
        let app = spawn_app_with(alg).await;
        let res = app.get("/jwt/key").await;
        assert_eq!(res.status(), 200);
        assert_eq!(res.headers()["content-type"], "application/json");
        let body: Value = res.json().await.unwrap();
        let pem = body["data"].as_str().unwrap();
        assert!(pem.starts_with("-----BEGIN PUBLIC KEY-----"), "{pem}");
        let key = PublicKey::from_spki_pem(pem).unwrap();
        assert_eq!(key.algorithm(), alg);

        let mut keys = KeySet::new();
        keys.insert(None, key);
        let token = app.token_for(APP_ID);
        let now = chrono::Utc::now().timestamp();
        let claims =
            authify_jwt::verify(&token, &keys, &Validation::new(ISSUER, APP_ID), now).unwrap();
        assert_eq!(claims.user.username, "ann@example.com");
    }
}

#[tokio::test]
async fn jwt_meta_reports_algorithm_issuer_and_expiration_as_an_integer() {
    for (alg, minutes) in [
        (Algorithm::ES256, "60"),
        (Algorithm::ES384, "5"),
        (Algorithm::ES512, "15"),
    ] {
        let dir = tempfile::tempdir().unwrap();
        let app = spawn_app_in(
            dir,
            &[
                ("AUTHIFY_JWT_ALGORITHM", alg.as_str()),
                ("AUTHIFY_JWT_EXPIRATION", minutes),
            ],
        )
        .await;
        let meta: Value = app.get("/jwt/meta").await.json().await.unwrap();
        assert_eq!(
            meta,
            serde_json::json!({"algorithm": alg.as_str(), "issuer": ISSUER, "expiration": minutes.parse::<u64>().unwrap()})
        );
    }
}

#[tokio::test]
async fn download_key_serves_the_same_pem_as_a_file() {
    let app = spawn_app().await;
    let json: Value = app.get("/jwt/key").await.json().await.unwrap();
    let res = app.get("/about/jwt/download_key").await;
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers()["content-type"], "application/x-pem-file");
    assert!(
        res.headers()["content-disposition"]
            .to_str()
            .unwrap()
            .starts_with("attachment; filename=")
    );
    assert_eq!(res.text().await.unwrap(), json["data"].as_str().unwrap());
}

#[tokio::test]
async fn jwks_publishes_every_key_in_the_directory_with_fixed_size_coordinates() {
    let app = spawn_app_with(Algorithm::ES512).await;
    // An ES256 key added next to the ES512 one: published, but not signing.
    let other =
        authify_server::keystore::generate(&app.keys_dir, Algorithm::ES256, chrono::Utc::now())
            .unwrap();
    let active = app.rotate_key();

    let res = app.get("/.well-known/jwks.json").await;
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers()["content-type"], "application/jwk-set+json");
    let raw: Value = res.json().await.unwrap();
    let jwks: JwkSet = serde_json::from_value(raw.clone()).unwrap();
    // ES256 and ES384 keys from the first start, the ES512 one, the added ES256, the rotated ES512.
    assert_eq!(jwks.keys.len(), 5, "{raw}");
    let kids: Vec<_> = jwks.keys.iter().map(|k| k.kid.clone().unwrap()).collect();
    assert!(
        kids.contains(&other.kid) && kids.contains(&active),
        "{kids:?}"
    );
    for (jwk, value) in jwks.keys.iter().zip(raw["keys"].as_array().unwrap()) {
        let key = jwk.to_public_key().unwrap();
        let n = key.algorithm().coordinate_len();
        assert_eq!(jwk.kty, "EC");
        assert_eq!(jwk.use_.as_deref(), Some("sig"));
        assert_eq!(jwk.alg.as_deref(), Some(key.algorithm().as_str()));
        assert_eq!(jwk.crv.as_deref(), Some(key.algorithm().curve()));
        assert_eq!(base64_len(jwk.x.as_deref().unwrap()), n);
        assert_eq!(base64_len(jwk.y.as_deref().unwrap()), n);
        assert!(
            value.get("d").is_none(),
            "private scalar published: {value}"
        );
    }
    let meta: Value = app.get("/jwt/meta").await.json().await.unwrap();
    assert_eq!(meta["algorithm"], "ES512", "the ES256 key must not sign");
}

fn base64_len(text: &str) -> usize {
    use base64::Engine as _;
    base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(text)
        .unwrap()
        .len()
}

#[tokio::test]
async fn every_key_endpoint_sends_cache_headers_and_answers_if_none_match_with_304() {
    let app = spawn_app_with(Algorithm::ES256).await;
    for path in ENDPOINTS {
        let res = app.get(path).await;
        assert_eq!(res.status(), 200, "{path}");
        assert_eq!(
            res.headers()["cache-control"],
            "public, max-age=300",
            "{path}"
        );
        assert_eq!(res.headers()["access-control-allow-origin"], "*", "{path}");
        assert_eq!(res.headers()["x-content-type-options"], "nosniff", "{path}");
        let etag = res.headers()["etag"].to_str().unwrap().to_owned();
        let again = app
            .http
            .get(format!("{}{path}", app.address))
            .header("if-none-match", &etag)
            .send()
            .await
            .unwrap();
        assert_eq!(again.status(), 304, "{path}");
        assert!(again.bytes().await.unwrap().is_empty());
        let other = app
            .http
            .get(format!("{}{path}", app.address))
            .header("if-none-match", "\"something-else\"")
            .send()
            .await
            .unwrap();
        assert_eq!(other.status(), 200, "{path}");
    }
}

#[tokio::test]
async fn no_endpoint_serves_private_key_material() {
    let app = spawn_app().await;
    let private_pem = std::fs::read_dir(&app.keys_dir)
        .unwrap()
        .map(|e| std::fs::read_to_string(e.unwrap().path()).unwrap())
        .next()
        .unwrap();
    let private_body: String = private_pem
        .lines()
        .filter(|l| !l.starts_with("-----"))
        .collect();
    for path in ENDPOINTS {
        let body = app.get(path).await.text().await.unwrap();
        assert!(!body.contains("PRIVATE"), "{path}: {body}");
        assert!(
            !body.replace("\\n", "").contains(&private_body[..40]),
            "{path} leaks the private key"
        );
    }
}

#[tokio::test]
async fn a_rotated_out_key_is_still_published_so_its_tokens_keep_verifying() {
    let app = spawn_app_with(Algorithm::ES384).await;
    let old_token = app.token_for(APP_ID);
    let old_kid = app.state.keys().keyring.signer().kid().to_owned();
    let new_kid = app.rotate_key();
    assert_ne!(old_kid, new_kid);
    let new_token = app.token_for(APP_ID);

    let jwks: JwkSet = app
        .get("/.well-known/jwks.json")
        .await
        .json()
        .await
        .unwrap();
    let keys = KeySet::from_jwks(&jwks);
    let now = chrono::Utc::now().timestamp();
    for token in [&old_token, &new_token] {
        authify_jwt::verify(token, &keys, &Validation::new(ISSUER, APP_ID), now).unwrap();
    }
    // /jwt/key follows the active key.
    let pem: Value = app.get("/jwt/key").await.json().await.unwrap();
    let active = PublicKey::from_spki_pem(pem["data"].as_str().unwrap()).unwrap();
    assert_eq!(&active, app.state.keys().keyring.signer().public_key());
    assert_eq!(app.state.keys().keyring.signer().kid(), new_kid);
}

#[tokio::test]
async fn an_unknown_path_opened_in_a_browser_gets_the_html_404_page_with_its_request_id() {
    let app = spawn_app().await;
    let browser_get = |path: &str| {
        app.http
            .get(format!("{}{path}", app.address))
            .header("accept", "text/html,application/xhtml+xml,*/*;q=0.8")
            .send()
    };
    let res = browser_get("/no/such/page").await.unwrap();
    assert_eq!(res.status(), 404);
    assert!(
        res.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/html")
    );
    let id = res.headers()["x-request-id"].to_str().unwrap().to_owned();
    let html = res.text().await.unwrap();
    assert!(html.contains("<h1") && html.contains("Not found"), "{html}");
    assert!(
        html.contains(&id),
        "the page names its request id {id}: {html}"
    );
    // Under /api/ and for clients that ask for JSON, the JSON body stays.
    let res = browser_get("/api/v1/no-such-thing").await.unwrap();
    assert_eq!(res.status(), 404);
    assert_eq!(res.json::<Value>().await.unwrap()["error"], "not_found");
    let res = app
        .http
        .get(format!("{}/no/such/page", app.address))
        .header("accept", "application/json")
        .send()
        .await
        .unwrap();
    assert_eq!(res.json::<Value>().await.unwrap()["error"], "not_found");
}

#[tokio::test]
async fn unknown_paths_and_methods_get_json_errors() {
    let app = spawn_app().await;
    let res = app.get("/no/such/page").await;
    assert_eq!(res.status(), 404);
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["error"], "not_found");

    let res = app
        .http
        .post(format!("{}/jwt/key", app.address))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 405);
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["error"], "method_not_allowed");

    let res = app
        .http
        .head(format!("{}/.well-known/jwks.json", app.address))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
}
