//! The authorization matrix: every role against every management action on `/api/v1`. Each
//! (action, role) pair runs in a fresh world; allowed pairs must succeed, refused ones must be
//! refused with the right kind of status and leave every row exactly as it was.

use authify_testkit::{TestApp, spawn_app};
use serde_json::{Value, json};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Role {
    Anonymous,
    User,
    Member,
    OtherOrgAdmin,
    OrgAdmin,
    GlobalAdmin,
    ReadOnlyKey,
    AppToken,
}

const ROLES: [Role; 8] = [
    Role::Anonymous,
    Role::User,
    Role::Member,
    Role::OtherOrgAdmin,
    Role::OrgAdmin,
    Role::GlobalAdmin,
    Role::ReadOnlyKey,
    Role::AppToken,
];

/// Ids of the world's objects, for building paths.
struct World {
    app: TestApp,
    org_a: String,
    group_a: String,
    app_id: String,
    target_uid: String,
    member_uid: String,
    member2_uid: String,
    global_key: String,
}

async fn world() -> World {
    let app = spawn_app().await;
    let now = chrono::Utc::now;
    for (email, admin) in [
        ("root@example.com", true),
        ("user@example.com", false),
        ("member@example.com", false),
        ("member2@example.com", false),
        ("orgadmin@example.com", false),
        ("otheradmin@example.com", false),
        ("target@example.com", false),
    ] {
        app.create_user(email, admin).await;
    }
    let db = app.state.db();
    let a = authify_testkit::setup::create_org(db, "Acme", now())
        .await
        .unwrap();
    authify_testkit::setup::create_org(db, "Globex", now())
        .await
        .unwrap();
    for (org, email, admin) in [
        ("Acme", "orgadmin@example.com", true),
        ("Acme", "member@example.com", false),
        ("Acme", "member2@example.com", false),
        ("Globex", "otheradmin@example.com", true),
    ] {
        authify_testkit::setup::add_org_member(db, org, email, admin, now())
            .await
            .unwrap();
    }
    let g = authify_testkit::setup::create_group(db, "Acme", "ops", now())
        .await
        .unwrap();
    authify_testkit::setup::add_group_member(db, "Acme", "ops", "member@example.com", now())
        .await
        .unwrap();
    let app_id = app
        .create_app("Wiki", &["https://wiki.example.com/cb"])
        .await;
    let (global_key, _) = app.api_key("root@example.com", false).await;
    let uid = |e: &'static str| async { app.actor(e).await.user.public_id };
    World {
        org_a: a.public_id,
        group_a: g.public_id,
        target_uid: uid("target@example.com").await,
        member_uid: uid("member@example.com").await,
        member2_uid: uid("member2@example.com").await,
        app_id,
        global_key,
        app,
    }
}

async fn token(w: &World, role: Role) -> Option<String> {
    let email = match role {
        Role::Anonymous => return None,
        Role::AppToken => {
            // A real token from the callback flow: signed by us, audience the app.
            let root = w.app.actor("root@example.com").await.user;
            let keys = w.app.state.keys();
            return Some(
                authify_core::tokens::issue(
                    w.app.state.db(),
                    w.app.state.token_issuer(),
                    keys.keyring.signer(),
                    &root,
                    &w.app_id,
                    chrono::Utc::now(),
                )
                .await
                .unwrap(),
            );
        }
        Role::ReadOnlyKey => return Some(w.app.api_token("root@example.com", true).await),
        Role::User => "user@example.com",
        Role::Member => "member@example.com",
        Role::OtherOrgAdmin => "otheradmin@example.com",
        Role::OrgAdmin => "orgadmin@example.com",
        Role::GlobalAdmin => "root@example.com",
    };
    Some(w.app.api_token(email, false).await)
}

#[derive(Clone, Copy)]
struct Action {
    name: &'static str,
    method: &'static str,
    path: fn(&World) -> String,
    body: fn(&World) -> Option<Value>,
    allowed: &'static [Role],
}

use Role::*;
const READERS_OF_A: &[Role] = &[Member, OrgAdmin, GlobalAdmin, ReadOnlyKey];
const MANAGERS_OF_A: &[Role] = &[OrgAdmin, GlobalAdmin];
const GLOBAL_READ: &[Role] = &[GlobalAdmin, ReadOnlyKey];
const GLOBAL_WRITE: &[Role] = &[GlobalAdmin];
const SIGNED_IN: &[Role] = &[
    User,
    Member,
    OtherOrgAdmin,
    OrgAdmin,
    GlobalAdmin,
    ReadOnlyKey,
];
const SIGNED_IN_WRITE: &[Role] = &[User, Member, OtherOrgAdmin, OrgAdmin, GlobalAdmin];

fn none(_: &World) -> Option<Value> {
    None
}

