//! The outbound rule on the forms an attacker writes internal addresses in.

use super::*;

fn policy() -> OutboundPolicy {
    OutboundPolicy::default()
}

fn refusal(url: &str) -> Refusal {
    policy()
        .check_url(url)
        .expect_err(&format!("{url} must be refused"))
}

fn address(url: &str) -> (IpAddr, Range) {
    match refusal(url) {
        Refusal::Address { ip, range } => (ip, range),
        other => panic!("{url}: {other:?}"),
    }
}

#[test]
fn the_ten_internal_forms_of_the_issue_are_refused_with_their_reason() {
    let cases: &[(&str, &str)] = &[
        (
            "https://169.254.169.254/latest/meta-data/",
            "points at a cloud metadata address (169.254.169.254)",
        ),
        (
            "https://metadata.google.internal/computeMetadata/v1/",
            "points at a cloud metadata address by its name (metadata.google.internal)",
        ),
        (
            "https://[fd00:ec2::254]/latest/meta-data/",
            "points at a cloud metadata address (fd00:ec2::254)",
        ),
        (
            "https://10.0.0.1/",
            "points at a private address (10.0.0.1)",
        ),
        (
            "https://127.0.0.1:9100/metrics",
            "points at a loopback address (127.0.0.1)",
        ),
        (
            "https://localhost:22/",
            "points at a loopback address by its name (localhost)",
        ),
        (
            "https://0.0.0.0/",
            "points at an unspecified address (0.0.0.0)",
        ),
        ("https://[::1]/", "points at a loopback address (::1)"),
        ("https://127.1/", "points at a loopback address (127.0.0.1)"),
        (
            "https://2130706433/",
            "points at a loopback address (127.0.0.1)",
        ),
    ];
    for (url, reason) in cases {
        assert_eq!(refusal(url).to_string(), *reason, "{url}");
    }
}

#[test]
fn the_url_parser_turns_short_decimal_octal_and_hex_hosts_into_addresses() {
    for url in [
        "https://127.1/",
        "https://2130706433/",
        "https://0x7f.0.0.1/",
        "https://0177.0.0.1/",
        "https://017700000001/",
        "https://127.0.0.1./",
        "https://[0:0:0:0:0:0:0:1]/",
    ] {
        assert_eq!(address(url).1, Range::Loopback, "{url}");
    }
    assert_eq!(
        address("https://0/").0,
        "0.0.0.0".parse::<IpAddr>().unwrap()
    );
}

#[test]
fn ipv6_forms_carrying_an_internal_ipv4_address_are_judged_by_it() {
    assert_eq!(address("https://[::ffff:127.0.0.1]/").1, Range::Loopback);
    assert_eq!(address("https://[::ffff:a9fe:a9fe]/").1, Range::Metadata);
    assert_eq!(address("https://[::127.0.0.1]/").1, Range::Loopback);
    assert_eq!(address("https://[64:ff9b::10.0.0.1]/").1, Range::Private);
    assert_eq!(address("https://[2002:a9fe:a9fe::1]/").1, Range::Metadata);
    // The public addresses inside them are public (NAT64 and 6to4 are real transports), but an
    // IPv4-compatible address is deprecated and never a host.
    assert!(policy().check_url("https://[::ffff:8.8.8.8]/").is_ok());
    assert!(policy().check_url("https://[64:ff9b::8.8.8.8]/").is_ok());
    assert!(policy().check_url("https://[2002:808:808::1]/").is_ok());
    assert_eq!(address("https://[::8.8.8.8]/").1, Range::Reserved);
}

#[test]
fn every_special_purpose_range_is_refused() {
    let cases: &[(&str, Range)] = &[
        ("100.64.0.1", Range::Shared),
        ("100.127.255.254", Range::Shared),
        ("100.100.100.200", Range::Metadata),
        ("172.16.0.1", Range::Private),
        ("172.31.255.255", Range::Private),
        ("192.168.1.1", Range::Private),
        ("169.254.1.1", Range::LinkLocal),
        ("0.1.2.3", Range::Unspecified),
        ("224.0.0.1", Range::Multicast),
        ("239.255.255.250", Range::Multicast),
        ("255.255.255.255", Range::Broadcast),
        ("240.0.0.1", Range::Reserved),
        ("192.0.0.8", Range::Reserved),
        ("192.0.2.1", Range::Documentation),
        ("198.51.100.1", Range::Documentation),
        ("203.0.113.1", Range::Documentation),
        ("198.18.0.1", Range::Benchmarking),
        ("::", Range::Unspecified),
        ("fe80::1", Range::LinkLocal),
        ("fc00::1", Range::UniqueLocal),
        ("fd12:3456::1", Range::UniqueLocal),
        ("ff02::1", Range::Multicast),
        ("2001:db8::1", Range::Documentation),
        ("2001::1", Range::Reserved),
        ("100::1", Range::Reserved),
        ("4000::1", Range::Reserved),
    ];
    for (ip, range) in cases {
        let ip: IpAddr = ip.parse().unwrap();
        assert_eq!(
            policy().check_ip(ip),
            Err(Refusal::Address { ip, range: *range }),
            "{ip}"
        );
    }
    for public in [
        "8.8.8.8",
        "1.1.1.1",
        "172.32.0.1",
        "100.128.0.1",
        "2606:4700::1111",
    ] {
        assert_eq!(
            policy().check_ip(public.parse().unwrap()),
            Ok(()),
            "{public}"
        );
    }
}

