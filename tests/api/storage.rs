//! Storage: the suite runs on the backend it was asked for, and what is written survives the
//! server going away.

use authify_testkit::{PASSWORD, TEST_POSTGRES_URL, spawn_app, spawn_app_in};

#[tokio::test]
async fn the_suite_runs_on_the_requested_backend_and_accounts_survive_a_restart() {
    let first = spawn_app().await;
    let on_postgres = std::env::var(TEST_POSTGRES_URL).is_ok();
    assert_eq!(
        first.settings.db_url.starts_with("postgres://"),
        on_postgres,
        "{}",
        first.settings.db_url
    );
    assert_eq!(first.settings.db_url.starts_with("sqlite://"), !on_postgres);
    first.browser().sign_up("", "Ann", "ann@example.com").await;

    // A second server on the same database (as after a crash and restart) knows the account.
    let db_url = first.settings.db_url.clone();
    let second = spawn_app_in(tempfile::tempdir().unwrap(), &[("AUTHIFY_DB_URL", &db_url)]).await;
    let res = second
        .browser()
        .sign_in("", "ann@example.com", PASSWORD)
        .await;
    assert_eq!(res.status(), 303);
}

#[test]
fn an_unreachable_database_stops_start_up_with_a_clear_message() {
    let dir = tempfile::tempdir().unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_authify"))
        .current_dir(dir.path())
        .env_clear()
        .env("AUTHIFY_DB_URL", "postgres://nobody:wrong@127.0.0.1:1/none")
        .arg("migrate")
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("AUTHIFY_DB_URL") && err.contains("127.0.0.1"),
        "{err}"
    );
    assert!(!err.contains("panicked"), "{err}");
}

#[test]
fn an_unusable_sqlite_path_fails_at_once_naming_the_path_and_the_os_error() {
    let dir = tempfile::tempdir().unwrap();
    // A file where the database's directory should be: nothing can be created under it.
    std::fs::write(dir.path().join("blocker"), "").unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_authify"))
        .current_dir(dir.path())
        .env_clear()
        .env("AUTHIFY_DB_URL", "sqlite://./blocker/authify.db")
        .arg("migrate")
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("blocker"), "names the path: {err}");
    assert!(
        err.contains("Not a directory") || err.contains("os error"),
        "{err}"
    );
    assert!(!err.contains("timed out"), "{err}");
}

#[test]
fn the_sqlite_database_and_its_wal_files_are_readable_by_the_owner_only() {
    use std::os::unix::fs::PermissionsExt as _;
    let dir = tempfile::tempdir().unwrap();
    let run = || {
        std::process::Command::new(env!("CARGO_BIN_EXE_authify"))
            .current_dir(dir.path())
            .env_clear()
            .env("AUTHIFY_DB_URL", "sqlite://./data/authify.db")
            .arg("migrate")
            .output()
            .unwrap()
    };
    assert!(run().status.success());
    let db = dir.path().join("data/authify.db");
    // An earlier version left it 0644: the next start tightens it.
    std::fs::set_permissions(&db, std::fs::Permissions::from_mode(0o644)).unwrap();
    assert!(run().status.success());
    for name in ["authify.db", "authify.db-wal", "authify.db-shm"] {
        let path = dir.path().join("data").join(name);
        if let Ok(meta) = std::fs::metadata(&path) {
            assert_eq!(
                meta.permissions().mode() & 0o777,
                0o600,
                "{}",
                path.display()
            );
        } else {
            assert_ne!(name, "authify.db", "the database exists");
        }
    }
}

#[tokio::test]
async fn ready_says_ready_and_names_a_schema_behind_head_with_a_503() {
    let app = authify_testkit::spawn_app().await;
    let res = app.get("/ready").await;
    assert_eq!(res.status(), 200);
    let body: serde_json::Value = res.json().await.unwrap();
    assert_eq!(body["status"], "ready");
    assert_eq!(
        body["signing_key"],
        app.state.keys().keyring.signer().kid(),
        "the key that signs"
    );
    // Forget the newest migration, as a database restored from an older backup would.
    app.state
        .db()
        .run_blocking(|conn| {
            use diesel::RunQueryDsl as _;
            diesel::sql_query(
                "DELETE FROM __diesel_schema_migrations WHERE version = (SELECT MAX(version) FROM __diesel_schema_migrations)",
            )
            .execute(conn)
            .map_err(authify_core::StoreError::from)
        })
        .unwrap();
    let res = app.get("/ready").await;
    assert_eq!(res.status(), 503);
    let body: serde_json::Value = res.json().await.unwrap();
    assert_eq!(body["status"], "not_ready");
    assert!(
        body["reason"]
            .as_str()
            .unwrap()
            .contains("1 migration(s) not applied"),
        "{body}"
    );
    assert_eq!(
        app.get("/health").await.status(),
        200,
        "alive, though not ready"
    );
}
