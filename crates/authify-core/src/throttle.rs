//! Throttling of sign-in attempts per account (the original Authify had none: W-13).
//!
//! Every attempt for an e-mail address, known or not, takes a cell from that address's bucket;
//! an empty bucket refuses further attempts until it refills. Unknown and known addresses are
//! throttled alike, so the limit reveals nothing about which accounts exist.
//!
//! A second budget counts password checks per client address (the web layer resolves it through
//! `AUTHIFY_TRUSTED_PROXIES`), taken before the hash queue: one client cannot fill the shared
//! argon2 pool and so deny sign-in to everyone.
//!
//! The buckets live in the database (`throttle_buckets`), one atomic upsert per attempt, so the
//! guesses allowed do not grow with the number of instances sharing it. Time is the server's
//! clock, so every instance and the tests agree on it.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use authify_store::{StoreError, instances};

use crate::{Clock, Db};

/// A budget: `burst` attempts at once, refilling one per `interval_ms`.
#[derive(Debug, Clone, Copy)]
struct Quota {
    interval_ms: i64,
    burst: i64,
}

impl Quota {
    /// `per_minute` attempts as a burst, refilling evenly over a minute; 0 disables.
    fn per_minute(per_minute: u32) -> Option<Self> {
        (per_minute > 0).then(|| Quota {
            interval_ms: (60_000 / i64::from(per_minute)).max(1),
            burst: i64::from(per_minute),
        })
    }
}

/// An attempt that was not let through.
#[derive(Debug, thiserror::Error)]
pub enum ThrottleError {
    /// The budget is spent; retry after this long.
    #[error("too many attempts; retry in {0:?}")]
    Wait(Duration),
    /// The shared budget could not be read (the database).
    #[error("{0}")]
    Store(#[from] StoreError),
}

/// Sign-in attempts allowed per account and per client address, counted in the database.
#[derive(Debug, Clone)]
pub struct SignInThrottle {
    db: Db,
    clock: Arc<dyn Clock>,
    /// Bucket names start with this (`signin`, `exchange`): budgets of different uses never mix.
    scope: &'static str,
    accounts: Option<Quota>,
    addresses: Option<Quota>,
}

impl SignInThrottle {
    /// Allows `per_minute` attempts per account (as a burst, refilling evenly); 0 disables.
    pub fn new(db: Db, clock: Arc<dyn Clock>, scope: &'static str, per_minute: u32) -> Self {
        SignInThrottle {
            db,
            clock,
            scope,
            accounts: Quota::per_minute(per_minute),
            addresses: None,
        }
    }

    /// The same store and clock with budgets of their own: `scope` names them apart (reset
    /// links, say), `per_account` and `per_address` a minute each (0 disables one).
    pub fn scoped(&self, scope: &'static str, per_account: u32, per_address: u32) -> Self {
        SignInThrottle {
            db: self.db.clone(),
            clock: self.clock.clone(),
            scope,
            accounts: Quota::per_minute(per_account),
            addresses: Quota::per_minute(per_address),
        }
    }

    /// Also allows `per_minute` password checks per client address; 0 disables.
    pub fn with_addresses(mut self, per_minute: u32) -> Self {
        self.addresses = Quota::per_minute(per_minute);
        self
    }

    /// Takes one password check for the client address `ip` (none known: not counted).
    pub async fn address_attempt(&self, ip: Option<&str>) -> Result<(), ThrottleError> {
        let (Some(quota), Some(ip)) = (self.addresses, ip) else {
            return Ok(());
        };
        // An IPv6 client counts as its /64 (rotating within it gains nothing).
        self.spend(
            format!("{}:ip:{}", self.scope, crate::limits::client_key(ip)),
            quota,
        )
        .await
    }

