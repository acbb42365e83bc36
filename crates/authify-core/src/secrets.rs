//! The server's one master key for secrets at rest (`AUTHIFY_MASTER_KEY`, or a key file made on
//! first start): AES-256-GCM sealing of TOTP secrets today, signing keys in the multi-instance
//! work. A stolen database alone yields no usable secret.

use aws_lc_rs::aead::{AES_256_GCM, Aad, LessSafeKey, NONCE_LEN, Nonce, UnboundKey};
use aws_lc_rs::{digest, hmac};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use std::sync::Arc;

/// Sealing failed, or a sealed value is damaged or was sealed under another key.
#[derive(Debug, thiserror::Error)]
pub enum SealError {
    /// The key is not 32 bytes of base64.
    #[error("the master key must be 32 bytes, base64-encoded ({0})")]
    BadKey(String),
    /// Opening failed: wrong key, wrong context, or damaged.
    #[error("a sealed secret could not be opened (wrong master key, or damaged)")]
    Open,
    /// Randomness or the cipher failed.
    #[error("sealing: {0}")]
    Seal(String),
}

/// AES-256-GCM under the master key, and an HMAC-SHA256 key derived from it. Cheap to clone.
/// `Debug` never shows either.
#[derive(Clone)]
pub struct MasterKey(Arc<(LessSafeKey, hmac::Key)>);

impl std::fmt::Debug for MasterKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("MasterKey(..)")
    }
}

impl MasterKey {
    /// The key from its 32 raw bytes.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, SealError> {
        if bytes.len() != 32 {
            return Err(SealError::BadKey(format!("{} bytes", bytes.len())));
        }
        let key = UnboundKey::new(&AES_256_GCM, bytes)
            .map_err(|_| SealError::BadKey("rejected by the cipher".into()))?;
        // A separate key for MACs: SHA-256 of a label and the master key (never the AES key itself).
        let mut ctx = digest::Context::new(&digest::SHA256);
        ctx.update(b"authify mac key v1\0");
        ctx.update(bytes);
        let mac = hmac::Key::new(hmac::HMAC_SHA256, ctx.finish().as_ref());
        Ok(MasterKey(Arc::new((LessSafeKey::new(key), mac))))
    }

    /// The key from its base64 form (`AUTHIFY_MASTER_KEY`, the key file).
    pub fn from_base64(text: &str) -> Result<Self, SealError> {
        let bytes = STANDARD
            .decode(text.trim())
            .map_err(|e| SealError::BadKey(e.to_string()))?;
        Self::from_bytes(&bytes)
    }

    /// A new random key, base64 (for the key file).
    pub fn generate() -> Result<String, SealError> {
        let bytes = crate::random::bytes::<32>().map_err(|e| SealError::Seal(e.to_string()))?;
        Ok(STANDARD.encode(bytes))
    }

    /// Seals `plain`, bound to `context` (the row it belongs to): a sealed value copied to
    /// another row does not open. Returns base64 of nonce ‖ ciphertext ‖ tag.
    // SECURITY: a fresh random 96-bit nonce per seal; few values are ever sealed under one key.
    pub fn seal(&self, plain: &[u8], context: &str) -> Result<String, SealError> {
        let nonce_bytes =
            crate::random::bytes::<NONCE_LEN>().map_err(|e| SealError::Seal(e.to_string()))?;
        let mut data = plain.to_vec();
        self.0
            .0
            .seal_in_place_append_tag(
                Nonce::assume_unique_for_key(nonce_bytes),
                Aad::from(context.as_bytes()),
                &mut data,
            )
            .map_err(|_| SealError::Seal("the cipher failed".into()))?;
        let mut out = nonce_bytes.to_vec();
        out.extend_from_slice(&data);
        Ok(STANDARD.encode(out))
    }

    /// HMAC-SHA256 of `data` under the derived key, hex: how short secrets (recovery and sent
    /// codes) are stored, so a stolen database alone cannot be searched for them offline.
    pub fn mac(&self, data: &[u8]) -> String {
        hmac::sign(&self.0.1, data)
            .as_ref()
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect()
    }

    /// Opens what [`MasterKey::seal`] made for the same `context`.
    pub fn open(&self, sealed: &str, context: &str) -> Result<Vec<u8>, SealError> {
        let raw = STANDARD.decode(sealed).map_err(|_| SealError::Open)?;
        if raw.len() < NONCE_LEN + 16 {
            return Err(SealError::Open);
        }
        let (nonce, rest) = raw.split_at(NONCE_LEN);
        let nonce = Nonce::try_assume_unique_for_key(nonce).map_err(|_| SealError::Open)?;
        let mut data = rest.to_vec();
        let plain = self
            .0
            .0
            .open_in_place(nonce, Aad::from(context.as_bytes()), &mut data)
            .map_err(|_| SealError::Open)?;
        Ok(plain.to_vec())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key() -> MasterKey {
        MasterKey::from_base64(&MasterKey::generate().unwrap()).unwrap()
    }

    #[test]
    fn a_sealed_secret_opens_only_with_its_key_and_context() {
        let k = key();
        let sealed = k.seal(b"JBSWY3DPEHPK3PXP", "totp:7").unwrap();
        assert!(!sealed.contains("JBSWY3DP"));
        assert_eq!(k.open(&sealed, "totp:7").unwrap(), b"JBSWY3DPEHPK3PXP");
        assert!(k.open(&sealed, "totp:8").is_err());
        assert!(key().open(&sealed, "totp:7").is_err());
    }

    #[test]
    fn two_seals_of_the_same_secret_differ() {
        let k = key();
        assert_ne!(k.seal(b"x", "c").unwrap(), k.seal(b"x", "c").unwrap());
    }

    #[test]
    fn macs_depend_on_the_key_and_the_data() {
        let k = key();
        assert_eq!(k.mac(b"a"), k.mac(b"a"));
        assert_ne!(k.mac(b"a"), k.mac(b"b"));
        assert_ne!(k.mac(b"a"), key().mac(b"a"));
        assert_eq!(k.mac(b"a").len(), 64);
    }

    #[test]
    fn a_key_of_the_wrong_length_is_refused() {
        assert!(MasterKey::from_base64("c2hvcnQ=").is_err());
        assert!(MasterKey::from_base64("not base64!").is_err());
        assert_eq!(format!("{:?}", key()), "MasterKey(..)");
    }
}
