//! Which IP addresses a server-side request may not reach: the special-purpose ranges of the
//! IANA registries (RFC 6890 and its successors) that are not the public internet, and the
//! addresses cloud providers serve instance metadata (and credentials) on. IPv6 forms that carry
//! an IPv4 address (mapped, compatible, NAT64, 6to4) are judged by that address.

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// Why an address is not a public internet host.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Range {
    /// An instance metadata service (169.254.169.254, fd00:ec2::254, 100.100.100.200).
    Metadata,
    /// 0.0.0.0/8, `::`: "this host" (most systems connect it to loopback).
    Unspecified,
    /// 127.0.0.0/8, `::1`.
    Loopback,
    /// 10/8, 172.16/12, 192.168/16, local-use NAT64, site-local.
    Private,
    /// 100.64.0.0/10, carrier-grade NAT (RFC 6598).
    Shared,
    /// 169.254.0.0/16, fe80::/10.
    LinkLocal,
    /// fc00::/7 (RFC 4193).
    UniqueLocal,
    /// 224.0.0.0/4, ff00::/8.
    Multicast,
    /// 255.255.255.255.
    Broadcast,
    /// 192.0.2/24, 198.51.100/24, 203.0.113/24, 2001:db8::/32, 3fff::/20.
    Documentation,
    /// 198.18.0.0/15, 2001:2::/48.
    Benchmarking,
    /// Everything else special-purpose: 240/4, IETF protocol assignments, Teredo, discard, and
    /// IPv6 outside global unicast (2000::/3).
    Reserved,
}

impl fmt::Display for Range {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Range::Metadata => "a cloud metadata address",
            Range::Unspecified => "an unspecified address",
            Range::Loopback => "a loopback address",
            Range::Private => "a private address",
            Range::Shared => "a shared (CGNAT) address",
            Range::LinkLocal => "a link-local address",
            Range::UniqueLocal => "a unique-local address",
            Range::Multicast => "a multicast address",
            Range::Broadcast => "the broadcast address",
            Range::Documentation => "a documentation address",
            Range::Benchmarking => "a benchmarking address",
            Range::Reserved => "a reserved address",
        })
    }
}

/// First match wins: the metadata addresses before the ranges holding them.
const V4: &[([u8; 4], u8, Range)] = &[
    ([169, 254, 169, 254], 32, Range::Metadata),
    // Alibaba Cloud; Oracle Cloud's older service.
    ([100, 100, 100, 200], 32, Range::Metadata),
    ([192, 0, 0, 192], 32, Range::Metadata),
    ([0, 0, 0, 0], 8, Range::Unspecified),
    ([10, 0, 0, 0], 8, Range::Private),
    ([100, 64, 0, 0], 10, Range::Shared),
    ([127, 0, 0, 0], 8, Range::Loopback),
    ([169, 254, 0, 0], 16, Range::LinkLocal),
    ([172, 16, 0, 0], 12, Range::Private),
    ([192, 0, 0, 0], 24, Range::Reserved),
    ([192, 0, 2, 0], 24, Range::Documentation),
    ([192, 88, 99, 0], 24, Range::Reserved),
    ([192, 168, 0, 0], 16, Range::Private),
    ([198, 18, 0, 0], 15, Range::Benchmarking),
    ([198, 51, 100, 0], 24, Range::Documentation),
    ([203, 0, 113, 0], 24, Range::Documentation),
    ([224, 0, 0, 0], 4, Range::Multicast),
    ([255, 255, 255, 255], 32, Range::Broadcast),
    ([240, 0, 0, 0], 4, Range::Reserved),
];

