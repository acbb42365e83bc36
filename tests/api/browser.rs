//! People in headless Chromium. One signs up from an app's link, lands back on the app with a
//! token, sees their account, signs out, and resets the password through the mailed link. An admin builds an organization in the console, and its
//! admin then sees only it. Screenshots of each page go to docs/screenshots/.

use authify_testkit::{b64, jwt_in, repo_root, spawn_app};

#[tokio::test]
async fn a_person_signs_up_in_chromium_and_returns_to_the_app_with_a_valid_token() {
    let app = spawn_app().await;
    let callback = format!("{}/app/callback", app.address);
    let app_id = app.create_app("Team Wiki", &[&callback]).await;
    let shots = authify_testkit::screenshots_dir();
    std::fs::create_dir_all(&shots).unwrap();
    let script = repo_root().join("tests/browser/signup-flow.mjs");
    assert!(
        repo_root()
            .join("tests/browser/node_modules/playwright-core")
            .exists(),
        "run `bash tests/setup.sh` first"
    );
    let (address, cb, dir) = (app.address.clone(), b64(&callback), shots.clone());
    // Without SMTP the server writes mails as .eml files here: the reset link comes from one.
    let mail = app.dir.path().join("mail");
    let out = tokio::task::spawn_blocking(move || {
        std::process::Command::new("node")
            .arg(script)
            .args([&address, &cb])
            .arg(&dir)
            .arg(&mail)
            .output()
            .unwrap()
    })
    .await
    .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "browser flow failed: {stderr}");
    let result: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let final_url = result["final_url"].as_str().unwrap();
    assert!(
        final_url.starts_with(&format!("{callback}?jwt=")),
        "{final_url}"
    );
    assert!(final_url.ends_with("&state=browser-test"), "{final_url}");
    let claims = app
        .client(&app_id)
        .verify(&jwt_in(final_url).unwrap())
        .await
        .unwrap();
    assert_eq!(claims.user.username, result["email"].as_str().unwrap());
    for shot in [
        "signup",
        "account",
        "logout",
        "login",
        "error",
        "login-mobile",
        "password-forgot",
        "password-sent",
        "password-reset",
        "password-changed",
        "password-expired",
        "email-verify",
        "email-verified",
    ] {
        let png = std::fs::read(shots.join(format!("{shot}.png"))).unwrap();
        assert!(
            png.starts_with(b"\x89PNG") && png.len() > 5_000,
            "{shot}.png"
        );
    }
    assert!(
        !stderr.contains("Content Security Policy"),
        "CSP violations: {stderr}"
    );
}

/// Runs `tests/browser/<script>` with node and `args`, off the async threads.
pub(crate) async fn run_browser_script(script: &str, args: Vec<String>) -> std::process::Output {
    assert!(
        repo_root()
            .join("tests/browser/node_modules/playwright-core")
            .exists(),
        "run `bash tests/setup.sh` first"
    );
    let script = repo_root().join("tests/browser").join(script);
    tokio::task::spawn_blocking(move || {
        std::process::Command::new("node")
            .arg(script)
            .args(args)
            .output()
            .unwrap()
    })
    .await
    .unwrap()
}

/// The `items` of a list reply, after checking it answered 200.
fn items(reply: &authify_testkit::ApiReply) -> Vec<serde_json::Value> {
    assert_eq!(reply.status, 200, "{:?}", reply.body);
    reply.body["items"].as_array().unwrap().clone()
}

