//! The admin console and the account page's forms as a browser sees them: who gets in, what an
//! organization admin can see, CSRF and confirmation of destructive actions, credentials, API
//! keys, leaving an organization, searching users, applications and signing keys.

use authify_testkit::{Browser, PASSWORD, TestApp, hidden_value, location, spawn_app};
use chrono::Utc;

/// A user signed in through the form.
async fn signed_in(app: &TestApp, email: &str, admin: bool) -> Browser {
    app.create_user(email, admin).await;
    let browser = app.browser();
    let res = browser.sign_in("", email, PASSWORD).await;
    assert_eq!(res.status(), 303, "{email} signs in");
    browser
}

/// An organization with `admin_email` as its admin; returns its id.
async fn org_with_admin(app: &TestApp, name: &str, admin_email: &str) -> String {
    let db = app.state.db();
    let org = authify_testkit::setup::create_org(db, name, Utc::now())
        .await
        .unwrap();
    authify_testkit::setup::add_org_member(db, name, admin_email, true, Utc::now())
        .await
        .unwrap();
    org.public_id
}

async fn html(browser: &Browser, path: &str) -> (u16, String) {
    let res = browser.get(path).await;
    (res.status().as_u16(), res.text().await.unwrap())
}

#[tokio::test]
async fn the_console_sends_strangers_to_sign_in_and_refuses_users_who_administer_nothing() {
    let app = spawn_app().await;
    let res = app.browser().get("/admin/users").await;
    assert_eq!(
        (res.status().as_u16(), location(&res)),
        (303, "/login".into())
    );

    let ann = signed_in(&app, "ann@example.com", false).await;
    for path in ["/admin", "/admin/users", "/admin/orgs", "/admin/audit"] {
        let (status, body) = html(&ann, path).await;
        assert_eq!(status, 403, "{path}");
        assert!(body.contains("Not an administrator"), "{body}");
    }
    let (_, account) = html(&ann, "/account").await;
    assert!(!account.contains("href=\"/admin\""), "no console link");
}

#[tokio::test]
async fn an_organization_admin_sees_only_their_organization_and_gets_404_for_another() {
    let app = spawn_app().await;
    let bob = signed_in(&app, "bob@example.com", false).await;
    app.create_user("carol@example.com", false).await;
    let acme = org_with_admin(&app, "Acme", "bob@example.com").await;
    let globex = org_with_admin(&app, "Globex", "carol@example.com").await;

    let res = bob.get("/admin").await;
    assert_eq!(
        (res.status().as_u16(), location(&res)),
        (303, "/admin/orgs".into())
    );
    let (status, list) = html(&bob, "/admin/orgs").await;
    assert_eq!(status, 200);
    assert!(list.contains("Acme") && !list.contains("Globex"), "{list}");
    assert!(
        !list.contains("href=\"/admin/users\""),
        "the nav hides global sections"
    );
    assert!(!list.contains("href=\"/admin/apps\""));

    let (status, page) = html(&bob, &format!("/admin/orgs/{acme}")).await;
    assert_eq!(status, 200);
    assert!(page.contains("bob@example.com"), "{page}");
    assert_eq!(html(&bob, &format!("/admin/orgs/{globex}")).await.0, 404);
    assert_eq!(html(&bob, "/admin/users").await.0, 403);
    assert_eq!(html(&bob, "/admin/apps").await.0, 403);
    assert_eq!(html(&bob, "/admin/keys").await.0, 403);

    let (status, audit) = html(&bob, "/admin/audit").await;
    assert_eq!(status, 200, "scoped to their organization by default");
    assert!(
        audit.contains(&format!("value=\"{acme}\" selected")),
        "{audit}"
    );
    assert_eq!(
        html(&bob, &format!("/admin/audit?org={globex}")).await.0,
        404
    );

    let (_, account) = html(&bob, "/account").await;
    assert!(
        account.contains("href=\"/admin\""),
        "the account page links to the console"
    );
}

