//! EC key pairs for the three JWS algorithms.
//!
//! Private keys are read from PKCS#8 PEM (`BEGIN PRIVATE KEY`, what `authify keys generate` writes)
//! or, for keys made for the original Authify with `openssl ecparam -genkey`, SEC1 PEM
//! (`BEGIN EC PRIVATE KEY`). The curve is read from the key itself, never guessed from a name.

use std::fmt;

use authify_domain::Algorithm;
use p256::elliptic_curve::Generate as _;
use p256::pkcs8::der::SecretDocument;
use p256::pkcs8::{
    AssociatedOid as _, DecodePrivateKey as _, DecodePublicKey as _, EncodePrivateKey as _,
    EncodePublicKey as _, LineEnding, ObjectIdentifier, PrivateKeyInfoRef,
};
use sha2::{Digest as _, Sha256};

/// Why a key could not be read, generated or written. Messages never include key material.
#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    /// The text is not PEM, or not a private key block.
    #[error(
        "not a PEM private key (expected a `BEGIN PRIVATE KEY` or `BEGIN EC PRIVATE KEY` block)"
    )]
    NotPem,
    /// The text is not PEM, or not a public key block.
    #[error("not a PEM public key (expected a `BEGIN PUBLIC KEY` block)")]
    NotPublicPem,
    /// The PEM block is there but its content does not decode.
    #[error("damaged key file: {0}")]
    Damaged(String),
    /// A key of some other kind (RSA, Ed25519, secp256k1, ...).
    #[error("not an elliptic-curve key on P-256, P-384 or P-521 ({0})")]
    UnsupportedKey(String),
    /// The structure is damaged.
    #[error("corrupt {curve} key: {reason}")]
    Corrupt {
        /// The curve the key claims to be on.
        curve: &'static str,
        /// What the decoder said.
        reason: String,
    },
    /// A JWK that does not describe a usable public key.
    #[error("invalid JWK: {0}")]
    InvalidJwk(String),
    /// The operating system's random source failed.
    #[error("no randomness available from the operating system: {0}")]
    Random(String),
    /// Encoding a key failed (should not happen for valid keys).
    #[error("could not encode the key: {0}")]
    Encode(String),
}

/// A private signing key on one of the three curves. `Debug` shows the curve only.
#[derive(Clone)]
pub enum PrivateKey {
    /// For ES256.
    P256(p256::ecdsa::SigningKey),
    /// For ES384.
    P384(p384::ecdsa::SigningKey),
    /// For ES512.
    P521(p521::ecdsa::SigningKey),
}

// SECURITY: a private key must never reach logs, so Debug names the curve and nothing else.
impl fmt::Debug for PrivateKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PrivateKey({}, ..)", self.algorithm().curve())
    }
}

/// A public verification key on one of the three curves.
#[derive(Clone, PartialEq, Eq)]
pub enum PublicKey {
    /// For ES256.
    P256(p256::ecdsa::VerifyingKey),
    /// For ES384.
    P384(p384::ecdsa::VerifyingKey),
    /// For ES512.
    P521(p521::ecdsa::VerifyingKey),
}

impl fmt::Debug for PublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "PublicKey({}, {})",
            self.algorithm().curve(),
            self.thumbprint()
        )
    }
}

fn corrupt(alg: Algorithm) -> impl Fn(String) -> KeyError {
    move |reason| KeyError::Corrupt {
        curve: alg.curve(),
        reason,
    }
}

fn curve_of_oid(oid: ObjectIdentifier) -> Option<Algorithm> {
    if oid == p256::NistP256::OID {
        Some(Algorithm::ES256)
    } else if oid == p384::NistP384::OID {
        Some(Algorithm::ES384)
    } else if oid == p521::NistP521::OID {
        Some(Algorithm::ES512)
    } else {
        None
    }
}

const EC_PUBLIC_KEY_OID: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.2.1");

