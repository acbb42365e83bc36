//! Signing keys on disk (`AUTHIFY_KEYS_DIR` set, or the original's key pair), and the source of
//! an import into the database.
//!
//! The keys directory holds one PKCS#8 PEM file per key, named `<kid>.pem`, mode 0600. Generated
//! kids read `<alg>-<UTC creation time>-<thumbprint prefix>`, e.g. `es512-20261123T074426123Z-Xb3kP0aQ`,
//! so the name tells the algorithm and age and sorts by creation. Files are written to a hidden
//! temporary name, synced, then renamed, so a crash never leaves a half-written key behind.
//!
//! Any problem with a key file stops start-up with a message naming the file. A broken key is
//! never silently replaced: that would invalidate every token it signed.

use std::fmt;
use std::fs;
use std::io::Write as _;
use std::path::{Path, PathBuf};

use authify_domain::Algorithm;
use authify_jwt::{KeyringEntry, PrivateKey, PublicKey};
use chrono::{DateTime, NaiveDateTime, Utc};

use crate::settings::KeySource;

use authify_core::signing_keys::{KID_TIME_FORMAT as CREATED_FORMAT, new_kid};

/// A key file that could not be used, or a keys directory that could not be read or written.
#[derive(Debug)]
pub struct KeyFileError {
    /// The file or directory.
    pub path: PathBuf,
    /// What is wrong with it.
    pub problem: String,
}

impl fmt::Display for KeyFileError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.path.display(), self.problem)
    }
}

impl std::error::Error for KeyFileError {}

fn fail(path: &Path, problem: impl fmt::Display) -> KeyFileError {
    KeyFileError {
        path: path.to_owned(),
        problem: problem.to_string(),
    }
}

/// Every key of `source`. A missing keys directory is empty (it is created on first generation);
/// so are keys in the database (`crate::shared_keys` reads those).
pub fn load(source: &KeySource) -> Result<Vec<KeyringEntry>, KeyFileError> {
    match source {
        KeySource::Database { .. } => Ok(Vec::new()),
        KeySource::Directory(dir) => load_dir(dir),
        KeySource::Files { private, public } => {
            load_pair(private, public.as_deref()).map(|e| vec![e])
        }
    }
}

fn load_dir(dir: &Path) -> Result<Vec<KeyringEntry>, KeyFileError> {
    let entries = match fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(fail(dir, format!("cannot read the keys directory: {e}"))),
    };
    let mut keys = Vec::new();
    for entry in entries {
        let path = entry.map_err(|e| fail(dir, e))?.path();
        let Some(name) = path.file_name().and_then(|n| n.to_str()) else {
            continue;
        };
        // Hidden files include our own interrupted temporaries; other extensions (README) are not keys.
        if name.starts_with('.') || !name.ends_with(".pem") || !path.is_file() {
            continue;
        }
        let kid = name.trim_end_matches(".pem");
        if kid.is_empty()
            || kid.len() > 128
            || !kid
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c))
        {
            return Err(fail(
                &path,
                "the file name is not a valid key id (letters, digits, '-', '_', '.')",
            ));
        }
        let key = read_private_key(&path)?;
        if let Some(named) = Algorithm::ALL
            .into_iter()
            .find(|a| kid.starts_with(&format!("{}-", a.slug())))
            && named != key.algorithm()
        {
            return Err(fail(
                &path,
                format!(
                    "wrong curve: the name says {named} but the key is on {}",
                    key.algorithm().curve()
                ),
            ));
        }
        let created_ms = created_from_kid(kid).map_or_else(|| modified(&path), Ok)?;
        keys.push(KeyringEntry {
            kid: kid.to_owned(),
            key,
            created_ms,
        });
    }
    Ok(keys)
}

fn load_pair(private: &Path, public: Option<&Path>) -> Result<KeyringEntry, KeyFileError> {
    let key = read_private_key(private)?;
    if let Some(public) = public {
        let text =
            fs::read_to_string(public).map_err(|e| fail(public, format!("cannot read: {e}")))?;
        let published = PublicKey::from_spki_pem(&text).map_err(|e| fail(public, e))?;
        if published != key.public_key() {
            return Err(fail(
                public,
                format!("does not match the private key in {}", private.display()),
            ));
        }
    }
    Ok(KeyringEntry {
        kid: key.public_key().thumbprint(),
        created_ms: modified(private)?,
        key,
    })
}

