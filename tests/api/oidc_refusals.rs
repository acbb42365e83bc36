//! The negative matrix of the OpenID provider: every way to ask for a token wrongly is refused
//! with the right answer, none issues a token, none is a 500.

use authify_core::apps::AppOptions;
use authify_core::oidc::ClientType;
use authify_testkit::{location, spawn_app};
use serde_json::Value;

use crate::oidc::{
    REDIRECT, Rp, authorize_url, code_for, exchange, first_party, param, pkce, rp, signed_in, token,
};

#[tokio::test]
async fn a_bad_client_or_redirect_uri_gets_a_400_page_and_no_redirect() {
    let app = spawn_app().await;
    let rp = rp(&app, first_party()).await;
    let browser = signed_in(&app).await;
    let cases = [
        authorize_url("app_unknown", &[]),
        authorize_url(&rp.id, &[]).replace("rp.example%2Fcb", "rp.example%2Fcb%2Fother"),
        authorize_url(&rp.id, &[]).replace("rp.example%2Fcb", "rp.example%2Fcb%3Fextra%3D1"),
        authorize_url(&rp.id, &[])
            .replace("https%3A%2F%2Frp.example", "https%3A%2F%2Fevil.example"),
        format!("/oauth/authorize?client_id={}", rp.id),
    ];
    for url in cases {
        let res = browser.get(&url).await;
        assert_eq!(res.status(), 400, "{url}");
        assert!(res.headers().get("location").is_none(), "{url}");
        let html = res.text().await.unwrap();
        assert!(html.contains("not valid"), "{url}: {html}");
    }
}

#[tokio::test]
async fn request_errors_go_back_to_a_valid_redirect_uri_with_state_and_iss() {
    let app = spawn_app().await;
    let confidential = rp(&app, first_party()).await;
    let (public_id, _) = app
        .create_app_with(
            "Spa",
            &["https://spa.example/cb"],
            AppOptions {
                client_type: ClientType::Public,
                first_party: true,
                ..AppOptions::default()
            },
        )
        .await;
    let browser = signed_in(&app).await;
    let (_, challenge) = pkce();
    let cases: Vec<(String, &str)> = vec![
        (
            authorize_url(&confidential.id, &[])
                .replace("response_type=code", "response_type=token"),
            "unsupported_response_type",
        ),
        (
            authorize_url(&confidential.id, &[]).replace("scope=openid+", "scope="),
            "invalid_scope",
        ),
        (
            authorize_url(
                &confidential.id,
                &[
                    ("code_challenge", &challenge),
                    ("code_challenge_method", "plain"),
                ],
            ),
            "invalid_request",
        ),
        (
            authorize_url(&confidential.id, &[("code_challenge", &challenge)]),
            "invalid_request",
        ),
        (
            authorize_url(&confidential.id, &[("prompt", "none login")]),
            "invalid_request",
        ),
        (
            authorize_url(&confidential.id, &[("max_age", "soon")]),
            "invalid_request",
        ),
        (
            authorize_url(&public_id, &[]).replace(
                "https%3A%2F%2Frp.example%2Fcb",
                "https%3A%2F%2Fspa.example%2Fcb",
            ),
            "invalid_request",
        ),
    ];
    for (url, error) in cases {
        let res = browser.get(&url).await;
        assert_eq!(res.status(), 303, "{url}");
        let to = location(&res);
        assert_eq!(param(&to, "error").as_deref(), Some(error), "{url} -> {to}");
        assert_eq!(param(&to, "state").as_deref(), Some("st-1"));
        assert_eq!(param(&to, "iss").as_deref(), Some(app.address.as_str()));
        assert!(param(&to, "code").is_none());
    }
}

