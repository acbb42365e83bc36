//! Property tests of [`super::CallbackUrl`]: decoding never panics and agrees with parsing the
//! decoded text, whatever is accepted passes every check, and the match key is exact.
//!
//! Case counts: proptest's default (256), or `PROPTEST_CASES` (`tests/props/long-run.sh`).

use std::net::{Ipv4Addr, Ipv6Addr};

use base64::engine::general_purpose::{STANDARD, URL_SAFE};
use proptest::prelude::*;
use proptest::sample::Index;

use super::*;

/// Any characters, control characters and backslashes included.
fn any_text(max: usize) -> impl Strategy<Value = String> {
    prop::collection::vec(any::<char>(), 0..max).prop_map(String::from_iter)
}

/// The characters that matter to URL parsers, and to the refusals of [`CallbackUrl::parse`].
const URL_CHARS: &[char] = &[
    '/', '?', '#', '@', ':', '.', '%', '\\', ' ', '\t', '\n', '\r', '\0', '\u{7f}', '\u{85}',
    '\u{a0}', '\u{2028}', '\u{3000}', 'é', '&', '=', '+', ';', '~', '-', '_', '[', ']', 'a', 'Z',
    '0',
];

/// Strings shaped like URLs, with the pieces the checks are about (scheme, user info, host,
/// port, fragment) and a tail of characters that parsers disagree about.
fn urlish() -> impl Strategy<Value = String> {
    let scheme = prop::sample::select(vec![
        "https:",
        "http:",
        "HTTPS:",
        "hTtP:",
        "javascript:",
        "data:",
        "ftp:",
        "file:",
        "",
    ]);
    let slashes = prop::sample::select(vec!["//", "/", "", "\\\\", "/\\", "///"]);
    let userinfo = prop::sample::select(vec!["", "", "", "u@", "u:p@", ":@", "@", "a%40b@"]);
    let host = prop::sample::select(vec![
        "app.example.com",
        "APP.Example.COM",
        "127.0.0.1",
        "[::1]",
        "bücher.example",
        "",
        "a",
        "evil.example%2F",
        "0x7f.1",
    ]);
    let port = prop::sample::select(vec!["", "", ":443", ":80", ":0", ":65536", ":", ":x"]);
    let tail = prop::collection::vec(
        prop_oneof![3 => prop::sample::select(URL_CHARS), 1 => any::<char>()],
        0..24,
    );
    (scheme, slashes, userinfo, host, port, tail)
        .prop_map(|(s, sl, u, h, p, t)| format!("{s}{sl}{u}{h}{p}/{}", String::from_iter(t)))
}

/// A host as the match key must see it: names compare lower-cased, addresses by value.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Host {
    Name(String),
    V4(Ipv4Addr),
    V6(Ipv6Addr),
}

/// The parts of a well-formed callback URL.
#[derive(Debug, Clone)]
struct Parts {
    https: bool,
    /// Names are spelled in mixed case; [`Parts::key`] lower-cases them.
    host: Host,
    port: Option<u16>,
    path: Vec<String>,
    query: Option<String>,
}

impl Parts {
    fn url(&self) -> String {
        let port = self.port.map(|p| format!(":{p}")).unwrap_or_default();
        let query = self
            .query
            .as_ref()
            .map(|q| format!("?{q}"))
            .unwrap_or_default();
        format!(
            "{}://{}{port}{}{query}",
            self.scheme(),
            self.host_text(),
            self.path()
        )
    }

