//! Password hashing: argon2id with OWASP's parameters by default, run on `concurrency` threads of
//! its own behind a semaphore, so a burst of sign-ins uses at most `concurrency` cores and
//! `concurrency × memory` of RAM, and queues (up to a bound) instead of starving other requests.
//! The threads run at the lowest OS priority (nice 19 on Linux): while they saturate the CPU, the
//! web workers still answer at once (docs/performance.md "JWKS under hash saturation").
//!
//! The 19 MiB of argon2 memory per hash comes from a small pool of buffers: reused while sign-ins
//! keep coming (no allocation or page faults per hash) and dropped when the last hash in flight
//! finishes, so an idle server gives the memory back (docs/performance.md: allocating it per hash
//! grew the process to 3 GiB under glibc).

use std::sync::Arc;

use std::sync::Mutex;

use argon2::password_hash::phc::PasswordHash;
use argon2::{ARGON2ID_IDENT, Algorithm, Argon2, Block, Params, Version};
use subtle::ConstantTimeEq as _;
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
    /// Hashes running at once.
    concurrency: usize,
    in_flight: Arc<std::sync::atomic::AtomicUsize>,
    /// A hash of a random password with the same parameters, verified for unknown users so they
    /// cost the same time as known ones. Made on a thread of its own at start-up (one argon2
    /// hash, about 40 ms), so the server is ready without waiting for it.
    dummy: Arc<std::sync::OnceLock<String>>,
    /// Idle argon2 memory buffers, at most `concurrency` of them.
    buffers: Arc<Mutex<Vec<Vec<Block>>>>,
    /// The hashing threads' queue (a held permit guarantees an idle thread).
    jobs: std::sync::mpsc::Sender<Job>,
}

/// Work for a hashing thread.
type Job = Box<dyn FnOnce() + Send>;

/// Starts `n` hashing threads at the lowest priority; they end when the last sender is dropped.
fn hashing_threads(n: usize) -> Result<std::sync::mpsc::Sender<Job>, HashError> {
    let (tx, rx) = std::sync::mpsc::channel::<Job>();
    let rx = Arc::new(Mutex::new(rx));
    for i in 0..n {
        let rx = Arc::clone(&rx);
        std::thread::Builder::new()
            .name(format!("authify-hash-{i}"))
            .spawn(move || {
                // Lowering one's own priority needs no privilege; failing to is harmless.
                if let Err(e) = thread_priority::set_current_thread_priority(
                    thread_priority::ThreadPriority::Min,
                ) {
                    tracing::warn!(error = %e, "hashing thread keeps the normal priority");
                }
                loop {
                    let job = match rx.lock() {
                        Ok(guard) => guard.recv(),
                        Err(poisoned) => poisoned.into_inner().recv(),
                    };
                    match job {
                        Ok(job) => job(),
                        Err(_) => break,
                    }
                }
            })
            .map_err(|e| HashError::Failed(e.to_string()))?;
    }
    Ok(tx)
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
        let hasher = PasswordHasher {
            params,
            permits: Arc::new(Semaphore::new(concurrency)),
            capacity: concurrency * 65,
            concurrency,
            in_flight: Arc::default(),
            dummy: Arc::default(),
            buffers: Arc::default(),
            jobs: hashing_threads(concurrency)?,
        };
        let random = crate::random::token::<24>().map_err(|e| HashError::Failed(e.to_string()))?;
        let (params, dummy) = (hasher.params.clone(), Arc::clone(&hasher.dummy));
        std::thread::Builder::new()
            .name("authify-dummy-hash".into())
            .spawn(move || {
                // At the lowest priority, like the hashing threads: at start-up it would otherwise
                // take a core from the template parsing and the database (docs/performance.md).
                let _ = thread_priority::set_current_thread_priority(
                    thread_priority::ThreadPriority::Min,
                );
                let mut memory = Vec::new();
                let hash = hash_now(&params, &random, &mut memory).unwrap_or_else(|e| {
                    // Cannot happen with parameters `Params::new` accepted; an unparsable
                    // dummy makes unknown-user checks fail loudly rather than answer quickly.
                    tracing::error!(error = %e, "dummy password hash failed");
                    String::new()
                });
                let _ = dummy.set(hash);
            })
            .map_err(|e| HashError::Failed(e.to_string()))?;
        Ok(hasher)
    }

    /// Hashes running and hashes waiting for a thread, now (for metrics).
    pub fn load(&self) -> (usize, usize) {
        use std::sync::atomic::Ordering;
        let admitted = self.in_flight.load(Ordering::SeqCst);
        let running = self
            .concurrency
            .saturating_sub(self.permits.available_permits());
        (running, admitted.saturating_sub(running))
    }

    /// The PHC string of `password`.
    pub async fn hash(&self, password: String) -> Result<String, HashError> {
        let params = self.params.clone();
        self.on_pool(move |memory| hash_now(&params, &password, memory))
            .await?
    }

    /// Whether `password` matches `hash`. With `None` (no such user) the dummy hash is checked
    /// instead and the answer is `false`: the same work either way.
    pub async fn verify(&self, password: String, hash: Option<String>) -> Result<bool, HashError> {
        // SECURITY: unknown users cost one full verification too, so timing does not reveal
        // which e-mail addresses have accounts.
        let real = hash.is_some();
        let dummy = Arc::clone(&self.dummy);
        let matched = self
            .on_pool(move |memory| match hash {
                Some(target) => verify_now(&password, &target, memory),
                // Waits (on the hashing thread) only in the first moments after start-up.
                None => verify_now(&password, dummy.wait(), memory),
            })
            .await?;
        Ok(matched && real)
    }

    async fn on_pool<T: Send + 'static>(
        &self,
        work: impl FnOnce(&mut Vec<Block>) -> T + Send + 'static,
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
        let (buffers, in_flight) = (Arc::clone(&self.buffers), Arc::clone(&self.in_flight));
        let (done, result) = tokio::sync::oneshot::channel();
        let job: Job = Box::new(move || {
            let mut memory = lock(&buffers).pop().unwrap_or_default();
            let out = work(&mut memory);
            let mut idle = lock(&buffers);
            // The last hash in flight drops every buffer; otherwise the next one reuses this.
            if in_flight.load(Ordering::SeqCst) <= 1 {
                idle.clear();
            } else {
                idle.push(memory);
            }
            drop(idle);
            drop(permit);
            let _ = done.send(out);
        });
        self.jobs
            .send(job)
            .map_err(|_| HashError::Failed("the hashing threads have stopped".into()))?;
        result
            .await
            .map_err(|_| HashError::Failed("a hashing thread failed".into()))
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

