//! Sign-in through an OpenID provider, against a real, independent one on loopback
//! (`oidc-provider` from npm): sign-up and sign-in that return to the relying app's callback with
//! a token; answers whose state or nonce do not match are refused and sign nobody in; an
//! unverified address neither signs up nor links; second factors still apply.

use authify_testkit::{Browser, b64, jwt_in, location};

use crate::upstream_support::{
    app_with_openid, app_with_openid_as, at_provider, has_session, person, start_at_login,
};

const APP_CALLBACK: &str = "http://127.0.0.1:9/wiki/callback";

fn user_count(app: &authify_testkit::TestApp) -> i64 {
    app.state
        .db()
        .run_blocking(authify_store::users::count_users)
        .unwrap()
}

/// Goes from `/login{query}` through the provider as `email`; returns Authify's answer.
async fn round_trip(
    app: &authify_testkit::TestApp,
    b: &Browser,
    at_op: &reqwest::Client,
    query: &str,
    email: &str,
) -> reqwest::Response {
    let authorize = start_at_login(b, query, "op").await;
    let back = at_provider(at_op, &authorize, email, &app.address).await;
    b.get(&back).await
}

#[tokio::test]
async fn signing_up_and_in_through_an_openid_provider_returns_to_the_apps_callback_with_a_token() {
    let (app, _op) = app_with_openid(&[]).await;
    let app_id = app.create_app("Wiki", &[APP_CALLBACK]).await;
    let query = format!("?callback={}&state=wiki-state", b64(APP_CALLBACK));
    let before = user_count(&app);

    // The login page offers the provider.
    let page = app.browser().get(&format!("/login{query}")).await;
    let html = page.text().await.unwrap();
    assert!(html.contains("Sign in with Loopback ID"), "{html}");

    // First time: an account is made from the provider's verified address, and the browser
    // goes back to the app (the flow's return survived the round trip) with a token.
    let (b, at_op) = (app.browser(), person());
    let res = round_trip(&app, &b, &at_op, &query, "alice@example.test").await;
    assert_eq!(res.status(), 303, "{}", res.text().await.unwrap());
    let back = location(&res);
    assert!(back.starts_with(APP_CALLBACK), "{back}");
    assert!(back.contains("state=wiki-state"), "{back}");
    let claims = app
        .client(&app_id)
        .verify(&jwt_in(&back).unwrap())
        .await
        .unwrap();
    assert_eq!(claims.user.username, "alice@example.test");
    assert!(claims.user.email_verified, "the provider verified it");
    assert_eq!(user_count(&app), before + 1);
    assert!(has_session(&b).await);

    // Again from another Authify browser: the same account, found by the provider's subject.
    let b2 = app.browser();
    let res = round_trip(&app, &b2, &at_op, &query, "alice@example.test").await;
    assert_eq!(res.status(), 303);
    let again = app
        .client(&app_id)
        .verify(&jwt_in(&location(&res)).unwrap())
        .await
        .unwrap();
    assert_eq!(again.sub, claims.sub);
    assert_eq!(user_count(&app), before + 1, "no second account");

    // The account has no password: an empty or guessed one does not sign it in.
    let res = app.browser().sign_in("", "alice@example.test", "").await;
    assert_ne!(res.status(), 303);
}

#[tokio::test]
async fn an_answer_whose_state_does_not_match_is_refused_and_signs_nobody_in() {
    let (app, _op) = app_with_openid(&[]).await;
    let (b, at_op) = (app.browser(), person());
    let authorize = start_at_login(&b, "", "op").await;
    let back = at_provider(&at_op, &authorize, "mallory@example.test", &app.address).await;
    let mut forged = url::Url::parse(&back).unwrap();
    let pairs: Vec<(String, String)> = forged
        .query_pairs()
        .map(|(k, v)| {
            let v = if k == "state" {
                "not-the-state".into()
            } else {
                v.into_owned()
            };
            (k.into_owned(), v)
        })
        .collect();
    forged.query_pairs_mut().clear().extend_pairs(pairs);

    let res = b.get(forged.as_str()).await;
    assert_eq!(res.status(), 400);
    let page = res.text().await.unwrap();
    assert!(page.contains("state does not match"), "{page}");
    assert!(!has_session(&b).await);
    // The round trip was spent: the genuine answer no longer works either.
    let res = b.get(&back).await;
    assert_eq!(res.status(), 400);
    assert!(!has_session(&b).await);

    // A genuine answer carried into another browser (no flow there) signs nobody in.
    let b2 = app.browser();
    let authorize = start_at_login(&b2, "", "op").await;
    let back = at_provider(&at_op, &authorize, "mallory@example.test", &app.address).await;
    let elsewhere = app.browser();
    assert_eq!(elsewhere.get(&back).await.status(), 400);
    assert!(!has_session(&elsewhere).await);
    let found = app
        .state
        .db()
        .run_blocking(|c| authify_store::users::find_user_by_email(c, "mallory@example.test"))
        .unwrap();
    assert!(found.is_none());
}

