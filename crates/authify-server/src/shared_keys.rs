//! Signing keys in the database, the default key source: the first start (importing an earlier
//! version's keys directory, a key of each algorithm), the refresh every instance runs (reading
//! the keys, rotating when it holds the lease, publishing a changed keyring), and rotations
//! forced from the console or the command line.
//!
//! The schedule itself (pre-publication, activation, retirement) is
//! `authify_core::signing_keys`; this module wires it to settings, start-up and the state.

use std::path::Path;
use std::sync::Weak;

use authify_core::Db;
use authify_core::secrets::MasterKey;
use authify_core::signing_keys::{self, KeyPolicy, KeysError, StoredKey};
use authify_jwt::{Algorithm, Keyring};
use authify_web::AppState;
use chrono::{DateTime, Duration, Utc};

use crate::keystore;
use crate::settings::{KeySource, Settings};
use crate::startup::StartupError;

/// Clock skew allowed to verifiers when deciding a key's tokens have all expired.
const SKEW: Duration = Duration::minutes(5);

/// The keys of one instance: where they are, under which master key, and its name as a holder
/// of the rotation lease.
#[derive(Debug, Clone)]
pub struct SharedKeys {
    db: Db,
    master: MasterKey,
    algorithm: Algorithm,
    policy: KeyPolicy,
    /// This process, as the lease names it: random, so two instances on one host differ.
    holder: String,
}

impl From<KeysError> for StartupError {
    fn from(e: KeysError) -> Self {
        StartupError::Keyring(e.to_string())
    }
}

impl SharedKeys {
    /// The keys for `settings`, on `db`, sealed under `master`.
    pub fn new(settings: &Settings, db: Db, master: MasterKey) -> Result<Self, StartupError> {
        let id = authify_core::random::token::<6>()
            .map_err(|e| StartupError::Keyring(format!("randomness: {e}")))?;
        Ok(SharedKeys {
            db,
            master,
            algorithm: settings.jwt_algorithm,
            policy: policy(settings),
            holder: format!("pid{}-{id}", std::process::id()),
        })
    }

    /// First start and every start: imports `import` (an earlier version's keys directory)
    /// when the database holds no key yet, makes a key for each algorithm that has none, and
    /// builds the keyring at `now`. Returns it with the kids made or imported, for the log.
    pub fn prepare(
        &self,
        import: &Path,
        now: DateTime<Utc>,
    ) -> Result<(Keyring, Vec<StoredKey>, Vec<String>), StartupError> {
        let mut made = Vec::new();
        if signing_keys::load(&self.db, &self.master)?.is_empty() && import.is_dir() {
            made.extend(self.import(import)?);
        }
        // The configured algorithm first: its key is the one `/jwt/key` serves.
        let order: Vec<Algorithm> = std::iter::once(self.algorithm)
            .chain(Algorithm::ALL.into_iter().filter(|a| *a != self.algorithm))
            .collect();
        made.extend(signing_keys::ensure(
            &self.db,
            &self.master,
            &order,
            &self.holder,
            now,
        )?);
        let keys = signing_keys::load(&self.db, &self.master)?;
        let keyring = signing_keys::keyring_at(&keys, self.algorithm, now)
            .map_err(|e| StartupError::Keyring(e.to_string()))?;
        Ok((keyring, keys, made))
    }

    /// Imports every key file of `dir` not in the database yet, each signing from its
    /// creation (so the newest signs, as it did from the directory). Returns the kids imported.
    pub fn import(&self, dir: &Path) -> Result<Vec<String>, StartupError> {
        let files = keystore::load(&KeySource::Directory(dir.to_owned()))?;
        let stored = signing_keys::load(&self.db, &self.master)?;
        let mut imported = Vec::new();
        for entry in files {
            if stored.iter().any(|k| k.entry.kid == entry.kid) {
                continue;
            }
            let signs_from = DateTime::from_timestamp_millis(entry.created_ms)
                .ok_or_else(|| StartupError::Keyring(format!("{}: bad time", entry.kid)))?;
            signing_keys::store(&self.db, &self.master, &entry, signs_from)?;
            imported.push(entry.kid);
        }
        if !imported.is_empty() {
            tracing::info!(count = imported.len(), dir = %dir.display(), "imported signing keys into the database; keep the directory as a backup or remove it");
        }
        Ok(imported)
    }

    /// A new key of `alg`: signing at once when `immediately` (a key thought compromised), else
    /// after the pre-publication window. Returns its kid.
    pub fn rotate(
        &self,
        alg: Algorithm,
        immediately: bool,
        now: DateTime<Utc>,
    ) -> Result<String, StartupError> {
        let entry = signing_keys::generate(alg, now)?;
        let signs_from = if immediately {
            now
        } else {
            now + self.policy.prepublish
        };
        signing_keys::store(&self.db, &self.master, &entry, signs_from)?;
        tracing::info!(kid = %entry.kid, algorithm = %alg, signs_from = %signs_from, "made a signing key");
        Ok(entry.kid)
    }

