//! Optional proof of work at sign-up (`AUTHIFY_SIGNUP_WORK_BITS`, off by default): the sign-up
//! form carries a challenge the server signed; the browser (`web/static/js/work.js`) finds a
//! nonce such that SHA-256 of `<challenge>:<nonce>` starts with that many zero bits and posts it
//! as `work`. The server checks the signature, the expiry, the bits and that the challenge was
//! not used before (its bucket in `throttle_buckets`), before any budget or hash is spent.
//!
//! A friction step for scripted mass sign-up with no third party: 2^bits hashes on average,
//! checked with one hash. The page's script does about 320,000 a second in V8 on the 2-core
//! Xeon of docs/performance.md (16 bits: about 0.2 s; 18 bits: about 0.8 s; phones are slower). It raises the price of
//! each account for an abuser without a service that sees every visitor (docs/SECURITY.md).

use authify_store::{DbConnection, instances};
use chrono::{DateTime, Utc};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use super::{Authn, AuthnError};
use crate::random;

/// How long a challenge may be worked on and posted.
const TTL_SECS: i64 = 600;

/// The highest difficulty accepted in the settings (2^24 hashes: seconds on a slow phone).
pub const MAX_BITS: u8 = 24;

/// What the sign-up form carries.
#[derive(Debug, Clone)]
pub struct WorkChallenge {
    /// `<expires>.<random>.<signature>`.
    pub challenge: String,
    /// Leading zero bits wanted.
    pub bits: u8,
}

fn signed(authn: &Authn, body: &str) -> String {
    authn
        .inner
        .mfa
        .master
        .mac(format!("signup-work\0{body}").as_bytes())
}

/// Leading zero bits of `digest`.
pub fn zero_bits(digest: &[u8]) -> u32 {
    let mut n = 0;
    for b in digest {
        if *b == 0 {
            n += 8;
        } else {
            return n + b.leading_zeros();
        }
    }
    n
}

impl Authn {
    /// A fresh challenge for the sign-up form, or `None` when the step is off.
    pub fn signup_work(&self, now: DateTime<Utc>) -> Result<Option<WorkChallenge>, AuthnError> {
        let bits = self.inner.settings.signup_work_bits;
        if bits == 0 {
            return Ok(None);
        }
        let body = format!("{}.{}", now.timestamp() + TTL_SECS, random::token::<16>()?);
        let mac = signed(self, &body);
        Ok(Some(WorkChallenge {
            challenge: format!("{body}.{mac}"),
            bits,
        }))
    }
}

/// Checks the posted `work` (`<challenge>:<nonce>`) and spends its challenge. Nothing to check
/// when the step is off.
pub(super) fn check(
    authn: &Authn,
    conn: &mut DbConnection,
    work: Option<&str>,
    now: DateTime<Utc>,
) -> Result<(), AuthnError> {
    let bits = authn.inner.settings.signup_work_bits;
    if bits == 0 {
        return Ok(());
    }
    let refused = || {
        AuthnError::BadRequest(
            "The sign-up form's browser check did not complete (it needs JavaScript) or has expired. Reload the page and try again.".into(),
        )
    };
    let work = work.filter(|w| w.len() <= 512).ok_or_else(refused)?;
    let (challenge, _nonce) = work.rsplit_once(':').ok_or_else(refused)?;
    let (body, mac) = challenge.rsplit_once('.').ok_or_else(refused)?;
    // SECURITY: the challenge is ours (constant-time comparison of the signature).
    if !bool::from(signed(authn, body).as_bytes().ct_eq(mac.as_bytes())) {
        return Err(refused());
    }
    let (expires, nonce_id) = body.split_once('.').ok_or_else(refused)?;
    let expires: i64 = expires.parse().map_err(|_| refused())?;
    if expires <= now.timestamp() {
        return Err(refused());
    }
    if zero_bits(&Sha256::digest(work.as_bytes())) < u32::from(bits) {
        return Err(refused());
    }
    // SECURITY: each challenge pays for one sign-up: its bucket allows one use per lifetime.
    let ttl_ms = TTL_SECS * 1000;
    let (fresh, _) = instances::spend_attempt(
        conn,
        &format!("work:{nonce_id}"),
        now.timestamp_millis(),
        ttl_ms,
        ttl_ms,
    )?;
    if fresh { Ok(()) } else { Err(refused()) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn zero_bits_are_counted_across_bytes() {
        assert_eq!(zero_bits(&[0, 0, 0b0001_0000, 0xff]), 19);
        assert_eq!(zero_bits(&[0x80]), 0);
        assert_eq!(zero_bits(&[0, 0]), 16);
    }
}
