//! Password hashing: argon2id with OWASP's parameters by default, run on the blocking pool behind
//! a semaphore, so a burst of sign-ins uses at most `concurrency` cores and
//! `concurrency × memory` of RAM, and queues (up to a bound) instead of starving other requests.

use std::sync::Arc;

use argon2::{Algorithm, Argon2, Params, PasswordHasher as _, PasswordVerifier as _, Version};
use tokio::sync::Semaphore;

/// argon2id cost parameters.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HashParams {
    /// Memory in KiB (OWASP: 19456).
    pub memory_kib: u32,
    /// Iterations (OWASP: 2).
    pub iterations: u32,
    /// Lanes (OWASP: 1).
    pub parallelism: u32,
}

impl Default for HashParams {
    fn default() -> Self {
        HashParams {
            memory_kib: 19_456,
            iterations: 2,
            parallelism: 1,
        }
    }
}

/// Hashing failed or the server is saturated.
#[derive(Debug, thiserror::Error)]
pub enum HashError {
    /// Too many hashes are already queued: answer 503 and let the client retry.
    #[error("too many sign-ins in progress; try again in a moment")]
    Busy,
    /// argon2 refused (bad parameters) or the task failed.
    #[error("password hashing failed: {0}")]
    Failed(String),
}

/// Hashes and verifies passwords on a bounded pool.
#[derive(Clone)]
pub struct PasswordHasher {
    params: Params,
    permits: Arc<Semaphore>,
    /// Hashes admitted at once: running plus queued.
    capacity: usize,
    in_flight: Arc<std::sync::atomic::AtomicUsize>,
    /// A hash of a random password with the same parameters, verified for unknown users so they
    /// cost the same time as known ones.
    dummy: Arc<String>,
}

impl std::fmt::Debug for PasswordHasher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PasswordHasher")
            .field("params", &self.params)
            .finish_non_exhaustive()
    }
}

impl PasswordHasher {
    /// A hasher running at most `concurrency` hashes at once, with up to `64 × concurrency` queued.
    pub fn new(params: HashParams, concurrency: usize) -> Result<Self, HashError> {
        let params = Params::new(
            params.memory_kib,
            params.iterations,
            params.parallelism,
            None,
        )
        .map_err(|e| HashError::Failed(e.to_string()))?;
        let concurrency = concurrency.max(1);
        let mut hasher = PasswordHasher {
            params,
            permits: Arc::new(Semaphore::new(concurrency)),
            capacity: concurrency * 65,
            in_flight: Arc::default(),
            dummy: Arc::new(String::new()),
        };
        let random = crate::random::token::<24>().map_err(|e| HashError::Failed(e.to_string()))?;
        hasher.dummy = Arc::new(hash_now(&hasher.params, &random)?);
        Ok(hasher)
    }

    /// The PHC string of `password`.
    pub async fn hash(&self, password: String) -> Result<String, HashError> {
        let params = self.params.clone();
        self.on_pool(move || hash_now(&params, &password)).await?
    }

    /// Whether `password` matches `hash`. With `None` (no such user) the dummy hash is checked
    /// instead and the answer is `false`: the same work either way.
    pub async fn verify(&self, password: String, hash: Option<String>) -> Result<bool, HashError> {
        let params = self.params.clone();
        // SECURITY: unknown users cost one full verification too, so timing does not reveal
        // which e-mail addresses have accounts.
        let (target, real) = match hash {
            Some(h) => (h, true),
            None => (self.dummy.as_str().to_owned(), false),
        };
        let matched = self
            .on_pool(move || verify_now(&params, &password, &target))
            .await?;
        Ok(matched && real)
    }

    async fn on_pool<T: Send + 'static>(
        &self,
        work: impl FnOnce() -> T + Send + 'static,
    ) -> Result<T, HashError> {
        use std::sync::atomic::Ordering;
        // Admission control: beyond `capacity` the request is refused at once, so a flood cannot
        // queue unbounded work or memory.
        if self.in_flight.fetch_add(1, Ordering::SeqCst) >= self.capacity {
            self.in_flight.fetch_sub(1, Ordering::SeqCst);
            return Err(HashError::Busy);
        }
        let in_flight = Arc::clone(&self.in_flight);
        let _leave = scopeguard(move || {
            in_flight.fetch_sub(1, Ordering::SeqCst);
        });
        let permit = self
            .permits
            .clone()
            .acquire_owned()
            .await
            .map_err(|e| HashError::Failed(e.to_string()))?;
        tokio::task::spawn_blocking(move || {
            let out = work();
            drop(permit);
            out
        })
        .await
        .map_err(|e| HashError::Failed(e.to_string()))
    }
}

/// Runs `f` when dropped, also when the request future is cancelled mid-wait.
fn scopeguard(f: impl FnOnce()) -> impl Drop {
    struct Guard<F: FnOnce()>(Option<F>);
    impl<F: FnOnce()> Drop for Guard<F> {
        fn drop(&mut self) {
            if let Some(f) = self.0.take() {
                f();
            }
        }
    }
    Guard(Some(f))
}

fn argon(params: &Params) -> Argon2<'static> {
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params.clone())
}

fn hash_now(params: &Params, password: &str) -> Result<String, HashError> {
    let salt = crate::random::bytes::<16>().map_err(|e| HashError::Failed(e.to_string()))?;
    argon(params)
        .hash_password_with_salt(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| HashError::Failed(e.to_string()))
}

/// Verification uses the parameters stored in the hash itself, so raising them later keeps old
/// hashes valid. A malformed stored hash counts as a mismatch.
fn verify_now(params: &Params, password: &str, hash: &str) -> bool {
    argon(params)
        .verify_password(password.as_bytes(), hash)
        .is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cheap() -> PasswordHasher {
        PasswordHasher::new(
            HashParams {
                memory_kib: 64,
                iterations: 1,
                parallelism: 1,
            },
            2,
        )
        .unwrap()
    }

    #[tokio::test]
    async fn a_hash_verifies_its_password_and_nothing_else() {
        let h = cheap();
        let hash = h.hash("correct horse".into()).await.unwrap();
        assert!(hash.starts_with("$argon2id$v=19$m=64,t=1,p=1$"), "{hash}");
        assert!(
            h.verify("correct horse".into(), Some(hash.clone()))
                .await
                .unwrap()
        );
        assert!(!h.verify("wrong horse".into(), Some(hash)).await.unwrap());
        assert!(!h.verify("correct horse".into(), None).await.unwrap());
        assert!(
            !h.verify("x".into(), Some("not a hash".into()))
                .await
                .unwrap()
        );
    }

    #[test]
    fn the_default_parameters_are_owasps() {
        let d = HashParams::default();
        assert_eq!((d.memory_kib, d.iterations, d.parallelism), (19_456, 2, 1));
    }

    #[tokio::test]
    async fn beyond_the_queue_bound_hashing_is_refused_as_busy() {
        let h = PasswordHasher::new(
            HashParams {
                memory_kib: 64,
                iterations: 1,
                parallelism: 1,
            },
            1,
        )
        .unwrap();
        h.in_flight
            .store(h.capacity, std::sync::atomic::Ordering::SeqCst);
        assert!(matches!(h.hash("pw".into()).await, Err(HashError::Busy)));
        h.in_flight.store(0, std::sync::atomic::Ordering::SeqCst);
        assert!(h.hash("pw".into()).await.is_ok());
        assert_eq!(
            h.in_flight.load(std::sync::atomic::Ordering::SeqCst),
            0,
            "the slot is given back"
        );
    }
}
