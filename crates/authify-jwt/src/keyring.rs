//! The keyring: every key the server holds, which one signs, and what is published.
//!
//! Rule: every key is published (so tokens signed by a rotated-out key keep verifying until they
//! expire); the newest key of the configured algorithm signs.

use authify_domain::Algorithm;

use crate::jwk::{Jwk, JwkSet};
use crate::keys::{KeyError, PrivateKey, PublicKey};
use crate::sign::Signer;
use crate::verify::KeySet;

/// A private key with its id and creation time.
#[derive(Debug, Clone)]
pub struct KeyringEntry {
    /// The key id, also the file name in the keys directory.
    pub kid: String,
    /// The private key.
    pub key: PrivateKey,
    /// When the key was created, milliseconds since the epoch (fine enough that two keys made
    /// one after the other never tie).
    pub created_ms: i64,
}

/// What `authify keys list` and the admin console show of a key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeySummary {
    /// The key id.
    pub kid: String,
    /// Its algorithm.
    pub algorithm: Algorithm,
    /// Creation time, milliseconds since the epoch.
    pub created_ms: i64,
    /// Whether it signs new tokens.
    pub active: bool,
}

/// Why no keyring could be formed.
#[derive(Debug, thiserror::Error)]
pub enum KeyringError {
    /// There is no key for the configured algorithm.
    #[error("no {0} key: generate one with `authify keys generate --alg {0}`")]
    NoKeyFor(Algorithm),
    /// Preparing a key failed.
    #[error("key {kid}: {source}")]
    Key {
        /// The key.
        kid: String,
        /// What failed.
        source: KeyError,
    },
}

/// The active signer and every published public key.
#[derive(Debug)]
pub struct Keyring {
    signer: Signer,
    /// The newest key of each other algorithm, for applications that ask for one (OpenID
    /// Connect ID tokens are signed with the app's algorithm).
    others: Vec<Signer>,
    published: Vec<(String, PublicKey)>,
    summaries: Vec<KeySummary>,
    /// The published keys prepared once for verification.
    verify: KeySet,
}

impl Keyring {
    /// Picks the newest key of `algorithm` to sign (ties broken by kid, so the choice never
    /// depends on directory order) and publishes all of them.
    pub fn new(entries: &[KeyringEntry], algorithm: Algorithm) -> Result<Self, KeyringError> {
        let active = entries
            .iter()
            .filter(|e| e.key.algorithm() == algorithm)
            .max_by(|a, b| (a.created_ms, &a.kid).cmp(&(b.created_ms, &b.kid)))
            .ok_or(KeyringError::NoKeyFor(algorithm))?;
        let signer =
            Signer::new(active.kid.clone(), &active.key).map_err(|source| KeyringError::Key {
                kid: active.kid.clone(),
                source,
            })?;
        let mut others = Vec::new();
        for alg in Algorithm::ALL.into_iter().filter(|a| *a != algorithm) {
            let newest = entries
                .iter()
                .filter(|e| e.key.algorithm() == alg)
                .max_by(|a, b| (a.created_ms, &a.kid).cmp(&(b.created_ms, &b.kid)));
            if let Some(e) = newest {
                others.push(Signer::new(e.kid.clone(), &e.key).map_err(|source| {
                    KeyringError::Key {
                        kid: e.kid.clone(),
                        source,
                    }
                })?);
            }
        }
        let mut sorted: Vec<&KeyringEntry> = entries.iter().collect();
        sorted.sort_by(|a, b| (b.created_ms, &b.kid).cmp(&(a.created_ms, &a.kid)));
        Ok(Keyring {
            verify: KeySet::new(),
            published: sorted
                .iter()
                .map(|e| (e.kid.clone(), e.key.public_key()))
                .collect(),
            summaries: sorted
                .iter()
                .map(|e| KeySummary {
                    kid: e.kid.clone(),
                    algorithm: e.key.algorithm(),
                    created_ms: e.created_ms,
                    active: e.kid == active.kid,
                })
                .collect(),
            signer,
            others,
        }
        .with_verify_keys())
    }