impl PrivateKey {
    /// A fresh key for `alg` from the operating system's CSPRNG.
    pub fn generate(alg: Algorithm) -> Result<Self, KeyError> {
        let random =
            |e: p256::elliptic_curve::common::getrandom::Error| KeyError::Random(e.to_string());
        Ok(match alg {
            Algorithm::ES256 => {
                Self::P256(p256::ecdsa::SigningKey::try_generate().map_err(random)?)
            }
            Algorithm::ES384 => {
                Self::P384(p384::ecdsa::SigningKey::try_generate().map_err(random)?)
            }
            Algorithm::ES512 => {
                Self::P521(p521::ecdsa::SigningKey::try_generate().map_err(random)?)
            }
        })
    }

    /// Reads a PKCS#8 or SEC1 PEM private key.
    pub fn from_pem(pem: &str) -> Result<Self, KeyError> {
        if let Some(start) = pem.find("-----BEGIN EC PRIVATE KEY-----") {
            // `openssl ecparam -genkey` writes an `EC PARAMETERS` block first; skip it.
            return Self::from_sec1_pem(&pem[start..]);
        }
        Self::from_pkcs8_pem(pem)
    }

    /// Reads a PKCS#8 PEM private key (RFC 5208 / RFC 5915 inside), detecting the curve.
    pub fn from_pkcs8_pem(pem: &str) -> Result<Self, KeyError> {
        if !pem.contains("-----BEGIN PRIVATE KEY-----") {
            return Err(KeyError::NotPem);
        }
        let (_, doc) =
            SecretDocument::from_pem(pem).map_err(|e| KeyError::Damaged(e.to_string()))?;
        let info = PrivateKeyInfoRef::try_from(doc.as_bytes())
            .map_err(|e| KeyError::UnsupportedKey(format!("not PKCS#8: {e}")))?;
        if info.algorithm.oid != EC_PUBLIC_KEY_OID {
            return Err(KeyError::UnsupportedKey(format!(
                "algorithm {}",
                info.algorithm.oid
            )));
        }
        let curve = info
            .algorithm
            .parameters_oid()
            .map_err(|e| KeyError::UnsupportedKey(format!("no named curve: {e}")))?;
        let alg = curve_of_oid(curve)
            .ok_or_else(|| KeyError::UnsupportedKey(format!("curve {curve}")))?;
        let bytes = doc.as_bytes();
        let bad = |e: p256::pkcs8::Error| corrupt(alg)(e.to_string());
        Ok(match alg {
            Algorithm::ES256 => {
                Self::P256(p256::ecdsa::SigningKey::from_pkcs8_der(bytes).map_err(bad)?)
            }
            Algorithm::ES384 => {
                Self::P384(p384::ecdsa::SigningKey::from_pkcs8_der(bytes).map_err(bad)?)
            }
            Algorithm::ES512 => {
                Self::P521(p521::ecdsa::SigningKey::from_pkcs8_der(bytes).map_err(bad)?)
            }
        })
    }

    /// Reads a SEC1 (`BEGIN EC PRIVATE KEY`) PEM key, as `openssl ecparam -genkey` writes.
    pub fn from_sec1_pem(pem: &str) -> Result<Self, KeyError> {
        if let Ok(k) = p256::SecretKey::from_sec1_pem(pem) {
            return Ok(Self::P256(k.into()));
        }
        if let Ok(k) = p384::SecretKey::from_sec1_pem(pem) {
            return Ok(Self::P384(k.into()));
        }
        if let Ok(k) = p521::SecretKey::from_sec1_pem(pem) {
            return Ok(Self::P521(k.into()));
        }
        Err(KeyError::UnsupportedKey(
            "SEC1 key that is not on P-256, P-384 or P-521, or is damaged".into(),
        ))
    }

    /// The algorithm this key signs for.
    pub fn algorithm(&self) -> Algorithm {
        match self {
            Self::P256(_) => Algorithm::ES256,
            Self::P384(_) => Algorithm::ES384,
            Self::P521(_) => Algorithm::ES512,
        }
    }

    /// PKCS#8 DER, zeroized on drop.
    pub fn to_pkcs8_der(&self) -> Result<SecretDocument, KeyError> {
        let enc = |e: p256::pkcs8::Error| KeyError::Encode(e.to_string());
        match self {
            Self::P256(k) => k.to_pkcs8_der().map_err(enc),
            Self::P384(k) => k.to_pkcs8_der().map_err(enc),
            Self::P521(k) => k.to_pkcs8_der().map_err(enc),
        }
    }