#[tokio::test]
async fn a_console_post_without_the_csrf_token_changes_nothing() {
    let app = spawn_app().await;
    let admin = signed_in(&app, "root@example.com", true).await;
    for fields in [
        vec![("name", "Initech")],
        vec![("name", "Initech"), ("csrf_token", "forged")],
    ] {
        let res = admin.post("/admin/orgs", &fields).await;
        assert_eq!(res.status(), 403);
    }
    let (_, list) = html(&admin, "/admin/orgs").await;
    assert!(!list.contains("Initech"), "{list}");

    let res = admin
        .submit("/admin/orgs", "/admin/orgs", &[("name", "Initech")])
        .await;
    assert_eq!(res.status(), 303);
    assert!(location(&res).ends_with("?done=org_created"));
    let (_, list) = html(&admin, "/admin/orgs").await;
    assert!(list.contains("Initech"));
}

#[tokio::test]
async fn deleting_an_organization_asks_for_confirmation_and_acts_only_when_confirmed() {
    let app = spawn_app().await;
    let admin = signed_in(&app, "root@example.com", true).await;
    let acme = authify_testkit::setup::create_org(app.state.db(), "Acme", Utc::now())
        .await
        .unwrap()
        .public_id;
    let page = format!("/admin/orgs/{acme}");
    let action = format!("{page}/delete");

    let first = admin.submit(&page, &action, &[]).await;
    assert_eq!(first.status(), 200);
    let confirm = first.text().await.unwrap();
    assert!(confirm.contains("Delete Acme?"), "{confirm}");
    assert_eq!(hidden_value(&confirm, "confirmed").as_deref(), Some("yes"));
    assert!(confirm.contains(&format!("action=\"{action}\"")));
    assert_eq!(html(&admin, &page).await.0, 200, "not deleted yet");

    let token = hidden_value(&confirm, "csrf_token").unwrap();
    let unconfirmed_forgery = admin
        .post(&action, &[("confirmed", "yes"), ("csrf_token", "forged")])
        .await;
    assert_eq!(unconfirmed_forgery.status(), 403);
    assert_eq!(
        html(&admin, &page).await.0,
        200,
        "a refused POST changes nothing"
    );

    let second = admin
        .post(&action, &[("csrf_token", &token), ("confirmed", "yes")])
        .await;
    assert_eq!(second.status(), 303);
    assert_eq!(location(&second), "/admin/orgs?done=org_deleted");
    assert_eq!(html(&admin, &page).await.0, 404);
    let (_, list) = html(&admin, "/admin/orgs?done=org_deleted").await;
    assert!(list.contains("The organization was deleted."));
}

#[tokio::test]
async fn members_are_added_by_e_mail_promoted_put_in_groups_and_removed_after_confirmation() {
    let app = spawn_app().await;
    let bob = signed_in(&app, "bob@example.com", false).await;
    let dave = app.create_user("dave@example.com", false).await;
    let acme = org_with_admin(&app, "Acme", "bob@example.com").await;
    let page = format!("/admin/orgs/{acme}");

    let res = bob
        .submit(
            &page,
            &format!("{page}/members"),
            &[("email", "dave@example.com")],
        )
        .await;
    assert_eq!(location(&res), format!("{page}?done=member_added"));
    let promote = format!("{page}/members/{}/admin", dave.public_id);
    let res = bob.submit(&page, &promote, &[("value", "yes")]).await;
    assert_eq!(location(&res), format!("{page}?done=member_promoted"));
    let res = bob.submit(&page, &promote, &[("value", "no")]).await;
    assert_eq!(location(&res), format!("{page}?done=member_demoted"));
    let res = bob
        .submit(&page, &format!("{page}/groups"), &[("name", "ops")])
        .await;
    let group_page = location(&res).replace("?done=group_created", "");
    assert!(
        group_page.starts_with(&format!("{page}/groups/")),
        "{group_page}"
    );
    let (_, group) = html(&bob, &group_page).await;
    assert!(
        group.contains(&format!("<option value=\"{}\">", dave.public_id)),
        "{group}"
    );
    let res = bob
        .submit(
            &group_page,
            &format!("{group_page}/members"),
            &[("uid", &dave.public_id)],
        )
        .await;
    assert_eq!(res.status(), 303);

    let remove = format!("{page}/members/{}/remove", dave.public_id);
    let first = bob.submit(&page, &remove, &[]).await;
    assert_eq!(first.status(), 200, "confirmation first");
    let (_, still) = html(&bob, &page).await;
    assert!(still.contains("dave@example.com"));
    let done = bob.submit(&page, &remove, &[("confirmed", "yes")]).await;
    assert_eq!(location(&done), format!("{page}?done=member_removed"));
    let (_, after) = html(&bob, &page).await;
    assert!(!after.contains("dave@example.com"), "{after}");
}

