//! Signing: one [`Signer`] type for ES256, ES384 and ES512, and the [`TokenIssuer`] that turns
//! a user into a full set of claims.
//!
//! ES256 and ES384 sign with aws-lc-rs, the backend jsonwebtoken uses, but through a key pair parsed
//! once: jsonwebtoken's `crypto::sign` re-parses the PKCS#8 key on every call, which doubled the
//! cost of a token (docs/performance.md). ES512 signs with p521 because jsonwebtoken has no ES512
//! (docs/TECH-NOTES.md §1). All produce the fixed-size `r || s` signature of RFC 7518 §3.4.

use std::fmt;

use authify_domain::{Algorithm, Claims, UserClaim};
use p521::ecdsa::signature::Signer as _;
use serde::Serialize;

use crate::keys::{KeyError, PrivateKey, PublicKey};

/// Signing failed. Never caused by user input.
#[derive(Debug, thiserror::Error)]
pub enum SignError {
    /// The claims could not be serialized.
    #[error("could not serialize the claims: {0}")]
    Json(#[from] serde_json::Error),
    /// The crypto backend refused.
    #[error("signing failed: {0}")]
    Crypto(String),
}

enum Backend {
    AwsLc(
        aws_lc_rs::signature::EcdsaKeyPair,
        aws_lc_rs::rand::SystemRandom,
    ),
    P521(p521::ecdsa::SigningKey),
}

/// A private key ready to sign compact JWS tokens under its `kid`.
pub struct Signer {
    kid: String,
    algorithm: Algorithm,
    public: PublicKey,
    /// base64url of `{"alg":..,"typ":"JWT","kid":..}`, computed once.
    header_b64: String,
    backend: Backend,
}

// SECURITY: the key material stays out of Debug output and so out of logs.
impl fmt::Debug for Signer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Signer")
            .field("kid", &self.kid)
            .field("algorithm", &self.algorithm)
            .finish()
    }
}

#[derive(Serialize)]
struct Header<'a> {
    alg: &'static str,
    typ: &'static str,
    kid: &'a str,
}

impl Signer {
    /// Prepares `key` for signing under `kid`.
    pub fn new(kid: impl Into<String>, key: &PrivateKey) -> Result<Self, KeyError> {
        let kid = kid.into();
        let algorithm = key.algorithm();
        let header = Header {
            alg: algorithm.as_str(),
            typ: "JWT",
            kid: &kid,
        };
        let header_json =
            serde_json::to_vec(&header).map_err(|e| KeyError::Encode(e.to_string()))?;
        let backend = match key {
            PrivateKey::P521(k) => Backend::P521(k.clone()),
            PrivateKey::P256(_) | PrivateKey::P384(_) => {
                use aws_lc_rs::signature::{
                    ECDSA_P256_SHA256_FIXED_SIGNING, ECDSA_P384_SHA384_FIXED_SIGNING, EcdsaKeyPair,
                };
                let der = key.to_pkcs8_der()?;
                let alg = match algorithm {
                    Algorithm::ES256 => &ECDSA_P256_SHA256_FIXED_SIGNING,
                    _ => &ECDSA_P384_SHA384_FIXED_SIGNING,
                };
                let pair = EcdsaKeyPair::from_pkcs8(alg, der.as_bytes())
                    .map_err(|e| KeyError::Encode(e.to_string()))?;
                Backend::AwsLc(pair, aws_lc_rs::rand::SystemRandom::new())
            }
        };
        Ok(Signer {
            header_b64: crate::b64(header_json),
            public: key.public_key(),
            kid,
            algorithm,
            backend,
        })
    }

    /// The key id placed in every header.
    pub fn kid(&self) -> &str {
        &self.kid
    }

    /// The algorithm this signer uses.
    pub fn algorithm(&self) -> Algorithm {
        self.algorithm
    }

    /// The public half, for publishing.
    pub fn public_key(&self) -> &PublicKey {
        &self.public
    }

    /// Signs `payload` (any serializable claims) into a compact JWS (RFC 7515 §7.1).
    pub fn sign<T: Serialize>(&self, payload: &T) -> Result<String, SignError> {
        self.sign_with_header(&self.header_b64, payload)
    }

    /// Signs `payload` with header type `typ` (`at+jwt` for access tokens, RFC 9068 §2.1;
    /// `logout+jwt` for logout tokens, OpenID Back-Channel Logout §2.4).
    pub fn sign_typed<T: Serialize>(
        &self,
        typ: &'static str,
        payload: &T,
    ) -> Result<String, SignError> {
        let header = Header {
            alg: self.algorithm.as_str(),
            typ,
            kid: &self.kid,
        };
        let header_b64 = crate::b64(serde_json::to_vec(&header)?);
        self.sign_with_header(&header_b64, payload)
    }

