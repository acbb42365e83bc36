//! `authify migrate|users|apps|orgs|groups|seed`: administration from the command line. The
//! command line acts as [`Actor::system`] and calls the same use cases as the console and the
//! API, so the same rules hold (the last enabled administrator stays) and every change is audited
//! in its own transaction, by "command line". Names and e-mail addresses, the command line's
//! vocabulary, are resolved to ids here, at the edge.

use std::io::Write;

use authify_core::manage::views::UserInfo;
use authify_core::manage::{Actor, OrgCreation, apps, groups, orgs, users};
use authify_core::{AdminError, Db, PasswordHasher};
use chrono::{DateTime, Utc};
use serde_json::json;

use super::{AppsCommand, Command, GroupsCommand, OrgsCommand, UsersCommand};
use crate::settings::Settings;
use crate::startup::open_database;
use authify_core::costs::Costs;
use authify_core::notify::Notifier;
use authify_core::oidc::ClientType;

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
    let outbound = std::sync::Arc::new(crate::outbound::Outbound::new(settings.outbound.clone()));
    let delivery = crate::deliver::Delivery::new(settings, outbound)?;
    actix_web::rt::System::new().block_on(async move {
        // Mails a command queues (the user told of a reset) go out before it returns.
        let (notifier, notices) = Notifier::channel();
        let clock = std::sync::Arc::new(authify_core::FixedClock::at(now));
        let costs = Costs::new(
            db.clone(),
            clock.clone(),
            settings.budgets.clone(),
            notifier,
        );
        let result = run(
            command,
            &db,
            &hasher,
            &costs,
            &settings.outbound,
            password,
            now,
            out,
        )
        .await;
        drop(costs);
        crate::deliver::run(notices, delivery, std::sync::Weak::new(), clock).await;
        result.map_err(|e| e.to_string())
    })
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

