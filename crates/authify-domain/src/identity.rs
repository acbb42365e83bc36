//! What people type: e-mail addresses, passwords, display names, organization and group names.
//! Each is parsed once at the edge into a type that is valid by construction.

use std::fmt;

use secrecy::{ExposeSecret as _, SecretString};

/// Why an input was refused; the message is shown to the person who typed it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InputError {
    /// Not an e-mail address.
    #[error("enter a valid e-mail address, like name@example.com")]
    Email,
    /// Password too short or too long.
    #[error("the password must be {min} to {max} characters long")]
    PasswordLength {
        /// Minimum length.
        min: usize,
        /// Maximum length.
        max: usize,
    },
    /// Empty, too long, or with control characters.
    #[error("{what} must be 1 to {max} characters, without control characters")]
    Name {
        /// Which field.
        what: &'static str,
        /// Maximum length.
        max: usize,
    },
}

/// A normalized e-mail address: trimmed and lower-cased, so `Ann@Example.com` and
/// `ann@example.com` are one account.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Email(String);

impl Email {
    /// Parses and normalizes.
    pub fn parse(raw: &str) -> Result<Self, InputError> {
        let email = raw.trim().to_lowercase();
        let (local, domain) = email.split_once('@').ok_or(InputError::Email)?;
        let ok = email.len() <= 254
            && !local.is_empty()
            && local.len() <= 64
            && !domain.is_empty()
            && !domain.contains('@')
            && domain.contains('.')
            && !domain.starts_with('.')
            && !domain.ends_with('.')
            && !domain.contains("..")
            && !email
                .chars()
                .any(|c| c.is_whitespace() || c.is_control() || "<>()[]\\,;:\"".contains(c));
        if !ok {
            return Err(InputError::Email);
        }
        Ok(Email(email))
    }

    /// The normalized address.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Email {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A new password, checked for length (NIST SP 800-63B: at least 8, long passphrases allowed).
/// `Debug` never shows it.
pub struct Password(SecretString);

impl Password {
    /// Minimum length in characters.
    pub const MIN: usize = 8;
    /// Maximum length in characters (bounds hashing input).
    pub const MAX: usize = 1024;

    /// Checks a password chosen at sign-up.
    pub fn new(raw: &str) -> Result<Self, InputError> {
        let n = raw.chars().count();
        if !(Self::MIN..=Self::MAX).contains(&n) {
            return Err(InputError::PasswordLength {
                min: Self::MIN,
                max: Self::MAX,
            });
        }
        Ok(Password(SecretString::from(raw.to_owned())))
    }

    /// A password typed at sign-in: never rejected for length here (that would tell an attacker
    /// about the policy per account); only capped so hashing stays bounded.
    pub fn attempt(raw: &str) -> Self {
        let capped: String = raw.chars().take(Self::MAX).collect();
        Password(SecretString::from(capped))
    }

    /// The secret, for hashing only.
    pub fn expose(&self) -> &str {
        self.0.expose_secret()
    }
}

// SECURITY: passwords never reach logs through Debug.
impl fmt::Debug for Password {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Password(..)")
    }
}

/// A display, organization or group name: trimmed, 1 to `MAX` characters, no control characters.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Name(String);

impl Name {
    /// Longest name.
    pub const MAX: usize = 200;

    /// Parses `raw` as the field `what` ("the name", "the organization name", ...).
    pub fn parse(raw: &str, what: &'static str) -> Result<Self, InputError> {
        let name = raw.trim();
        let n = name.chars().count();
        if n == 0 || n > Self::MAX || name.chars().any(char::is_control) {
            return Err(InputError::Name {
                what,
                max: Self::MAX,
            });
        }
        Ok(Name(name.to_owned()))
    }

    /// The name.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emails_are_normalized_and_malformed_ones_refused() {
        assert_eq!(
            Email::parse("  Ann.Lee@Example.COM ").unwrap().as_str(),
            "ann.lee@example.com"
        );
        for bad in [
            "",
            "ann",
            "@example.com",
            "ann@",
            "ann@example",
            "a b@example.com",
            "ann@@example.com",
            "ann@example..com",
            "ann@.example.com",
            "<ann>@example.com",
            "ann@exa mple.com",
        ] {
            assert!(Email::parse(bad).is_err(), "{bad:?}");
        }
        assert!(Email::parse(&format!("{}@example.com", "a".repeat(65))).is_err());
    }

    #[test]
    fn passwords_need_eight_characters_and_never_show_in_debug() {
        assert!(Password::new("short").is_err());
        assert!(Password::new("long enough").is_ok());
        assert!(Password::new(&"x".repeat(Password::MAX + 1)).is_err());
        let p = Password::new("correct horse").unwrap();
        assert_eq!(format!("{p:?}"), "Password(..)");
        assert_eq!(
            Password::attempt(&"y".repeat(5000)).expose().len(),
            Password::MAX
        );
    }

    #[test]
    fn names_are_trimmed_and_bounded() {
        assert_eq!(
            Name::parse("  Acme  ", "the name").unwrap().as_str(),
            "Acme"
        );
        assert!(Name::parse("   ", "the name").is_err());
        assert!(Name::parse("a\u{0}b", "the name").is_err());
        assert!(Name::parse(&"n".repeat(201), "the name").is_err());
    }
}
