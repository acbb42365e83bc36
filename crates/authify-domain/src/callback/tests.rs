//! Decoding variants and the refusals of [`super::CallbackUrl`].

use super::*;
use base64::engine::general_purpose::{STANDARD, URL_SAFE};

const CB: &str = "https://app.example.com/auth/callback?from=login";

#[test]
fn every_base64_variant_decodes_to_the_same_url() {
    let standard = STANDARD.encode(CB);
    let ruby = {
        // Ruby's Base64.encode64: standard alphabet, padded, a newline every 60 characters and at the end.
        let mut out = String::new();
        for chunk in standard.as_bytes().chunks(60) {
            out.push_str(std::str::from_utf8(chunk).unwrap());
            out.push('\n');
        }
        out
    };
    let variants = [
        standard.clone(),
        standard.trim_end_matches('=').to_owned(),
        URL_SAFE.encode(CB),
        URL_SAFE_NO_PAD.encode(CB),
        ruby,
        standard.replace('+', " "),
    ];
    for v in variants {
        let cb = CallbackUrl::from_base64(&v).unwrap_or_else(|e| panic!("{v:?}: {e}"));
        assert_eq!(cb.as_str(), CB);
        assert_eq!(cb.match_key(), "https://app.example.com:443/auth/callback");
    }
}

#[test]
fn a_url_needing_plus_and_slash_survives_both_alphabets() {
    // Bytes chosen so the standard encoding contains '+' and '/'.
    let url = "https://app.example.com/cb?q=>>>???";
    let std = STANDARD.encode(url);
    assert!(std.contains('+') || std.contains('/'), "{std}");
    assert_eq!(
        CallbackUrl::from_base64(&std).unwrap().as_str(),
        Url::parse(url).unwrap().as_str()
    );
    assert_eq!(
        CallbackUrl::from_base64(&URL_SAFE.encode(url))
            .unwrap()
            .as_str(),
        Url::parse(url).unwrap().as_str()
    );
}

#[test]
fn garbage_and_dangerous_urls_are_refused_with_a_named_problem() {
    let enc = |s: &str| STANDARD.encode(s);
    let cases: Vec<(String, CallbackError)> = vec![
        ("%%%".into(), CallbackError::NotBase64),
        (STANDARD.encode([0xff, 0xfe, 0xfd]), CallbackError::NotText),
        (
            enc("javascript:alert(1)"),
            CallbackError::Scheme("javascript".into()),
        ),
        (
            enc("data:text/html,hi"),
            CallbackError::Scheme("data".into()),
        ),
        (
            enc("ftp://app.example.com/cb"),
            CallbackError::Scheme("ftp".into()),
        ),
        (
            enc("https://user:pw@app.example.com/cb"),
            CallbackError::UserInfo,
        ),
        (
            enc("https://app.example.com@evil.example/cb"),
            CallbackError::UserInfo,
        ),
        (
            enc("https://app.example.com/cb#frag"),
            CallbackError::Fragment,
        ),
        (enc("https://app.example.com/cb#"), CallbackError::Fragment),
        (enc("/relative/path"), CallbackError::NotAUrl),
        (enc("//evil.example/cb"), CallbackError::NotAUrl),
        (
            enc("https:\\\\evil.example/cb"),
            CallbackError::BadCharacters,
        ),
        (
            enc("https://app.example.com/c b"),
            CallbackError::BadCharacters,
        ),
        (
            enc("https://app.example.com/\tcb"),
            CallbackError::BadCharacters,
        ),
        (
            enc(&format!(
                "https://app.example.com/{}",
                "a".repeat(MAX_CALLBACK_LEN)
            )),
            CallbackError::TooLong,
        ),
    ];
    for (raw, expected) in cases {
        assert_eq!(
            CallbackUrl::from_base64(&raw),
            Err(expected.clone()),
            "{raw}"
        );
        assert!(!expected.to_string().is_empty());
    }
}

#[test]
fn the_match_key_is_exact_in_scheme_host_port_and_path() {
    let key = |s: &str| CallbackUrl::parse(s).unwrap().match_key().to_owned();
    let base = key("https://app.example.com/cb");
    assert_eq!(
        key("https://APP.example.com/cb?x=1"),
        base,
        "host is case-insensitive, query is free"
    );
    assert_eq!(
        key("https://app.example.com:443/cb"),
        base,
        "default port is explicit"
    );
    for other in [
        "http://app.example.com/cb",
        "https://app.example.com:8443/cb",
        "https://app.example.com/cb/",
        "https://app.example.com/cb2",
        "https://app.example.com/CB",
        "https://app.example.com.evil.example/cb",
        "https://evil.example/cb",
        "https://sub.app.example.com/cb",
    ] {
        assert_ne!(key(other), base, "{other}");
    }
}

#[test]
fn params_are_merged_into_the_query_replacing_same_named_ones() {
    let cb = CallbackUrl::parse("https://app.example.com/cb?keep=1&jwt=old").unwrap();
    let out = Url::parse(&cb.with_params(&[("jwt", "new.token"), ("state", "s 1")])).unwrap();
    let pairs: Vec<(String, String)> = out
        .query_pairs()
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    assert_eq!(
        pairs,
        [
            ("keep".into(), "1".into()),
            ("jwt".into(), "new.token".into()),
            ("state".into(), "s 1".into())
        ]
    );
    let bare = CallbackUrl::parse("https://app.example.com/cb").unwrap();
    assert_eq!(
        bare.with_params(&[("jwt", "t")]),
        "https://app.example.com/cb?jwt=t"
    );
}