    fn sign_with_header<T: Serialize>(
        &self,
        header_b64: &str,
        payload: &T,
    ) -> Result<String, SignError> {
        let mut token = String::with_capacity(512);
        token.push_str(header_b64);
        token.push('.');
        token.push_str(&crate::b64(serde_json::to_vec(payload)?));
        let signature = match &self.backend {
            Backend::AwsLc(pair, rng) => {
                let sig = pair
                    .sign(rng, token.as_bytes())
                    .map_err(|e| SignError::Crypto(e.to_string()))?;
                crate::b64(low_s(self.algorithm, sig.as_ref())?)
            }
            Backend::P521(key) => {
                let sig: p521::ecdsa::Signature = key
                    .try_sign(token.as_bytes())
                    .map_err(|e| SignError::Crypto(e.to_string()))?;
                crate::b64(sig.normalize_s().to_bytes())
            }
        };
        token.push('.');
        token.push_str(&signature);
        SIGNED[self.algorithm as usize].fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        Ok(token)
    }
}

/// Tokens signed by this process, per algorithm (in `Algorithm::ALL` order): read by the
/// server's metrics.
static SIGNED: [std::sync::atomic::AtomicU64; 3] =
    [const { std::sync::atomic::AtomicU64::new(0) }; 3];

/// How many tokens this process has signed with `alg`.
pub fn signed_total(alg: Algorithm) -> u64 {
    SIGNED[alg as usize].load(std::sync::atomic::Ordering::Relaxed)
}

/// The signature with `s` in the lower half of the group order (`s` and `n − s` both verify
/// under ECDSA).
// SECURITY: one valid string per token: a deny-list or cache keyed by the token string cannot be
// bypassed with the other form, and our verifiers refuse high `s` (`verify::low_s`).
fn low_s(alg: Algorithm, sig: &[u8]) -> Result<Vec<u8>, SignError> {
    let bad = |e: p256::ecdsa::Error| SignError::Crypto(e.to_string());
    Ok(match alg {
        Algorithm::ES256 => p256::ecdsa::Signature::from_slice(sig)
            .map_err(bad)?
            .normalize_s()
            .to_bytes()
            .to_vec(),
        Algorithm::ES384 => p384::ecdsa::Signature::from_slice(sig)
            .map_err(bad)?
            .normalize_s()
            .to_bytes()
            .to_vec(),
        Algorithm::ES512 => p521::ecdsa::Signature::from_slice(sig)
            .map_err(bad)?
            .normalize_s()
            .to_bytes()
            .to_vec(),
    })
}

/// Who a token is about: everything in the claims that comes from the user's records.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenSubject {
    /// Stable user id, used for both `sub` and `user.uid`.
    pub sub: String,
    /// The `user` claim.
    pub user: UserClaim,
    /// The `scopes` claim.
    pub scopes: Vec<String>,
}

/// Fills in issuer, audience and lifetimes, then signs. Time and randomness are inputs.
#[derive(Debug, Clone)]
pub struct TokenIssuer {
    issuer: String,
    lifetime_secs: i64,
}

impl TokenIssuer {
    /// Tokens from this issuer carry `iss = issuer` and live `lifetime_minutes`.
    pub fn new(issuer: impl Into<String>, lifetime_minutes: u32) -> Self {
        TokenIssuer {
            issuer: issuer.into(),
            lifetime_secs: i64::from(lifetime_minutes) * 60,
        }
    }

    /// The `iss` value.
    pub fn issuer(&self) -> &str {
        &self.issuer
    }

    /// The claims for `subject`, issued to `audience` at `now` (seconds since the epoch), with
    /// `jti` from 128 random bits the caller drew.
    pub fn claims(&self, subject: TokenSubject, audience: &str, now: i64, jti: [u8; 16]) -> Claims {
        Claims {
            iss: self.issuer.clone(),
            sub: subject.sub,
            aud: audience.to_owned(),
            iat: now,
            nbf: now,
            exp: now + self.lifetime_secs,
            jti: crate::b64(jti),
            scopes: subject.scopes,
            user: subject.user,
            api_key: None,
            sid: None,
            amr: None,
        }
    }

    /// Builds the claims and signs them with `signer`.
    pub fn issue(
        &self,
        signer: &Signer,
        subject: TokenSubject,
        audience: &str,
        now: i64,
        jti: [u8; 16],
    ) -> Result<(String, Claims), SignError> {
        let claims = self.claims(subject, audience, now, jti);
        Ok((signer.sign(&claims)?, claims))
    }
}
