//! Invitations to an organization through a loopback SMTP server: sent from the API and the
//! console by the organization's admins, accepted once through the mailed link by a signed-in
//! account, revocable, expiring on the fixed clock, audited.

use authify_testkit::{Browser, PASSWORD, TestApp, location, spawn_app_in};
use chrono::Duration;
use serde_json::json;

use crate::mfa_support::{Mail, SmtpReceiver};

async fn setup() -> (TestApp, SmtpReceiver, String, String) {
    let smtp = SmtpReceiver::start().await;
    let app = spawn_app_in(
        tempfile::tempdir().unwrap(),
        &[("AUTHIFY_SMTP_URL", &smtp.url())],
    )
    .await;
    app.create_user("boss@example.com", false).await;
    let org = authify_testkit::setup::create_org(app.state.db(), "Acme", app.clock_now())
        .await
        .unwrap();
    authify_testkit::setup::add_org_member(
        app.state.db(),
        "Acme",
        "boss@example.com",
        true,
        app.clock_now(),
    )
    .await
    .unwrap();
    let token = app.api_token("boss@example.com", false).await;
    (app, smtp, org.public_id, token)
}

fn invite_link(mail: &Mail) -> String {
    let text = mail.plain();
    let start = text.find("/invite?token=").expect("an invitation link");
    text[start..].split_whitespace().next().unwrap().to_owned()
}

async fn invite(app: &TestApp, token: &str, oid: &str, email: &str) -> (u16, serde_json::Value) {
    let r = app
        .call(
            Some(token),
            "POST",
            &format!("/api/v1/organizations/{oid}/invitations"),
            Some(json!({ "email": email })),
        )
        .await;
    (r.status, r.body)
}

async fn signed_in(app: &TestApp, email: &str) -> Browser {
    let b = app.browser();
    assert_eq!(b.sign_in("", email, PASSWORD).await.status(), 303);
    b
}