    /// Takes one attempt for `email` (normalized when it parses, else trimmed and lower-cased).
    pub async fn attempt(&self, email: &str) -> Result<(), ThrottleError> {
        let Some(quota) = self.accounts else {
            return Ok(());
        };
        let key = authify_domain::Email::parse(email)
            .map(|e| e.as_str().to_owned())
            .unwrap_or_else(|_| email.trim().to_lowercase());
        self.spend(format!("{}:account:{}", self.scope, clip(&key)), quota)
            .await
    }

    async fn spend(&self, key: String, quota: Quota) -> Result<(), ThrottleError> {
        let now_ms = self.clock.now().timestamp_millis();
        let (allowed, tat_ms) = self
            .db
            .run(move |conn| {
                // In a write transaction: on SQLite it queues on the one writer instead of
                // sleeping in the busy handler (authify_store::transaction).
                authify_store::transaction(conn, |conn| {
                    instances::spend_attempt(
                        conn,
                        &key,
                        now_ms,
                        quota.interval_ms,
                        quota.burst * quota.interval_ms,
                    )
                })
            })
            .await?;
        if allowed {
            return Ok(());
        }
        // Refused: the next attempt fits once the arrival time is within the burst again.
        let wait = tat_ms - now_ms - (quota.burst - 1) * quota.interval_ms;
        Err(ThrottleError::Wait(Duration::from_millis(
            u64::try_from(wait).unwrap_or(0).max(1),
        )))
    }

    /// Deletes the buckets that are full again, so rows follow recent attempts only. Call
    /// periodically (any instance may; it is idempotent).
    pub async fn forget_idle(&self) -> Result<usize, StoreError> {
        let now_ms = self.clock.now().timestamp_millis();
        self.db
            .run(move |conn| instances::delete_full_buckets(conn, now_ms))
            .await
    }
}

/// Bucket names are bounded: an e-mail address is at most 254 characters, a client address far
/// less; anything longer is cut (it names the same bucket each time).
fn clip(s: &str) -> String {
    s.chars().take(254).collect()
}

/// Aggregates repeated failures from one source (a client address) so an attacker cannot grow
/// the append-only audit log at request rate: the first failure of a source in each minute is
/// recorded, with how many were folded into it since the last record; the rest are counted only.
/// Memory is bounded: past `MAX_SOURCES` sources, new ones share one bucket.
#[derive(Debug, Default)]
pub struct FailureLog {
    sources: Mutex<HashMap<String, (Instant, u64)>>,
}

/// Sources tracked separately; beyond this they are aggregated together.
const MAX_SOURCES: usize = 10_000;
/// One record per source per this long.
const WINDOW: Duration = Duration::from_secs(60);

impl FailureLog {
    /// Notes a failure from `source`. `Some(n)`: record it, `n` failures were folded since the
    /// last record; `None`: counted, not recorded.
    pub fn note(&self, source: &str) -> Option<u64> {
        let now = Instant::now();
        // A poisoned lock holds consistent counters (each update is one assignment).
        let mut sources = self.sources.lock().unwrap_or_else(|p| p.into_inner());
        if sources.len() >= MAX_SOURCES {
            sources.retain(|_, (since, _)| now.duration_since(*since) < WINDOW);
        }
        let key = if sources.len() >= MAX_SOURCES && !sources.contains_key(source) {
            "*".to_owned()
        } else {
            source.to_owned()
        };
        match sources.get_mut(&key) {
            Some((since, folded)) if now.duration_since(*since) < WINDOW => {
                *folded += 1;
                None
            }
            Some((since, folded)) => {
                let before = *folded;
                *since = now;
                *folded = 0;
                Some(before)
            }
            None => {
                sources.insert(key, (now, 0));
                Some(0)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn repeated_failures_from_one_source_are_recorded_once_a_minute() {
        let log = FailureLog::default();
        assert_eq!(log.note("198.51.100.7"), Some(0));
        for _ in 0..100 {
            assert_eq!(log.note("198.51.100.7"), None);
        }
        assert_eq!(
            log.note("203.0.113.9"),
            Some(0),
            "another source is recorded"
        );
    }
}