    fn scheme(&self) -> &'static str {
        if self.https { "https" } else { "http" }
    }

    fn host_text(&self) -> String {
        match &self.host {
            Host::Name(n) => n.clone(),
            Host::V4(a) => a.to_string(),
            Host::V6(a) => format!("[{a}]"),
        }
    }

    fn effective_port(&self) -> u16 {
        self.port.unwrap_or(if self.https { 443 } else { 80 })
    }

    fn path(&self) -> String {
        format!("/{}", self.path.join("/"))
    }

    /// What the match key must distinguish, and nothing else.
    fn key(&self) -> (bool, Host, u16, String) {
        let host = match &self.host {
            Host::Name(n) => Host::Name(n.to_ascii_lowercase()),
            other => other.clone(),
        };
        (self.https, host, self.effective_port(), self.path())
    }

    /// The key as text, `scheme://host:port/path`.
    fn key_text(&self) -> String {
        let host = match &self.host {
            Host::Name(n) => n.to_ascii_lowercase(),
            Host::V4(a) => a.to_string(),
            Host::V6(a) => url::Host::<String>::Ipv6(*a).to_string(),
        };
        let (https, _, port, path) = self.key();
        let scheme = if https { "https" } else { "http" };
        format!("{scheme}://{host}:{port}{path}")
    }
}

fn host() -> impl Strategy<Value = Host> {
    // Labels start with a letter: a numeric last label would make the host an IPv4 address.
    let name = prop::collection::vec("[a-zA-Z][a-zA-Z0-9]{0,9}(-[a-zA-Z0-9]{1,4})?", 1..4)
        .prop_map(|labels| Host::Name(labels.join(".")));
    prop_oneof![
        4 => name,
        1 => any::<[u8; 4]>().prop_map(|a| Host::V4(Ipv4Addr::from(a))),
        1 => any::<[u16; 8]>().prop_map(|a| Host::V6(Ipv6Addr::from(a))),
    ]
}

fn parts() -> impl Strategy<Value = Parts> {
    // No segment is `.` or `..` (they are resolved away) and nothing is percent-encoded, so two
    // different paths here are two different resources.
    let segment = "([a-zA-Z0-9_~-][a-zA-Z0-9_~.!$'()*+,;=:@-]{0,7})?";
    (
        any::<bool>(),
        host(),
        prop::option::of(any::<u16>()),
        prop::collection::vec(segment, 0..4),
        prop::option::of("[a-zA-Z0-9=&_.~%/?-]{0,16}"),
    )
        .prop_map(|(https, host, port, path, query)| Parts {
            https,
            host,
            port,
            path,
            query,
        })
}

/// The same URL spelled differently: host case, default port written or not, another query.
fn respelled(p: &Parts, flips: &[bool], port_explicit: bool, query: Option<String>) -> Parts {
    let host = match &p.host {
        Host::Name(n) => Host::Name(
            n.chars()
                .zip(flips.iter().cycle())
                .map(|(c, &up)| {
                    if up {
                        c.to_ascii_uppercase()
                    } else {
                        c.to_ascii_lowercase()
                    }
                })
                .collect(),
        ),
        other => other.clone(),
    };
    let port = if p.port.is_none() || p.port == Some(p.effective_port()) {
        port_explicit.then(|| p.effective_port())
    } else {
        p.port
    };
    Parts {
        host,
        port,
        query,
        ..p.clone()
    }
}

/// A query parameter name: often one Authify sets, so that replacing is exercised.
fn param_name() -> impl Strategy<Value = String> {
    prop_oneof![
        prop::sample::select(vec!["jwt", "state", "a"]).prop_map(String::from),
        ".{0,8}",
    ]
}

/// Every check [`CallbackUrl::parse`] promises, read back from the accepted URL.
fn assert_passes_every_check(input: &str, cb: &CallbackUrl) {
    assert!(input.len() <= MAX_CALLBACK_LEN, "{input:?}");
    assert!(
        !input
            .chars()
            .any(|c| c.is_whitespace() || c.is_control() || c == '\\'),
        "{input:?}"
    );
    let url = Url::parse(cb.as_str()).expect("an accepted callback re-parses");
    assert!(matches!(url.scheme(), "http" | "https"), "{input:?}");
    assert!(
        url.username().is_empty() && url.password().is_none(),
        "{input:?}"
    );
    assert_eq!(url.fragment(), None, "{input:?}");
    assert!(url.host_str().is_some_and(|h| !h.is_empty()), "{input:?}");
    assert!(cb.match_key().starts_with(url.scheme()), "{input:?}");
}

