//! Authify's token cryptography, shared by the server and by relying apps.
//!
//! - [`keys`]: EC key pairs for ES256/ES384/ES512: PEM in and out, generation, RFC 7638 thumbprints.
//! - [`jwk`]: JSON Web Keys and key sets (RFC 7517, RFC 7518 §6.2).
//! - [`sign`]: one [`Signer`] for the three algorithms (jsonwebtoken for ES256/ES384, p521 for
//!   ES512, which jsonwebtoken lacks) and the [`TokenIssuer`] that fills in the claims.
//! - [`keyring`]: which key signs, which are published.
//! - [`verify`]: explicit, allow-listed verification of a compact JWS and its claims.
#![cfg_attr(test, allow(clippy::unwrap_used, clippy::expect_used))]

pub mod jwk;
pub mod keyring;
pub mod keys;
pub mod sign;
pub mod verify;

pub use authify_domain::{Algorithm, Claims};
pub use jwk::{Jwk, JwkSet};
pub use keyring::{KeySummary, Keyring, KeyringEntry, KeyringError};
pub use keys::{KeyError, PrivateKey, PublicKey};
pub use sign::{SignError, Signer, TokenIssuer, TokenSubject, signed_total};
pub use verify::{KeySet, Validation, VerifyError, verify, verify_jws};

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

/// Base64url without padding, as JWS requires (RFC 7515 §2).
pub(crate) fn b64(bytes: impl AsRef<[u8]>) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

/// Strict inverse of [`b64`]: padding and the standard alphabet are refused.
pub(crate) fn unb64(text: &str) -> Option<Vec<u8>> {
    URL_SAFE_NO_PAD.decode(text).ok()
}
