//! Second factors (Authy-style): what they are and the pure rules around them. The steps of the
//! sign-in flow that use them live in `authn::second`, the account's management of them in
//! `authn::factors`; rows in `authify_store::factors`.
//!
//! - [`totp`]: RFC 6238 codes from an authenticator app, secrets sealed under the master key.
//! - [`codes`]: one-time codes sent by SMS or e-mail, recovery codes, approval numbers.
//! - [`phone`]: phone numbers in E.164.
//! - [`passkey`]: the WebAuthn relying party, ceremony state and the `amr` of a passkey.

pub mod codes;
pub mod passkey;
pub mod phone;
pub mod totp;

use crate::secrets::MasterKey;

/// RFC 8176 `amr` of a one-time code (TOTP, e-mail code, recovery code).
pub const AMR_OTP: &str = "otp";
/// RFC 8176 `amr` of a code by SMS.
pub const AMR_SMS: &str = "sms";
/// RFC 8176 `amr` of a software key: the approval from a registered device.
pub const AMR_SWK: &str = "swk";
/// RFC 8176 `amr` when two factors were used.
pub const AMR_MFA: &str = "mfa";

/// How a second factor is given at sign-in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Method {
    /// Approval from a registered device.
    Push,
    /// A code from an authenticator app.
    Totp,
    /// A code by SMS.
    Sms,
    /// A code by e-mail.
    Email,
    /// A recovery code.
    Recovery,
    /// A passkey (WebAuthn, user verification required).
    Passkey,
}

impl Method {
    /// Every method, in order of preference.
    pub const ALL: [Method; 6] = [
        Method::Passkey,
        Method::Push,
        Method::Totp,
        Method::Sms,
        Method::Email,
        Method::Recovery,
    ];

    /// From the form or query value.
    pub fn parse(s: &str) -> Option<Method> {
        Method::ALL.into_iter().find(|m| m.as_str() == s)
    }

    /// The form and query value.
    pub fn as_str(self) -> &'static str {
        match self {
            Method::Push => "push",
            Method::Totp => "totp",
            Method::Sms => "sms",
            Method::Email => "email",
            Method::Recovery => "recovery",
            Method::Passkey => "passkey",
        }
    }

    /// The factor kind stored for it (none for recovery codes).
    pub fn kind(self) -> &'static str {
        match self {
            Method::Push => "approver",
            Method::Totp => "totp",
            Method::Sms => "sms",
            Method::Email => "email",
            Method::Recovery => "recovery",
            Method::Passkey => "passkey",
        }
    }

    /// The `amr` it adds (RFC 8176).
    pub fn amr(self) -> &'static str {
        match self {
            Method::Push => AMR_SWK,
            Method::Passkey => passkey::AMR_HWK,
            Method::Sms => AMR_SMS,
            Method::Totp | Method::Email | Method::Recovery => AMR_OTP,
        }
    }

    /// Whether a code must be sent first.
    pub fn sends_code(self) -> bool {
        matches!(self, Method::Sms | Method::Email)
    }

    /// In words, for links ("Use …").
    pub fn label(self) -> &'static str {
        match self {
            Method::Push => "Approve from your device",
            Method::Totp => "A code from your authenticator app",
            Method::Sms => "A code by text message",
            Method::Email => "A code by e-mail",
            Method::Recovery => "A recovery code",
            Method::Passkey => "Your passkey",
        }
    }
}

/// `AUTHIFY_MFA`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum MfaMode {
    /// Users choose (organizations and apps may still require it).
    #[default]
    Optional,
    /// Everyone needs a second factor.
    Required,
}

/// What the engine needs for second factors. Cheap to clone.
#[derive(Debug, Clone)]
pub struct MfaConfig {
    /// `AUTHIFY_MFA`.
    pub mode: MfaMode,
    /// Seals TOTP secrets.
    pub master: MasterKey,
    /// Sends codes, mails and push wake-ups, within the operator's budgets.
    pub costs: crate::costs::Costs,
    /// The `issuer` of otpauth URIs (the public URL's host).
    pub totp_issuer: String,
    /// An SMS gateway is configured: phones may be added.
    pub sms: bool,
    /// Passkeys: the relying party, when the public URL allows WebAuthn.
    pub passkeys: Option<passkey::PasskeyRp>,
}

/// How many secrets are sealed under the master key (TOTP secrets): start-up refuses to make a
/// new key while any exist.
pub fn sealed_secrets(db: &crate::Db) -> Result<i64, authify_store::StoreError> {
    db.run_blocking(authify_store::factors::count_sealed)
}

/// Wrong codes that end a sign-in attempt.
pub const MAX_FAILURES: i32 = 5;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_method_reads_back_from_its_name() {
        for m in Method::ALL {
            assert_eq!(Method::parse(m.as_str()), Some(m));
        }
        assert_eq!(Method::parse("pwd"), None);
    }

    #[test]
    fn methods_carry_their_rfc_8176_amr() {
        assert_eq!(Method::Push.amr(), "swk");
        assert_eq!(Method::Sms.amr(), "sms");
        assert_eq!(Method::Totp.amr(), "otp");
        assert_eq!(Method::Email.amr(), "otp");
    }
}
