//! Throttling of sign-in attempts per account (the original Authify had none: W-13).
//!
//! Every attempt for an e-mail address, known or not, takes a cell from that address's bucket;
//! an empty bucket refuses further attempts until it refills. Unknown and known addresses are
//! throttled alike, so the limit reveals nothing about which accounts exist. Per client address
//! throttling needs trusted-proxy configuration first (behind a load balancer every user would
//! share one address) and is not done here.

use std::num::NonZeroU32;
use std::time::Duration;

use governor::clock::{Clock as _, DefaultClock};
use governor::state::keyed::HashMapStateStore;
use governor::{Quota, RateLimiter};

/// Sign-in attempts allowed per account.
#[derive(Debug)]
pub struct SignInThrottle {
    accounts: Option<RateLimiter<String, HashMapStateStore<String>, DefaultClock>>,
}

impl SignInThrottle {
    /// Allows `per_minute` attempts per account (as a burst, refilling evenly); 0 disables.
    pub fn new(per_minute: u32) -> Self {
        SignInThrottle {
            accounts: NonZeroU32::new(per_minute)
                .map(|n| RateLimiter::hashmap(Quota::per_minute(n))),
        }
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
        if let Some(limiter) = &self.accounts {
            limiter.retain_recent();
            limiter.shrink_to_fit();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