#[tokio::test]
async fn an_admin_builds_an_organization_in_chromium_and_its_admin_sees_only_it() {
    let app = spawn_app().await;
    app.create_user("root@example.com", true).await;
    app.create_user("olivia@example.com", false).await;
    app.create_user("max@example.com", false).await;
    authify_testkit::setup::create_org(app.state.db(), "Globex", chrono::Utc::now())
        .await
        .unwrap();
    // So the applications page shows a registered app rather than its empty state.
    app.create_app("Team Wiki", &[&format!("{}/app/callback", app.address)])
        .await;
    let shots = authify_testkit::screenshots_dir();
    std::fs::create_dir_all(&shots).unwrap();
    let pngs = [
        "users",
        "orgs",
        "org",
        "group",
        "apps",
        "keys",
        "audit",
        "confirm",
        "org-admin",
    ]
    .map(|shot| shots.join(format!("admin-{shot}.png")))
    .into_iter()
    .chain([shots.join("invite.png")])
    .collect::<Vec<_>>();
    // The checks at the end then see this run's screenshots, not a previous run's.
    for png in &pngs {
        let _ = std::fs::remove_file(png);
    }

    let out = run_browser_script(
        "admin-flow.mjs",
        vec![
            app.address.clone(),
            shots.display().to_string(),
            app.dir.path().join("mail").display().to_string(),
        ],
    )
    .await;
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "browser flow failed: {stderr}");
    let seen: serde_json::Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out.stdout)));
    // Shown with --nocapture or when an assertion below fails.
    println!("admin flow saw: {seen}\n{stderr}");

    // What the browser saw.
    assert_eq!(
        seen["org_admin_orgs"],
        serde_json::json!(["Acme Corp"]),
        "{seen}"
    );
    assert_eq!(seen["org_admin_landing"], "/admin/orgs", "{seen}");
    assert_eq!(
        seen["org_admin_nav"],
        serde_json::json!(["Organizations", "Audit log"]),
        "{seen}"
    );
    assert_eq!(seen["users_status"], 403, "{seen}");
    assert_eq!(
        seen["group_members"],
        serde_json::json!(["max@example.com"]),
        "{seen}"
    );
    assert_eq!(seen["confirm_heading"], "Delete the group Engineering?");
    assert_eq!(seen["group_kept_after_cancel"], true, "{seen}");
    assert_eq!(seen["csp_violations"], 0, "{stderr}");
    assert_eq!(seen["console_errors"], 0, "{stderr}");
    assert!(
        !stderr.contains("Content Security Policy"),
        "CSP violations: {stderr}"
    );

    // What the database holds, read back through the management API.
    let root = app.api_token("root@example.com", true).await;
    let orgs = items(
        &app.call(Some(&root), "GET", "/api/v1/organizations?q=Acme", None)
            .await,
    );
    let acme: Vec<_> = orgs.iter().filter(|o| o["name"] == "Acme Corp").collect();
    assert_eq!(acme.len(), 1, "{orgs:?}");
    let oid = acme[0]["oid"].as_str().unwrap();
    assert_eq!(seen["oid"], oid, "the browser worked on this organization");
    let members = items(
        &app.call(
            Some(&root),
            "GET",
            &format!("/api/v1/organizations/{oid}/members"),
            None,
        )
        .await,
    );
    let mut roles: Vec<(&str, bool)> = members
        .iter()
        .map(|m| (m["email"].as_str().unwrap(), m["admin"].as_bool().unwrap()))
        .collect();
    roles.sort();
    assert_eq!(
        roles,
        [("max@example.com", false), ("olivia@example.com", true)]
    );
    let groups = items(
        &app.call(
            Some(&root),
            "GET",
            &format!("/api/v1/organizations/{oid}/groups"),
            None,
        )
        .await,
    );
    assert_eq!(groups.len(), 1, "cancelling kept the group: {groups:?}");
    assert_eq!(groups[0]["name"], "Engineering");
    let gid = groups[0]["gid"].as_str().unwrap();
    assert_eq!(seen["gid"], gid);
    let in_group = items(
        &app.call(
            Some(&root),
            "GET",
            &format!("/api/v1/organizations/{oid}/groups/{gid}/members"),
            None,
        )
        .await,
    );
    let in_group: Vec<_> = in_group.iter().map(|m| m["email"].clone()).collect();
    assert_eq!(in_group, ["max@example.com"]);

    // Olivia's own view through the API agrees with the console's scoping.
    let olivia = app.api_token("olivia@example.com", true).await;
    let hers = items(
        &app.call(Some(&olivia), "GET", "/api/v1/organizations", None)
            .await,
    );
    let her_orgs: Vec<_> = hers.iter().map(|o| o["name"].clone()).collect();
    assert_eq!(her_orgs, ["Acme Corp"]);

    for png in &pngs {
        let bytes = std::fs::read(png).unwrap_or_else(|e| panic!("{}: {e}", png.display()));
        assert!(
            bytes.starts_with(b"\x89PNG") && bytes.len() > 5_000,
            "{} is not a PNG over 5 KB",
            png.display()
        );
    }
}
