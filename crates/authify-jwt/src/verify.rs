//! Verification of a compact JWS and its claims, with everything explicit: the algorithms
//! allowed, the keys trusted, the issuer and audience expected, the clock and its leeway.
//!
//! Nothing in the token chooses how it is checked: the header's `alg` must be on the caller's
//! allow-list *and* equal the algorithm of the key its `kid` names.

use authify_domain::{Algorithm, Claims};
use p521::ecdsa::signature::Verifier as _;
use serde::Deserialize;

use crate::jwk::JwkSet;
use crate::keys::PublicKey;

/// Tokens longer than this are refused before any parsing (a cheap guard against abuse).
pub const MAX_TOKEN_LEN: usize = 16 * 1024;

/// Why a token was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum VerifyError {
    /// Not three base64url parts of JSON, or over [`MAX_TOKEN_LEN`].
    #[error("malformed token: {0}")]
    Malformed(&'static str),
    /// The header names an algorithm that is not on the allow-list (`none`, HS256, ...).
    #[error("algorithm {0:?} is not allowed")]
    AlgorithmNotAllowed(String),
    /// No trusted key has this `kid` (or, without a `kid`, none fits the algorithm).
    #[error("no trusted key with kid {0:?}")]
    UnknownKey(Option<String>),
    /// The signature does not verify.
    #[error("invalid signature")]
    BadSignature,
    /// `exp` is in the past (beyond the leeway).
    #[error("token expired")]
    Expired,
    /// `nbf` or `iat` is in the future (beyond the leeway).
    #[error("token not yet valid")]
    NotYetValid,
    /// `iss` is not the expected issuer.
    #[error("wrong issuer")]
    WrongIssuer,
    /// `aud` is not the expected audience.
    #[error("wrong audience")]
    WrongAudience,
    /// The payload is not an Authify claims object.
    #[error("claims are not valid: {0}")]
    InvalidClaims(String),
}

/// What a token must satisfy.
#[derive(Debug, Clone)]
pub struct Validation {
    /// Algorithms accepted. Only EC algorithms exist in [`Algorithm`], so `none` and HMAC never can be.
    pub algorithms: Vec<Algorithm>,
    /// Required `iss`.
    pub issuer: String,
    /// Required `aud`.
    pub audience: String,
    /// Clock skew tolerated on `exp`, `nbf` and `iat`, in seconds.
    pub leeway_secs: i64,
}

impl Validation {
    /// All three EC algorithms, 30 seconds of leeway.
    pub fn new(issuer: impl Into<String>, audience: impl Into<String>) -> Self {
        Validation {
            algorithms: Algorithm::ALL.to_vec(),
            issuer: issuer.into(),
            audience: audience.into(),
            leeway_secs: 30,
        }
    }
}

struct TrustedKey {
    kid: Option<String>,
    key: PublicKey,
    /// Prepared once for the jsonwebtoken backend (ES256/ES384).
    decoding: Option<jsonwebtoken::DecodingKey>,
}

/// The public keys a verifier trusts, each under its `kid`.
#[derive(Default)]
pub struct KeySet {
    keys: Vec<TrustedKey>,
}

impl std::fmt::Debug for KeySet {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list()
            .entries(self.keys.iter().map(|k| (&k.kid, k.key.algorithm())))
            .finish()
    }
}

impl KeySet {
    /// An empty set.
    pub fn new() -> Self {
        Self::default()
    }

    /// Trusts `key` under `kid` (`None` for a bare PEM key from `/jwt/key`).
    pub fn insert(&mut self, kid: Option<String>, key: PublicKey) {
        let decoding = match key.algorithm() {
            Algorithm::ES256 | Algorithm::ES384 => Some(jsonwebtoken::DecodingKey::from_ec_der(
                &key.to_sec1_uncompressed(),
            )),
            Algorithm::ES512 => None,
        };
        self.keys.push(TrustedKey { kid, key, decoding });
    }

    /// The usable keys of a JWKS. Keys of other types or uses are skipped, not fatal, so a set
    /// that also publishes, say, an RSA encryption key still works.
    pub fn from_jwks(jwks: &JwkSet) -> Self {
        let mut set = Self::new();
        for jwk in &jwks.keys {
            if let Ok(key) = jwk.to_public_key() {
                set.insert(jwk.kid.clone(), key);
            }
        }
        set
    }

    /// Number of keys.
    pub fn len(&self) -> usize {
        self.keys.len()
    }

    /// Whether the set holds no key.
    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }

    /// Whether a key with this id is trusted.
    pub fn contains_kid(&self, kid: &str) -> bool {
        self.keys.iter().any(|k| k.kid.as_deref() == Some(kid))
    }

    fn candidates<'a>(
        &'a self,
        kid: Option<&'a str>,
        alg: Algorithm,
    ) -> impl Iterator<Item = &'a TrustedKey> {
        self.keys.iter().filter(move |k| {
            // SECURITY: the key's own algorithm must equal the header's, so a token cannot
            // pick a weaker curve or a different key type than the key was published for.
            k.key.algorithm() == alg
                && match (kid, k.kid.as_deref()) {
                    (Some(wanted), Some(have)) => wanted == have,
                    // A token without kid (the original Authify's), or a key pinned from a bare
                    // PEM (`/jwt/key`): try every key of the algorithm.
                    _ => true,
                }
        })
    }
}

#[derive(Deserialize)]
struct RawHeader {
    alg: String,
    #[serde(default)]
    kid: Option<String>,
    #[serde(default)]
    typ: Option<String>,
    #[serde(default)]
    crit: Option<serde_json::Value>,
}