fn lock(buffers: &Mutex<Vec<Vec<Block>>>) -> std::sync::MutexGuard<'_, Vec<Vec<Block>>> {
    // A panic while holding the lock leaves a valid Vec of buffers.
    buffers
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// `memory` resized to the `m_cost` blocks argon2 needs (a no-op when reused at the same size).
fn sized(memory: &mut Vec<Block>, params: &Params) -> usize {
    let blocks = params.m_cost() as usize;
    memory.resize(blocks, Block::default());
    blocks
}

fn hash_now(params: &Params, password: &str, memory: &mut Vec<Block>) -> Result<String, HashError> {
    let fail = |e: &dyn std::fmt::Display| HashError::Failed(e.to_string());
    let salt = crate::random::bytes::<16>().map_err(|e| fail(&e))?;
    let mut out = [0u8; 32];
    sized(memory, params);
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params.clone())
        .hash_password_into_with_memory(password.as_bytes(), &salt, &mut out, &mut memory[..])
        .map_err(|e| fail(&e))?;
    let phc = PasswordHash {
        algorithm: ARGON2ID_IDENT,
        version: Some(Version::V0x13.into()),
        params: params
            .try_into()
            .map_err(|e: argon2::password_hash::Error| fail(&e))?,
        salt: Some(
            salt[..]
                .try_into()
                .map_err(|e: argon2::password_hash::phc::Error| fail(&e))?,
        ),
        hash: Some(
            out[..]
                .try_into()
                .map_err(|e: argon2::password_hash::phc::Error| fail(&e))?,
        ),
    };
    Ok(phc.to_string())
}

/// Recomputes the hash with the parameters stored in it (so raising them later keeps old hashes
/// valid) and compares in constant time. A malformed or non-argon2id hash is a mismatch.
fn verify_now(password: &str, stored: &str, memory: &mut Vec<Block>) -> bool {
    let Ok(hash) = PasswordHash::new(stored) else {
        return false;
    };
    let (Some(salt), Some(expected)) = (&hash.salt, &hash.hash) else {
        return false;
    };
    let Ok(params) = Params::try_from(&hash) else {
        return false;
    };
    let version = hash.version.map_or(Ok(Version::V0x13), Version::try_from);
    let (true, Ok(version)) = (hash.algorithm == ARGON2ID_IDENT, version) else {
        return false;
    };
    let mut out = vec![0u8; expected.len()];
    sized(memory, &params);
    let computed = Argon2::new(Algorithm::Argon2id, version, params)
        .hash_password_into_with_memory(
            password.as_bytes(),
            salt.as_ref(),
            &mut out,
            &mut memory[..],
        );
    // SECURITY: constant-time comparison of the derived key.
    computed.is_ok() && bool::from(out.as_slice().ct_eq(expected.as_bytes()))
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

    #[tokio::test]
    async fn hashes_are_standard_phc_strings_in_both_directions() {
        use argon2::{PasswordHasher as _, PasswordVerifier as _};
        let h = cheap();
        let ours = h.hash("pw-12345678".into()).await.unwrap();
        let standard = Argon2::new(Algorithm::Argon2id, Version::V0x13, h.params.clone());
        assert!(
            standard
                .verify_password(b"pw-12345678", ours.as_str())
                .is_ok(),
            "argon2 accepts our hash"
        );
        let theirs = standard
            .hash_password_with_salt(b"pw-12345678", b"0123456789abcdef")
            .unwrap()
            .to_string();
        assert!(
            h.verify("pw-12345678".into(), Some(theirs.clone()))
                .await
                .unwrap(),
            "we accept argon2's"
        );
        assert!(!h.verify("pw-12345679".into(), Some(theirs)).await.unwrap());
        let argon2i = ours.replacen("argon2id", "argon2i", 1);
        assert!(
            !h.verify("pw-12345678".into(), Some(argon2i)).await.unwrap(),
            "only argon2id"
        );
    }

    #[tokio::test]
    async fn idle_hashers_hold_no_argon2_memory() {
        let h = cheap();
        for _ in 0..3 {
            h.hash("pw".into()).await.unwrap();
        }
        assert!(
            lock(&h.buffers).is_empty(),
            "buffers are released when no hash is in flight"
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
