//! `authify keys generate|list`.

use chrono::{DateTime, Utc};

use super::KeysCommand;
use crate::keystore;
use crate::settings::{KeySource, Settings};
use crate::startup::StartupError;

/// Runs a `keys` subcommand, writing its result to `out`.
pub fn run_keys(
    command: &KeysCommand,
    settings: &Settings,
    now: DateTime<Utc>,
    out: &mut impl std::io::Write,
) -> Result<(), StartupError> {
    match command {
        KeysCommand::Generate { alg } => {
            let KeySource::Directory(dir) = &settings.keys else {
                return Err(StartupError::Keyring(
                    "keys come from AUTHIFY_PRIVKEY_PATH; unset it to manage keys in AUTHIFY_KEYS_DIR".into(),
                ));
            };
            let alg = alg.unwrap_or(settings.jwt_algorithm);
            let entry = keystore::generate(dir, alg, now)?;
            let note = if alg == settings.jwt_algorithm {
                "it signs new tokens after the next start"
            } else {
                "it is published; it signs only when AUTHIFY_JWT_ALGORITHM matches"
            };
            let _ = writeln!(out, "{}", entry.kid);
            tracing::info!(kid = %entry.kid, algorithm = %alg, dir = %dir.display(), "generated a signing key; {note}");
            Ok(())
        }
        KeysCommand::List { json } => {
            let entries = keystore::load(&settings.keys)?;
            // The kid that would sign, without generating anything.
            let active = authify_jwt::Keyring::new(&entries, settings.jwt_algorithm)
                .map(|k| k.signer().kid().to_owned())
                .unwrap_or_default();
            let mut rows: Vec<_> = entries.iter().collect();
            rows.sort_by(|a, b| (b.created_ms, &b.kid).cmp(&(a.created_ms, &a.kid)));
            if *json {
                let list: Vec<_> = rows
                    .iter()
                    .map(|e| {
                        serde_json::json!({
                            "kid": e.kid, "algorithm": e.key.algorithm(), "created": created(e.created_ms), "active": e.kid == active,
                        })
                    })
                    .collect();
                let _ = writeln!(out, "{}", serde_json::Value::Array(list));
            } else {
                let width = rows.iter().map(|e| e.kid.len()).max().unwrap_or(3).max(3);
                let _ = writeln!(
                    out,
                    "{:width$}  ALGORITHM  CREATED               ACTIVE",
                    "KID"
                );
                for e in rows {
                    let mark = if e.kid == active { "yes" } else { "no" };
                    let _ = writeln!(
                        out,
                        "{:width$}  {:9}  {:20}  {mark}",
                        e.kid,
                        e.key.algorithm(),
                        created(e.created_ms)
                    );
                }
            }
            Ok(())
        }
    }
}

fn created(ms: i64) -> String {
    DateTime::<Utc>::from_timestamp_millis(ms).map_or_else(
        || ms.to_string(),
        |t| t.format("%Y-%m-%dT%H:%M:%SZ").to_string(),
    )
}