/// Runs `command`; `outbound` checks the URLs an application is registered with.
#[allow(clippy::too_many_arguments)]
async fn run(
    command: &Command,
    db: &Db,
    hasher: &PasswordHasher,
    costs: &Costs,
    outbound: &authify_domain::OutboundPolicy,
    password: Option<String>,
    now: DateTime<Utc>,
    out: &mut impl Write,
) -> Result<(), AdminError> {
    let actor = &Actor::system();
    match command {
        Command::Users(UsersCommand::Create {
            email,
            name,
            admin,
            output,
            ..
        }) => {
            let password = password.unwrap_or_default();
            let user = users::create(
                db,
                hasher,
                actor,
                email,
                name.as_deref(),
                &password,
                *admin,
                now,
            )
            .await?;
            if output.json {
                let v = json!({ "uid": user.uid, "email": user.email, "name": user.name, "admin": user.admin });
                let _ = writeln!(out, "{v}");
            } else {
                let _ = writeln!(out, "created user {} ({})", user.email, user.uid);
            }
        }
        Command::Users(UsersCommand::Disable { email }) => {
            let user = set_disabled(db, actor, email, true, now).await?;
            let _ = writeln!(out, "disabled {}; their sessions have ended", user.email);
        }
        Command::Users(UsersCommand::Enable { email }) => {
            let user = set_disabled(db, actor, email, false, now).await?;
            let _ = writeln!(out, "enabled {}", user.email);
        }
        Command::Users(UsersCommand::ResetFactors { email }) => {
            let user = users::find_by_email(db, actor, email).await?;
            let removed = users::reset_factors(db, actor, &user.uid, costs, now).await?;
            let _ = writeln!(
                out,
                "removed {removed} second factor(s) of {}; they sign in with their password until they set up a new one",
                user.email
            );
        }
        Command::Apps(AppsCommand::Create {
            name,
            callbacks,
            public,
            service,
            first_party,
            alg,
            backchannel_logout_uri,
            post_logout_redirect_uri,
            require_mfa,
            output,
        }) => {
            let options = authify_core::apps::AppOptions {
                client_type: match (public, service) {
                    (true, _) => ClientType::Public,
                    (_, true) => ClientType::Service,
                    _ => ClientType::Confidential,
                },
                first_party: *first_party,
                algorithm: alg.parse().map_err(|_| {
                    AdminError::Invalid(format!("--alg {alg}: use ES256, ES384 or ES512"))
                })?,
                backchannel_logout_uri: backchannel_logout_uri.clone(),
                post_logout_redirect_uri: post_logout_redirect_uri.clone(),
            };
            let (app, secret) =
                apps::create(db, actor, name, callbacks, &options, outbound, now).await?;
            if *require_mfa {
                apps::set_require_mfa(db, actor, &app.app_id, true, now).await?;
            }
            if output.json {
                let mut v = json!({ "app_id": app.app_id, "name": app.name });
                if let Some(s) = &secret {
                    v["app_secret"] = json!(s);
                }
                let _ = writeln!(out, "{v}");
            } else {
                let _ = writeln!(out, "app_id:     {}", app.app_id);
                match &secret {
                    Some(s) => {
                        let _ = writeln!(out, "app_secret: {s}");
                        let _ = writeln!(
                            out,
                            "The secret is shown only now; Authify keeps only its hash."
                        );
                    }
                    None => {
                        let _ = writeln!(
                            out,
                            "A public application has no secret: it must use PKCE (S256)."
                        );
                    }
                }
            }
        }
        Command::Apps(AppsCommand::List { output }) => {
            let list = apps::list(db, actor).await?;
            if output.json {
                let v: Vec<_> = list
                    .iter()
                    .map(
                        |a| json!({ "app_id": a.app_id, "name": a.name, "callbacks": a.callbacks }),
                    )
                    .collect();
                let _ = writeln!(out, "{}", serde_json::Value::Array(v));
            } else {
                for a in &list {
                    let _ = writeln!(out, "{}  {}  {}", a.app_id, a.name, a.callbacks.join(" "));
                }
            }
        }
        Command::Orgs(OrgsCommand::Create { name }) => {
            let org = orgs::create(db, actor, name, OrgCreation::Admins, now).await?;
            let _ = writeln!(out, "created organization {:?} ({})", org.name, org.oid);
        }
        Command::Orgs(OrgsCommand::AddMember { org, email, admin }) => {
            let o = orgs::find_by_name(db, actor, org).await?;
            let member = orgs::add_member(db, actor, &o.oid, email, *admin, now).await?;
            let role = if *admin {
                "an administrator"
            } else {
                "a member"
            };
            let _ = writeln!(out, "{} is now {role} of {:?}", member.email, o.name);
        }
        Command::Groups(GroupsCommand::Create { org, name }) => {
            let o = orgs::find_by_name(db, actor, org).await?;
            let group = groups::create(db, actor, &o.oid, name, now).await?;
            let _ = writeln!(
                out,
                "created group {:?} in {:?} ({})",
                group.name, o.name, group.gid
            );
        }
        Command::Groups(GroupsCommand::AddMember { org, group, email }) => {
            let o = orgs::find_by_name(db, actor, org).await?;
            let g = groups::find_by_name(db, actor, &o.oid, group).await?;
            let member = orgs::member_by_email(db, actor, &o.oid, email).await?;
            groups::add_member(db, actor, &o.oid, &g.gid, &member.uid, now).await?;
            let _ = writeln!(
                out,
                "{} is now in group {:?} of {:?}",
                member.email, g.name, o.name
            );
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
            let entry = actor.entry("seed", when).details(json!({
                "users": plan.users,
                "orgs": plan.orgs,
                "members_per_org": plan.members_per_org,
            }));
            let (u, o) = db.run_blocking(|conn| {
                let seeded = authify_core::seed::seed(conn, plan, &hash, when)?;
                // Seeding commits in chunks of 1,000 rows, so there is no one transaction to
                // join: the entry follows the last chunk, and only when every chunk succeeded.
                entry.record(conn)?;
                Ok::<_, AdminError>(seeded)
            })?;
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

/// Disables or enables the user with this e-mail address.
async fn set_disabled(
    db: &Db,
    actor: &Actor,
    email: &str,
    disabled: bool,
    now: DateTime<Utc>,
) -> Result<UserInfo, AdminError> {
    let user = users::find_by_email(db, actor, email).await?;
    let change = users::UserChange {
        disabled: Some(disabled),
        ..users::UserChange::default()
    };
    users::update(db, actor, &user.uid, change, now).await
}