#[tokio::test]
async fn the_last_admin_cannot_leave_their_organization_but_a_member_can() {
    let app = spawn_app().await;
    let bob = signed_in(&app, "bob@example.com", false).await;
    let carol = signed_in(&app, "carol@example.com", false).await;
    let acme = org_with_admin(&app, "Acme", "bob@example.com").await;
    authify_testkit::setup::add_org_member(
        app.state.db(),
        "Acme",
        "carol@example.com",
        false,
        Utc::now(),
    )
    .await
    .unwrap();

    let leave = [("oid", acme.as_str()), ("confirmed", "yes")];
    let res = bob.submit("/account", "/account/orgs/leave", &leave).await;
    assert_eq!(res.status(), 409);
    assert!(res.text().await.unwrap().contains("last admin"));
    let (_, account) = html(&bob, "/account").await;
    assert!(account.contains("Acme"), "still a member");

    let first = carol
        .submit("/account", "/account/orgs/leave", &[("oid", acme.as_str())])
        .await;
    assert_eq!(first.status(), 200);
    assert!(first.text().await.unwrap().contains("Leave Acme?"));
    let res = carol
        .submit("/account", "/account/orgs/leave", &leave)
        .await;
    assert_eq!(location(&res), "/account?done=org_left");
    let (_, account) = html(&carol, "/account?done=org_left").await;
    assert!(!account.contains("Acme") && account.contains("You left the organization."));
}

#[tokio::test]
async fn a_password_change_needs_the_current_password_and_keeps_this_session() {
    let app = spawn_app().await;
    let ann = signed_in(&app, "ann@example.com", false).await;
    let other = app.browser();
    other.sign_in("", "ann@example.com", PASSWORD).await;
    let new = "a much newer passphrase";

    let wrong = ann
        .submit(
            "/account",
            "/account/password",
            &[("current_password", "not it at all"), ("password", new)],
        )
        .await;
    assert_eq!(wrong.status(), 403);
    assert!(wrong.text().await.unwrap().contains("Wrong password"));
    let res = app.browser().sign_in("", "ann@example.com", PASSWORD).await;
    assert_eq!(res.status(), 303, "the old password still works");

    let right = ann
        .submit(
            "/account",
            "/account/password",
            &[("current_password", PASSWORD), ("password", new)],
        )
        .await;
    assert_eq!(location(&right), "/account?done=password_changed");
    assert_eq!(html(&ann, "/account").await.0, 200, "this session survives");
    let res = other.get("/account").await;
    assert_eq!(location(&res), "/login", "other sessions end");
    let old = app.browser().sign_in("", "ann@example.com", PASSWORD).await;
    assert_eq!(old.status(), 401);
    let fresh = app.browser().sign_in("", "ann@example.com", new).await;
    assert_eq!(fresh.status(), 303);
}

#[tokio::test]
async fn an_e_mail_change_needs_the_current_password() {
    let app = spawn_app().await;
    let ann = signed_in(&app, "ann@example.com", false).await;
    let wrong = ann
        .submit(
            "/account",
            "/account/email",
            &[("current_password", "nope"), ("email", "ann@new.example")],
        )
        .await;
    assert_eq!(wrong.status(), 403);
    let right = ann
        .submit(
            "/account",
            "/account/email",
            &[("current_password", PASSWORD), ("email", "ann@new.example")],
        )
        .await;
    assert_eq!(location(&right), "/account?done=email_changed");
    let (_, account) = html(&ann, "/account").await;
    assert!(account.contains("ann@new.example"));
}

