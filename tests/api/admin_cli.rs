//! The administrative command line, in the exact forms scripts rely on.

use std::io::Write as _;
use std::path::Path;
use std::process::{Command, Output, Stdio};

fn authify(dir: &Path, args: &[&str], stdin: &str) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_authify"))
        .current_dir(dir)
        .env_clear()
        .env("AUTHIFY_ARGON2_MEMORY_KIB", "1024")
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(stdin.as_bytes())
        .unwrap();
    child.wait_with_output().unwrap()
}

fn ok(out: &Output) -> String {
    assert!(
        out.status.success(),
        "stderr: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout.clone()).unwrap()
}

fn fails(out: &Output, needle: &str) {
    assert!(
        !out.status.success(),
        "should fail: {}",
        String::from_utf8_lossy(&out.stdout)
    );
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(err.trim().lines().count(), 1, "one line: {err}");
    assert!(err.contains(needle), "{err}");
}

#[test]
fn users_apps_orgs_and_groups_are_managed_from_the_command_line() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    ok(&authify(d, &["migrate"], ""));
    assert!(
        d.join("data/authify.db").is_file(),
        "the embedded database is created under ./data"
    );

    let user: serde_json::Value = serde_json::from_str(&ok(&authify(
        d,
        &[
            "users",
            "create",
            "--email",
            "Ann@Example.com",
            "--password-stdin",
            "--admin",
            "--json",
        ],
        "s3cret-passphrase\n",
    )))
    .unwrap();
    assert_eq!(user["email"], "ann@example.com");
    assert_eq!(user["admin"], true);
    assert_eq!(user["uid"].as_str().unwrap().len(), 36);
    fails(
        &authify(
            d,
            &[
                "users",
                "create",
                "--email",
                "ann@example.com",
                "--password-stdin",
            ],
            "another-passphrase\n",
        ),
        "already exists",
    );
    fails(
        &authify(
            d,
            &[
                "users",
                "create",
                "--email",
                "not-an-email",
                "--password-stdin",
            ],
            "another-passphrase\n",
        ),
        "e-mail",
    );
    fails(
        &authify(
            d,
            &[
                "users",
                "create",
                "--email",
                "bo@example.com",
                "--password-stdin",
            ],
            "",
        ),
        "standard input",
    );
    fails(
        &authify(
            d,
            &[
                "users",
                "create",
                "--email",
                "bo@example.com",
                "--password-stdin",
            ],
            "short\n",
        ),
        "8 to 1024",
    );

    let app: serde_json::Value = serde_json::from_str(&ok(&authify(
        d,
        &[
            "apps",
            "create",
            "--name",
            "Wiki",
            "--callback",
            "https://wiki.example.com/cb",
            "--callback",
            "http://localhost:8080/cb",
            "--json",
        ],
        "",
    )))
    .unwrap();
    assert!(app["app_id"].as_str().unwrap().starts_with("app_"));
    assert_eq!(app["app_secret"].as_str().unwrap().len(), 43);
    let list: serde_json::Value =
        serde_json::from_str(&ok(&authify(d, &["apps", "list", "--json"], ""))).unwrap();
    assert_eq!(list[0]["app_id"], app["app_id"]);
    assert_eq!(
        list[0]["callbacks"],
        serde_json::json!(["https://wiki.example.com/cb", "http://localhost:8080/cb"])
    );
    assert!(
        !list
            .to_string()
            .contains(app["app_secret"].as_str().unwrap()),
        "the secret is never shown again"
    );
    fails(
        &authify(
            d,
            &[
                "apps",
                "create",
                "--name",
                "Evil",
                "--callback",
                "javascript:alert(1)",
            ],
            "",
        ),
        "scheme",
    );
    fails(
        &authify(
            d,
            &[
                "apps",
                "create",
                "--name",
                "Dup",
                "--callback",
                "https://wiki.example.com/cb",
            ],
            "",
        ),
        "already registered",
    );

    ok(&authify(d, &["orgs", "create", "--name", "Acme"], ""));
    fails(
        &authify(d, &["orgs", "create", "--name", "Acme"], ""),
        "already exists",
    );
    ok(&authify(
        d,
        &[
            "orgs",
            "add-member",
            "--org",
            "Acme",
            "--email",
            "ann@example.com",
            "--admin",
        ],
        "",
    ));
    fails(
        &authify(
            d,
            &[
                "orgs",
                "add-member",
                "--org",
                "Nope",
                "--email",
                "ann@example.com",
            ],
            "",
        ),
        "no organization named",
    );
    fails(
        &authify(
            d,
            &[
                "orgs",
                "add-member",
                "--org",
                "Acme",
                "--email",
                "nobody@example.com",
            ],
            "",
        ),
        "no user",
    );
    ok(&authify(
        d,
        &["groups", "create", "--org", "Acme", "--name", "ops"],
        "",
    ));
    ok(&authify(
        d,
        &[
            "groups",
            "add-member",
            "--org",
            "Acme",
            "--group",
            "ops",
            "--email",
            "ann@example.com",
        ],
        "",
    ));
    fails(
        &authify(
            d,
            &[
                "groups",
                "add-member",
                "--org",
                "Acme",
                "--group",
                "nope",
                "--email",
                "ann@example.com",
            ],
            "",
        ),
        "no group named",
    );
}

#[test]
fn seed_fills_the_database_and_command_line_changes_are_audited() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let out = ok(&authify(
        d,
        &[
            "seed",
            "--users",
            "120",
            "--orgs",
            "12",
            "--members-per-org",
            "4",
        ],
        "a seeding password\n",
    ));
    assert!(
        out.contains("seeded 120 users and 12 organizations"),
        "{out}"
    );
    ok(&authify(d, &["orgs", "create", "--name", "Acme"], ""));
    let db = d.join("data/authify.db");
    let count = |sql: &str| {
        use diesel::{Connection as _, RunQueryDsl as _};
        #[derive(diesel::QueryableByName)]
        struct N {
            #[diesel(sql_type = diesel::sql_types::BigInt)]
            n: i64,
        }
        let mut conn = diesel::SqliteConnection::establish(db.to_str().unwrap()).unwrap();
        diesel::sql_query(sql).get_result::<N>(&mut conn).unwrap().n
    };
    assert_eq!(count("SELECT COUNT(*) AS n FROM users"), 120);
    assert_eq!(count("SELECT COUNT(*) AS n FROM organization_members"), 48);
    assert_eq!(count("SELECT COUNT(*) AS n FROM group_members"), 36);
    assert_eq!(
        count(
            "SELECT COUNT(*) AS n FROM audit_events WHERE action IN ('cli.seed', 'cli.orgs.create') AND actor = 'command line'"
        ),
        2
    );
    // Seeding again collides on the first e-mail and writes nothing more.
    fails(
        &authify(
            d,
            &["seed", "--users", "5", "--orgs", "0"],
            "a seeding password\n",
        ),
        "exists",
    );
    assert_eq!(count("SELECT COUNT(*) AS n FROM users"), 120);
}