#[tokio::test]
async fn an_id_token_minted_for_another_nonce_is_refused() {
    let (app, _op) = app_with_openid(&[]).await;
    let (b, at_op) = (app.browser(), person());
    let authorize = start_at_login(&b, "", "op").await;
    // The request is changed on its way: the provider binds its ID token to another nonce.
    let mut changed = url::Url::parse(&authorize).unwrap();
    let pairs: Vec<(String, String)> = changed
        .query_pairs()
        .map(|(k, v)| {
            let v = if k == "nonce" {
                "another-nonce".into()
            } else {
                v.into_owned()
            };
            (k.into_owned(), v)
        })
        .collect();
    assert!(pairs.iter().any(|(k, _)| k == "nonce"), "{authorize}");
    assert!(
        pairs
            .iter()
            .any(|(k, v)| k == "code_challenge_method" && v == "S256")
    );
    changed.query_pairs_mut().clear().extend_pairs(pairs);

    let back = at_provider(&at_op, changed.as_str(), "nonce@example.test", &app.address).await;
    let res = b.get(&back).await;
    assert_eq!(res.status(), 400);
    let page = res.text().await.unwrap();
    assert!(page.contains("does not hold"), "{page}");
    assert!(!has_session(&b).await);
}

#[tokio::test]
async fn an_address_the_provider_did_not_verify_neither_signs_up_nor_links() {
    let (app, _op) = app_with_openid(&[]).await;
    app.create_user("unverified-carol@example.test", false)
        .await;
    let before = user_count(&app);
    for email in [
        "unverified-bob@example.test",
        "unverified-carol@example.test",
    ] {
        let b = app.browser();
        let res = round_trip(&app, &b, &person(), "", email).await;
        assert_eq!(res.status(), 400, "{email}");
        let page = res.text().await.unwrap();
        assert!(page.contains("did not confirm an e-mail address"), "{page}");
        assert!(!page.contains("Sign in to it once"), "{page}");
        assert!(!has_session(&b).await);
    }
    assert_eq!(user_count(&app), before);
}

#[tokio::test]
async fn second_factors_still_apply_after_an_upstream_sign_in() {
    let (app, _op) = app_with_openid(&[("AUTHIFY_MFA", "required")]).await;
    let b = app.browser();
    let res = round_trip(&app, &b, &person(), "", "dave@example.test").await;
    assert_eq!(res.status(), 303);
    assert_eq!(location(&res), "/login/enrol");
    assert!(
        !has_session(&b).await,
        "no session before the second factor"
    );
}

#[tokio::test]
async fn the_originals_google_variables_sign_in_through_discovery() {
    let (app, op) = app_with_openid_as("google", &[]).await;
    let b = app.browser();
    let page = b.get("/login").await.text().await.unwrap();
    assert!(page.contains("Sign in with Google"), "{page}");
    let authorize = start_at_login(&b, "", "google").await;
    assert!(authorize.starts_with(&op.issuer), "{authorize}");
    let back = at_provider(&person(), &authorize, "erin@example.test", &app.address).await;
    assert!(back.contains("/login/upstream/google/callback?"), "{back}");
    let res = b.get(&back).await;
    assert_eq!(res.status(), 303);
    assert_eq!(location(&res), "/account");
    assert!(has_session(&b).await);
    let identity = app
        .state
        .db()
        .run_blocking(|c| {
            let user = authify_store::users::find_user_by_email(c, "erin@example.test")?.unwrap();
            authify_store::upstream::list_identities(c, user.id)
        })
        .unwrap();
    assert_eq!(identity.len(), 1);
    assert_eq!(identity[0].provider, "google");
    assert!(
        identity[0].subject.starts_with("op-"),
        "keyed by the provider's subject"
    );
}

#[tokio::test]
async fn an_openid_authorization_request_survives_the_round_trip_to_the_upstream_provider() {
    let (app, _op) = app_with_openid(&[]).await;
    let rp = crate::oidc::rp(&app, crate::oidc::first_party()).await;
    let (_verifier, challenge) = crate::oidc::pkce();
    let b = app.browser();
    let authorize = crate::oidc::authorize_url(
        &rp.id,
        &[
            ("code_challenge", &challenge),
            ("code_challenge_method", "S256"),
        ],
    );
    // The authorization request shows the sign-in form, with the provider's button.
    let res = b.get(&authorize).await;
    assert_eq!(res.status(), 200);
    assert!(
        res.text()
            .await
            .unwrap()
            .contains("Sign in with Loopback ID")
    );
    // That button (the login page of the same flow), the provider, then back: the relying party
    // gets its code and state, not the account page.
    let res = round_trip(&app, &b, &person(), "", "frank@example.test").await;
    assert_eq!(res.status(), 303);
    let back = location(&res);
    assert!(back.starts_with(crate::oidc::REDIRECT), "{back}");
    assert!(crate::oidc::param(&back, "code").is_some(), "{back}");
    assert_eq!(crate::oidc::param(&back, "state").as_deref(), Some("st-1"));
}
