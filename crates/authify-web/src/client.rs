//! The client's address, for the audit log and the per-address budgets: the TCP peer, or, when
//! the peer is one of `AUTHIFY_TRUSTED_PROXIES`, the nearest address in `X-Forwarded-For` that
//! is not a trusted proxy. Anyone can send `X-Forwarded-For`: it counts only from a trusted peer.

use std::net::IpAddr;

use actix_web::HttpRequest;
use actix_web::http::header::HeaderMap;
use ipnet::IpNet;

/// The proxies whose `X-Forwarded-For` is believed (`AUTHIFY_TRUSTED_PROXIES`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TrustedProxies(pub Vec<IpNet>);

impl TrustedProxies {
    /// Parses a comma-separated list of addresses and networks (`10.0.0.0/8, 192.0.2.7`).
    pub fn parse(list: &str) -> Result<TrustedProxies, String> {
        list.split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(|s| {
                s.parse::<IpNet>()
                    .or_else(|_| s.parse::<IpAddr>().map(IpNet::from))
                    .map_err(|_| format!("{s:?} is not an IP address or network (CIDR)"))
            })
            .collect::<Result<Vec<_>, _>>()
            .map(TrustedProxies)
    }

    /// Whether a TCP peer is one of the trusted proxies.
    pub fn trusts_peer(&self, ip: IpAddr) -> bool {
        self.trusts(ip)
    }

    fn trusts(&self, ip: IpAddr) -> bool {
        let ip = canonical(ip);
        self.0.iter().any(|net| net.contains(&ip))
    }

    /// The client of a request from `peer` carrying `headers`.
    pub fn client(&self, peer: IpAddr, headers: &HeaderMap) -> IpAddr {
        let peer = canonical(peer);
        if !self.trusts(peer) {
            return peer;
        }
        // SECURITY: read right to left: each trusted proxy appended the address it received
        // from; the first untrusted one is the client (anything left of it could be forged).
        let hops: Vec<&str> = headers
            .get_all("x-forwarded-for")
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .map(str::trim)
            .collect();
        let mut client = peer;
        for hop in hops.into_iter().rev() {
            match parse_hop(hop) {
                Some(ip) if self.trusts(ip) => client = ip,
                Some(ip) => return ip,
                // A malformed hop: nothing to its left can be believed.
                None => return client,
            }
        }
        client
    }
}

/// An IPv4 address mapped into IPv6 is the IPv4 address.
fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
        v4 => v4,
    }
}

/// One `X-Forwarded-For` entry: an address, possibly with a port (`192.0.2.1:443`,
/// `[2001:db8::1]:443`).
fn parse_hop(hop: &str) -> Option<IpAddr> {
    if let Ok(ip) = hop.parse::<IpAddr>() {
        return Some(canonical(ip));
    }
    hop.parse::<std::net::SocketAddr>()
        .ok()
        .map(|s| canonical(s.ip()))
}

/// The client's address of `req` (see the module).
pub fn client_ip(req: &HttpRequest) -> Option<String> {
    let peer = req.peer_addr()?.ip();
    let ip = match req.app_data::<actix_web::web::Data<crate::AppState>>() {
        Some(state) => state.config().trusted_proxies.client(peer, req.headers()),
        None => canonical(peer),
    };
    Some(ip.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use actix_web::http::header::{HeaderName, HeaderValue};

    fn headers(xff: &[&str]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for v in xff {
            h.append(
                HeaderName::from_static("x-forwarded-for"),
                HeaderValue::from_str(v).unwrap(),
            );
        }
        h
    }

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn forwarded_addresses_count_only_from_a_trusted_peer() {
        let trusted = TrustedProxies::parse("10.0.0.0/8, 192.0.2.7").unwrap();
        let h = headers(&["198.51.100.9"]);
        assert_eq!(trusted.client(ip("203.0.113.5"), &h), ip("203.0.113.5"));
        assert_eq!(trusted.client(ip("10.1.2.3"), &h), ip("198.51.100.9"));
        assert_eq!(trusted.client(ip("192.0.2.7"), &h), ip("198.51.100.9"));
        assert_eq!(
            TrustedProxies::default().client(ip("10.1.2.3"), &h),
            ip("10.1.2.3")
        );
    }

    #[test]
    fn the_nearest_untrusted_hop_is_the_client_and_forged_ones_to_its_left_are_ignored() {
        let trusted = TrustedProxies::parse("10.0.0.0/8").unwrap();
        // The client forged "1.2.3.4"; the edge proxy appended the real address, the inner
        // proxy the edge's.
        let h = headers(&["1.2.3.4, 198.51.100.9", "10.0.0.2"]);
        assert_eq!(trusted.client(ip("10.0.0.1"), &h), ip("198.51.100.9"));
        // Only proxies: the leftmost trusted hop.
        let h = headers(&["10.0.0.3, 10.0.0.2"]);
        assert_eq!(trusted.client(ip("10.0.0.1"), &h), ip("10.0.0.3"));
        // A malformed hop stops the walk at the last believed address.
        let h = headers(&["198.51.100.9, garbage, 10.0.0.2"]);
        assert_eq!(trusted.client(ip("10.0.0.1"), &h), ip("10.0.0.2"));
        // Ports and IPv4-mapped IPv6 are understood.
        let h = headers(&["[2001:db8::1]:443"]);
        assert_eq!(trusted.client(ip("::ffff:10.0.0.1"), &h), ip("2001:db8::1"));
        let h = headers(&["198.51.100.9:5000"]);
        assert_eq!(trusted.client(ip("10.0.0.1"), &h), ip("198.51.100.9"));
    }

    #[test]
    fn a_bad_entry_in_the_setting_is_named() {
        let e = TrustedProxies::parse("10.0.0.0/8, proxy.example").unwrap_err();
        assert!(e.contains("proxy.example"), "{e}");
        assert_eq!(
            TrustedProxies::parse(" ").unwrap(),
            TrustedProxies::default()
        );
    }
}