/// Checks `token`'s signature with `keys` and its claims against `validation` at `now`
/// (seconds since the epoch), returning the claims.
///
/// Order: shape, header (`alg` allow-list, RFC 7515 §4.1.11 `crit`), key lookup, signature
/// (RFC 7518 §3.4 fixed-size `r || s`), then claims (RFC 7519 §4.1: `exp`, `nbf`, `iat`, `iss`, `aud`).
pub fn verify(
    token: &str,
    keys: &KeySet,
    validation: &Validation,
    now: i64,
) -> Result<Claims, VerifyError> {
    let payload = verify_jws(token, keys, &validation.algorithms, "JWT")?;
    let claims: Claims =
        serde_json::from_slice(&payload).map_err(|e| VerifyError::InvalidClaims(e.to_string()))?;
    check_claims(&claims, validation, now)?;
    Ok(claims)
}

/// Checks the shape, header and signature of a compact JWS and returns its payload bytes; the
/// caller parses and checks the claims. `typ` is the header type required when one is present
/// (`JWT`; `at+jwt` for OAuth access tokens, RFC 9068 §2.1), compared case-insensitively.
pub fn verify_jws(
    token: &str,
    keys: &KeySet,
    algorithms: &[Algorithm],
    typ: &str,
) -> Result<Vec<u8>, VerifyError> {
    if token.len() > MAX_TOKEN_LEN {
        return Err(VerifyError::Malformed("token too long"));
    }
    let mut parts = token.split('.');
    let (Some(header_b64), Some(payload_b64), Some(signature_b64), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(VerifyError::Malformed("expected three dot-separated parts"));
    };
    let header_json =
        crate::unb64(header_b64).ok_or(VerifyError::Malformed("header is not base64url"))?;
    let header: RawHeader = serde_json::from_slice(&header_json)
        .map_err(|_| VerifyError::Malformed("header is not a JOSE header"))?;
    // SECURITY: the allow-list is the caller's; `none`, HS* and RS* cannot parse into Algorithm.
    let alg = header
        .alg
        .parse::<Algorithm>()
        .ok()
        .filter(|a| algorithms.contains(a))
        .ok_or_else(|| VerifyError::AlgorithmNotAllowed(header.alg.clone()))?;
    if header.crit.is_some() {
        return Err(VerifyError::Malformed(
            "unsupported critical header parameters",
        ));
    }
    // SECURITY: a token of one type is never accepted as another (an ID token is not an access
    // token, RFC 8725 §3.11).
    let typ_ok = match header.typ.as_deref() {
        Some(t) => t.eq_ignore_ascii_case(typ),
        None => typ == "JWT",
    };
    if !typ_ok {
        return Err(VerifyError::Malformed("unexpected typ"));
    }
    let signature =
        crate::unb64(signature_b64).ok_or(VerifyError::Malformed("signature is not base64url"))?;
    if signature.len() != 2 * alg.coordinate_len() {
        return Err(VerifyError::BadSignature);
    }
    let message = &token.as_bytes()[..header_b64.len() + 1 + payload_b64.len()];

    let mut candidates = keys.candidates(header.kid.as_deref(), alg).peekable();
    if candidates.peek().is_none() {
        return Err(VerifyError::UnknownKey(header.kid.clone()));
    }
    if !candidates.any(|k| signature_matches(k, alg, message, &signature, signature_b64)) {
        return Err(VerifyError::BadSignature);
    }
    crate::unb64(payload_b64).ok_or(VerifyError::Malformed("payload is not base64url"))
}

fn signature_matches(
    key: &TrustedKey,
    alg: Algorithm,
    message: &[u8],
    signature: &[u8],
    signature_b64: &str,
) -> bool {
    if !low_s(alg, signature) {
        return false;
    }
    match (&key.key, &key.decoding) {
        (PublicKey::P521(vk), _) => p521::ecdsa::Signature::from_slice(signature)
            .is_ok_and(|sig| vk.verify(message, &sig).is_ok()),
        (_, Some(decoding)) => {
            let jalg = match alg {
                Algorithm::ES256 => jsonwebtoken::Algorithm::ES256,
                _ => jsonwebtoken::Algorithm::ES384,
            };
            jsonwebtoken::crypto::verify(signature_b64, message, decoding, jalg).unwrap_or(false)
        }
        (_, None) => false,
    }
}

/// Whether the signature's `s` is in the lower half of the group order (what Authify signs).
// SECURITY: refuses the malleated twin (`n − s`) of a valid signature: one string per token.
pub(crate) fn low_s(alg: Algorithm, signature: &[u8]) -> bool {
    match alg {
        Algorithm::ES256 => {
            p256::ecdsa::Signature::from_slice(signature).is_ok_and(|s| s.normalize_s() == s)
        }
        Algorithm::ES384 => {
            p384::ecdsa::Signature::from_slice(signature).is_ok_and(|s| s.normalize_s() == s)
        }
        Algorithm::ES512 => {
            p521::ecdsa::Signature::from_slice(signature).is_ok_and(|s| s.normalize_s() == s)
        }
    }
}

// SECURITY: every registered claim is checked explicitly; issuer and audience are exact matches.
fn check_claims(claims: &Claims, v: &Validation, now: i64) -> Result<(), VerifyError> {
    if claims.exp <= now - v.leeway_secs {
        return Err(VerifyError::Expired);
    }
    if claims.nbf > now + v.leeway_secs || claims.iat > now + v.leeway_secs {
        return Err(VerifyError::NotYetValid);
    }
    if claims.iss != v.issuer {
        return Err(VerifyError::WrongIssuer);
    }
    if claims.aud != v.audience {
        return Err(VerifyError::WrongAudience);
    }
    Ok(())
}

#[cfg(test)]
mod tests;