fn actions() -> Vec<Action> {
    vec![
        Action {
            name: "list users",
            method: "GET",
            path: |_| "/api/v1/users".into(),
            body: none,
            allowed: GLOBAL_READ,
        },
        Action {
            name: "read a user",
            method: "GET",
            path: |w| format!("/api/v1/users/{}", w.target_uid),
            body: none,
            allowed: GLOBAL_READ,
        },
        Action {
            name: "create a user",
            method: "POST",
            path: |_| "/api/v1/users".into(),
            body: |_| {
                Some(json!({"email": "new@example.com", "password": "a long enough password"}))
            },
            allowed: GLOBAL_WRITE,
        },
        Action {
            name: "disable a user",
            method: "PATCH",
            path: |w| format!("/api/v1/users/{}", w.target_uid),
            body: |_| Some(json!({"disabled": true})),
            allowed: GLOBAL_WRITE,
        },
        Action {
            name: "grant global admin",
            method: "PATCH",
            path: |w| format!("/api/v1/users/{}", w.target_uid),
            body: |_| Some(json!({"admin": true})),
            allowed: GLOBAL_WRITE,
        },
        Action {
            name: "list organizations",
            method: "GET",
            path: |_| "/api/v1/organizations".into(),
            body: none,
            allowed: SIGNED_IN,
        },
        Action {
            name: "create an organization",
            method: "POST",
            path: |_| "/api/v1/organizations".into(),
            body: |_| Some(json!({"name": "Initech"})),
            allowed: GLOBAL_WRITE,
        },
        Action {
            name: "read an organization",
            method: "GET",
            path: |w| format!("/api/v1/organizations/{}", w.org_a),
            body: none,
            allowed: READERS_OF_A,
        },
        Action {
            name: "rename an organization",
            method: "PATCH",
            path: |w| format!("/api/v1/organizations/{}", w.org_a),
            body: |_| Some(json!({"name": "Acme Corp"})),
            allowed: MANAGERS_OF_A,
        },
        Action {
            name: "delete an organization",
            method: "DELETE",
            path: |w| format!("/api/v1/organizations/{}", w.org_a),
            body: none,
            allowed: GLOBAL_WRITE,
        },
        Action {
            name: "list members",
            method: "GET",
            path: |w| format!("/api/v1/organizations/{}/members", w.org_a),
            body: none,
            allowed: &[OrgAdmin, GlobalAdmin, ReadOnlyKey],
        },
        Action {
            name: "add a member",
            method: "POST",
            path: |w| format!("/api/v1/organizations/{}/members", w.org_a),
            body: |_| Some(json!({"email": "target@example.com"})),
            allowed: MANAGERS_OF_A,
        },
        Action {
            name: "promote a member",
            method: "PATCH",
            path: |w| {
                format!(
                    "/api/v1/organizations/{}/members/{}",
                    w.org_a, w.member2_uid
                )
            },
            body: |_| Some(json!({"admin": true})),
            allowed: MANAGERS_OF_A,
        },
        Action {
            name: "remove a member",
            method: "DELETE",
            path: |w| {
                format!(
                    "/api/v1/organizations/{}/members/{}",
                    w.org_a, w.member2_uid
                )
            },
            body: none,
            allowed: MANAGERS_OF_A,
        },
        Action {
            name: "list groups",
            method: "GET",
            path: |w| format!("/api/v1/organizations/{}/groups", w.org_a),
            body: none,
            allowed: READERS_OF_A,
        },
        Action {
            name: "create a group",
            method: "POST",
            path: |w| format!("/api/v1/organizations/{}/groups", w.org_a),
            body: |_| Some(json!({"name": "dev"})),
            allowed: MANAGERS_OF_A,
        },
        Action {
            name: "rename a group",
            method: "PATCH",
            path: |w| format!("/api/v1/organizations/{}/groups/{}", w.org_a, w.group_a),
            body: |_| Some(json!({"name": "sre"})),
            allowed: MANAGERS_OF_A,
        },
        Action {
            name: "delete a group",
            method: "DELETE",
            path: |w| format!("/api/v1/organizations/{}/groups/{}", w.org_a, w.group_a),
            body: none,
            allowed: MANAGERS_OF_A,
        },
        Action {
            name: "list group members",
            method: "GET",
            path: |w| {
                format!(
                    "/api/v1/organizations/{}/groups/{}/members",
                    w.org_a, w.group_a
                )
            },
            body: none,
            allowed: &[OrgAdmin, GlobalAdmin, ReadOnlyKey],
        },
        Action {
            name: "add a group member",
            method: "POST",
            path: |w| {
                format!(
                    "/api/v1/organizations/{}/groups/{}/members",
                    w.org_a, w.group_a
                )
            },
            body: |w| Some(json!({"uid": w.member2_uid})),
            allowed: MANAGERS_OF_A,
        },
        Action {
            name: "remove a group member",
            method: "DELETE",
            path: |w| {
                format!(
                    "/api/v1/organizations/{}/groups/{}/members/{}",
                    w.org_a, w.group_a, w.member_uid
                )
            },
            body: none,
            allowed: MANAGERS_OF_A,
        },
        Action {
            name: "list applications",
            method: "GET",
            path: |_| "/api/v1/applications".into(),
            body: none,
            allowed: GLOBAL_READ,
        },
        Action {
            name: "create an application",
            method: "POST",
            path: |_| "/api/v1/applications".into(),
            body: |_| Some(json!({"name": "Blog", "callbacks": ["https://blog.example.com/cb"]})),
            allowed: GLOBAL_WRITE,
        },
        Action {
            name: "edit an application",
            method: "PATCH",
            path: |w| format!("/api/v1/applications/{}", w.app_id),
            body: |_| Some(json!({"callbacks": ["https://wiki.example.com/auth"]})),
            allowed: GLOBAL_WRITE,
        },
        Action {
            name: "rotate an application secret",
            method: "POST",
            path: |w| format!("/api/v1/applications/{}/secret", w.app_id),
            body: none,
            allowed: GLOBAL_WRITE,
        },
        Action {
            name: "delete an application",
            method: "DELETE",
            path: |w| format!("/api/v1/applications/{}", w.app_id),
            body: none,
            allowed: GLOBAL_WRITE,
        },
        Action {
            name: "read the whole audit log",
            method: "GET",
            path: |_| "/api/v1/audit-events".into(),
            body: none,
            allowed: GLOBAL_READ,
        },
        Action {
            name: "read an organization's audit log",
            method: "GET",
            path: |w| format!("/api/v1/audit-events?organization={}", w.org_a),
            body: none,
            allowed: &[OrgAdmin, GlobalAdmin, ReadOnlyKey],
        },
        Action {
            name: "create an API key",
            method: "POST",
            path: |_| "/api/v1/api-keys".into(),
            body: |_| Some(json!({"name": "ci"})),
            allowed: SIGNED_IN_WRITE,
        },
        Action {
            name: "revoke the global admin's API key",
            method: "DELETE",
            path: |w| format!("/api/v1/api-keys/{}", w.global_key),
            body: none,
            allowed: GLOBAL_WRITE,
        },
    ]
}

