//! `authify keys generate|list|rotate|import`, on keys in the database or in a keys directory.

use chrono::{DateTime, Utc};

use super::KeysCommand;
use crate::keystore;
use crate::settings::{KeySource, Settings};
use crate::shared_keys::SharedKeys;
use crate::startup::{StartupError, load_master_key, open_database};

/// One row of `keys list`.
struct Row {
    kid: String,
    algorithm: authify_jwt::Algorithm,
    created_ms: i64,
    signs_from_ms: i64,
}

/// Runs a `keys` subcommand, writing its result to `out`.
pub fn run_keys(
    command: &KeysCommand,
    settings: &Settings,
    now: DateTime<Utc>,
    out: &mut impl std::io::Write,
) -> Result<(), StartupError> {
    match &settings.keys {
        KeySource::Database { .. } => {
            let db = open_database(settings)?;
            let master = load_master_key(settings, &db)?;
            let keys = SharedKeys::new(settings, db, master)?;
            run_database(command, &keys, settings, now, out)
        }
        _ => run_files(command, settings, now, out),
    }
}

fn run_database(
    command: &KeysCommand,
    keys: &SharedKeys,
    settings: &Settings,
    now: DateTime<Utc>,
    out: &mut impl std::io::Write,
) -> Result<(), StartupError> {
    match command {
        KeysCommand::Generate { alg } => {
            let kid = keys.rotate(alg.unwrap_or(settings.jwt_algorithm), true, now)?;
            let _ = writeln!(out, "{kid}");
        }
        KeysCommand::Rotate { now: at_once } => {
            let kid = keys.rotate(settings.jwt_algorithm, *at_once, now)?;
            let _ = writeln!(out, "{kid}");
        }
        KeysCommand::Import { from } => {
            if !from.is_dir() {
                return Err(StartupError::Keyring(format!(
                    "{}: no such directory",
                    from.display()
                )));
            }
            for kid in keys.import(from)? {
                let _ = writeln!(out, "{kid}");
            }
        }
        KeysCommand::List { json } => {
            let (ring, stored) = keys.keyring(now)?;
            let rows = stored
                .iter()
                .map(|k| Row {
                    kid: k.entry.kid.clone(),
                    algorithm: k.entry.key.algorithm(),
                    created_ms: k.entry.created_ms,
                    signs_from_ms: k.signs_from_ms,
                })
                .collect();
            list(rows, ring.signer().kid(), *json, out);
        }
    }
    Ok(())
}

fn run_files(
    command: &KeysCommand,
    settings: &Settings,
    now: DateTime<Utc>,
    out: &mut impl std::io::Write,
) -> Result<(), StartupError> {
    let dir = match (&settings.keys, command) {
        (KeySource::Directory(dir), _) => Some(dir),
        (_, KeysCommand::List { .. }) => None,
        _ => {
            return Err(StartupError::Keyring(
                "keys come from AUTHIFY_PRIVKEY_PATH; unset it to manage keys in the database or AUTHIFY_KEYS_DIR".into(),
            ));
        }
    };
    match command {
        KeysCommand::Generate { alg } => {
            let dir = dir.ok_or_else(|| StartupError::Keyring("no keys directory".into()))?;
            let alg = alg.unwrap_or(settings.jwt_algorithm);
            let entry = keystore::generate(dir, alg, now)?;
            let note = if alg == settings.jwt_algorithm {
                "it signs new tokens after the next start"
            } else {
                "it is published; it signs only when AUTHIFY_JWT_ALGORITHM matches"
            };
            let _ = writeln!(out, "{}", entry.kid);
            tracing::info!(kid = %entry.kid, algorithm = %alg, dir = %dir.display(), "generated a signing key; {note}");
        }
        KeysCommand::Rotate { .. } | KeysCommand::Import { .. } => {
            return Err(StartupError::Keyring(
                "rotation and import work on keys in the database; with AUTHIFY_KEYS_DIR set, add a key with `authify keys generate` and restart".into(),
            ));
        }
        KeysCommand::List { json } => {
            let entries = keystore::load(&settings.keys)?;
            // The kid that would sign, without generating anything.
            let active = authify_jwt::Keyring::new(&entries, settings.jwt_algorithm)
                .map(|k| k.signer().kid().to_owned())
                .unwrap_or_default();
            let rows = entries
                .iter()
                .map(|e| Row {
                    kid: e.kid.clone(),
                    algorithm: e.key.algorithm(),
                    created_ms: e.created_ms,
                    signs_from_ms: e.created_ms,
                })
                .collect();
            list(rows, &active, *json, out);
        }
    }
    Ok(())
}

fn list(mut rows: Vec<Row>, active: &str, json: bool, out: &mut impl std::io::Write) {
    rows.sort_by(|a, b| (b.created_ms, &b.kid).cmp(&(a.created_ms, &a.kid)));
    if json {
        let list: Vec<_> = rows
            .iter()
            .map(|e| {
                serde_json::json!({
                    "kid": e.kid, "algorithm": e.algorithm, "created": time(e.created_ms),
                    "signs_from": time(e.signs_from_ms), "active": e.kid == active,
                })
            })
            .collect();
        let _ = writeln!(out, "{}", serde_json::Value::Array(list));
        return;
    }
    let width = rows.iter().map(|e| e.kid.len()).max().unwrap_or(3).max(3);
    let _ = writeln!(
        out,
        "{:width$}  ALGORITHM  CREATED               SIGNS FROM            ACTIVE",
        "KID"
    );
    for e in rows {
        let mark = if e.kid == active { "yes" } else { "no" };
        let _ = writeln!(
            out,
            "{:width$}  {:9}  {:20}  {:20}  {mark}",
            e.kid,
            e.algorithm,
            time(e.created_ms),
            time(e.signs_from_ms)
        );
    }
}

fn time(ms: i64) -> String {
    DateTime::<Utc>::from_timestamp_millis(ms).map_or_else(
        || ms.to_string(),
        |t| t.format("%Y-%m-%dT%H:%M:%SZ").to_string(),
    )
}