    /// PKCS#8 PEM, as written to the keys directory. Zeroized on drop.
    pub fn to_pkcs8_pem(&self) -> Result<p256::pkcs8::der::zeroize::Zeroizing<String>, KeyError> {
        self.to_pkcs8_der()?
            .to_pem("PRIVATE KEY", LineEnding::LF)
            .map_err(|e| KeyError::Encode(e.to_string()))
    }

    /// The matching public key.
    pub fn public_key(&self) -> PublicKey {
        match self {
            Self::P256(k) => PublicKey::P256(*k.verifying_key()),
            Self::P384(k) => PublicKey::P384(*k.verifying_key()),
            Self::P521(k) => PublicKey::P521(*k.verifying_key()),
        }
    }
}

impl PublicKey {
    /// The algorithm this key verifies.
    pub fn algorithm(&self) -> Algorithm {
        match self {
            Self::P256(_) => Algorithm::ES256,
            Self::P384(_) => Algorithm::ES384,
            Self::P521(_) => Algorithm::ES512,
        }
    }

    /// Reads a `BEGIN PUBLIC KEY` (SubjectPublicKeyInfo) PEM, detecting the curve.
    pub fn from_spki_pem(pem: &str) -> Result<Self, KeyError> {
        if !pem.contains("-----BEGIN PUBLIC KEY-----") {
            return Err(KeyError::NotPublicPem);
        }
        if let Ok(k) = p256::ecdsa::VerifyingKey::from_public_key_pem(pem) {
            return Ok(Self::P256(k));
        }
        if let Ok(k) = p384::ecdsa::VerifyingKey::from_public_key_pem(pem) {
            return Ok(Self::P384(k));
        }
        if let Ok(k) = p521::ecdsa::VerifyingKey::from_public_key_pem(pem) {
            return Ok(Self::P521(k));
        }
        Err(KeyError::UnsupportedKey(
            "public key that is not on P-256, P-384 or P-521, or is damaged".into(),
        ))
    }

    /// SubjectPublicKeyInfo PEM, what `/jwt/key` serves.
    pub fn to_spki_pem(&self) -> Result<String, KeyError> {
        let enc = |e: p256::pkcs8::spki::Error| KeyError::Encode(e.to_string());
        match self {
            Self::P256(k) => k.to_public_key_pem(LineEnding::LF).map_err(enc),
            Self::P384(k) => k.to_public_key_pem(LineEnding::LF).map_err(enc),
            Self::P521(k) => k.to_public_key_pem(LineEnding::LF).map_err(enc),
        }
    }

    /// The uncompressed SEC1 point `0x04 || x || y`.
    pub fn to_sec1_uncompressed(&self) -> Vec<u8> {
        match self {
            Self::P256(k) => k.to_sec1_point(false).as_bytes().to_vec(),
            Self::P384(k) => k.to_sec1_point(false).as_bytes().to_vec(),
            Self::P521(k) => k.to_sec1_point(false).as_bytes().to_vec(),
        }
    }

    /// The affine coordinates, each left-padded to the curve's fixed size (RFC 7518 §6.2.1.2).
    pub fn coordinates(&self) -> (Vec<u8>, Vec<u8>) {
        let point = self.to_sec1_uncompressed();
        let n = self.algorithm().coordinate_len();
        (point[1..1 + n].to_vec(), point[1 + n..].to_vec())
    }