/// Runs one (action, role) pair in a fresh world; `Some(description)` when it went wrong.
async fn check(action: Action, role: Role) -> Option<String> {
    let w = world().await;
    let token = token(&w, role).await;
    let before = w.app.fingerprint().await;
    let reply = w
        .app
        .call(
            token.as_deref(),
            action.method,
            &(action.path)(&w),
            (action.body)(&w),
        )
        .await;
    let after = w.app.fingerprint().await;
    let allowed = action.allowed.contains(&role);
    let ok = if allowed {
        (200..300).contains(&reply.status)
    } else {
        let right_refusal = match role {
            Anonymous | AppToken => reply.status == 401,
            ReadOnlyKey => reply.status == 403,
            _ => matches!(reply.status, 403 | 404),
        };
        right_refusal
            && before == after
            && reply.body["error"].is_string()
            && reply.body["message"].is_string()
    };
    (!ok).then(|| {
        format!(
            "{} as {role:?}: expected {}, got {} {} (state changed: {})",
            action.name,
            if allowed { "success" } else { "refusal" },
            reply.status,
            reply.body,
            before != after
        )
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn every_role_is_allowed_exactly_its_management_actions_and_refusals_change_nothing() {
    // 240 independent worlds; a few at a time so the wait for disk and database overlaps. Each
    // world holds a connection pool, so fewer at once on PostgreSQL (max_connections).
    let at_once = if std::env::var(authify_testkit::TEST_POSTGRES_URL).is_ok() {
        4
    } else {
        12
    };
    let limit = std::sync::Arc::new(tokio::sync::Semaphore::new(at_once));
    let mut runs = tokio::task::JoinSet::new();
    for action in actions() {
        for role in ROLES {
            let limit = limit.clone();
            runs.spawn(async move {
                let _permit = limit.acquire_owned().await.unwrap();
                check(action, role).await
            });
        }
    }
    let mut failures = Vec::new();
    let mut pairs = 0;
    while let Some(result) = runs.join_next().await {
        pairs += 1;
        failures.extend(result.unwrap());
    }
    assert_eq!(pairs, actions().len() * ROLES.len());
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[tokio::test]
async fn a_read_only_key_reads_but_every_write_is_forbidden() {
    let w = world().await;
    let ro = w.app.api_token("root@example.com", true).await;
    let claims_scopes = {
        let payload = ro.split('.').nth(1).unwrap();
        use base64::Engine as _;
        let json: Value = serde_json::from_slice(
            &base64::engine::general_purpose::URL_SAFE_NO_PAD
                .decode(payload)
                .unwrap(),
        )
        .unwrap();
        json["scopes"].clone()
    };
    assert!(
        claims_scopes
            .as_array()
            .unwrap()
            .iter()
            .any(|s| s == "read_only")
    );
    let read = w.app.call(Some(&ro), "GET", "/api/v1/users", None).await;
    assert_eq!(read.status, 200);
    let write = w
        .app
        .call(
            Some(&ro),
            "POST",
            "/api/v1/organizations",
            Some(json!({"name": "Nope"})),
        )
        .await;
    assert_eq!(write.status, 403);
    assert_eq!(write.body["error"], "forbidden");
}
