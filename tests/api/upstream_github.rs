//! Sign-in with GitHub, against a loopback stand-in for its OAuth and API endpoints (it checks the
//! client secret, the redirect URI and the PKCE verifier): only a verified primary address is
//! trusted; an identity is linked by GitHub's account id, never by e-mail, so a GitHub account
//! carrying your address does not sign in as you (it must sign in to your account first); providers are
//! linked and unlinked on the account page, never the last way in.

use authify_testkit::{Browser, PASSWORD, TestApp, location, spawn_app_in};

use crate::passkeys::audit_actions;
use crate::upstream_support::{GitHub, github_return, github_round_trip, has_session};

async fn app_with_github(github: &GitHub, vars: &[(&str, &str)]) -> TestApp {
    let settings = github.settings();
    let mut all: Vec<(&str, &str)> = settings.iter().map(|(k, v)| (*k, v.as_str())).collect();
    all.extend_from_slice(vars);
    spawn_app_in(tempfile::tempdir().unwrap(), &all).await
}

fn user(app: &TestApp, email: &str) -> Option<authify_core::User> {
    let email = email.to_owned();
    app.state
        .db()
        .run_blocking(move |c| authify_store::users::find_user_by_email(c, &email))
        .unwrap()
}

fn linked(app: &TestApp, subject: &str) -> Option<i64> {
    let subject = subject.to_owned();
    app.state
        .db()
        .run_blocking(move |c| authify_store::upstream::find_identity(c, "github", &subject))
        .unwrap()
        .map(|i| i.user_id)
}

#[tokio::test]
async fn a_github_address_that_is_not_a_verified_primary_one_is_not_trusted() {
    // Primary but unverified; verified but not primary; the public profile shows a third.
    let github = GitHub::start(
        101,
        "octo",
        &[
            ("victim@example.com", true, false),
            ("other@example.com", false, true),
        ],
    )
    .await;
    let app = app_with_github(&github, &[]).await;
    app.create_user("victim@example.com", false).await;

    let b = app.browser();
    let res = github_round_trip(&b, "").await;
    assert_eq!(res.status(), 400);
    let page = res.text().await.unwrap();
    assert!(
        page.contains("GitHub did not confirm an e-mail address"),
        "{page}"
    );
    assert!(!has_session(&b).await);
    assert!(linked(&app, "101").is_none());
    for email in ["other@example.com", "shown@example.org"] {
        assert!(user(&app, email).is_none(), "{email}");
    }
    assert_eq!(
        github.state.lock().unwrap().refused,
        0,
        "PKCE and secret held"
    );
}

#[tokio::test]
async fn a_github_account_carrying_your_address_cannot_take_over_your_account() {
    let github = GitHub::start(666, "mallory", &[("victim@example.com", true, true)]).await;
    let app = app_with_github(&github, &[]).await;
    let victim = app.create_user("victim@example.com", false).await;

    // The attacker's GitHub account claims (even verifies) the victim's address: Authify asks
    // for the account's own password instead of signing in.
    let attacker = app.browser();
    let res = github_round_trip(&attacker, "").await;
    assert_eq!(res.status(), 200);
    let page = res.text().await.unwrap();
    assert!(
        page.contains("An account here already uses victim@example.com"),
        "{page}"
    );
    assert!(!has_session(&attacker).await);
    // A wrong password in that flow links nothing.
    let res = attacker
        .sign_in("", "victim@example.com", "not the password")
        .await;
    assert_eq!(res.status(), 401);
    assert!(linked(&app, "666").is_none());
    // And GitHub alone still does not get in.
    let again = app.browser();
    assert_eq!(github_round_trip(&again, "").await.status(), 200);
    assert!(!has_session(&again).await);
    assert!(linked(&app, "666").is_none());

    // The owner, with GitHub account 7: asked once for their password, then linked.
    github.sign_in_as(7, "victim", &[("victim@example.com", true, true)]);
    let owner = app.browser();
    let res = github_round_trip(&owner, "").await;
    assert_eq!(res.status(), 200);
    let res = owner.sign_in("", "victim@example.com", PASSWORD).await;
    assert_eq!(res.status(), 303);
    assert_eq!(location(&res), "/account");
    assert_eq!(linked(&app, "7"), Some(victim.id));
    // From now on GitHub signs the owner in directly.
    let later = app.browser();
    let res = github_round_trip(&later, "").await;
    assert_eq!(res.status(), 303);
    assert_eq!(location(&res), "/account");
    assert!(has_session(&later).await);
    let actions = audit_actions(&app);
    assert!(actions.iter().any(|(a, _)| a == "upstream.link_requested"));
    assert!(actions.iter().any(|(a, _)| a == "upstream.link"));
}