#[tokio::test]
async fn an_api_key_shows_its_secret_once_is_listed_and_is_revoked_after_confirmation() {
    let app = spawn_app().await;
    let ann = signed_in(&app, "ann@example.com", false).await;
    let res = ann
        .submit(
            "/account",
            "/account/api-keys",
            &[
                ("name", "deploy bot"),
                ("read_only", "yes"),
                ("expires_in_days", "30"),
            ],
        )
        .await;
    assert_eq!(res.status(), 200);
    assert_eq!(
        res.headers().get("cache-control").unwrap(),
        "no-store",
        "the secret is never cached"
    );
    let shown = res.text().await.unwrap();
    let access_key = hidden_value(&shown, "access_key").unwrap();
    let secret = hidden_value(&shown, "secret_key").unwrap();
    assert!(
        access_key.starts_with("ak_") && secret.len() >= 40,
        "{shown}"
    );

    let (_, account) = html(&ann, "/account").await;
    assert!(account.contains(&access_key) && account.contains("deploy bot"));
    assert!(account.contains("Read-only"));
    assert!(!account.contains(&secret), "the secret is shown only once");

    let revoke = [("access_key", access_key.as_str())];
    let first = ann
        .submit("/account", "/account/api-keys/revoke", &revoke)
        .await;
    assert_eq!(first.status(), 200, "confirmation first");
    let (_, account) = html(&ann, "/account").await;
    assert!(!account.contains("Revoked"));
    let confirmed = [("access_key", access_key.as_str()), ("confirmed", "yes")];
    let res = ann
        .submit("/account", "/account/api-keys/revoke", &confirmed)
        .await;
    assert_eq!(location(&res), "/account?done=api_key_revoked");
    let (_, account) = html(&ann, "/account").await;
    assert!(account.contains("Revoked"), "{account}");
}

#[tokio::test]
async fn user_search_finds_users_by_a_substring_of_their_name_and_pages_are_linked() {
    let app = spawn_app().await;
    let admin = signed_in(&app, "root@example.com", true).await;
    app.browser()
        .sign_up("", "Zelda Quist", "zq@example.com")
        .await;
    app.create_user("other@example.com", false).await;

    let (status, found) = html(&admin, "/admin/users?q=ELDA").await;
    assert_eq!(status, 200);
    assert!(found.contains("zq@example.com"), "{found}");
    assert!(!found.contains("other@example.com"), "{found}");
    assert!(
        found.contains("value=\"ELDA\""),
        "the search box keeps the query"
    );
}

#[tokio::test]
async fn disabling_a_user_is_confirmed_first_then_signs_them_out() {
    let app = spawn_app().await;
    let admin = signed_in(&app, "root@example.com", true).await;
    let ann = signed_in(&app, "ann@example.com", false).await;
    let (_, list) = html(&admin, "/admin/users?q=ann").await;
    let marker = "action=\"/admin/users/";
    let start = list.find(marker).unwrap() + marker.len();
    let uid = &list[start..start + list[start..].find('/').unwrap()];
    let action = format!("/admin/users/{uid}/disabled");

    let first = admin
        .submit("/admin/users", &action, &[("value", "yes")])
        .await;
    assert_eq!(first.status(), 200);
    assert!(
        first
            .text()
            .await
            .unwrap()
            .contains("Disable ann@example.com?")
    );
    assert_eq!(html(&ann, "/account").await.0, 200, "nothing changed yet");
    let res = admin
        .submit(
            "/admin/users",
            &action,
            &[("value", "yes"), ("confirmed", "yes")],
        )
        .await;
    assert_eq!(location(&res), "/admin/users?done=user_disabled");
    assert_eq!(location(&ann.get("/account").await), "/login");
}

