//! Independent verifiers accept our tokens: PyJWT and node jose run the exact snippets that
//! docs/INTEGRATION.md shows, against a live server, for all three algorithms.

use authify_domain::Algorithm;
use authify_testkit::{APP_ID, repo_root, run_jose, run_pyjwt, spawn_app_with};

#[path = "../interop/verify.rs"]
mod rust_snippet;

#[tokio::test]
async fn pyjwt_accepts_our_tokens_on_every_algorithm_and_refuses_forgeries() {
    for alg in Algorithm::ALL {
        let app = spawn_app_with(alg).await;
        let token = app.token_for(APP_ID);
        let (address, t) = (app.address.clone(), token.clone());
        let run = tokio::task::spawn_blocking(move || run_pyjwt(&address, APP_ID, &t))
            .await
            .unwrap();
        assert!(run.ok, "{alg}: {}", run.stderr);
        let out: serde_json::Value = serde_json::from_str(run.stdout.trim()).unwrap();
        assert_eq!(out["username"], "ann@example.com", "{alg}");
        assert_eq!(out["scopes"], serde_json::json!(["user_access"]));

        let (address, t) = (app.address.clone(), tamper(&token));
        let run = tokio::task::spawn_blocking(move || run_pyjwt(&address, APP_ID, &t))
            .await
            .unwrap();
        assert!(!run.ok, "{alg}: PyJWT accepted a tampered token");
        let (address, t) = (app.address.clone(), token.clone());
        let run = tokio::task::spawn_blocking(move || run_pyjwt(&address, "another-app", &t))
            .await
            .unwrap();
        assert!(
            !run.ok && run.stderr.contains("Audience"),
            "{alg}: {}",
            run.stderr
        );
    }
}

#[tokio::test]
async fn node_jose_accepts_our_tokens_on_every_algorithm_and_refuses_forgeries() {
    for alg in Algorithm::ALL {
        let app = spawn_app_with(alg).await;
        let token = app.token_for(APP_ID);
        let (address, t) = (app.address.clone(), token.clone());
        let run = tokio::task::spawn_blocking(move || run_jose(&address, APP_ID, &t))
            .await
            .unwrap();
        assert!(run.ok, "{alg}: {}", run.stderr);
        let out: serde_json::Value = serde_json::from_str(run.stdout.trim()).unwrap();
        assert_eq!(out["sub"], authify_testkit::sample_subject().sub, "{alg}");

        let (address, t) = (app.address.clone(), tamper(&token));
        let run = tokio::task::spawn_blocking(move || run_jose(&address, APP_ID, &t))
            .await
            .unwrap();
        assert!(!run.ok, "{alg}: jose accepted a tampered token");
        assert!(
            run.stderr.contains("signature verification failed"),
            "{alg}: {}",
            run.stderr
        );
    }
}

#[tokio::test]
async fn the_rust_snippet_verifies_our_tokens_on_every_algorithm() {
    for alg in Algorithm::ALL {
        let app = spawn_app_with(alg).await;
        let verifier = rust_snippet::authify_verifier(&app.address, APP_ID).unwrap();
        let claims = rust_snippet::signed_in_user(&verifier, &app.token_for(APP_ID))
            .await
            .unwrap();
        assert_eq!(claims.user.username, "ann@example.com");
        assert!(
            rust_snippet::signed_in_user(&verifier, &tamper(&app.token_for(APP_ID)))
                .await
                .is_err()
        );
    }
}

#[test]
fn integration_docs_quote_the_tested_snippets_verbatim() {
    let root = repo_root();
    let doc = std::fs::read_to_string(root.join("docs/INTEGRATION.md")).unwrap();
    for (file, fence) in [
        ("tests/interop/verify.rs", "```rust"),
        ("tests/interop/verify_authify.py", "```python"),
        ("tests/interop/verify-authify.mjs", "```js"),
    ] {
        let snippet = std::fs::read_to_string(root.join(file)).unwrap();
        let block = format!("{fence}\n{snippet}```");
        assert!(
            doc.contains(&block),
            "docs/INTEGRATION.md must contain {file} verbatim in a {fence} block"
        );
    }
}

/// Flips one character of the payload so the signature no longer matches.
fn tamper(token: &str) -> String {
    let mut parts: Vec<String> = token.split('.').map(str::to_owned).collect();
    let payload = &mut parts[1];
    let last = payload.pop().unwrap();
    let mid = payload.len() / 2;
    let replaced = if &payload[mid..=mid] == "A" { "B" } else { "A" };
    payload.replace_range(mid..=mid, replaced);
    payload.push(last);
    parts.join(".")
}