fn read_private_key(path: &Path) -> Result<PrivateKey, KeyFileError> {
    check_permissions(path)?;
    let text = fs::read_to_string(path).map_err(|e| fail(path, format!("cannot read: {e}")))?;
    PrivateKey::from_pem(&text).map_err(|e| {
        fail(
            path,
            format!(
                "the key file is damaged or not a PEM private key ({e}); restore it from a backup, or move it away and run `authify keys generate`"
            ),
        )
    })
}

// SECURITY: like ssh, refuse a private key others can read; fixing the mode is one command.
#[cfg(unix)]
fn check_permissions(path: &Path) -> Result<(), KeyFileError> {
    use std::os::unix::fs::PermissionsExt as _;
    let mode = fs::metadata(path)
        .map_err(|e| fail(path, format!("cannot read: {e}")))?
        .permissions()
        .mode();
    if mode & 0o077 != 0 {
        return Err(fail(
            path,
            format!(
                "permissions {:04o} are too open: a private key must be readable by its owner only (chmod 600 {})",
                mode & 0o777,
                path.display()
            ),
        ));
    }
    Ok(())
}

#[cfg(not(unix))]
fn check_permissions(_: &Path) -> Result<(), KeyFileError> {
    Ok(())
}

fn created_from_kid(kid: &str) -> Option<i64> {
    let stamp = kid.get(6..25)?;
    NaiveDateTime::parse_from_str(stamp, CREATED_FORMAT)
        .ok()
        .map(|t| t.and_utc().timestamp_millis())
}

fn modified(path: &Path) -> Result<i64, KeyFileError> {
    let time = fs::metadata(path)
        .and_then(|m| m.modified())
        .map_err(|e| fail(path, e))?;
    Ok(DateTime::<Utc>::from(time).timestamp_millis())
}

/// Generates a key for `alg` into `dir` (created with mode 0700 if missing) and returns it.
pub fn generate(
    dir: &Path,
    alg: Algorithm,
    now: DateTime<Utc>,
) -> Result<KeyringEntry, KeyFileError> {
    let key = PrivateKey::generate(alg).map_err(|e| fail(dir, e))?;
    let kid = new_kid(&key, now);
    create_dir(dir)?;
    let path = dir.join(format!("{kid}.pem"));
    if path.exists() {
        return Err(fail(&path, "already exists; refusing to overwrite a key"));
    }
    let pem = key.to_pkcs8_pem().map_err(|e| fail(&path, e))?;
    let temp = dir.join(format!(".{kid}.pem.tmp"));
    write_private(&temp, pem.as_bytes()).map_err(|e| fail(&temp, format!("cannot write: {e}")))?;
    fs::rename(&temp, &path).map_err(|e| fail(&path, format!("cannot write: {e}")))?;
    // Make the rename itself durable.
    fs::File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(|e| fail(dir, e))?;
    Ok(KeyringEntry {
        kid,
        key,
        created_ms: now.timestamp_millis(),
    })
}

fn write_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let mut options = fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options.open(path)?;
    file.write_all(bytes)?;
    file.sync_all()
}

