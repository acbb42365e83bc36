//! Signing keys kept in the database, shared by every instance: sealing under the master key,
//! the keyring an instance builds from them at a given time, and the rotation schedule.
//!
//! Life of a key (docs/ARCHITECTURE.md "Several instances"):
//! 1. **pre-published**: made `prepublish` before it signs, published in the JWKS at once so
//!    relying parties that cache the JWKS learn it before any token carries its kid;
//! 2. **active**: the newest key of its algorithm whose `signs_from` has passed signs;
//! 3. **retired**: once its successor has signed for longer than the longest token lifetime,
//!    nothing it signed is still valid: it is deleted, private half and all.
//!
//! Functions here block (a few short queries): call them from start-up, the command line or
//! `spawn_blocking`.
//!
//! Exactly one instance rotates at a time: the one holding the `key-rotation` lease. Every
//! instance re-reads the keys periodically and rebuilds its keyring when they (or the active
//! one, as time passes) change.

use authify_domain::Algorithm;
use authify_jwt::{Keyring, KeyringEntry, KeyringError, PrivateKey};
use authify_store::StoreError;
use authify_store::instances::{self, SigningKeyRow};
use chrono::{DateTime, Duration, Utc};

use crate::Db;
use crate::secrets::MasterKey;

/// UTC with milliseconds, no punctuation, in kids: `20261123T074426123Z`.
pub const KID_TIME_FORMAT: &str = "%Y%m%dT%H%M%S%3fZ";

/// The lease the rotating instance holds.
const LEASE: &str = "key-rotation";

/// A key id that tells the algorithm and creation time and sorts by them:
/// `es512-20261123T074426123Z-Xb3kP0aQ` (the last part is the start of the JWK thumbprint).
pub fn new_kid(key: &PrivateKey, now: DateTime<Utc>) -> String {
    let thumbprint = key.public_key().thumbprint();
    format!(
        "{}-{}-{}",
        key.algorithm().slug(),
        now.format(KID_TIME_FORMAT),
        &thumbprint[..8]
    )
}