/// IPv6 ranges that carry no IPv4 address; checked after the embedded forms.
const V6: &[(u128, u8, Range)] = &[
    (
        0xfd00_0ec2_0000_0000_0000_0000_0000_0254,
        128,
        Range::Metadata,
    ),
    (
        0x0100_0000_0000_0000_0000_0000_0000_0000,
        64,
        Range::Reserved,
    ),
    (
        0x2001_0000_0000_0000_0000_0000_0000_0000,
        32,
        Range::Reserved,
    ),
    (
        0x2001_0002_0000_0000_0000_0000_0000_0000,
        48,
        Range::Benchmarking,
    ),
    (
        0x2001_0010_0000_0000_0000_0000_0000_0000,
        28,
        Range::Reserved,
    ),
    (
        0x2001_0020_0000_0000_0000_0000_0000_0000,
        28,
        Range::Reserved,
    ),
    (
        0x2001_0db8_0000_0000_0000_0000_0000_0000,
        32,
        Range::Documentation,
    ),
    (
        0x3fff_0000_0000_0000_0000_0000_0000_0000,
        20,
        Range::Documentation,
    ),
    (
        0x0064_ff9b_0001_0000_0000_0000_0000_0000,
        48,
        Range::Private,
    ),
    (
        0xfc00_0000_0000_0000_0000_0000_0000_0000,
        7,
        Range::UniqueLocal,
    ),
    (
        0xfe80_0000_0000_0000_0000_0000_0000_0000,
        10,
        Range::LinkLocal,
    ),
    (
        0xfec0_0000_0000_0000_0000_0000_0000_0000,
        10,
        Range::Private,
    ),
    (
        0xff00_0000_0000_0000_0000_0000_0000_0000,
        8,
        Range::Multicast,
    ),
];

/// The range `ip` belongs to, or `None` for a public internet address.
pub(crate) fn classify(ip: IpAddr) -> Option<Range> {
    match ip {
        IpAddr::V4(v4) => classify_v4(v4),
        IpAddr::V6(v6) => classify_v6(v6),
    }
}

fn classify_v4(ip: Ipv4Addr) -> Option<Range> {
    let bits = u32::from(ip);
    V4.iter()
        .find(|(base, len, _)| {
            let mask = u32::MAX.checked_shl(32 - u32::from(*len)).unwrap_or(0);
            bits & mask == u32::from_be_bytes(*base) & mask
        })
        .map(|(_, _, range)| *range)
}

fn classify_v6(ip: Ipv6Addr) -> Option<Range> {
    if ip.is_unspecified() {
        return Some(Range::Unspecified);
    }
    if ip.is_loopback() {
        return Some(Range::Loopback);
    }
    // SECURITY: `[::ffff:127.0.0.1]`, `[::127.0.0.1]`, `[64:ff9b::a9fe:a9fe]` and 6to4 reach (or
    // name) the IPv4 address inside them: they are judged as that address.
    if let Some((embedded, deprecated)) = embedded_v4(ip) {
        return match classify_v4(embedded) {
            Some(range) => Some(range),
            // IPv4-compatible addresses are deprecated (RFC 4291 §2.5.5.1): never a real host.
            None if deprecated => Some(Range::Reserved),
            None => None,
        };
    }
    let bits = u128::from(ip);
    let special = V6.iter().find(|(base, len, _)| {
        let mask = u128::MAX.checked_shl(128 - u32::from(*len)).unwrap_or(0);
        bits & mask == base & mask
    });
    match special {
        Some((_, _, range)) => Some(*range),
        // Only 2000::/3 is allocated as global unicast.
        None if bits >> 125 != 0b001 => Some(Range::Reserved),
        None => None,
    }
}

/// The IPv4 address an IPv6 address carries, and whether the form is a deprecated one.
fn embedded_v4(ip: Ipv6Addr) -> Option<(Ipv4Addr, bool)> {
    let bits = u128::from(ip);
    let low = Ipv4Addr::from((bits & 0xffff_ffff) as u32);
    if let Some(mapped) = ip.to_ipv4_mapped() {
        return Some((mapped, false));
    }
    match bits >> 32 {
        // ::a.b.c.d (IPv4-compatible).
        0 => Some((low, true)),
        // 64:ff9b::a.b.c.d (NAT64, RFC 6052).
        0x0064_ff9b_0000_0000_0000_0000 => Some((low, false)),
        // 2002:aabb:ccdd::/48 (6to4, RFC 3056).
        _ if bits >> 112 == 0x2002 => Some((Ipv4Addr::from((bits >> 80) as u32), false)),
        _ => None,
    }
}