#[test]
fn internal_names_are_refused_and_public_https_urls_pass() {
    for url in [
        "https://LOCALHOST/",
        "https://localhost./",
        "https://app.localhost/",
        "https://metadata/computeMetadata/v1/",
        "https://db.internal/",
        "https://printer.local/",
        "https://nas.home.arpa/",
        "https://redis:6379/",
    ] {
        assert!(
            matches!(refusal(url), Refusal::Name { .. }),
            "{url}: {:?}",
            refusal(url)
        );
    }
    for url in [
        "https://rp.example.com/backchannel",
        "https://8.8.8.8/",
        "https://[2606:4700::1111]:8443/logout?x=1",
        "https://localhost.example.com/",
    ] {
        assert_eq!(
            policy().check_url(url).map(|u| u.to_string()),
            Ok(url.to_owned())
        );
    }
}

#[test]
fn http_credentials_and_other_schemes_are_refused() {
    assert_eq!(refusal("http://rp.example.com/"), Refusal::Http);
    assert_eq!(
        refusal("ftp://rp.example.com/"),
        Refusal::Scheme("ftp".into())
    );
    assert_eq!(
        refusal("file:///etc/passwd"),
        Refusal::Scheme("file".into())
    );
    assert_eq!(
        refusal("https://rp.example.com@127.0.0.1/"),
        Refusal::UserInfo
    );
    assert_eq!(refusal("not a url"), Refusal::NotAUrl);
    let http = OutboundPolicy {
        allow_http: true,
        ..OutboundPolicy::default()
    };
    assert!(http.check_url("http://rp.example.com/").is_ok());
    assert_eq!(
        http.check_url("http://127.0.0.1/").unwrap_err().to_string(),
        "points at a loopback address (127.0.0.1)"
    );
}

#[test]
fn the_allow_list_lets_its_networks_and_the_names_standing_for_them_through() {
    let loopback = OutboundPolicy {
        allow_http: false,
        allow: vec!["127.0.0.0/8".parse().unwrap(), "::1/128".parse().unwrap()],
    };
    assert!(loopback.check_url("https://127.0.0.1:8080/hook").is_ok());
    assert!(loopback.check_url("https://[::1]/").is_ok());
    assert!(loopback.check_url("https://[::ffff:127.0.0.1]/").is_ok());
    assert!(loopback.check_url("https://localhost:8080/").is_ok());
    // Allowing loopback allows nothing else inside.
    assert!(loopback.check_url("https://10.0.0.1/").is_err());
    assert!(loopback.check_url("https://169.254.169.254/").is_err());
    assert!(
        loopback
            .check_url("https://metadata.google.internal/")
            .is_err()
    );
    // A private deployment's own names are judged by their addresses when connecting.
    assert!(loopback.check_url("https://hooks.corp.internal/").is_ok());
    let private = OutboundPolicy {
        allow_http: false,
        allow: vec!["10.1.0.0/16".parse().unwrap()],
    };
    assert!(private.check_ip("10.1.2.3".parse().unwrap()).is_ok());
    assert!(private.check_ip("10.2.0.1".parse().unwrap()).is_err());
    assert!(private.check_url("https://localhost/").is_err());
}

#[test]
fn a_redirect_target_may_be_local_but_never_unspecified_or_metadata() {
    let ok = check_redirect_target;
    assert!(ok("http://localhost:3000/bye").is_ok());
    assert!(ok("https://10.0.0.5/bye").is_ok());
    assert!(ok("https://rp.example.com/bye").is_ok());
    for bad in [
        "http://0.0.0.0:3000/",
        "http://[::]/",
        "http://169.254.169.254/",
        "http://[::ffff:a9fe:a9fe]/",
        "http://metadata.google.internal/",
        "http://[fd00:ec2::254]/",
    ] {
        assert!(ok(bad).is_err(), "{bad}");
    }
}