async fn member_emails(app: &TestApp, token: &str, oid: &str) -> Vec<String> {
    let r = app
        .call(
            Some(token),
            "GET",
            &format!("/api/v1/organizations/{oid}/members"),
            None,
        )
        .await;
    r.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["email"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn an_invitation_link_adds_the_account_that_follows_it_once_and_confirms_its_address() {
    let (app, smtp, oid, token) = setup().await;
    let (status, body) = invite(&app, &token, &oid, "ann@example.com").await;
    assert_eq!(status, 201, "{body}");
    let mail = smtp.next().await;
    assert_eq!(mail.to, "ann@example.com");
    assert!(mail.data.contains("Subject: Join Acme"));
    let link = invite_link(&mail);

    // Not signed in: the page says how to go on, and spends nothing.
    let stranger = app.browser();
    let res = stranger.get(&link).await;
    assert_eq!(res.status(), 200);
    let html = res.text().await.unwrap();
    assert!(html.contains("Join Acme") && html.contains("Create an account"));

    // Ann signs up (unconfirmed address), opens the link again and joins.
    let ann = app.browser();
    assert_eq!(
        ann.sign_up("", "Ann", "ann@example.com").await.status(),
        303
    );
    let _confirmation = smtp.next().await;
    let token_value = link.split("token=").nth(1).unwrap();
    let res = ann
        .submit(&link, "/invite", &[("token", token_value)])
        .await;
    assert_eq!(location(&res), "/account?done=joined");
    assert!(
        member_emails(&app, &token, &oid)
            .await
            .contains(&"ann@example.com".to_owned())
    );
    let account = ann.get("/account").await.text().await.unwrap();
    assert!(
        account.contains("Acme") && account.contains("Confirmed"),
        "the link proved the mailbox"
    );

    // Used once: a second account cannot join with it.
    app.create_user("eve@example.com", false).await;
    let eve = signed_in(&app, "eve@example.com").await;
    assert_eq!(eve.get(&link).await.status(), 410);
    let html = eve.get("/account").await.text().await.unwrap();
    let csrf = authify_testkit::hidden_value(&html, "csrf_token").unwrap();
    let res = eve
        .post("/invite", &[("csrf_token", &csrf), ("token", token_value)])
        .await;
    assert_eq!(res.status(), 410);
    assert!(
        !member_emails(&app, &token, &oid)
            .await
            .contains(&"eve@example.com".to_owned())
    );

    // Audited: the invitation and the join (the audit log is for global admins).
    app.create_user("root@example.com", true).await;
    let root = app.api_token("root@example.com", false).await;
    let audit = app
        .call(Some(&root), "GET", "/api/v1/audit-events", None)
        .await;
    let actions: Vec<&str> = audit.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert!(
        actions.contains(&"organization.invite") && actions.contains(&"organization.join"),
        "{actions:?}"
    );
}

#[tokio::test]
async fn a_revoked_or_expired_invitation_no_longer_works_and_members_only_see_refusals() {
    let (app, smtp, oid, token) = setup().await;
    app.create_user("ann@example.com", false).await;
    let ann = signed_in(&app, "ann@example.com").await;

    invite(&app, &token, &oid, "ann@example.com").await;
    let revoked_link = invite_link(&smtp.next().await);
    let (status, _) = invite(&app, &token, &oid, "ann@example.com").await;
    assert_eq!(status, 409, "one live invitation per address");
    let live = app
        .call(
            Some(&token),
            "GET",
            &format!("/api/v1/organizations/{oid}/invitations"),
            None,
        )
        .await;
    let id = live.body["items"][0]["id"].as_str().unwrap().to_owned();
    let r = app
        .call(
            Some(&token),
            "DELETE",
            &format!("/api/v1/organizations/{oid}/invitations/{id}"),
            None,
        )
        .await;
    assert_eq!(r.status, 204);
    assert_eq!(ann.get(&revoked_link).await.status(), 410);

    // An existing member cannot be invited; a plain member cannot invite.
    let (status, _) = invite(&app, &token, &oid, "boss@example.com").await;
    assert_eq!(status, 409);
    authify_testkit::setup::add_org_member(
        app.state.db(),
        "Acme",
        "ann@example.com",
        false,
        app.clock_now(),
    )
    .await
    .unwrap();
    let ann_token = app.api_token("ann@example.com", false).await;
    let (status, _) = invite(&app, &ann_token, &oid, "bob@example.com").await;
    assert_eq!(status, 403);
    let (status, _) = invite(&app, &token, &oid, "not an address").await;
    assert_eq!(status, 400);

    // Seven days on, a live link is dead.
    invite(&app, &token, &oid, "dan@example.com").await;
    let expiring = invite_link(&smtp.next().await);
    assert_eq!(ann.get(&expiring).await.status(), 200);
    app.clock.advance(Duration::days(7) + Duration::minutes(1));
    assert_eq!(app.browser().get(&expiring).await.status(), 410);
}

#[tokio::test]
async fn an_organization_admin_invites_and_revokes_from_the_console() {
    let (app, smtp, oid, _token) = setup().await;
    let boss = signed_in(&app, "boss@example.com").await;
    let page = format!("/admin/orgs/{oid}");
    let res = boss
        .submit(
            &page,
            &format!("/admin/orgs/{oid}/invitations"),
            &[("email", "carl@example.com")],
        )
        .await;
    assert_eq!(res.status(), 303);
    assert!(location(&res).contains("done=invited"));
    assert_eq!(smtp.next().await.to, "carl@example.com");
    let html = boss.get(&page).await.text().await.unwrap();
    assert!(html.contains("carl@example.com") && html.contains("Revoke"));
    let start = html.find("/invitations/").unwrap() + "/invitations/".len();
    let id = html[start..].split('/').next().unwrap().to_owned();
    let res = boss
        .submit(
            &page,
            &format!("/admin/orgs/{oid}/invitations/{id}/revoke"),
            &[],
        )
        .await;
    assert!(location(&res).contains("done=invitation_revoked"));
    let html = boss.get(&page).await.text().await.unwrap();
    assert!(html.contains("No invitation waiting"));
}