    /// Builds a key from its affine coordinates, refusing points not on the curve.
    pub fn from_coordinates(alg: Algorithm, x: &[u8], y: &[u8]) -> Result<Self, KeyError> {
        let n = alg.coordinate_len();
        if x.len() != n || y.len() != n {
            return Err(KeyError::InvalidJwk(format!(
                "{} coordinates must be {n} bytes each",
                alg.curve()
            )));
        }
        let mut point = Vec::with_capacity(1 + 2 * n);
        point.push(0x04);
        point.extend_from_slice(x);
        point.extend_from_slice(y);
        let bad = |_| KeyError::InvalidJwk(format!("the point is not on {}", alg.curve()));
        Ok(match alg {
            Algorithm::ES256 => {
                Self::P256(p256::ecdsa::VerifyingKey::from_sec1_bytes(&point).map_err(bad)?)
            }
            Algorithm::ES384 => {
                Self::P384(p384::ecdsa::VerifyingKey::from_sec1_bytes(&point).map_err(bad)?)
            }
            Algorithm::ES512 => {
                Self::P521(p521::ecdsa::VerifyingKey::from_sec1_bytes(&point).map_err(bad)?)
            }
        })
    }

    /// The RFC 7638 JWK thumbprint (SHA-256 over the required members in lexicographic order),
    /// base64url-encoded.
    pub fn thumbprint(&self) -> String {
        let (x, y) = self.coordinates();
        let canonical = format!(
            r#"{{"crv":"{}","kty":"EC","x":"{}","y":"{}"}}"#,
            self.algorithm().curve(),
            crate::b64(x),
            crate::b64(y)
        );
        crate::b64(Sha256::digest(canonical.as_bytes()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_keys_survive_a_pkcs8_round_trip_on_every_curve() {
        for alg in Algorithm::ALL {
            let key = PrivateKey::generate(alg).unwrap();
            assert_eq!(key.algorithm(), alg);
            let pem = key.to_pkcs8_pem().unwrap();
            assert!(pem.starts_with("-----BEGIN PRIVATE KEY-----"));
            let back = PrivateKey::from_pem(&pem).unwrap();
            assert_eq!(back.public_key(), key.public_key());
            let spki = key.public_key().to_spki_pem().unwrap();
            assert_eq!(PublicKey::from_spki_pem(&spki).unwrap(), key.public_key());
            let (x, y) = key.public_key().coordinates();
            assert_eq!(
                (x.len(), y.len()),
                (alg.coordinate_len(), alg.coordinate_len())
            );
            assert_eq!(
                PublicKey::from_coordinates(alg, &x, &y).unwrap(),
                key.public_key()
            );
        }
    }

    #[test]
    fn garbage_and_damaged_keys_are_refused_with_a_reason() {
        assert!(matches!(
            PrivateKey::from_pem("hello"),
            Err(KeyError::NotPem)
        ));
        let key = PrivateKey::generate(Algorithm::ES256).unwrap();
        let pem = key.to_pkcs8_pem().unwrap();
        let damaged = pem.replacen("MI", "MX", 1);
        assert!(PrivateKey::from_pem(&damaged).is_err());
        let garbage = "-----BEGIN PRIVATE KEY-----\nTm90IGEga2V5\n-----END PRIVATE KEY-----\n";
        assert!(matches!(
            PrivateKey::from_pem(garbage),
            Err(KeyError::Damaged(_))
        ));
        let public = key.public_key().to_spki_pem().unwrap();
        assert!(matches!(
            PrivateKey::from_pem(&public),
            Err(KeyError::NotPem)
        ));
        assert!(matches!(
            PublicKey::from_spki_pem(&pem),
            Err(KeyError::NotPublicPem)
        ));
    }

    #[test]
    fn debug_output_never_shows_key_material() {
        let key = PrivateKey::generate(Algorithm::ES384).unwrap();
        let shown = format!("{key:?}");
        assert_eq!(shown, "PrivateKey(P-384, ..)");
    }

    #[test]
    fn thumbprint_matches_rfc_7638_for_a_known_p256_key() {
        // Key from RFC 7515 Appendix A.3 (ES256).
        let x = crate::unb64("f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU").unwrap();
        let y = crate::unb64("x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0").unwrap();
        let key = PublicKey::from_coordinates(Algorithm::ES256, &x, &y).unwrap();
        // Expected value computed with Python hashlib over the RFC 7638 canonical JSON.
        assert_eq!(
            key.thumbprint(),
            "oKIywvGUpTVTyxMQ3bwIIeQUudfr_CkLMjCE19ECD-U"
        );
    }
}
