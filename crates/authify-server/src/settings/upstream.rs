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
        // `github` and `google` stay theirs even when unset: identities are stored by provider
        // name, and a later GITHUB_KEY must not inherit another issuer's links.
        if out.iter().any(|p: &ProviderSettings| p.name == name)
            || name == "github"
            || name == "google"
        {
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

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;
    use crate::settings::{CONFIG_FILE_ENV, Settings};

    /// Loads `toml` as the settings file, with `vars`.
    fn load(toml: &str, vars: &[(&str, &str)]) -> Result<Settings, SettingsError> {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("authify.toml");
        std::fs::write(&file, toml).unwrap();
        let mut env: HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        env.insert(CONFIG_FILE_ENV.into(), file.to_str().unwrap().into());
        Settings::load(&env)
    }

    #[test]
    fn the_originals_github_and_google_variables_configure_their_providers() {
        let s = load(
            "",
            &[
                ("GITHUB_KEY", "gh-id"),
                ("GITHUB_SECRET", "gh-secret"),
                ("GOOGLE_CLIENT_ID", "g-id"),
                ("GOOGLE_CLIENT_SECRET", "g-secret"),
            ],
        )
        .unwrap();
        let names: Vec<_> = s.upstream.iter().map(|p| p.name.as_str()).collect();
        assert_eq!(names, ["github", "google"]);
        assert_eq!(
            s.upstream[0].kind,
            ProviderKind::GitHub {
                web_url: "https://github.com".into(),
                api_url: "https://api.github.com".into()
            }
        );
        assert_eq!(
            s.upstream[1].kind,
            ProviderKind::OpenId {
                issuer: "https://accounts.google.com".into()
            }
        );
        // SECURITY: secrets stay out of Debug output.
        assert!(!format!("{s:?}").contains("gh-secret"));
        // Authify's own names win, and GitHub Enterprise's URLs are settings.
        let s = load(
            "",
            &[
                ("GITHUB_KEY", "old"),
                ("AUTHIFY_GITHUB_KEY", "new"),
                ("AUTHIFY_GITHUB_SECRET", "s"),
                ("AUTHIFY_GITHUB_URL", "https://git.example.com/"),
                ("AUTHIFY_GITHUB_API_URL", "https://git.example.com/api/v3"),
            ],
        )
        .unwrap();
        assert_eq!(s.upstream[0].client_id, "new");
        assert_eq!(
            s.upstream[0].kind,
            ProviderKind::GitHub {
                web_url: "https://git.example.com".into(),
                api_url: "https://git.example.com/api/v3".into()
            }
        );
        assert!(load("", &[]).unwrap().upstream.is_empty());
    }

    #[test]
    fn a_client_id_without_its_secret_stops_start_up_naming_the_setting() {
        let e = load("", &[("GITHUB_KEY", "gh-id")])
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("AUTHIFY_GITHUB_KEY") && e.contains("secret"),
            "{e}"
        );
        let e = load(
            "",
            &[
                ("AUTHIFY_GOOGLE_CLIENT_ID", "x"),
                ("AUTHIFY_GOOGLE_CLIENT_SECRET", "y"),
                ("AUTHIFY_GOOGLE_ISSUER", "not a url"),
            ],
        )
        .unwrap_err()
        .to_string();
        assert!(e.contains("AUTHIFY_GOOGLE_ISSUER"), "{e}");
    }

    #[test]
    fn upstream_tables_are_parsed_and_checked() {
        let good = "[[upstream]]\nname = \"corp\"\nissuer = \"https://id.corp.example\"\n\
                    client_id = \"c\"\nclient_secret = \"s\"\nscopes = [\"email\"]\n\
                    display_name = \"Corp SSO\"\n";
        let s = load(good, &[]).unwrap();
        let p = &s.upstream[0];
        assert_eq!((p.name.as_str(), p.display.as_str()), ("corp", "Corp SSO"));
        assert_eq!(p.scopes, ["openid", "email"]);
        let cases = [
            ("name = \"Bad Name\"", "`name`"),
            ("name = \"github\"\n", "used by another provider"),
            ("issuer = \"ftp://x\"", "`issuer`"),
            ("client_secret = \"\"", "`client_secret`"),
            ("colour = \"blue\"", "unknown field"),
        ];
        for (change, expected) in cases {
            let key = change.split(" =").next().unwrap();
            let toml: String = good
                .lines()
                .filter(|l| !l.starts_with(&format!("{key} =")))
                .chain(std::iter::once(change))
                .collect::<Vec<_>>()
                .join("\n");
            let e = load(&toml, &[("GITHUB_KEY", "k"), ("GITHUB_SECRET", "s")])
                .unwrap_err()
                .to_string();
            assert!(e.contains(expected), "{change}: {e}");
        }
    }
}
