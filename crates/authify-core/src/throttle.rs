//! Throttling of sign-in attempts per account (the original Authify had none: W-13).
//!
//! Every attempt for an e-mail address, known or not, takes a cell from that address's bucket;
//! an empty bucket refuses further attempts until it refills. Unknown and known addresses are
//! throttled alike, so the limit reveals nothing about which accounts exist.
//!
//! A second budget counts password checks per client address (the web layer resolves it through
//! `AUTHIFY_TRUSTED_PROXIES`), taken before the hash queue: one client cannot fill the shared
//! argon2 pool and so deny sign-in to everyone.

use std::collections::HashMap;
use std::num::NonZeroU32;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use governor::clock::{Clock as _, DefaultClock};
use governor::state::keyed::HashMapStateStore;
use governor::{Quota, RateLimiter};

/// Sign-in attempts allowed per account.
#[derive(Debug)]
pub struct SignInThrottle {
    accounts: Option<RateLimiter<String, HashMapStateStore<String>, DefaultClock>>,
    addresses: Option<RateLimiter<String, HashMapStateStore<String>, DefaultClock>>,
}

impl SignInThrottle {
    /// Allows `per_minute` attempts per account (as a burst, refilling evenly); 0 disables.
    pub fn new(per_minute: u32) -> Self {
        SignInThrottle {
            accounts: NonZeroU32::new(per_minute)
                .map(|n| RateLimiter::hashmap(Quota::per_minute(n))),
            addresses: None,
        }
    }

    /// Also allows `per_minute` password checks per client address; 0 disables.
    pub fn with_addresses(mut self, per_minute: u32) -> Self {
        self.addresses =
            NonZeroU32::new(per_minute).map(|n| RateLimiter::hashmap(Quota::per_minute(n)));
        self
    }

    /// Takes one password check for the client address `ip` (none known: not counted). `Err`
    /// carries how long to wait.
    pub fn address_attempt(&self, ip: Option<&str>) -> Result<(), Duration> {
        let (Some(limiter), Some(ip)) = (&self.addresses, ip) else {
            return Ok(());
        };
        limiter
            .check_key(&ip.to_owned())
            .map_err(|not_until| not_until.wait_time_from(DefaultClock::default().now()))
    }

    /// Takes one attempt for `email` (normalized when it parses, else trimmed and lower-cased).
    /// `Err` carries how long to wait.
    pub fn attempt(&self, email: &str) -> Result<(), Duration> {
        let Some(limiter) = &self.accounts else {
            return Ok(());
        };
        let key = authify_domain::Email::parse(email)
            .map(|e| e.as_str().to_owned())
            .unwrap_or_else(|_| email.trim().to_lowercase().chars().take(254).collect());
        limiter
            .check_key(&key)
            .map_err(|not_until| not_until.wait_time_from(DefaultClock::default().now()))
    }

    /// Drops the state of accounts whose buckets are full again, so memory follows recent
    /// attempts only. Call periodically.
    pub fn forget_idle(&self) {
        for limiter in [&self.accounts, &self.addresses].into_iter().flatten() {
            limiter.retain_recent();
            limiter.shrink_to_fit();
        }
    }
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

    #[test]
    fn each_account_gets_its_own_burst_and_spelling_does_not_escape_it() {
        let t = SignInThrottle::new(3);
        for _ in 0..3 {
            assert!(t.attempt("ann@example.com").is_ok());
        }
        let wait = t.attempt(" ANN@Example.com ").unwrap_err();
        assert!(
            wait > Duration::ZERO && wait <= Duration::from_secs(20),
            "{wait:?}"
        );
        assert!(
            t.attempt("bob@example.com").is_ok(),
            "other accounts are unaffected"
        );
        t.forget_idle();
        assert!(
            t.attempt("ann@example.com").is_err(),
            "forgetting idle state keeps a busy bucket"
        );
    }

    #[test]
    fn zero_disables_throttling() {
        let t = SignInThrottle::new(0);
        assert!((0..100).all(|_| t.attempt("ann@example.com").is_ok()));
    }
}