/// The first mail in the server's mail directory containing `needle` (delivery is queued).
async fn mailed(app: &TestApp, needle: &str) -> String {
    for _ in 0..50 {
        if let Ok(dir) = std::fs::read_dir(app.dir.path().join("mail")) {
            for entry in dir {
                let text = std::fs::read_to_string(entry.unwrap().path()).unwrap_or_default();
                if text.contains(needle) {
                    return text;
                }
            }
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    panic!("no mail containing {needle:?}");
}

async fn account_form(b: &Browser, action: &str) -> reqwest::Response {
    b.submit("/account", action, &[]).await
}

#[tokio::test]
async fn providers_are_linked_and_unlinked_on_the_account_page_but_never_the_last_way_in() {
    let github = GitHub::start(42, "ann", &[("ann@github.example", true, true)]).await;
    let app = app_with_github(&github, &[]).await;
    let ann = app.create_user("ann@example.com", false).await;
    let b = app.browser();
    assert_eq!(
        b.sign_in("", "ann@example.com", PASSWORD).await.status(),
        303
    );
    let page = b.get("/account").await.text().await.unwrap();
    assert!(page.contains("GitHub</strong>: not linked"), "{page}");

    // Link: the current password first (a session alone cannot add a way in)...
    let res = b
        .submit(
            "/account",
            "/account/upstream/github/link",
            &[("current_password", "not the password")],
        )
        .await;
    assert_eq!(res.status(), 403);
    assert!(linked(&app, "42").is_none());
    // ...then off to GitHub and back to the account page.
    let res = b
        .submit(
            "/account",
            "/account/upstream/github/link",
            &[("current_password", PASSWORD)],
        )
        .await;
    assert_eq!(res.status(), 303);
    let res = github_return(&b, &location(&res)).await;
    assert_eq!(location(&res), "/account?done=provider_linked");
    assert_eq!(linked(&app, "42"), Some(ann.id));
    let page = b.get("/account").await.text().await.unwrap();
    assert!(
        page.contains("GitHub</strong>: linked (ann@github.example)"),
        "{page}"
    );
    // Ann is told by mail (no SMTP here: a file in the mail directory).
    let mail = mailed(&app, "can now sign in to your account").await;
    assert!(mail.contains("To: ann@example.com"), "{mail}");

    // GitHub account 42 cannot be linked to a second account.
    app.create_user("bob@example.com", false).await;
    let bob = app.browser();
    assert_eq!(
        bob.sign_in("", "bob@example.com", PASSWORD).await.status(),
        303
    );
    let res = bob
        .submit(
            "/account",
            "/account/upstream/github/link",
            &[("current_password", PASSWORD)],
        )
        .await;
    let res = github_return(&bob, &location(&res)).await;
    assert_eq!(res.status(), 409);
    assert_eq!(linked(&app, "42"), Some(ann.id));

    // Ann has a password: GitHub can go.
    let res = account_form(&b, "/account/upstream/github/unlink").await;
    assert_eq!(location(&res), "/account?done=provider_unlinked");
    assert!(linked(&app, "42").is_none());

    // An account made through GitHub has no other way in: its GitHub link stays.
    github.sign_in_as(43, "cy", &[("cy@example.com", true, true)]);
    let cy = app.browser();
    let res = github_round_trip(&cy, "").await;
    assert_eq!(res.status(), 303);
    let res = account_form(&cy, "/account/upstream/github/unlink").await;
    assert_eq!(res.status(), 409);
    assert!(
        res.text()
            .await
            .unwrap()
            .contains("only way into your account")
    );
    assert!(linked(&app, "43").is_some());
    assert!(user(&app, "cy@example.com").unwrap().email_verified);
}

#[tokio::test]
async fn with_sign_up_closed_a_new_github_account_gets_no_account() {
    let github = GitHub::start(9, "newbie", &[("newbie@example.com", true, true)]).await;
    let app = app_with_github(&github, &[("AUTHIFY_SIGNUP", "false")]).await;
    let b = app.browser();
    let res = github_round_trip(&b, "").await;
    assert_eq!(res.status(), 400);
    assert!(res.text().await.unwrap().contains("sign-up is closed"));
    assert!(user(&app, "newbie@example.com").is_none());
    assert!(!has_session(&b).await);
}

#[tokio::test]
async fn without_provider_settings_there_is_no_provider_button_and_no_round_trip() {
    let app = authify_testkit::spawn_app().await;
    let b = app.browser();
    let page = b.get("/login").await.text().await.unwrap();
    assert!(!page.contains("/login/upstream/"), "{page}");
    let res = b.submit("/login", "/login/upstream/github", &[]).await;
    assert_eq!(res.status(), 400);
}

/// The stored state word of every flow (the typed `FlowState` of the engine).
fn flow_states(app: &TestApp) -> Vec<String> {
    use authify_store::schema::auth_flows::dsl::*;
    use diesel::prelude::*;
    app.state
        .db()
        .run_blocking(|c| {
            Ok::<_, authify_core::StoreError>(auth_flows.select(pending).load::<String>(c)?)
        })
        .unwrap()
}

#[tokio::test]
async fn a_flow_waits_in_the_upstream_state_during_the_round_trip_only() {
    let github = GitHub::start(103, "octo", &[("new@example.com", true, true)]).await;
    let app = app_with_github(&github, &[]).await;
    let b = app.browser();
    let to_github = crate::upstream_support::start_at_login(&b, "", "github").await;
    assert_eq!(flow_states(&app), ["upstream"]);
    let res = github_return(&b, &to_github).await;
    // A new verified address signs up and in: the flow is done (gone).
    assert_eq!(res.status(), 303, "{}", res.text().await.unwrap());
    assert!(flow_states(&app).is_empty(), "{:?}", flow_states(&app));
    assert!(has_session(&b).await);
}
