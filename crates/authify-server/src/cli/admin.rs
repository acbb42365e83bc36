//! `authify migrate|users|apps|orgs|groups`: administration from the command line, through the
//! same use cases the web uses.

use std::io::Write;

use authify_core::manage::audit::Entry;
use authify_core::{AdminError, Db, PasswordHasher, accounts, apps, orgs};
use chrono::{DateTime, Utc};
use serde_json::json;

use super::{AppsCommand, Command, GroupsCommand, OrgsCommand, UsersCommand};
use crate::settings::Settings;
use crate::startup::open_database;

/// Runs an administrative command; `stdin` supplies `--password-stdin`.
pub fn run_admin(
    command: &Command,
    settings: &Settings,
    now: DateTime<Utc>,
    stdin: &mut impl std::io::BufRead,
    out: &mut impl Write,
) -> Result<(), String> {
    let db = open_database(settings).map_err(|e| e.to_string())?;
    if matches!(command, Command::Migrate) {
        let _ = writeln!(out, "database is up to date");
        return Ok(());
    }
    let password = match command {
        Command::Users(UsersCommand::Create { .. }) | Command::Seed { .. } => {
            Some(read_password(stdin)?)
        }
        _ => None,
    };
    let hasher = PasswordHasher::new(settings.argon2, 1).map_err(|e| e.to_string())?;
    actix_web::rt::System::new()
        .block_on(async {
            run(command, &db, &hasher, password, now, out).await?;
            audit(command, &db, now).await;
            Ok::<_, AdminError>(())
        })
        .map_err(|e| e.to_string())
}

/// Records a successful change made from the command line (whoever runs it holds the database).
async fn audit(command: &Command, db: &Db, now: DateTime<Utc>) {
    let action = match command {
        Command::Users(UsersCommand::Create { .. }) => "cli.users.create",
        Command::Users(_) => "cli.users.update",
        Command::Apps(AppsCommand::Create { .. }) => "cli.apps.create",
        Command::Orgs(OrgsCommand::Create { .. }) => "cli.orgs.create",
        Command::Orgs(OrgsCommand::AddMember { .. }) => "cli.orgs.add_member",
        Command::Groups(GroupsCommand::Create { .. }) => "cli.groups.create",
        Command::Groups(GroupsCommand::AddMember { .. }) => "cli.groups.add_member",
        Command::Seed { .. } => "cli.seed",
        _ => return,
    };
    // The command's arguments; passwords arrive on stdin and are never part of them.
    Entry::new(action, authify_core::db_time(now))
        .by_email("command line")
        .details(json!({ "command": format!("{command:?}") }))
        .save(db)
        .await;
}

fn read_password(stdin: &mut impl std::io::BufRead) -> Result<String, String> {
    let mut line = String::new();
    stdin
        .read_line(&mut line)
        .map_err(|e| format!("cannot read the password from standard input: {e}"))?;
    let password = line.trim_end_matches(['\n', '\r']).to_owned();
    if password.is_empty() {
        return Err("no password on standard input (use: echo \"$PASSWORD\" | authify users create ... --password-stdin)".into());
    }
    Ok(password)
}

async fn run(
    command: &Command,
    db: &Db,
    hasher: &PasswordHasher,
    password: Option<String>,
    now: DateTime<Utc>,
    out: &mut impl Write,
) -> Result<(), AdminError> {
    match command {
        Command::Users(UsersCommand::Create {
            email,
            name,
            admin,
            output,
            ..
        }) => {
            let password = password.unwrap_or_default();
            let user =
                accounts::create_user(db, hasher, email, name.as_deref(), &password, *admin, now)
                    .await?;
            if output.json {
                let v = json!({ "uid": user.public_id, "email": user.email, "name": user.name, "admin": user.is_admin });
                let _ = writeln!(out, "{v}");
            } else {
                let _ = writeln!(out, "created user {} ({})", user.email, user.public_id);
            }
        }
        Command::Users(UsersCommand::Disable { email }) => {
            accounts::set_disabled(db, email, true).await?;
            let _ = writeln!(out, "disabled {email}; their sessions have ended");
        }
        Command::Users(UsersCommand::Enable { email }) => {
            accounts::set_disabled(db, email, false).await?;
            let _ = writeln!(out, "enabled {email}");
        }
        Command::Apps(AppsCommand::Create {
            name,
            callbacks,
            output,
        }) => {
            let created = apps::create(db, name, callbacks, now).await?;
            if output.json {
                let v = json!({ "app_id": created.app.app_id, "app_secret": created.secret, "name": created.app.name });
                let _ = writeln!(out, "{v}");
            } else {
                let _ = writeln!(out, "app_id:     {}", created.app.app_id);
                let _ = writeln!(out, "app_secret: {}", created.secret);
                let _ = writeln!(
                    out,
                    "The secret is shown only now; Authify keeps only its hash."
                );
            }
        }
        Command::Apps(AppsCommand::List { output }) => {
            let list = apps::list(db).await?;
            if output.json {
                let v: Vec<_> = list
                    .iter()
                    .map(|(a, cbs)| json!({ "app_id": a.app_id, "name": a.name, "callbacks": cbs }))
                    .collect();
                let _ = writeln!(out, "{}", serde_json::Value::Array(v));
            } else {
                for (a, cbs) in &list {
                    let _ = writeln!(out, "{}  {}  {}", a.app_id, a.name, cbs.join(" "));
                }
            }
        }
        Command::Orgs(OrgsCommand::Create { name }) => {
            let org = orgs::create_org(db, name, now).await?;
            let _ = writeln!(
                out,
                "created organization {:?} ({})",
                org.name, org.public_id
            );
        }
        Command::Orgs(OrgsCommand::AddMember { org, email, admin }) => {
            orgs::add_org_member(db, org, email, *admin, now).await?;
            let role = if *admin {
                "an administrator"
            } else {
                "a member"
            };
            let _ = writeln!(out, "{email} is now {role} of {org:?}");
        }
        Command::Groups(GroupsCommand::Create { org, name }) => {
            let group = orgs::create_group(db, org, name, now).await?;
            let _ = writeln!(
                out,
                "created group {:?} in {org:?} ({})",
                group.name, group.public_id
            );
        }
        Command::Groups(GroupsCommand::AddMember { org, group, email }) => {
            orgs::add_group_member(db, org, group, email, now).await?;
            let _ = writeln!(out, "{email} is now in group {group:?} of {org:?}");
        }
        Command::Seed {
            users,
            orgs,
            members_per_org,
        } => {
            let password = authify_domain::Password::new(password.as_deref().unwrap_or_default())
                .map_err(|e| AdminError::Invalid(e.to_string()))?;
            let hash = hasher.hash(password.expose().to_owned()).await?;
            let plan = authify_core::seed::SeedPlan {
                users: *users,
                orgs: *orgs,
                members_per_org: *members_per_org,
            };
            let started = std::time::Instant::now();
            let when = authify_core::db_time(now);
            let (u, o) =
                db.run_blocking(|conn| authify_core::seed::seed(conn, plan, &hash, when))?;
            let _ = writeln!(
                out,
                "seeded {u} users and {o} organizations in {:.1} s",
                started.elapsed().as_secs_f64()
            );
        }
        Command::Serve | Command::Migrate | Command::Keys(_) => {}
    }
    Ok(())
}