    /// Every stored key, opened.
    pub fn load(&self) -> Result<Vec<StoredKey>, StartupError> {
        Ok(signing_keys::load(&self.db, &self.master)?)
    }

    /// The keyring at `now` from the database.
    pub fn keyring(&self, now: DateTime<Utc>) -> Result<(Keyring, Vec<StoredKey>), StartupError> {
        let keys = self.load()?;
        let ring = signing_keys::keyring_at(&keys, self.algorithm, now)
            .map_err(|e| StartupError::Keyring(e.to_string()))?;
        Ok((ring, keys))
    }

    /// One refresh: rotate if this instance holds the lease and a key is due, then read the
    /// keys. Returns them with what the rotation pass did.
    pub fn tick(
        &self,
        lease_for: Duration,
        now: DateTime<Utc>,
    ) -> Result<(Vec<StoredKey>, signing_keys::Maintenance), KeysError> {
        let done = signing_keys::maintain(
            &self.db,
            &self.master,
            self.policy,
            &self.holder,
            lease_for,
            now,
        )?;
        Ok((signing_keys::load(&self.db, &self.master)?, done))
    }

    /// Hands the rotation lease back (clean shutdown).
    pub fn release(&self) {
        if let Err(e) = signing_keys::release(&self.db, &self.holder) {
            tracing::debug!(error = %e, "releasing the key-rotation lease failed; it runs out by itself");
        }
    }

    /// The configured signing algorithm.
    pub fn algorithm(&self) -> Algorithm {
        self.algorithm
    }
}

/// The rotation schedule of `settings`. A key stays published for the longest token lifetime
/// (`AUTHIFY_JWT_EXPIRATION`: ID, access and `?jwt=` tokens; refresh tokens are not signed)
/// plus clock skew after its successor took over.
pub fn policy(settings: &Settings) -> KeyPolicy {
    KeyPolicy {
        rotation: (settings.key_rotation_days > 0)
            .then(|| Duration::days(i64::from(settings.key_rotation_days))),
        prepublish: Duration::hours(i64::from(settings.key_prepublish_hours)),
        token_lifetime: Duration::minutes(i64::from(settings.jwt_expiration)) + SKEW,
    }
}

/// Every `every`: the refresh of [`SharedKeys::tick`] on the blocking pool; a changed set of
/// keys, or a pre-published key whose time has come, publishes a new keyring (and so a new
/// JWKS `ETag`). Failures (the database away) are logged and retried at the next tick.
pub async fn refresh(
    state: Weak<AppState>,
    keys: SharedKeys,
    mut current: Vec<(String, bool)>,
    every: std::time::Duration,
) {
    let mut ticker = tokio::time::interval(every);
    ticker.tick().await;
    // The lease outlives a few missed ticks, so a busy leader keeps it.
    let lease_for = Duration::seconds(i64::try_from(every.as_secs()).unwrap_or(60) * 3 + 5);
    loop {
        ticker.tick().await;
        let Some(app) = state.upgrade() else {
            keys.release();
            return;
        };
        let now = app.now();
        drop(app);
        let k = keys.clone();
        let read = tokio::task::spawn_blocking(move || k.tick(lease_for, now)).await;
        let (stored, done) = match read {
            Ok(Ok(r)) => r,
            Ok(Err(e)) => {
                tracing::warn!(error = %e, "reading the signing keys failed; retrying at the next refresh");
                continue;
            }
            Err(e) => {
                tracing::warn!(error = %e, "the key refresh task failed");
                continue;
            }
        };
        for kid in &done.created {
            tracing::info!(kid = %kid, "rotation: pre-published a new signing key");
        }
        for kid in &done.retired {
            tracing::info!(kid = %kid, "rotation: retired a signing key (every token it signed has expired)");
        }
        let print = signing_keys::fingerprint(&stored, now);
        if print == current {
            continue;
        }
        let Some(app) = state.upgrade() else {
            return;
        };
        match signing_keys::keyring_at(&stored, keys.algorithm(), now) {
            Ok(ring) => {
                let kid = ring.signer().kid().to_owned();
                match app.replace_keyring(ring) {
                    Ok(()) => {
                        tracing::info!(signing = %kid, published = stored.len(), "signing keys changed; now publishing them");
                        current = print;
                    }
                    Err(e) => tracing::error!(error = %e, "publishing the new keyring failed"),
                }
            }
            Err(e) => tracing::error!(error = %e, "the keys in the database form no keyring"),
        }
    }
}