/// Ruby's `Base64.encode64`: a newline every 60 characters and at the end.
fn ruby(bytes: &[u8]) -> String {
    let standard = STANDARD.encode(bytes);
    let mut out = String::new();
    for line in standard.as_bytes().chunks(60) {
        out.push_str(&String::from_utf8_lossy(line));
        out.push('\n');
    }
    out
}

proptest! {
    #[test]
    fn decoding_never_panics_and_what_it_accepts_passes_every_check(
        raw in prop_oneof![
            any_text(64),
            "[A-Za-z0-9+/_= \r\n-]{0,64}",
            urlish().prop_map(|u| URL_SAFE.encode(u)),
        ],
    ) {
        if let Ok(cb) = CallbackUrl::from_base64(&raw) {
            let text = cb.as_str().to_owned();
            assert_passes_every_check(&text, &cb);
        }
    }

    #[test]
    fn every_encoding_of_any_bytes_decodes_like_parsing_the_bytes_as_text(
        bytes in prop_oneof![
            prop::collection::vec(any::<u8>(), 0..64),
            urlish().prop_map(String::into_bytes),
            parts().prop_map(|p| p.url().into_bytes()),
        ],
    ) {
        let expected = String::from_utf8(bytes.clone())
            .map_err(|_| CallbackError::NotText)
            .and_then(|text| CallbackUrl::parse(&text));
        let standard = STANDARD.encode(&bytes);
        for encoded in [
            standard.clone(),
            standard.trim_end_matches('=').to_owned(),
            URL_SAFE.encode(&bytes),
            URL_SAFE_NO_PAD.encode(&bytes),
            ruby(&bytes),
            ruby(&bytes).replace('\n', "\r\n"),
            // `+` read as a space by form decoding.
            standard.replace('+', " "),
        ] {
            prop_assert_eq!(CallbackUrl::from_base64(&encoded), expected.clone(), "{:?}", encoded);
        }
    }

    #[test]
    fn parsing_refuses_exactly_what_it_promises_to_and_accepts_only_checked_urls(
        text in prop_oneof![urlish(), any_text(48), parts().prop_map(|p| p.url())],
    ) {
        let result = CallbackUrl::parse(&text);
        if text.len() > MAX_CALLBACK_LEN {
            prop_assert_eq!(result, Err(CallbackError::TooLong));
        } else if text.chars().any(|c| c.is_whitespace() || c.is_control() || c == '\\') {
            prop_assert_eq!(result, Err(CallbackError::BadCharacters));
        } else {
            match result {
                Ok(cb) => {
                    assert_passes_every_check(&text, &cb);
                    // Serializing may percent-encode and so lengthen it past the limit.
                    if cb.as_str().len() <= MAX_CALLBACK_LEN {
                        prop_assert_eq!(CallbackUrl::parse(cb.as_str()), Ok(cb.clone()));
                    }
                }
                Err(CallbackError::Scheme(s)) => prop_assert!(s != "http" && s != "https"),
                Err(_) => {}
            }
        }
    }

    #[test]
    fn a_valid_callback_round_trips_through_base64_with_its_exact_match_key(p in parts()) {
        let url = p.url();
        let cb = CallbackUrl::parse(&url).map_err(|e| TestCaseError::fail(format!("{url}: {e}")))?;
        prop_assert_eq!(cb.match_key(), p.key_text());
        for encoded in [STANDARD.encode(&url), URL_SAFE_NO_PAD.encode(&url)] {
            prop_assert_eq!(CallbackUrl::from_base64(&encoded), Ok(cb.clone()));
        }
        prop_assert_eq!(CallbackUrl::parse(cb.as_str()), Ok(cb.clone()));
    }

    #[test]
    fn two_callbacks_share_a_match_key_only_with_the_same_scheme_host_port_and_path(
        a in parts(),
        fresh in parts(),
        change in 0..6u8,
        flips in prop::collection::vec(any::<bool>(), 1..8),
        port_explicit in any::<bool>(),
    ) {
        // One part changed to an arbitrary value (which may happen to be the same), or the same
        // URL spelled differently.
        let b = match change {
            0 => Parts { https: fresh.https, ..a.clone() },
            1 => Parts { host: fresh.host.clone(), ..a.clone() },
            2 => Parts { port: fresh.port, ..a.clone() },
            3 => Parts { path: fresh.path.clone(), ..a.clone() },
            4 => Parts { query: fresh.query.clone(), ..a.clone() },
            _ => respelled(&a, &flips, port_explicit, fresh.query.clone()),
        };
        let key = |p: &Parts| {
            CallbackUrl::parse(&p.url()).map(|cb| cb.match_key().to_owned())
        };
        let (ka, kb) = (key(&a), key(&b));
        prop_assert!(ka.is_ok() && kb.is_ok(), "{} / {}", a.url(), b.url());
        prop_assert_eq!(ka == kb, a.key() == b.key(), "{} / {}", a.url(), b.url());
    }

    #[test]
    fn merging_parameters_never_changes_where_the_redirect_goes(
        p in parts(),
        own in prop::collection::vec((param_name(), ".{0,6}"), 0..4),
        params in prop::collection::vec((param_name(), ".{0,16}"), 0..4),
    ) {
        // The app's own parameters, some named like ours.
        let query = url::form_urlencoded::Serializer::new(String::new()).extend_pairs(&own).finish();
        let p = Parts { query: Some(query), ..p };
        let cb = CallbackUrl::parse(&p.url()).map_err(|e| TestCaseError::fail(e.to_string()))?;
        let borrowed: Vec<(&str, &str)> =
            params.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        let out = cb.with_params(&borrowed);
        let back = CallbackUrl::parse(&out).map_err(|e| TestCaseError::fail(format!("{out}: {e}")))?;
        prop_assert_eq!(back.match_key(), cb.match_key());
        let pairs = |u: &str| -> Vec<(String, String)> {
            Url::parse(u).map(|u| u.query_pairs().map(|(k, v)| (k.into_owned(), v.into_owned())).collect()).unwrap_or_default()
        };
        let mut expected: Vec<(String, String)> = pairs(cb.as_str())
            .into_iter()
            .filter(|(k, _)| !params.iter().any(|(name, _)| name == k))
            .collect();
        expected.extend(params.iter().cloned());
        prop_assert_eq!(pairs(&out), expected);
    }

    #[test]
    fn the_length_limit_is_exact_in_bytes(
        p in parts(),
        pad in prop::sample::select(vec!['a', 'é', '€']),
        over in -8i32..8,
    ) {
        // Pad the path so the text lands within a few bytes of the limit, either side.
        let base = p.url();
        let target = MAX_CALLBACK_LEN as i32 + over;
        let mut text = base.clone();
        if let Some(q) = text.find('?') {
            text.truncate(q);
        }
        text.push_str("/x");
        while (text.len() as i32) < target {
            let fits = text.len() as i32 + pad.len_utf8() as i32 <= target;
            text.push(if fits { pad } else { 'a' });
        }
        prop_assert_eq!(text.len() as i32, target);
        let result = CallbackUrl::parse(&text);
        if text.len() > MAX_CALLBACK_LEN {
            prop_assert_eq!(result, Err(CallbackError::TooLong));
        } else {
            prop_assert!(result.is_ok(), "{:?}", result);
        }
    }

    #[test]
    fn any_single_character_inserted_into_a_valid_callback_is_refused_or_still_checked(
        p in parts(),
        at in any::<Index>(),
        c in prop_oneof![prop::sample::select(URL_CHARS), any::<char>()],
    ) {
        let mut text = p.url();
        let boundaries: Vec<usize> = text.char_indices().map(|(i, _)| i).chain([text.len()]).collect();
        text.insert(boundaries[at.index(boundaries.len())], c);
        match CallbackUrl::parse(&text) {
            Ok(cb) => assert_passes_every_check(&text, &cb),
            Err(e) => {
                if c.is_whitespace() || c.is_control() || c == '\\' {
                    prop_assert_eq!(e, CallbackError::BadCharacters);
                }
            }
        }
    }
}