/// Why keys could not be read, sealed or rotated.
#[derive(Debug, thiserror::Error)]
pub enum KeysError {
    /// The database.
    #[error("{0}")]
    Store(#[from] StoreError),
    /// A key did not open under the master key, or does not parse.
    #[error("signing key {kid}: {problem}")]
    Damaged {
        /// The key.
        kid: String,
        /// What is wrong.
        problem: String,
    },
    /// Generating or sealing a key.
    #[error("{0}")]
    Crypto(String),
    /// No keyring can be formed (no key of the configured algorithm signs yet).
    #[error("{0}")]
    Keyring(#[from] KeyringError),
}

/// A key read from the database, opened.
#[derive(Debug, Clone)]
pub struct StoredKey {
    /// The key and its id; `created_ms` is when it was made.
    pub entry: KeyringEntry,
    /// When it may sign, milliseconds since the epoch.
    pub signs_from_ms: i64,
}

/// When keys rotate and retire.
#[derive(Debug, Clone, Copy)]
pub struct KeyPolicy {
    /// How long a key signs before its successor takes over; `None`: never automatically.
    pub rotation: Option<Duration>,
    /// How long a new key is published before it signs.
    pub prepublish: Duration,
    /// The longest lifetime of a token signed by a key, clock skew included: how long a key
    /// stays published after its successor took over.
    pub token_lifetime: Duration,
}

/// What a maintenance pass did.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Maintenance {
    /// Whether this instance held the lease (the others do nothing).
    pub leader: bool,
    /// Keys made (pre-published).
    pub created: Vec<String>,
    /// Keys deleted (retired).
    pub retired: Vec<String>,
}

fn context(kid: &str) -> String {
    format!("signing key {kid}")
}

/// Every stored key, opened with `master`. A key that does not open stops here with its kid: a
/// wrong master key must not look like an empty keyring.
pub fn load(db: &Db, master: &MasterKey) -> Result<Vec<StoredKey>, KeysError> {
    let rows = db.run_blocking(instances::list_signing_keys)?;
    rows.iter().map(|row| open(master, row)).collect()
}

fn open(master: &MasterKey, row: &SigningKeyRow) -> Result<StoredKey, KeysError> {
    let damaged = |problem: String| KeysError::Damaged {
        kid: row.kid.clone(),
        problem,
    };
    let pem = master
        .open(&row.private_sealed, &context(&row.kid))
        .map_err(|e| damaged(e.to_string()))?;
    let pem = String::from_utf8(pem).map_err(|_| damaged("not UTF-8 PEM".into()))?;
    let key = PrivateKey::from_pem(&pem).map_err(|e| damaged(e.to_string()))?;
    if key.algorithm().as_str() != row.algorithm {
        return Err(damaged(format!(
            "stored as {} but the key is {}",
            row.algorithm,
            key.algorithm()
        )));
    }
    Ok(StoredKey {
        entry: KeyringEntry {
            kid: row.kid.clone(),
            key,
            created_ms: row.created_at_ms,
        },
        signs_from_ms: row.signs_from_ms,
    })
}

/// Seals and stores `key`, published from `now`, signing from `signs_from`.
pub fn store(
    db: &Db,
    master: &MasterKey,
    entry: &KeyringEntry,
    signs_from: DateTime<Utc>,
) -> Result<(), KeysError> {
    let row = seal(master, entry, signs_from.timestamp_millis())?;
    db.run_blocking(|conn| instances::insert_signing_key(conn, &row))?;
    Ok(())
}

// SECURITY: the private key is sealed (AES-256-GCM, bound to its kid) before it leaves memory.
fn seal(
    master: &MasterKey,
    entry: &KeyringEntry,
    signs_from_ms: i64,
) -> Result<SigningKeyRow, KeysError> {
    let pem = entry
        .key
        .to_pkcs8_pem()
        .map_err(|e| KeysError::Crypto(e.to_string()))?;
    Ok(SigningKeyRow {
        kid: entry.kid.clone(),
        algorithm: entry.key.algorithm().as_str().to_owned(),
        private_sealed: master
            .seal(pem.as_bytes(), &context(&entry.kid))
            .map_err(|e| KeysError::Crypto(e.to_string()))?,
        created_at_ms: entry.created_ms,
        signs_from_ms,
    })
}

/// A new key for `alg`, made at `now`.
pub fn generate(alg: Algorithm, now: DateTime<Utc>) -> Result<KeyringEntry, KeysError> {
    let key = PrivateKey::generate(alg).map_err(|e| KeysError::Crypto(e.to_string()))?;
    Ok(KeyringEntry {
        kid: new_kid(&key, now),
        key,
        created_ms: now.timestamp_millis(),
    })
}

/// The keyring at `now`: the newest key of `alg` whose time has come signs (and of each other
/// algorithm, for apps registered with it); every stored key is published, pre-published ones
/// included.
pub fn keyring_at(
    keys: &[StoredKey],
    alg: Algorithm,
    now: DateTime<Utc>,
) -> Result<Keyring, KeyringError> {
    let now_ms = now.timestamp_millis();
    // Ordered by when they sign: the keyring picks the newest by `created_ms`.
    let (signing, pending): (Vec<_>, Vec<_>) = keys.iter().partition(|k| k.signs_from_ms <= now_ms);
    let signing: Vec<KeyringEntry> = signing
        .into_iter()
        .map(|k| KeyringEntry {
            created_ms: k.signs_from_ms,
            ..k.entry.clone()
        })
        .collect();
    let pending: Vec<KeyringEntry> = pending.into_iter().map(|k| k.entry.clone()).collect();
    Ok(Keyring::new(&signing, alg)?.with_pending(&pending))
}

/// What tells whether an instance's keyring is current: every kid, and which of them sign now.
pub fn fingerprint(keys: &[StoredKey], now: DateTime<Utc>) -> Vec<(String, bool)> {
    let now_ms = now.timestamp_millis();
    let mut print: Vec<_> = keys
        .iter()
        .map(|k| (k.entry.kid.clone(), k.signs_from_ms <= now_ms))
        .collect();
    print.sort();
    print
}

/// Makes a key for every algorithm in `wanted` that has none, signing at once (first start, or
/// an algorithm newly configured), holding the rotation lease as `holder` so two instances
/// starting together on an empty database make one set of keys. Returns the kids made.
pub fn ensure(
    db: &Db,
    master: &MasterKey,
    wanted: &[Algorithm],
    holder: &str,
    now: DateTime<Utc>,
) -> Result<Vec<String>, KeysError> {
    // Another instance holding the lease is making them: wait for it (bounded).
    for _ in 0..100 {
        let keys = load(db, master)?;
        let missing: Vec<Algorithm> = wanted
            .iter()
            .copied()
            .filter(|&alg| !keys.iter().any(|k| k.entry.key.algorithm() == alg))
            .collect();
        if missing.is_empty() {
            return Ok(Vec::new());
        }
        let (now_ms, until) = (
            now.timestamp_millis(),
            (now + Duration::minutes(2)).timestamp_millis(),
        );
        if db.run_blocking(|conn| instances::take_lease(conn, LEASE, holder, now_ms, until))? {
            let mut made = Vec::new();
            for alg in missing {
                let entry = generate(alg, now)?;
                store(db, master, &entry, now)?;
                made.push(entry.kid);
            }
            return Ok(made);
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    Err(KeysError::Crypto(
        "another instance holds the key-rotation lease but made no keys within 10 s".into(),
    ))
}

/// One pass of the schedule, by whichever instance holds the lease (taken or renewed here for
/// `lease_for`): pre-publishes a successor for each algorithm whose active key is due, and
/// deletes keys whose successor has signed for longer than any token lives.
pub fn maintain(
    db: &Db,
    master: &MasterKey,
    policy: KeyPolicy,
    holder: &str,
    lease_for: Duration,
    now: DateTime<Utc>,
) -> Result<Maintenance, KeysError> {
    let now_ms = now.timestamp_millis();
    let until = (now + lease_for).timestamp_millis();
    let leader =
        db.run_blocking(|conn| instances::take_lease(conn, LEASE, holder, now_ms, until))?;
    if !leader {
        return Ok(Maintenance::default());
    }
    let keys = load(db, master)?;
    let plan = plan(&keys, policy, now);
    let mut done = Maintenance {
        leader,
        ..Maintenance::default()
    };
    for (alg, signs_from) in plan.create {
        let entry = generate(alg, now)?;
        store(db, master, &entry, signs_from)?;
        done.created.push(entry.kid);
    }
    for kid in plan.retire {
        if db.run_blocking(|conn| instances::delete_signing_key(conn, &kid))? {
            done.retired.push(kid);
        }
    }
    Ok(done)
}

/// Hands the lease back (on shutdown), so another instance takes over without waiting for it
/// to run out.
pub fn release(db: &Db, holder: &str) -> Result<(), StoreError> {
    db.run_blocking(|conn| instances::release_lease(conn, LEASE, holder))
}

/// What the schedule asks for at `now`.
#[derive(Debug, Default, PartialEq, Eq)]
struct Plan {
    /// Keys to make: algorithm and when the new key signs.
    create: Vec<(Algorithm, DateTime<Utc>)>,
    /// Keys to delete.
    retire: Vec<String>,
}

fn plan(keys: &[StoredKey], policy: KeyPolicy, now: DateTime<Utc>) -> Plan {
    let now_ms = now.timestamp_millis();
    let mut plan = Plan::default();
    for alg in Algorithm::ALL {
        let mut mine: Vec<&StoredKey> = keys
            .iter()
            .filter(|k| k.entry.key.algorithm() == alg)
            .collect();
        mine.sort_by(|a, b| (a.signs_from_ms, &a.entry.kid).cmp(&(b.signs_from_ms, &b.entry.kid)));
        let Some(newest) = mine.last() else { continue };
        // Due: the newest key signs already and its successor's pre-publication should have begun.
        if let Some(rotation) = policy.rotation
            && newest.signs_from_ms <= now_ms
            && now_ms >= newest.signs_from_ms + (rotation - policy.prepublish).num_milliseconds()
        {
            let on_schedule = newest.signs_from_ms + rotation.num_milliseconds();
            // A late pass (every instance was down) still pre-publishes for the full window.
            let signs_from = on_schedule.max((now + policy.prepublish).timestamp_millis());
            if let Some(at) = DateTime::from_timestamp_millis(signs_from) {
                plan.create.push((alg, at));
            }
        }
        // A key is superseded when a later key of its algorithm signs; retired once that one
        // has signed for longer than any token lives.
        for pair in mine.windows(2) {
            let (old, next) = (pair[0], pair[1]);
            if next.signs_from_ms + policy.token_lifetime.num_milliseconds() <= now_ms {
                plan.retire.push(old.entry.kid.clone());
            }
        }
    }
    plan
}

/// How many keys the database holds sealed under the master key.
pub fn count_sealed(db: &Db) -> Result<i64, StoreError> {
    db.run_blocking(instances::count_signing_keys)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone as _;

    fn at(days: i64) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 12, 1, 0, 0, 0).single().unwrap() + Duration::days(days)
    }

    fn key(kid: &str, alg: Algorithm, made: DateTime<Utc>, signs: DateTime<Utc>) -> StoredKey {
        StoredKey {
            entry: KeyringEntry {
                kid: kid.into(),
                key: PrivateKey::generate(alg).unwrap(),
                created_ms: made.timestamp_millis(),
            },
            signs_from_ms: signs.timestamp_millis(),
        }
    }

    const POLICY: KeyPolicy = KeyPolicy {
        rotation: Some(Duration::days(30)),
        prepublish: Duration::hours(24),
        token_lifetime: Duration::hours(2),
    };

    #[test]
    fn a_successor_is_pre_published_a_day_before_the_rotation_and_signs_on_schedule() {
        let keys = vec![key("a", Algorithm::ES256, at(0), at(0))];
        assert_eq!(plan(&keys, POLICY, at(28)), Plan::default(), "not yet due");
        let due = plan(&keys, POLICY, at(29));
        assert_eq!(due.create, vec![(Algorithm::ES256, at(30))]);
        assert!(due.retire.is_empty());
        // Every instance was down until day 40: the new key is still published a full day first.
        let late = plan(&keys, POLICY, at(40));
        assert_eq!(late.create, vec![(Algorithm::ES256, at(41))]);
    }

    #[test]
    fn a_pending_successor_is_not_made_twice_and_the_old_key_retires_after_the_longest_token() {
        let keys = vec![
            key("a", Algorithm::ES256, at(0), at(0)),
            key("b", Algorithm::ES256, at(29), at(30)),
        ];
        assert_eq!(plan(&keys, POLICY, at(29)), Plan::default());
        let ring = keyring_at(&keys, Algorithm::ES256, at(29)).unwrap();
        assert_eq!(ring.signer().kid(), "a", "b is published, not signing");
        assert_eq!(ring.jwks().keys.len(), 2);
        let ring = keyring_at(&keys, Algorithm::ES256, at(30)).unwrap();
        assert_eq!(ring.signer().kid(), "b");
        assert!(
            plan(&keys, POLICY, at(30) + Duration::minutes(119))
                .retire
                .is_empty()
        );
        assert_eq!(
            plan(&keys, POLICY, at(30) + Duration::hours(2)).retire,
            vec!["a".to_owned()]
        );
    }

    #[test]
    fn without_a_rotation_period_keys_never_rotate() {
        let keys = vec![key("a", Algorithm::ES512, at(0), at(0))];
        let never = KeyPolicy {
            rotation: None,
            ..POLICY
        };
        assert_eq!(plan(&keys, never, at(3650)), Plan::default());
    }
}