#[tokio::test]
async fn no_wrong_exchange_issues_a_token_and_none_is_a_server_error() {
    let app = spawn_app().await;
    let a = rp(&app, first_party()).await;
    let (b_id, b_secret) = app
        .create_app_with("Other", &["https://other.example/cb"], first_party())
        .await;
    let b = Rp {
        id: b_id,
        secret: b_secret,
    };
    let browser = signed_in(&app).await;
    let (verifier, challenge) = pkce();
    let with_pkce = authorize_url(
        &a.id,
        &[
            ("code_challenge", &challenge),
            ("code_challenge_method", "S256"),
        ],
    );
    let wrong_secret = Rp {
        id: a.id.clone(),
        secret: "not-the-secret".into(),
    };

    // Each case gets a fresh code, so a refusal is about the case, not an earlier burn.
    type Case<'a> = (&'a str, &'a Rp, Vec<(&'a str, String)>, u16, &'a str);
    let cases: Vec<Case> = vec![
        (
            "wrong redirect_uri",
            &a,
            vec![
                ("redirect_uri", "https://rp.example/cb2".into()),
                ("code_verifier", verifier.clone()),
            ],
            400,
            "invalid_grant",
        ),
        (
            "missing verifier",
            &a,
            vec![("redirect_uri", REDIRECT.into())],
            400,
            "invalid_grant",
        ),
        (
            "wrong verifier",
            &a,
            vec![
                ("redirect_uri", REDIRECT.into()),
                ("code_verifier", format!("{verifier}x")),
            ],
            400,
            "invalid_grant",
        ),
        (
            "another app's code",
            &b,
            vec![
                ("redirect_uri", REDIRECT.into()),
                ("code_verifier", verifier.clone()),
            ],
            400,
            "invalid_grant",
        ),
        (
            "wrong secret",
            &wrong_secret,
            vec![
                ("redirect_uri", REDIRECT.into()),
                ("code_verifier", verifier.clone()),
            ],
            401,
            "invalid_client",
        ),
    ];
    for (what, client, fields, status, error) in cases {
        let code = code_for(&browser, &with_pkce).await;
        let mut form: Vec<(&str, &str)> =
            vec![("grant_type", "authorization_code"), ("code", &code)];
        form.extend(fields.iter().map(|(k, v)| (*k, v.as_str())));
        let (got, body) = token(&app, client, &form).await;
        assert_eq!(
            (got, body["error"].as_str()),
            (status, Some(error)),
            "{what}: {body}"
        );
        assert!(body.get("access_token").is_none(), "{what}");
        // The right exchange still works afterwards unless the case burnt the code.
        if what == "another app's code" || what == "wrong secret" {
            let (ok, _) = exchange(&app, &a, &code, &verifier).await;
            assert_eq!(ok, 200, "{what}: the code was not spent by the refusal");
        }
    }

    // Expired: 60 seconds.
    let code = code_for(&browser, &with_pkce).await;
    app.clock.advance(chrono::Duration::seconds(61));
    let (status, body) = exchange(&app, &a, &code, &verifier).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("invalid_grant"))
    );

    // A verifier without a challenge is a downgrade.
    let plain_code = code_for(&browser, &authorize_url(&a.id, &[])).await;
    let (status, _) = exchange(&app, &a, &plain_code, &verifier).await;
    assert_eq!(status, 400);

    // Garbage of every kind: 4xx JSON, never 5xx.
    for form in [
        vec![],
        vec![("grant_type", "password")],
        vec![("grant_type", "authorization_code")],
        vec![("grant_type", "authorization_code"), ("code", "x")],
        vec![("grant_type", "refresh_token"), ("refresh_token", "nope")],
        vec![("grant_type", "refresh_token")],
    ] {
        let (status, body) = token(&app, &a, &form).await;
        assert_eq!(status, 400, "{form:?}: {body}");
        assert!(body["error"].is_string());
    }
    let res = app
        .http
        .post(format!("{}/oauth/token", app.address))
        .header("authorization", "Basic !!!")
        .form(&[("grant_type", "client_credentials")])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 401);
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["error"], "invalid_client");
    let res = app
        .http
        .post(format!("{}/oauth/userinfo", app.address))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 401);
}
