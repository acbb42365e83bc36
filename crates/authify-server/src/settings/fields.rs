//! Parsers of single settings: each turns one raw value into its typed form or an error naming
//! the setting, the value and what is allowed.

use std::net::{IpAddr, SocketAddr};

use authify_domain::OutboundPolicy;

use super::{ProviderKind, Redacted, SETTINGS, Settings, SettingsError, Webhook};

/// A webhook from its URL and secret: both or neither; an absolute http(s) URL.
pub(super) fn webhook(
    url: Option<String>,
    secret: Option<String>,
    keys: (&'static str, &'static str),
) -> Result<Option<Webhook>, SettingsError> {
    match (url, secret) {
        (None, None) => Ok(None),
        (None, Some(_)) => Err(invalid(keys.1, "(redacted)", "only together with its URL")),
        (Some(_), None) => Err(invalid(
            keys.0,
            "(not shown: it may hold gateway credentials)",
            "needs its secret too: every delivery is signed (HMAC-SHA256)",
        )),
        (Some(u), Some(secret)) => {
            let ok = url::Url::parse(u.trim())
                .is_ok_and(|p| matches!(p.scheme(), "http" | "https") && p.host_str().is_some());
            if !ok {
                return Err(invalid(keys.0, &u, "an absolute http or https URL"));
            }
            if secret.len() < 16 {
                return Err(invalid(keys.1, "(redacted)", "at least 16 characters"));
            }
            Ok(Some(Webhook {
                url: u.trim().to_owned(),
                secret: Redacted(secret),
            }))
        }
    }
}

/// A whole number from `min` to `max`, or `default` when unset.
pub(super) fn number(
    raw: Option<String>,
    key: &'static str,
    default: u32,
    min: u32,
    max: u32,
) -> Result<u32, SettingsError> {
    match raw {
        None => Ok(default),
        Some(v) => v
            .trim()
            .parse::<u32>()
            .ok()
            .filter(|n| (min..=max).contains(n))
            .ok_or_else(|| invalid(key, &v, &format!("a whole number from {min} to {max}"))),
    }
}

pub(super) fn available_cores() -> usize {
    std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1)
}

pub(super) fn invalid(key: &'static str, value: &str, allowed: &str) -> SettingsError {
    let doc = SETTINGS.iter().find(|s| s.key == key);
    SettingsError::Invalid {
        env: doc.map_or("AUTHIFY_?", |d| d.env),
        key: doc.map_or("?", |d| d.key),
        value: value.to_owned(),
        allowed: allowed.to_owned(),
    }
}

pub(super) fn parse_public_url(raw: &str) -> Result<String, SettingsError> {
    let allowed = "an absolute http or https URL with a host and no query or fragment, e.g. https://id.example.com";
    let url = url::Url::parse(raw.trim()).map_err(|_| invalid("public_url", raw, allowed))?;
    let ok = matches!(url.scheme(), "http" | "https")
        && url.host_str().is_some()
        && url.query().is_none()
        && url.fragment().is_none()
        && url.username().is_empty()
        && url.password().is_none();
    if !ok {
        return Err(invalid("public_url", raw, allowed));
    }
    Ok(url.as_str().trim_end_matches('/').to_owned())
}

/// `AUTHIFY_METRICS_BIND`: an address and port, or nothing.
pub(super) fn metrics_bind(raw: Option<&str>) -> Result<Option<SocketAddr>, SettingsError> {
    match raw.map(str::trim) {
        None | Some("") => Ok(None),
        Some(m) => m.parse::<SocketAddr>().map(Some).map_err(|_| {
            invalid(
                "metrics_bind",
                m,
                "an IP address and port, e.g. 127.0.0.1:9100",
            )
        }),
    }
}

/// `AUTHIFY_LOG_FORMAT`: `text` (false) or `json` (true).
pub(super) fn log_json(raw: Option<&str>) -> Result<bool, SettingsError> {
    match raw.map(|v| v.trim().to_ascii_lowercase()).as_deref() {
        None | Some("text") => Ok(false),
        Some("json") => Ok(true),
        Some(v) => Err(invalid("log_format", v, "text or json")),
    }
}

/// `AUTHIFY_TRUSTED_PROXIES`: addresses and networks.
pub(super) fn trusted_proxies(
    raw: Option<&str>,
) -> Result<authify_web::client::TrustedProxies, SettingsError> {
    match raw {
        None => Ok(authify_web::client::TrustedProxies::default()),
        Some(list) => authify_web::client::TrustedProxies::parse(list).map_err(|why| {
            invalid(
                "trusted_proxies",
                list,
                &format!("comma-separated IP addresses or networks: {why}"),
            )
        }),
    }
}