#[tokio::test]
async fn an_application_secret_is_shown_once_at_registration_and_at_rotation() {
    let app = spawn_app().await;
    let admin = signed_in(&app, "root@example.com", true).await;
    let callbacks = format!("{0}/a/callback\n\n{0}/b/callback\n", app.address);
    let res = admin
        .submit(
            "/admin/apps",
            "/admin/apps",
            &[("name", "Wiki"), ("callbacks", &callbacks)],
        )
        .await;
    assert_eq!(res.status(), 200);
    let shown = res.text().await.unwrap();
    let (app_id, secret) = (
        hidden_value(&shown, "app_id").unwrap(),
        hidden_value(&shown, "secret").unwrap(),
    );
    let page = format!("/admin/apps/{app_id}");
    let (_, detail) = html(&admin, &page).await;
    assert!(detail.contains("/b/callback") && !detail.contains(&secret));

    let rotate = format!("{page}/rotate");
    let first = admin.submit(&page, &rotate, &[]).await;
    assert!(
        first
            .text()
            .await
            .unwrap()
            .contains("Rotate the secret of Wiki?")
    );
    let second = admin.submit(&page, &rotate, &[("confirmed", "yes")]).await;
    let rotated = hidden_value(&second.text().await.unwrap(), "secret").unwrap();
    assert_ne!(rotated, secret);
}

#[tokio::test]
async fn the_console_registers_and_edits_an_applications_openid_options() {
    let app = spawn_app().await;
    let admin = signed_in(&app, "root@example.com", true).await;
    let res = admin
        .submit(
            "/admin/apps",
            "/admin/apps",
            &[
                ("name", "Spa"),
                ("callbacks", "https://spa.example/cb"),
                ("client_type", "public"),
                ("algorithm", "ES384"),
                ("first_party", "yes"),
                ("backchannel_logout_uri", "https://spa.example/bc"),
            ],
        )
        .await;
    assert_eq!(res.status(), 200);
    let shown = res.text().await.unwrap();
    let app_id = hidden_value(&shown, "app_id").unwrap();
    assert!(
        hidden_value(&shown, "secret").is_none(),
        "a public app has no secret"
    );
    let page = format!("/admin/apps/{app_id}");
    let (_, detail) = html(&admin, &page).await;
    assert!(detail.contains("first-party") && detail.contains("https://spa.example/bc"));
    assert!(detail.contains("<option value=\"ES384\" selected>"));

    let res = admin
        .submit(
            &page,
            &format!("{page}/update"),
            &[
                ("name", "Spa"),
                ("callbacks", "https://spa.example/cb"),
                ("client_type", "confidential"),
                ("algorithm", "ES512"),
                ("post_logout_redirect_uri", "https://spa.example/bye"),
            ],
        )
        .await;
    assert_eq!(res.status(), 303);
    let (_, detail) = html(&admin, &page).await;
    assert!(detail.contains("<option value=\"ES512\" selected>"));
    assert!(detail.contains("https://spa.example/bye"));
    assert!(!detail.contains("first-party"), "an unticked box clears it");
    assert!(
        !detail.contains("https://spa.example/bc"),
        "an empty field removes it"
    );
    let res = admin
        .submit(
            &page,
            &format!("{page}/update"),
            &[
                ("name", "Spa"),
                ("callbacks", "https://spa.example/cb"),
                ("algorithm", "HS256"),
            ],
        )
        .await;
    assert_eq!(res.status(), 400);
}

#[tokio::test]
async fn generating_a_signing_key_makes_it_the_active_one_and_is_audited() {
    let app = spawn_app().await;
    let admin = signed_in(&app, "root@example.com", true).await;
    let before = app.state.keys().keyring.signer().kid().to_owned();
    let (_, keys) = html(&admin, "/admin/keys").await;
    assert!(keys.contains(&before));

    // The newest key signs: the new one is made a second after the first.
    app.clock.advance(chrono::Duration::seconds(1));
    let res = admin.submit("/admin/keys", "/admin/keys", &[]).await;
    assert_eq!(location(&res), "/admin/keys?done=key_generated");
    let after = app.state.keys().keyring.signer().kid().to_owned();
    assert_ne!(after, before);
    let (_, keys) = html(&admin, "/admin/keys").await;
    assert!(keys.contains(&before) && keys.contains(&after));

    let (_, audit) = html(&admin, "/admin/audit?action=signing_key.rotate").await;
    assert!(
        audit.contains(&after) && audit.contains("root@example.com"),
        "{audit}"
    );
}
