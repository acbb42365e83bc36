//! The small types of the settings: secrets that never reach `Debug`, signed webhooks, and the
//! one-line error that stops start-up.

use super::SETTINGS;

/// A secret setting: `Debug` never shows it.
#[derive(Clone, PartialEq, Eq)]
pub struct Redacted(pub String);

impl std::fmt::Debug for Redacted {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("(redacted)")
    }
}

/// An outgoing, signed webhook.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Webhook {
    /// Where to POST.
    pub url: String,
    /// HMAC-SHA256 key.
    pub secret: Redacted,
}

/// A setting that stopped start-up. Displays as one line.
#[derive(Debug, thiserror::Error)]
pub enum SettingsError {
    /// A value that does not parse.
    #[error("invalid setting {env} ({key}) = {value:?}: {allowed}")]
    Invalid {
        /// Environment variable name.
        env: &'static str,
        /// File key.
        key: &'static str,
        /// The offending value.
        value: String,
        /// What is allowed.
        allowed: String,
    },
    /// The file is unreadable or not TOML.
    #[error("settings: {0}")]
    Source(String),
    /// The file has an unknown key, or an unknown `AUTHIFY_*` variable is set.
    #[error("settings: {0} (known settings: {known})", known = known_names())]
    Unknown(String),
}

fn known_names() -> String {
    SETTINGS
        .iter()
        .map(|s| s.env)
        .collect::<Vec<_>>()
        .join(", ")
}
