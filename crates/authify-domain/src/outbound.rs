//! Where the server may send requests of its own (back-channel logout, the push and SMS
//! webhooks, upstream providers, and any URL to come): the one rule, [`OutboundPolicy`], applied
//! when a URL is saved ([`OutboundPolicy::check_url`]) and again to every address a name resolves
//! to when a connection is made ([`OutboundPolicy::check_ip`], by the server's resolver).
//!
//! Refused: addresses that are not the public internet (loopback, private, link-local,
//! unique-local, CGNAT, multicast, unspecified, broadcast, documentation, benchmarking, reserved),
//! cloud metadata services, IPv6 forms carrying such an IPv4 address, names that are internal by
//! definition (`localhost`, `*.internal`, `*.local`, single labels), http (unless allowed) and
//! URLs with credentials. An allow-list of networks lets private deployments (and tests) through.

use std::net::{IpAddr, Ipv4Addr};

use ipnet::IpNet;
use url::{Host, Url};

mod ranges;

pub use ranges::Range;

/// Why a URL or address was refused; displays as the end of a sentence about the URL
/// ("backchannel logout URI http://127.1/: points at a loopback address (127.0.0.1)").
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    /// Not an absolute URL.
    #[error("is not an absolute URL")]
    NotAUrl,
    /// `http:` where only https is allowed.
    #[error("uses http: https is required")]
    Http,
    /// Another scheme (`ftp:`, `file:`, `gopher:`).
    #[error("uses the scheme {0:?}: only https is allowed")]
    Scheme(String),
    /// `user:password@`.
    #[error("carries a user name or password")]
    UserInfo,
    /// No host.
    #[error("has no host")]
    NoHost,
    /// An address in a range a request may not reach.
    #[error("points at {range} ({ip})")]
    Address {
        /// The address, as connected to.
        ip: IpAddr,
        /// Its range.
        range: Range,
    },
    /// A name that stands for such an address whatever DNS says.
    #[error("points at {range} by its name ({name})")]
    Name {
        /// The host name.
        name: String,
        /// What it stands for.
        range: Range,
    },
}

/// The outbound rule: https only (unless `allow_http`), nothing inside (unless in `allow`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OutboundPolicy {
    /// `http:` URLs are allowed too.
    pub allow_http: bool,
    /// Networks reachable although not public (a private deployment's receivers, tests).
    pub allow: Vec<IpNet>,
}

/// Names of the metadata services, whatever they resolve to.
const METADATA_NAMES: &[&str] = &["metadata.google.internal", "metadata", "metadata.goog"];

/// Suffixes only private networks resolve (RFC 6762 `.local`, RFC 8375 `home.arpa`, the
/// `.internal` top-level domain ICANN reserved for private use).
const PRIVATE_SUFFIXES: &[&str] = &["internal", "local", "localdomain", "home.arpa", "lan"];

impl OutboundPolicy {
    /// Whether a request may connect to `ip`: a public address, or one inside an allowed network.
    pub fn check_ip(&self, ip: IpAddr) -> Result<(), Refusal> {
        if self.allows(ip) {
            return Ok(());
        }
        match ranges::classify(ip) {
            Some(range) => Err(Refusal::Address { ip, range }),
            None => Ok(()),
        }
    }

    /// Checks a URL the server will send requests to, when it is saved and before each request:
    /// the scheme, no credentials, and the host (an IP literal by [`Self::check_ip`], a name by
    /// what it stands for). Names that pass are checked again by address at connect time.
    pub fn check_url(&self, raw: &str) -> Result<Url, Refusal> {
        // The `url` crate reads hosts as browsers do: `127.1`, `2130706433`, `0x7f.0.0.1` and
        // `017700000001` all become 127.0.0.1, so the checks below see the address.
        let url = Url::parse(raw).map_err(|_| Refusal::NotAUrl)?;
        match url.scheme() {
            "https" => {}
            "http" if self.allow_http => {}
            "http" => return Err(Refusal::Http),
            other => return Err(Refusal::Scheme(other.to_owned())),
        }
        // SECURITY: `https://trusted.example@evil.example/` reads as one host and is another;
        // credentials also do not belong in a stored URL.
        if !url.username().is_empty() || url.password().is_some() {
            return Err(Refusal::UserInfo);
        }
        match url.host() {
            None => return Err(Refusal::NoHost),
            Some(Host::Ipv4(ip)) => self.check_ip(IpAddr::V4(ip))?,
            Some(Host::Ipv6(ip)) => self.check_ip(IpAddr::V6(ip))?,
            Some(Host::Domain(name)) => self.check_name(name)?,
        }
        Ok(url)
    }

    /// Refuses a host name that is internal by definition, unless the allow-list covers what it
    /// stands for: `localhost` (loopback), the metadata names (169.254.169.254), and private
    /// suffixes and single labels (any allowed network: they are then judged by address).
    pub fn check_name(&self, name: &str) -> Result<(), Refusal> {
        let lower = name.trim_end_matches('.').to_ascii_lowercase();
        let under = |suffix: &str| lower == suffix || lower.ends_with(&format!(".{suffix}"));
        let (range, allowed) = if under("localhost") {
            (
                Range::Loopback,
                self.allows(IpAddr::V4(Ipv4Addr::LOCALHOST)),
            )
        } else if METADATA_NAMES.contains(&lower.as_str()) {
            let metadata = IpAddr::V4(Ipv4Addr::new(169, 254, 169, 254));
            (Range::Metadata, self.allows(metadata))
        } else if PRIVATE_SUFFIXES.iter().any(|s| under(s)) || !lower.contains('.') {
            // SECURITY: a single label (`http://redis/`) is completed by the resolver's search
            // domains: a name on the private network.
            (Range::Private, !self.allow.is_empty())
        } else {
            return Ok(());
        };
        if allowed {
            Ok(())
        } else {
            Err(Refusal::Name {
                name: name.to_owned(),
                range,
            })
        }
    }

    fn allows(&self, ip: IpAddr) -> bool {
        let canonical = ip.to_canonical();
        self.allow
            .iter()
            .any(|net| net.contains(&ip) || net.contains(&canonical))
    }
}

/// Checks a URL the browser is sent to but the server never fetches (a post-logout redirect):
/// whatever the allow-list, never the unspecified address (browsers connect `0.0.0.0` to the
/// user's own machine) nor a metadata service (no application lives there).
pub fn check_redirect_target(raw: &str) -> Result<(), Refusal> {
    let url = Url::parse(raw).map_err(|_| Refusal::NotAUrl)?;
    let address = |ip: IpAddr| match ranges::classify(ip) {
        Some(range @ (Range::Unspecified | Range::Metadata)) => Err(Refusal::Address { ip, range }),
        _ => Ok(()),
    };
    match url.host() {
        None => Err(Refusal::NoHost),
        Some(Host::Ipv4(ip)) => address(IpAddr::V4(ip)),
        Some(Host::Ipv6(ip)) => address(IpAddr::V6(ip)),
        Some(Host::Domain(name)) => {
            let lower = name.trim_end_matches('.').to_ascii_lowercase();
            if METADATA_NAMES.contains(&lower.as_str()) {
                Err(Refusal::Name {
                    name: name.to_owned(),
                    range: Range::Metadata,
                })
            } else {
                Ok(())
            }
        }
    }
}

#[cfg(test)]
mod props;
#[cfg(test)]
mod tests;