/// `AUTHIFY_WEBAUTHN_RP_ID`: a lowercase domain name, or nothing.
pub(super) fn rp_id(raw: Option<String>) -> Result<Option<String>, SettingsError> {
    let Some(id) = raw.filter(|v| !v.trim().is_empty()) else {
        return Ok(None);
    };
    let ok = id.len() <= 253
        && id.split('.').all(|l| {
            !l.is_empty()
                && l.bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        });
    if !ok {
        return Err(invalid(
            "webauthn_rp_id",
            &id,
            "a lowercase domain name such as example.com (no scheme, port or path)",
        ));
    }
    Ok(Some(id))
}

/// `AUTHIFY_EMAIL_VERIFICATION`: off, optional (the default) or required.
/// An `on`/`off` switch (`true`/`false` also read), `default` when unset.
pub(super) fn on_off(
    key: &'static str,
    raw: Option<&str>,
    default: bool,
) -> Result<bool, SettingsError> {
    match raw.map(|v| v.trim().to_ascii_lowercase()).as_deref() {
        None => Ok(default),
        Some("on" | "true") => Ok(true),
        Some("off" | "false") => Ok(false),
        Some(v) => Err(invalid(key, v, "on or off")),
    }
}

pub(super) fn email_verification(
    raw: Option<&str>,
) -> Result<authify_core::account::verify::EmailVerification, SettingsError> {
    use authify_core::account::verify::EmailVerification as V;
    match raw.map(|v| v.trim().to_ascii_lowercase()) {
        None => Ok(V::Optional),
        Some(v) if v == "off" => Ok(V::Off),
        Some(v) if v == "optional" => Ok(V::Optional),
        Some(v) if v == "required" => Ok(V::Required),
        Some(v) => Err(invalid(
            "email_verification",
            &v,
            "off, optional or required",
        )),
    }
}

/// `AUTHIFY_OUTBOUND_ALLOW` (networks) and `AUTHIFY_OUTBOUND_HTTP` (on/off).
pub(super) fn outbound(
    allow: Option<&str>,
    http: Option<&str>,
) -> Result<OutboundPolicy, SettingsError> {
    let allow = allow
        .unwrap_or_default()
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|s| {
            s.parse::<ipnet::IpNet>()
                .or_else(|_| s.parse::<IpAddr>().map(ipnet::IpNet::from))
                .map_err(|_| {
                    invalid(
                        "outbound_allow",
                        s,
                        "comma-separated IP addresses or networks (CIDR), e.g. 10.20.0.0/16, ::1",
                    )
                })
        })
        .collect::<Result<Vec<_>, _>>()?;
    Ok(OutboundPolicy {
        allow_http: on_off("outbound_http", http, false)?,
        allow,
    })
}

/// Start-up refuses a configured URL the server could not send to under the outbound policy
/// (the webhooks, the upstream providers), naming its setting.
pub(super) fn outbound_urls(s: &Settings) -> Result<(), SettingsError> {
    let refused = |url: &str| {
        s.outbound.check_url(url).err().map(|e| {
            format!(
                "the URL {e}; the server sends requests to public https hosts only \
                 (AUTHIFY_OUTBOUND_ALLOW lists networks allowed anyway, \
                 AUTHIFY_OUTBOUND_HTTP=on allows http)"
            )
        })
    };
    let check = |key: &'static str, url: &str, shown: &str| match refused(url) {
        Some(why) => Err(invalid(key, shown, &why)),
        None => Ok(()),
    };
    let hidden = "(not shown: it may hold gateway credentials)";
    for (key, hook) in [
        ("push_webhook_url", &s.push_webhook),
        ("sms_webhook_url", &s.sms_webhook),
    ] {
        if let Some(hook) = hook {
            check(key, &hook.url, hidden)?;
        }
    }
    for p in &s.upstream {
        match &p.kind {
            ProviderKind::GitHub { web_url, api_url } => {
                check("github_url", web_url, web_url)?;
                check("github_api_url", api_url, api_url)?;
            }
            ProviderKind::OpenId { issuer } if p.name == "google" => {
                check("google_issuer", issuer, issuer)?;
            }
            ProviderKind::OpenId { issuer } => {
                if let Some(why) = refused(issuer) {
                    let name = &p.name;
                    return Err(SettingsError::Source(format!(
                        "[[upstream]] {name}: issuer {issuer}: {why}"
                    )));
                }
            }
        }
    }
    Ok(())
}
