//! Codes from an authenticator app (RFC 6238 through `totp-rs`): SHA-1, 6 digits, 30-second
//! steps, one step of skew either way. The caller accepts each step at most once per user
//! (`authify_store::factors::advance_step`): RFC 6238 §5.2.

use totp_rs::{Builder, Secret, Totp};

use crate::secrets::{MasterKey, SealError};

/// Secret length in bytes (RFC 4226 recommends 160 bits).
pub const SECRET_BYTES: usize = 20;

/// A TOTP secret in clear, only in memory. No `Debug`.
pub struct TotpSecret(Vec<u8>);

/// What the enrolment page shows.
#[derive(Clone)]
pub struct Enrolment {
    /// The `otpauth://` URI (in the QR code and as text).
    pub uri: String,
    /// The secret in base32, for manual entry.
    pub secret: String,
}

impl std::fmt::Debug for Enrolment {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Enrolment(..)")
    }
}

/// The context a user's TOTP secret is sealed in: a sealed value copied to another user's row
/// does not open.
pub fn context(user_id: i64) -> String {
    format!("totp:{user_id}")
}

impl TotpSecret {
    /// A new random secret.
    pub fn generate() -> Result<Self, getrandom::Error> {
        Ok(TotpSecret(crate::random::bytes::<SECRET_BYTES>()?.to_vec()))
    }

    /// Seals it for storage.
    pub fn seal(&self, key: &MasterKey, user_id: i64) -> Result<String, SealError> {
        key.seal(&self.0, &context(user_id))
    }

    /// Opens a stored secret.
    pub fn open(key: &MasterKey, sealed: &str, user_id: i64) -> Result<Self, SealError> {
        key.open(sealed, &context(user_id)).map(TotpSecret)
    }

    fn totp(&self, issuer: &str, account: &str) -> Result<Totp, String> {
        Builder::new()
            .with_secret(Secret::from(self.0.clone()))
            .with_issuer(Some(issuer))
            .with_account_name(account)
            .build()
            .map_err(|e| e.to_string())
    }

    /// The URI and base32 secret for `account` (the user's e-mail).
    pub fn enrolment(&self, issuer: &str, account: &str) -> Result<Enrolment, String> {
        let totp = self.totp(issuer, account)?;
        Ok(Enrolment {
            uri: totp.to_url().map_err(|e| e.to_string())?,
            secret: totp.secret().to_base32(),
        })
    }

    /// The time step `code` belongs to at `unix_time` (±1 step), if it is right.
    // SECURITY: totp-rs compares codes in constant time.
    pub fn check(&self, code: &str, unix_time: i64) -> Option<i64> {
        let code: String = code.chars().filter(|c| !c.is_whitespace()).collect();
        if code.len() != 6 || !code.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        let totp = self.totp("Authify", "user").ok()?;
        let time = u64::try_from(unix_time).ok()?;
        totp.check(&code, time).and_then(|s| i64::try_from(s).ok())
    }

    /// The code at `unix_time` (tests and the enrolment check of our own pages).
    pub fn code_at(&self, unix_time: i64) -> Option<String> {
        let totp = self.totp("Authify", "user").ok()?;
        Some(totp.generate(u64::try_from(unix_time).ok()?).to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // RFC 6238 Appendix B, SHA-1 seed, truncated to 6 digits.
    const SEED: &[u8] = b"12345678901234567890";

    #[test]
    fn the_rfc_6238_vectors_are_accepted_at_their_times() {
        let s = TotpSecret(SEED.to_vec());
        for (time, code) in [
            (59, "287082"),
            (1_111_111_109, "081804"),
            (1_234_567_890, "005924"),
            (2_000_000_000, "279037"),
        ] {
            assert_eq!(s.code_at(time).as_deref(), Some(code), "at {time}");
            assert_eq!(s.check(code, time), Some(time / 30));
        }
    }

    #[test]
    fn one_step_of_skew_is_allowed_and_two_are_not() {
        let s = TotpSecret(SEED.to_vec());
        let code = s.code_at(1_234_567_890).unwrap();
        assert!(s.check(&code, 1_234_567_890 + 30).is_some());
        assert!(s.check(&code, 1_234_567_890 - 30).is_some());
        assert!(s.check(&code, 1_234_567_890 + 65).is_none());
    }

    #[test]
    fn malformed_codes_are_refused_without_panicking() {
        let s = TotpSecret(SEED.to_vec());
        for bad in ["", "12345", "1234567", "abcdef", "١٢٣٤٥٦", "000000000000"] {
            assert!(s.check(bad, 59).is_none(), "{bad:?}");
        }
    }

    #[test]
    fn the_uri_names_the_issuer_and_account_and_a_base32_secret() {
        let s = TotpSecret::generate().unwrap();
        let e = s.enrolment("id.example.com", "ada@example.com").unwrap();
        assert!(e.uri.starts_with("otpauth://totp/"), "{}", e.uri);
        assert!(e.uri.contains(&e.secret));
        assert!(e.uri.contains("issuer=id.example.com"));
        assert_eq!(e.secret.len(), 32);
    }
}
