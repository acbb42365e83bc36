//! Upstream sign-in providers from the settings: GitHub (`AUTHIFY_GITHUB_KEY` or the original's
//! `GITHUB_KEY`, with its secret and base URLs), Google (`AUTHIFY_GOOGLE_CLIENT_ID` or
//! `GOOGLE_CLIENT_ID`, its secret and issuer), and any number of OpenID providers as
//! `[[upstream]]` tables of the settings file.

use serde::Deserialize;

use super::fields::invalid;
use super::{Redacted, SettingsError};

/// The original Authify's variable names, honoured when Authify's own are not set.
pub(super) const ORIGINAL_NAMES: &[(&str, &str)] = &[
    ("GITHUB_KEY", "AUTHIFY_GITHUB_KEY"),
    ("GITHUB_SECRET", "AUTHIFY_GITHUB_SECRET"),
    ("GOOGLE_CLIENT_ID", "AUTHIFY_GOOGLE_CLIENT_ID"),
    ("GOOGLE_CLIENT_SECRET", "AUTHIFY_GOOGLE_CLIENT_SECRET"),
];

/// An `[[upstream]]` table of the settings file.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawUpstream {
    name: Option<String>,
    issuer: Option<String>,
    client_id: Option<String>,
    client_secret: Option<String>,
    scopes: Option<Vec<String>>,
    display_name: Option<String>,
}

/// The raw provider settings.
#[derive(Debug, Default)]
pub(super) struct RawProviders {
    pub github_key: Option<String>,
    pub github_secret: Option<String>,
    pub github_url: Option<String>,
    pub github_api_url: Option<String>,
    pub google_client_id: Option<String>,
    pub google_client_secret: Option<String>,
    pub google_issuer: Option<String>,
    pub upstream: Vec<RawUpstream>,
}

/// How a provider is spoken to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ProviderKind {
    /// GitHub's OAuth 2.0 and REST API (GitHub Enterprise: other base URLs).
    GitHub {
        /// `AUTHIFY_GITHUB_URL`: authorize and token endpoints.
        web_url: String,
        /// `AUTHIFY_GITHUB_API_URL`: `/user`, `/user/emails`.
        api_url: String,
    },
    /// An OpenID provider found by discovery from its issuer.
    OpenId {
        /// The issuer (exact, as in its discovery document).
        issuer: String,
    },
}

/// One configured provider.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProviderSettings {
    /// Name in URLs and storage.
    pub name: String,
    /// Name on buttons.
    pub display: String,
    /// Protocol and endpoints.
    pub kind: ProviderKind,
    /// Client id registered at the provider.
    pub client_id: String,
    /// Client secret.
    pub client_secret: Redacted,
    /// Scopes asked for.
    pub scopes: Vec<String>,
}

fn base_url(key: &'static str, raw: Option<&str>, default: &str) -> Result<String, SettingsError> {
    let value = raw.unwrap_or(default).trim();
    match url::Url::parse(value) {
        Ok(u) if matches!(u.scheme(), "http" | "https") && u.host_str().is_some() => {
            Ok(value.trim_end_matches('/').to_owned())
        }
        _ => Err(invalid(key, value, "an absolute http or https URL")),
    }
}

fn pair(
    key: &'static str,
    id: Option<String>,
    secret: Option<String>,
) -> Result<Option<(String, Redacted)>, SettingsError> {
    match (id.filter(|s| !s.trim().is_empty()), secret) {
        (None, _) => Ok(None),
        (Some(id), Some(secret)) if !secret.trim().is_empty() => Ok(Some((
            id.trim().to_owned(),
            Redacted(secret.trim().to_owned()),
        ))),
        (Some(id), _) => Err(invalid(
            key,
            &id,
            "set together with its secret (the client id alone cannot sign anyone in)",
        )),
    }
}

/// Parses and checks every provider: names unique, URLs absolute, ids with their secrets.
pub(super) fn parse(raw: RawProviders) -> Result<Vec<ProviderSettings>, SettingsError> {
    let mut out = Vec::new();
    if let Some((client_id, client_secret)) = pair("github_key", raw.github_key, raw.github_secret)?
    {
        out.push(ProviderSettings {
            name: "github".into(),
            display: "GitHub".into(),
            kind: ProviderKind::GitHub {
                web_url: base_url(
                    "github_url",
                    raw.github_url.as_deref(),
                    "https://github.com",
                )?,
                api_url: base_url(
                    "github_api_url",
                    raw.github_api_url.as_deref(),
                    "https://api.github.com",
                )?,
            },
            client_id,
            client_secret,
            scopes: vec!["read:user".into(), "user:email".into()],
        });
    }
    if let Some((client_id, client_secret)) = pair(
        "google_client_id",
        raw.google_client_id,
        raw.google_client_secret,
    )? {
        out.push(ProviderSettings {
            name: "google".into(),
            display: "Google".into(),
            kind: ProviderKind::OpenId {
                issuer: base_url(
                    "google_issuer",
                    raw.google_issuer.as_deref(),
                    "https://accounts.google.com",
                )?,
            },
            client_id,
            client_secret,
            scopes: vec!["openid".into(), "email".into(), "profile".into()],
        });
    }
    for table in raw.upstream {
        let bad = |what: &str| {
            SettingsError::Source(format!(
                "[[upstream]] {}: {what}",
                table.name.as_deref().unwrap_or("(no name)")
            ))
        };
        let name = table.name.clone().unwrap_or_default();
        let name_ok = (1..=32).contains(&name.len())
            && name
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
            && !name.starts_with('-');
        if !name_ok {
            return Err(bad(
                "`name` must be 1 to 32 lower-case letters, digits or dashes (it appears in URLs)",
            ));
        }
        if out.iter().any(|p: &ProviderSettings| p.name == name) {
            return Err(bad("`name` is used by another provider"));
        }
        let issuer = table
            .issuer
            .as_deref()
            .map(str::trim)
            .filter(|i| {
                url::Url::parse(i)
                    .is_ok_and(|u| matches!(u.scheme(), "http" | "https") && u.host_str().is_some())
            })
            .ok_or_else(|| {
                bad("`issuer` must be the provider's absolute http or https issuer URL")
            })?
            .to_owned();
        let client_id = table
            .client_id
            .filter(|s| !s.trim().is_empty())
            .ok_or_else(|| bad("`client_id` is required"))?;
        let client_secret = table
            .client_secret
            .filter(|s| !s.trim().is_empty())
            .ok_or_else(|| bad("`client_secret` is required"))?;
        let mut scopes = table
            .scopes
            .unwrap_or_else(|| vec!["openid".into(), "email".into(), "profile".into()]);
        if !scopes.iter().any(|s| s == "openid") {
            scopes.insert(0, "openid".into());
        }
        out.push(ProviderSettings {
            display: table
                .display_name
                .filter(|d| !d.trim().is_empty())
                .unwrap_or_else(|| name.clone()),
            name,
            kind: ProviderKind::OpenId { issuer },
            client_id: client_id.trim().to_owned(),
            client_secret: Redacted(client_secret.trim().to_owned()),
            scopes,
        });
    }
    Ok(out)
}