    /// Also publishes `pending` keys (made, not signing yet: pre-published so caches of the
    /// JWKS know them before any token carries their kid). Newest first, like the rest.
    pub fn with_pending(mut self, pending: &[KeyringEntry]) -> Self {
        for e in pending {
            self.published.push((e.kid.clone(), e.key.public_key()));
            self.summaries.push(KeySummary {
                kid: e.kid.clone(),
                algorithm: e.key.algorithm(),
                created_ms: e.created_ms,
                active: false,
            });
        }
        let mut order: Vec<usize> = (0..self.published.len()).collect();
        order.sort_by(|&a, &b| {
            let (sa, sb) = (&self.summaries[a], &self.summaries[b]);
            (sb.created_ms, &sb.kid).cmp(&(sa.created_ms, &sa.kid))
        });
        self.published = order.iter().map(|&i| self.published[i].clone()).collect();
        self.summaries = order.iter().map(|&i| self.summaries[i].clone()).collect();
        self.with_verify_keys()
    }

    /// The signer for `algorithm`: the active key when it matches, else the newest key of that
    /// algorithm, if the server holds one.
    pub fn signer_for(&self, algorithm: Algorithm) -> Option<&Signer> {
        if self.signer.algorithm() == algorithm {
            return Some(&self.signer);
        }
        self.others.iter().find(|s| s.algorithm() == algorithm)
    }

    /// The algorithms this keyring can sign with, active first.
    pub fn algorithms(&self) -> Vec<Algorithm> {
        std::iter::once(self.signer.algorithm())
            .chain(self.others.iter().map(Signer::algorithm))
            .collect()
    }

    /// The key that signs new tokens.
    pub fn signer(&self) -> &Signer {
        &self.signer
    }

    /// Every key, newest first.
    pub fn summaries(&self) -> &[KeySummary] {
        &self.summaries
    }

    /// The JWKS of every published key, newest first.
    pub fn jwks(&self) -> JwkSet {
        JwkSet {
            keys: self
                .published
                .iter()
                .map(|(kid, key)| Jwk::from_public_key(key, kid))
                .collect(),
        }
    }

    fn with_verify_keys(mut self) -> Self {
        self.verify = self.key_set();
        self
    }

    /// The published keys as a verification set (for tokens this server must check itself),
    /// prepared once with the keyring: checking a token parses no key.
    pub fn verify_keys(&self) -> &KeySet {
        &self.verify
    }

    /// A fresh verification set of the published keys.
    pub fn key_set(&self) -> KeySet {
        let mut set = KeySet::new();
        for (kid, key) in &self.published {
            set.insert(Some(kid.clone()), key.clone());
        }
        set
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(kid: &str, alg: Algorithm, created_ms: i64) -> KeyringEntry {
        KeyringEntry {
            kid: kid.into(),
            key: PrivateKey::generate(alg).unwrap(),
            created_ms,
        }
    }

    #[test]
    fn the_newest_key_of_the_configured_algorithm_signs_and_all_are_published() {
        let entries = vec![
            entry("old512", Algorithm::ES512, 100),
            entry("new256", Algorithm::ES256, 300),
            entry("new512", Algorithm::ES512, 200),
        ];
        let ring = Keyring::new(&entries, Algorithm::ES512).unwrap();
        assert_eq!(ring.signer().kid(), "new512");
        assert_eq!(ring.signer_for(Algorithm::ES256).unwrap().kid(), "new256");
        assert!(ring.signer_for(Algorithm::ES384).is_none());
        let kids: Vec<_> = ring.jwks().keys.into_iter().filter_map(|k| k.kid).collect();
        assert_eq!(kids, ["new256", "new512", "old512"]);
        let active: Vec<_> = ring
            .summaries()
            .iter()
            .filter(|s| s.active)
            .map(|s| s.kid.as_str())
            .collect();
        assert_eq!(active, ["new512"]);
        assert_eq!(ring.key_set().len(), 3);
    }

    #[test]
    fn no_key_for_the_algorithm_is_an_error_naming_it() {
        let entries = vec![entry("a", Algorithm::ES256, 1)];
        let err = Keyring::new(&entries, Algorithm::ES384).unwrap_err();
        assert!(err.to_string().contains("ES384"));
    }
}
