//! Property tests of [`super::OutboundPolicy`]: an internal IPv4 address is refused in every
//! form it can be written in, checking never panics, and whatever is accepted is https to a host
//! that is not internal.

use std::net::{Ipv4Addr, Ipv6Addr};

use proptest::prelude::*;

use super::*;

/// Addresses of the private, loopback, link-local and CGNAT ranges.
fn internal_v4() -> impl Strategy<Value = Ipv4Addr> {
    prop_oneof![
        any::<u32>().prop_map(|n| Ipv4Addr::from(0x0a00_0000 | (n & 0x00ff_ffff))),
        any::<u32>().prop_map(|n| Ipv4Addr::from(0x7f00_0000 | (n & 0x00ff_ffff))),
        any::<u32>().prop_map(|n| Ipv4Addr::from(0xac10_0000 | (n & 0x000f_ffff))),
        any::<u32>().prop_map(|n| Ipv4Addr::from(0xc0a8_0000 | (n & 0x0000_ffff))),
        any::<u32>().prop_map(|n| Ipv4Addr::from(0xa9fe_0000 | (n & 0x0000_ffff))),
        any::<u32>().prop_map(|n| Ipv4Addr::from(0x6440_0000 | (n & 0x003f_ffff))),
    ]
}

proptest! {
    #[test]
    fn an_internal_ipv4_address_is_refused_in_every_notation(ip in internal_v4()) {
        let n = u32::from(ip);
        let [a, b, c, d] = ip.octets();
        let mapped = Ipv6Addr::from(0xffff_0000_0000_u128 | u128::from(n));
        let nat64 = Ipv6Addr::from((0x0064_ff9b_u128 << 96) | u128::from(n));
        let six_to_four = Ipv6Addr::from((0x2002_u128 << 112) | (u128::from(n) << 80) | 1);
        let forms = [
            format!("https://{ip}/"),
            format!("https://{n}/"),
            format!("https://0x{n:x}/"),
            format!("https://0{a:o}.0{b:o}.0{c:o}.0{d:o}/"),
            format!("https://{a}.{}/", (u32::from(b) << 16) | (u32::from(c) << 8) | u32::from(d)),
            format!("https://[{mapped}]/"),
            format!("https://[::ffff:{ip}]/"),
            format!("https://[{nat64}]/"),
            format!("https://[{six_to_four}]/"),
        ];
        for form in forms {
            let refused = OutboundPolicy::default().check_url(&form);
            prop_assert!(
                matches!(refused, Err(Refusal::Address { .. })),
                "{} passed: {:?}", form, refused
            );
        }
    }

    #[test]
    fn what_is_accepted_is_https_without_credentials_to_a_public_host(raw in "\\PC{0,60}") {
        for text in [raw.clone(), format!("https://{raw}")] {
            if let Ok(url) = OutboundPolicy::default().check_url(&text) {
                prop_assert_eq!(url.scheme(), "https");
                prop_assert!(url.username().is_empty() && url.password().is_none());
                match url.host() {
                    Some(Host::Ipv4(ip)) => prop_assert!(ranges::classify(IpAddr::V4(ip)).is_none()),
                    Some(Host::Ipv6(ip)) => prop_assert!(ranges::classify(IpAddr::V6(ip)).is_none()),
                    Some(Host::Domain(name)) => prop_assert!(OutboundPolicy::default().check_name(name).is_ok()),
                    None => prop_assert!(false, "no host: {}", text),
                }
            }
        }
    }
}
