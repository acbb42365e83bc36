//! Length limits of what requests may make the server store (a flow's return, an authorization
//! request): past one, a 400 names the parameter. docs/SECURITY.md ("Bounded flows") lists them.

use crate::authn::AuthnError;

/// The longest `state` kept (OAuth and the legacy flow): far above the 32-128 characters
/// clients send, far below what fills a disk.
pub const MAX_STATE: usize = 1024;

/// The key a client's flows are counted under: its address, or the /64 network of an IPv6
/// address (one subscriber's usual allocation: rotating within it gains nothing).
pub fn client_key(ip: &str) -> String {
    match ip.parse::<std::net::IpAddr>() {
        Ok(std::net::IpAddr::V6(v6)) if v6.to_ipv4_mapped().is_none() => {
            let s = v6.segments();
            format!("{:x}:{:x}:{:x}:{:x}::/64", s[0], s[1], s[2], s[3])
        }
        Ok(std::net::IpAddr::V6(v6)) => v6
            .to_ipv4_mapped()
            .map(|v4| v4.to_string())
            .unwrap_or_default(),
        _ => ip.chars().take(64).collect(),
    }
}

/// `Err` (a 400 naming `name`) when `value` is longer than `max` bytes.
pub fn at_most(name: &str, value: Option<&str>, max: usize) -> Result<(), AuthnError> {
    match value {
        Some(v) if v.len() > max => Err(AuthnError::BadRequest(format!(
            "The parameter {name} is too long ({} characters; at most {max} are accepted).",
            v.len()
        ))),
        _ => Ok(()),
    }
}
