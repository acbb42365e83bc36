//! The administrative command line, in the exact forms scripts rely on. It acts through the same
//! use cases as the console and the API, as "command line": the same rules hold, and every change
//! is audited in the transaction that makes it. Each test runs the binary on SQLite in a temporary
//! directory or, when `TEST_POSTGRES_URL` is set, on a fresh PostgreSQL database.

use std::io::Write as _;
use std::path::Path;
use std::process::{Command, Output, Stdio};

use authify_store::DbConnection;
use authify_store::audit::{EventFilter, list_events};
use authify_store::models::AuditEvent;
use authify_testkit::TEST_POSTGRES_URL;
use diesel::connection::SimpleConnection as _;
use tempfile::TempDir;

/// A fresh installation: a working directory and its database, dropped afterwards.
struct Install {
    dir: TempDir,
    /// `AUTHIFY_DB_URL` for the binary; `None` on SQLite, so it uses its default `./data`.
    db_url: Option<String>,
    /// `(admin URL, database)` to drop, on PostgreSQL.
    pg: Option<(String, String)>,
}

impl Install {
    fn new() -> Install {
        let dir = tempfile::tempdir().unwrap();
        let Ok(admin_url) = std::env::var(TEST_POSTGRES_URL) else {
            return Install {
                dir,
                db_url: None,
                pg: None,
            };
        };
        use diesel::{Connection as _, RunQueryDsl as _};
        let name = format!(
            "authify_cli_{}",
            authify_core::random::token::<9>()
                .unwrap()
                .to_lowercase()
                .replace(['-', '_'], "x")
        );
        let mut conn = diesel::PgConnection::establish(&admin_url).unwrap();
        diesel::sql_query(format!("CREATE DATABASE {name}"))
            .execute(&mut conn)
            .unwrap();
        let (base, _) = admin_url.rsplit_once('/').unwrap();
        Install {
            dir,
            db_url: Some(format!("{base}/{name}")),
            pg: Some((admin_url, name)),
        }
    }

    fn on_postgres(&self) -> bool {
        self.pg.is_some()
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }

    /// Runs `authify ARGS` with `stdin`.
    fn run(&self, args: &[&str], stdin: &str) -> Output {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_authify"));
        cmd.current_dir(self.path())
            .env_clear()
            .env("AUTHIFY_ARGON2_MEMORY_KIB", "1024");
        if let Some(url) = &self.db_url {
            cmd.env("AUTHIFY_DB_URL", url);
        }
        let mut child = cmd
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

    /// Runs a command that must succeed; returns its standard output.
    fn ok(&self, args: &[&str]) -> String {
        ok(&self.run(args, ""))
    }

    fn with_db<T>(&self, f: impl FnOnce(&mut DbConnection) -> T) -> T {
        let url = self.db_url.clone().unwrap_or_else(|| {
            format!("sqlite://{}", self.path().join("data/authify.db").display())
        });
        let pool = authify_store::connect(&url, 1).unwrap();
        let mut conn = pool.get().unwrap();
        f(&mut conn)
    }

    /// `SELECT COUNT(*) AS n ...` on either backend.
    fn count(&self, sql: &str) -> i64 {
        use diesel::RunQueryDsl as _;
        #[derive(diesel::QueryableByName)]
        struct N {
            #[diesel(sql_type = diesel::sql_types::BigInt)]
            n: i64,
        }
        self.with_db(|conn| match conn {
            DbConnection::Sqlite(c) => diesel::sql_query(sql).get_result::<N>(c),
            DbConnection::Postgresql(c) => diesel::sql_query(sql).get_result::<N>(c),
        })
        .unwrap()
        .n
    }

    /// The whole audit log, oldest first.
    fn audit_log(&self) -> Vec<AuditEvent> {
        let mut events = self
            .with_db(|conn| list_events(conn, &EventFilter::default(), None, 1000))
            .unwrap();
        events.reverse();
        events
    }
}

impl Drop for Install {
    fn drop(&mut self) {
        if let Some((admin_url, name)) = self.pg.take() {
            use diesel::{Connection as _, RunQueryDsl as _};
            if let Ok(mut conn) = diesel::PgConnection::establish(&admin_url) {
                let _ = diesel::sql_query(format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                    .execute(&mut conn);
            }
        }
    }
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

/// Creates a user with a password; returns their uid.
fn create_user(install: &Install, email: &str, admin: bool) -> String {
    let mut args = vec![
        "users",
        "create",
        "--email",
        email,
        "--password-stdin",
        "--json",
    ];
    if admin {
        args.push("--admin");
    }
    let out = ok(&install.run(&args, "s3cret-passphrase\n"));
    let user: serde_json::Value = serde_json::from_str(&out).unwrap();
    user["uid"].as_str().unwrap().to_owned()
}

/// The id in parentheses at the end of `created ... (ID)`.
fn created_id(out: &str) -> String {
    let start = out.rfind('(').unwrap() + 1;
    let end = out.rfind(')').unwrap();
    out[start..end].to_owned()
}

#[test]
fn users_apps_orgs_and_groups_are_managed_from_the_command_line() {
    let install = Install::new();
    let d = &install;
    ok(&authify(d, &["migrate"], ""));
    if !install.on_postgres() {
        assert!(
            install.path().join("data/authify.db").is_file(),
            "the embedded database is created under ./data"
        );
    }

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
    fails(
        &authify(
            d,
            &[
                "groups",
                "add-member",
                "--org",
                "Acme",
                "--group",
                "ops",
                "--email",
                "bo@example.com",
            ],
            "",
        ),
        "is not a member of \"Acme\"",
    );
}

/// `authify(install, args, stdin)`, as the first test reads best.
fn authify(install: &Install, args: &[&str], stdin: &str) -> Output {
    install.run(args, stdin)
}

#[test]
fn every_command_line_change_is_audited_with_its_target_and_the_command_line_as_actor() {
    let install = Install::new();
    let ann = create_user(&install, "ann@example.com", true);
    let bob = create_user(&install, "bob@example.com", false);
    install.ok(&["users", "disable", "--email", "bob@example.com"]);
    install.ok(&["users", "enable", "--email", "Bob@Example.com"]);
    let app: serde_json::Value = serde_json::from_str(&install.ok(&[
        "apps",
        "create",
        "--name",
        "Wiki",
        "--callback",
        "https://wiki.example.com/cb",
        "--json",
    ]))
    .unwrap();
    let app_id = app["app_id"].as_str().unwrap();
    let oid = created_id(&install.ok(&["orgs", "create", "--name", "Acme"]));
    install.ok(&[
        "orgs",
        "add-member",
        "--org",
        "Acme",
        "--email",
        "bob@example.com",
    ]);
    let gid = created_id(&install.ok(&["groups", "create", "--org", "Acme", "--name", "ops"]));
    install.ok(&[
        "groups",
        "add-member",
        "--org",
        "Acme",
        "--group",
        "ops",
        "--email",
        "bob@example.com",
    ]);

    let log = install.audit_log();
    let seen: Vec<(&str, &str, &str, Option<&str>)> = log
        .iter()
        .map(|e| {
            (
                e.action.as_str(),
                e.target_type.as_deref().unwrap_or_default(),
                e.target_id.as_deref().unwrap_or_default(),
                e.organization_id.as_deref(),
            )
        })
        .collect();
    assert_eq!(
        seen,
        vec![
            ("user.create", "user", ann.as_str(), None),
            ("user.create", "user", bob.as_str(), None),
            ("user.disable", "user", bob.as_str(), None),
            ("user.enable", "user", bob.as_str(), None),
            ("application.create", "application", app_id, None),
            (
                "organization.create",
                "organization",
                oid.as_str(),
                Some(oid.as_str())
            ),
            (
                "organization.add_member",
                "user",
                bob.as_str(),
                Some(oid.as_str())
            ),
            ("group.create", "group", gid.as_str(), Some(oid.as_str())),
            (
                "group.add_member",
                "group",
                gid.as_str(),
                Some(oid.as_str())
            ),
        ]
    );
    for e in &log {
        assert_eq!(e.actor.as_deref(), Some("command line"), "{e:?}");
        assert_eq!(e.actor_id, None, "the command line is no user: {e:?}");
        assert_eq!(e.outcome, "success");
    }
    let added = &log[8];
    let details: serde_json::Value =
        serde_json::from_str(added.details.as_deref().unwrap()).unwrap();
    assert_eq!(details["user"], bob.as_str());
    assert_eq!(added.target.as_deref(), Some("Acme / ops"));
}

#[test]
fn the_command_line_cannot_disable_the_last_enabled_global_administrator() {
    let install = Install::new();
    create_user(&install, "ann@example.com", true);
    fails(
        &install.run(&["users", "disable", "--email", "ann@example.com"], ""),
        "last enabled global administrator",
    );
    assert_eq!(
        install.count("SELECT COUNT(*) AS n FROM users WHERE disabled"),
        0
    );

    create_user(&install, "bob@example.com", true);
    install.ok(&["users", "disable", "--email", "ann@example.com"]);
    fails(
        &install.run(&["users", "disable", "--email", "bob@example.com"], ""),
        "last enabled global administrator",
    );
    install.ok(&["users", "enable", "--email", "ann@example.com"]);
    install.ok(&["users", "disable", "--email", "bob@example.com"]);
    let disables: Vec<String> = install
        .audit_log()
        .into_iter()
        .filter(|e| e.action == "user.disable")
        .map(|e| e.target.unwrap_or_default())
        .collect();
    assert_eq!(
        disables,
        ["ann@example.com", "bob@example.com"],
        "refusals change and record nothing"
    );
    fails(
        &install.run(&["users", "disable", "--email", "nobody@example.com"], ""),
        "no user with e-mail",
    );
}

#[test]
fn a_command_line_change_whose_audit_entry_cannot_be_written_is_not_made() {
    let install = Install::new();
    create_user(&install, "ann@example.com", true);
    create_user(&install, "bob@example.com", false);
    create_user(&install, "erin@example.com", false);
    install.ok(&["users", "disable", "--email", "erin@example.com"]);
    install.ok(&["orgs", "create", "--name", "Acme"]);
    install.ok(&[
        "orgs",
        "add-member",
        "--org",
        "Acme",
        "--email",
        "bob@example.com",
    ]);
    install.ok(&["groups", "create", "--org", "Acme", "--name", "ops"]);
    let state = || -> Vec<i64> {
        [
            "SELECT COUNT(*) AS n FROM users",
            "SELECT COUNT(*) AS n FROM users WHERE disabled",
            "SELECT COUNT(*) AS n FROM applications",
            "SELECT COUNT(*) AS n FROM application_callbacks",
            "SELECT COUNT(*) AS n FROM organizations",
            "SELECT COUNT(*) AS n FROM organization_members",
            "SELECT COUNT(*) AS n FROM groups",
            "SELECT COUNT(*) AS n FROM group_members",
            "SELECT COUNT(*) AS n FROM audit_events",
        ]
        .iter()
        .map(|sql| install.count(sql))
        .collect()
    };
    let before = state();
    // From now on every audit entry fails to be written, as a full disk or a lost connection
    // would make it fail.
    let refuse = if install.on_postgres() {
        "CREATE FUNCTION refuse_audit() RETURNS trigger AS $$ \
         BEGIN RAISE EXCEPTION 'the audit log is unavailable'; END $$ LANGUAGE plpgsql; \
         CREATE TRIGGER refuse_audit BEFORE INSERT ON audit_events \
         FOR EACH ROW EXECUTE FUNCTION refuse_audit();"
    } else {
        "CREATE TRIGGER refuse_audit BEFORE INSERT ON audit_events \
         BEGIN SELECT RAISE(ABORT, 'the audit log is unavailable'); END;"
    };
    install.with_db(|conn| conn.batch_execute(refuse)).unwrap();

    let commands: [(&[&str], &str); 8] = [
        (
            &[
                "users",
                "create",
                "--email",
                "carol@example.com",
                "--password-stdin",
            ],
            "s3cret-passphrase\n",
        ),
        (&["users", "disable", "--email", "bob@example.com"], ""),
        (&["users", "enable", "--email", "erin@example.com"], ""),
        (
            &[
                "apps",
                "create",
                "--name",
                "Wiki",
                "--callback",
                "https://wiki.example.com/cb",
            ],
            "",
        ),
        (&["orgs", "create", "--name", "Globex"], ""),
        (
            &[
                "orgs",
                "add-member",
                "--org",
                "Acme",
                "--email",
                "erin@example.com",
            ],
            "",
        ),
        (
            &["groups", "create", "--org", "Acme", "--name", "sales"],
            "",
        ),
        (
            &[
                "groups",
                "add-member",
                "--org",
                "Acme",
                "--group",
                "ops",
                "--email",
                "bob@example.com",
            ],
            "",
        ),
    ];
    for (args, stdin) in commands {
        let out = install.run(args, stdin);
        assert!(
            !out.status.success(),
            "{args:?} succeeded without its audit entry"
        );
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(
            err.contains("the audit log is unavailable"),
            "{args:?}: {err}"
        );
        assert_eq!(state(), before, "{args:?} changed something");
    }
}

#[test]
fn seed_fills_the_database_and_is_audited_as_the_command_line() {
    let install = Install::new();
    let out = ok(&install.run(
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
    assert_eq!(install.count("SELECT COUNT(*) AS n FROM users"), 120);
    assert_eq!(
        install.count("SELECT COUNT(*) AS n FROM organization_members"),
        48
    );
    assert_eq!(install.count("SELECT COUNT(*) AS n FROM group_members"), 36);
    let log = install.audit_log();
    assert_eq!(log.len(), 1);
    assert_eq!(
        (log[0].action.as_str(), log[0].actor.as_deref()),
        ("seed", Some("command line"))
    );
    // Seeding again collides on the first e-mail and writes nothing more.
    fails(
        &install.run(
            &["seed", "--users", "5", "--orgs", "0"],
            "a seeding password\n",
        ),
        "exists",
    );
    assert_eq!(install.count("SELECT COUNT(*) AS n FROM users"), 120);
    assert_eq!(install.audit_log().len(), 1);
}