fn create_dir(dir: &Path) -> Result<(), KeyFileError> {
    if dir.is_dir() {
        return Ok(());
    }
    let mut builder = fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    builder
        .create(dir)
        .map_err(|e| fail(dir, format!("cannot create the keys directory: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone as _;

    fn now() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, 23, 7, 44, 26)
            .single()
            .unwrap()
    }

    #[test]
    fn a_generated_key_is_private_to_its_owner_and_loads_back_with_its_creation_time() {
        let dir = tempfile::tempdir().unwrap();
        let keys_dir = dir.path().join("keys");
        let made = generate(&keys_dir, Algorithm::ES384, now()).unwrap();
        assert!(
            made.kid.starts_with("es384-20261123T074426000Z-"),
            "{}",
            made.kid
        );
        let path = keys_dir.join(format!("{}.pem", made.kid));
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            assert_eq!(
                fs::metadata(&path).unwrap().permissions().mode() & 0o777,
                0o600
            );
            assert_eq!(
                fs::metadata(&keys_dir).unwrap().permissions().mode() & 0o777,
                0o700
            );
        }
        let loaded = load(&KeySource::Directory(keys_dir)).unwrap();
        assert_eq!(loaded.len(), 1);
        assert_eq!(loaded[0].kid, made.kid);
        assert_eq!(loaded[0].created_ms, now().timestamp_millis());
        assert_eq!(loaded[0].key.public_key(), made.key.public_key());
    }

    #[test]
    fn broken_key_files_are_reported_by_name_and_never_replaced() {
        let dir = tempfile::tempdir().unwrap();
        let made = generate(dir.path(), Algorithm::ES256, now()).unwrap();
        let path = dir.path().join(format!("{}.pem", made.kid));
        let original = fs::read_to_string(&path).unwrap();

        fs::write(
            &path,
            "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n",
        )
        .unwrap();
        let err = load(&KeySource::Directory(dir.path().into())).unwrap_err();
        assert_eq!(err.path, path);
        assert!(!err.problem.is_empty());

        // A P-256 key under a name that says ES512.
        let wrong = dir.path().join("es512-20261123T074426000Z-deadbeef.pem");
        write_private(&wrong, original.as_bytes()).unwrap();
        fs::write(&path, &original).unwrap();
        let err = load(&KeySource::Directory(dir.path().into())).unwrap_err();
        assert_eq!(err.path, wrong);
        assert!(err.problem.contains("wrong curve"), "{err}");
    }

    #[test]
    fn a_key_generated_right_after_another_is_the_newer_one() {
        let dir = tempfile::tempdir().unwrap();
        let first = generate(dir.path(), Algorithm::ES256, now()).unwrap();
        let second = generate(
            dir.path(),
            Algorithm::ES256,
            now() + chrono::Duration::milliseconds(1),
        )
        .unwrap();
        let loaded = load(&KeySource::Directory(dir.path().into())).unwrap();
        let ring = authify_jwt::Keyring::new(&loaded, Algorithm::ES256).unwrap();
        assert_eq!(ring.signer().kid(), second.kid);
        assert_ne!(first.kid, second.kid);
    }

    #[cfg(unix)]
    #[test]
    fn a_key_readable_by_others_is_refused() {
        use std::os::unix::fs::PermissionsExt as _;
        let dir = tempfile::tempdir().unwrap();
        let made = generate(dir.path(), Algorithm::ES256, now()).unwrap();
        let path = dir.path().join(format!("{}.pem", made.kid));
        fs::set_permissions(&path, fs::Permissions::from_mode(0o644)).unwrap();
        let err = load(&KeySource::Directory(dir.path().into())).unwrap_err();
        assert!(
            err.problem.contains("0644") && err.problem.contains("chmod 600"),
            "{err}"
        );
    }

    #[test]
    fn the_original_authify_key_pair_loads_and_a_mismatched_public_key_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let key = PrivateKey::generate(Algorithm::ES512).unwrap();
        let private = dir.path().join("private.pem");
        write_private(&private, key.to_pkcs8_pem().unwrap().as_bytes()).unwrap();
        let public = dir.path().join("public.pem");
        fs::write(&public, key.public_key().to_spki_pem().unwrap()).unwrap();
        let source = KeySource::Files {
            private: private.clone(),
            public: Some(public.clone()),
        };
        let loaded = load(&source).unwrap();
        assert_eq!(loaded[0].kid, key.public_key().thumbprint());

        let other = PrivateKey::generate(Algorithm::ES512).unwrap();
        fs::write(&public, other.public_key().to_spki_pem().unwrap()).unwrap();
        let err = load(&source).unwrap_err();
        assert_eq!(err.path, public);
        assert!(err.problem.contains("does not match"), "{err}");
    }
}
