//! Property tests of the verifier, [`super::AuthifyClient::verify_at`], with its key cache filled
//! in place (three keys, one per algorithm) so that no server is needed: no input panics it, no
//! one-byte change of a valid token verifies, a token has one spelling (no high-S twin, no
//! padding, no other alphabet, no other trailing bits), and a signed token verifies exactly when
//! its claims pass every check.
//!
//! Case counts: proptest's default (256) or `PROPTEST_CASES` (`tests/props/long-run.sh`); the
//! two that sign a fresh token and check it several times per case run [`FRESH_TOKEN_CASES`]
//! unless `PROPTEST_CASES` is set.

use std::sync::LazyLock;

use authify_domain::SCOPE_USER;
use authify_jwt::{PrivateKey, Signer, TokenIssuer, TokenSubject};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use p256::ecdsa::signature::Verifier as _;
use proptest::prelude::*;
use proptest::sample::Index;
use serde_json::{Value, json};

use super::*;

const NOW: i64 = 1_700_000_000;
const ISSUER: &str = "https://id.example.com";
const AUDIENCE: &str = "app-1";
/// Default cases of the properties that sign a fresh token per case and check it several
/// times (up to 20 ms a case in a debug build).
const FRESH_TOKEN_CASES: u32 = 64;

/// `PROPTEST_CASES` when set (the long run), else `default`.
fn cases(default: u32) -> ProptestConfig {
    let cases = std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default);
    ProptestConfig::with_cases(cases)
}

struct Fixture {
    client: AuthifyClient,
    /// One signer per algorithm, in `Algorithm::ALL` order.
    signers: Vec<Signer>,
    /// A valid token per algorithm, in `Algorithm::ALL` order.
    tokens: Vec<String>,
}

fn subject(sub: &str) -> TokenSubject {
    TokenSubject {
        sub: sub.to_owned(),
        user: UserClaim {
            email_verified: false,
            username: "ann@example.com".into(),
            uid: sub.to_owned(),
            organizations: vec![],
        },
        scopes: vec![SCOPE_USER.into()],
    }
}

fn kid(alg: Algorithm) -> String {
    format!("kid-{}", alg.slug())
}

static FIXTURE: LazyLock<Fixture> = LazyLock::new(|| {
    // Port 9 (discard): should the verifier ever fetch, it fails fast, and `verify` notices.
    let mut config = ClientConfig::new("http://127.0.0.1:9", AUDIENCE);
    config.issuer = Some(ISSUER.into());
    config.max_age = Duration::MAX;
    config.refetch_interval = Duration::MAX;
    let client = AuthifyClient::new(config).unwrap();
    let mut keys = KeySet::new();
    let mut signers = Vec::new();
    for alg in Algorithm::ALL {
        let key = PrivateKey::generate(alg).unwrap();
        keys.insert(Some(kid(alg)), key.public_key());
        signers.push(Signer::new(kid(alg), &key).unwrap());
    }
    *client.cache.try_write().unwrap() = Some(Arc::new(client.cached(keys, "unused".into())));
    // An unknown kid then finds the refetch budget spent instead of fetching.
    *client.last_refetch.try_lock().unwrap() = Some(Instant::now());
    let tokens = signers
        .iter()
        .map(|s| issue(s, &subject("u-1"), [7; 16]))
        .collect();
    Fixture {
        client,
        signers,
        tokens,
    }
});

fn issue(signer: &Signer, subject: &TokenSubject, jti: [u8; 16]) -> String {
    TokenIssuer::new(ISSUER, 15)
        .issue(signer, subject.clone(), AUDIENCE, NOW, jti)
        .unwrap()
        .0
}

thread_local! {
    static RUNTIME: tokio::runtime::Runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
}

/// What the client says of `token` at [`NOW`].
fn verify(token: &str) -> Result<Claims, ClientError> {
    let client = &FIXTURE.client;
    let result = RUNTIME.with(|rt| rt.block_on(client.verify_at(token, NOW)));
    assert_eq!(client.key_fetches(), 0, "the verifier tried to fetch keys");
    result
}

fn b64(bytes: impl AsRef<[u8]>) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

fn algorithm() -> impl Strategy<Value = Algorithm> {
    prop::sample::select(Algorithm::ALL.to_vec())
}

const BASE64URL: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/// Bytes that matter in a compact JWS: its alphabet, the separator, padding, the two characters
/// of the standard alphabet, and whitespace a lenient reader might trim.
fn token_byte() -> impl Strategy<Value = u8> {
    let special = prop::sample::select(b".=+/ \n".to_vec());
    prop_oneof![3 => prop::sample::select(BASE64URL.to_vec()), 1 => special, 1 => 0u8..0x80]
}

/// Where an edit lands: anywhere, or within two bytes of a seam (the start, a dot, the end),
/// where splitting and base64 padding and trailing bits are decided.
#[derive(Debug, Clone, Copy)]
enum At {
    Anywhere(Index),
    NearSeam(Index, i8),
}

impl At {
    /// A position in `0..room` of `token`.
    fn resolve(self, token: &str, room: usize) -> usize {
        match self {
            At::Anywhere(i) => i.index(room),
            At::NearSeam(seam, delta) => {
                let seams: Vec<usize> = [0]
                    .into_iter()
                    .chain(token.match_indices('.').map(|(i, _)| i))
                    .chain([token.len()])
                    .collect();
                let at = seams[seam.index(seams.len())] as isize + isize::from(delta);
                at.clamp(0, room as isize - 1) as usize
            }
        }
    }
}

fn at() -> impl Strategy<Value = At> {
    prop_oneof![
        any::<Index>().prop_map(At::Anywhere),
        (any::<Index>(), -2i8..=1).prop_map(|(i, d)| At::NearSeam(i, d)),
    ]
}

/// One single-byte edit. Bytes stay ASCII (bit 7 is never flipped) so the token stays a `&str`.
#[derive(Debug, Clone)]
enum Edit {
    Flip(At, u8),
    Replace(At, u8),
    Insert(At, u8),
    Delete(At),
}

fn edit() -> impl Strategy<Value = Edit> {
    prop_oneof![
        (at(), 0u8..7).prop_map(|(at, bit)| Edit::Flip(at, bit)),
        (at(), token_byte()).prop_map(|(at, b)| Edit::Replace(at, b)),
        (at(), token_byte()).prop_map(|(at, b)| Edit::Insert(at, b)),
        at().prop_map(Edit::Delete),
    ]
}

fn apply(token: &str, edit: &Edit) -> String {
    let mut bytes = token.as_bytes().to_vec();
    let n = token.len();
    match *edit {
        Edit::Flip(at, bit) => bytes[at.resolve(token, n)] ^= 1 << bit,
        Edit::Replace(at, b) => bytes[at.resolve(token, n)] = b,
        Edit::Insert(at, b) => bytes.insert(at.resolve(token, n + 1), b),
        Edit::Delete(at) => {
            bytes.remove(at.resolve(token, n));
        }
    }
    String::from_utf8(bytes).unwrap()
}

/// Other spellings of `segment` that a lenient decoder reads as the same bytes: padded, in the
/// standard alphabet, or with other values in the unused low bits of the last character.
fn respellings(segment: &str) -> Vec<String> {
    let mut out = vec![
        format!("{segment}="),
        format!("{segment}=="),
        segment.replace('-', "+").replace('_', "/"),
    ];
    let unused_bits = match segment.len() % 4 {
        2 => 4,
        3 => 2,
        _ => 0,
    };
    let (head, last) = segment.split_at(segment.len().saturating_sub(1));
    if let Some(value) = BASE64URL.iter().position(|&c| last.as_bytes() == [c]) {
        for other in 1..(1 << unused_bits) {
            out.push(format!("{head}{}", char::from(BASE64URL[value ^ other])));
        }
    }
    out.retain(|s| s != segment);
    out
}

/// A JOSE header, mostly close to one the verifier would accept.
fn header() -> impl Strategy<Value = Value> {
    let names = [
        "ES256", "ES384", "ES512", "none", "HS256", "RS256", "es256", "",
    ];
    (
        prop_oneof![4 => prop::sample::select(names.to_vec()).prop_map(String::from), 1 => ".{0,8}"],
        prop::option::of(prop_oneof![
            3 => algorithm().prop_map(kid),
            1 => ".{0,10}",
        ]),
        prop::option::of(prop::sample::select(vec!["JWT", "jwt", "at+jwt", "JOSE"])),
        prop::bool::weighted(0.1),
    )
        .prop_map(|(alg, kid, typ, crit)| {
            let mut h = json!({ "alg": alg });
            if let Some(kid) = kid {
                h["kid"] = json!(kid);
            }
            if let Some(typ) = typ {
                h["typ"] = json!(typ);
            }
            if crit {
                h["crit"] = json!(["exp"]);
            }
            h
        })
}

/// Signature bytes: random, or of the exact size of one algorithm and all zeros, all ones or
/// random (which reach the curve arithmetic).
fn signature() -> impl Strategy<Value = Vec<u8>> {
    let exact = (algorithm(), 0..3u8).prop_flat_map(|(alg, fill)| {
        let n = 2 * alg.coordinate_len();
        match fill {
            0 => Just(vec![0; n]).boxed(),
            1 => Just(vec![0xff; n]).boxed(),
            _ => prop::collection::vec(any::<u8>(), n).boxed(),
        }
    });
    prop_oneof![3 => exact, 1 => prop::collection::vec(any::<u8>(), 0..160)]
}

/// The claims of a valid token with one field replaced by an arbitrary JSON value, or removed.
fn odd_payload() -> impl Strategy<Value = Value> {
    let fields = [
        "iss", "sub", "aud", "iat", "nbf", "exp", "jti", "scopes", "user",
    ];
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        any::<f64>().prop_map(Value::from),
        ".{0,12}".prop_map(Value::from),
        Just(json!([])),
        Just(json!({})),
    ];
    (
        prop::sample::select(fields.to_vec()),
        prop::option::of(leaf),
    )
        .prop_map(|(field, value)| {
            let claims =
                TokenIssuer::new(ISSUER, 15).claims(subject("u-1"), AUDIENCE, NOW, [1; 16]);
            let mut v = serde_json::to_value(claims).unwrap();
            match value {
                Some(value) => v[field] = value,
                None => {
                    if let Some(o) = v.as_object_mut() {
                        o.remove(field);
                    }
                }
            }
            v
        })
}

/// Claims around every boundary the verifier checks.
fn claims() -> impl Strategy<Value = Claims> {
    let offset = || {
        prop_oneof![
            4 => -100i64..100,
            1 => prop::sample::select(vec![-31, -30, -29, 29, 30, 31]),
            1 => prop::sample::select(vec![i64::MIN / 2, -NOW, NOW]),
        ]
    };
    let issuer = prop_oneof![
        3 => Just(ISSUER.to_owned()),
        1 => prop::sample::select(vec!["https://id.example.com/", "https://ID.example.com", "", "https://evil.example"]).prop_map(String::from),
    ];
    let audience = prop_oneof![
        3 => Just(AUDIENCE.to_owned()),
        1 => prop::sample::select(vec!["app-2", "APP-1", "", "app-1 ", "urn:authify:api"]).prop_map(String::from),
    ];
    (
        issuer,
        audience,
        offset(),
        offset(),
        offset(),
        any::<[u8; 16]>(),
    )
        .prop_map(|(iss, aud, iat, nbf, exp, jti)| {
            let mut c = TokenIssuer::new(iss, 15).claims(subject("u-1"), &aud, NOW, jti);
            c.iat = NOW + iat;
            c.nbf = NOW + nbf;
            c.exp = NOW + exp;
            c
        })
}

/// The same signature with `s` replaced by `n − s`: also a valid ECDSA signature.
fn high_s_twin(alg: Algorithm, sig: &[u8]) -> Vec<u8> {
    match alg {
        Algorithm::ES256 => {
            let s = p256::ecdsa::Signature::from_slice(sig).unwrap();
            p256::ecdsa::Signature::from_scalars(s.r(), -s.s())
                .unwrap()
                .to_bytes()
                .to_vec()
        }
        Algorithm::ES384 => {
            let s = p384::ecdsa::Signature::from_slice(sig).unwrap();
            p384::ecdsa::Signature::from_scalars(s.r(), -s.s())
                .unwrap()
                .to_bytes()
                .to_vec()
        }
        Algorithm::ES512 => {
            let s = p521::ecdsa::Signature::from_slice(sig).unwrap();
            p521::ecdsa::Signature::from_scalars(s.r(), -s.s())
                .unwrap()
                .to_bytes()
                .to_vec()
        }
    }
}

/// Whether plain ECDSA (which, unlike Authify, takes either `s`) accepts `sig` on `message`.
fn plain_ecdsa_accepts(key: &PublicKey, message: &[u8], sig: &[u8]) -> bool {
    match key {
        PublicKey::P256(k) => {
            p256::ecdsa::Signature::from_slice(sig).is_ok_and(|s| k.verify(message, &s).is_ok())
        }
        PublicKey::P384(k) => {
            p384::ecdsa::Signature::from_slice(sig).is_ok_and(|s| k.verify(message, &s).is_ok())
        }
        PublicKey::P521(k) => {
            p521::ecdsa::Signature::from_slice(sig).is_ok_and(|s| k.verify(message, &s).is_ok())
        }
    }
}

proptest! {
    #[test]
    fn no_string_panics_the_verifier_or_verifies(
        token in prop_oneof![
            prop::collection::vec(any::<char>(), 0..300).prop_map(String::from_iter),
            "[A-Za-z0-9_.=-]{0,300}",
            // Either side of the length limit.
            (prop::sample::select(vec!['a', '.', 'é']), 16_380..16_390usize)
                .prop_map(|(c, n)| c.to_string().repeat(n)),
        ],
    ) {
        prop_assert!(verify(&token).is_err());
    }

    #[test]
    fn no_three_base64url_segments_panic_the_verifier_or_verify(
        head in prop_oneof![
            "[A-Za-z0-9_-]{0,60}",
            header().prop_map(|h| b64(h.to_string())),
            prop::collection::vec(any::<u8>(), 0..40).prop_map(b64),
        ],
        payload in prop_oneof![
            "[A-Za-z0-9_-]{0,60}",
            odd_payload().prop_map(|p| b64(p.to_string())),
            prop::collection::vec(any::<u8>(), 0..40).prop_map(b64),
        ],
        sig in prop_oneof!["[A-Za-z0-9_-]{0,180}", signature().prop_map(b64)],
    ) {
        let token = format!("{head}.{payload}.{sig}");
        prop_assert!(verify(&token).is_err());
    }

    #[test]
    fn no_single_byte_change_of_a_valid_token_verifies(alg in algorithm(), edit in edit()) {
        let token = &FIXTURE.tokens[alg as usize];
        let changed = apply(token, &edit);
        let result = verify(&changed);
        if changed == *token {
            prop_assert!(result.is_ok(), "{:?}", result);
        } else {
            prop_assert!(result.is_err(), "{:?} verified", edit);
        }
    }

    #[test]
    fn a_signed_token_verifies_exactly_when_its_claims_pass_every_check(
        alg in algorithm(),
        payload in prop_oneof![
            claims().prop_map(|c| serde_json::to_value(c).unwrap()),
            odd_payload(),
        ],
    ) {
        let token = FIXTURE.signers[alg as usize].sign(&payload).unwrap();
        let result = verify(&token);
        let Ok(claims) = serde_json::from_value::<Claims>(payload) else {
            prop_assert!(
                matches!(result, Err(ClientError::Token(VerifyError::InvalidClaims(_)))),
                "{:?}", result
            );
            return Ok(());
        };
        // RFC 7519 §4.1: exp, nbf and iat with the 30 s leeway; iss and aud exact.
        let leeway = 30;
        let valid = claims.exp > NOW - leeway
            && claims.nbf <= NOW + leeway
            && claims.iat <= NOW + leeway
            && claims.iss == ISSUER
            && claims.aud == AUDIENCE;
        match result {
            Ok(verified) => {
                prop_assert!(valid, "{:?}", claims);
                prop_assert_eq!(verified, claims);
            }
            Err(ClientError::Token(
                VerifyError::Expired
                | VerifyError::NotYetValid
                | VerifyError::WrongIssuer
                | VerifyError::WrongAudience,
            )) => prop_assert!(!valid, "{:?}", claims),
            Err(other) => return Err(TestCaseError::fail(format!("{claims:?}: {other}"))),
        }
    }
}

proptest! {
    #![proptest_config(cases(FRESH_TOKEN_CASES))]

    #[test]
    fn the_high_s_twin_of_a_valid_signature_is_refused(
        alg in algorithm(),
        sub in "[a-z0-9-]{1,12}",
        jti in any::<[u8; 16]>(),
    ) {
        let signer = &FIXTURE.signers[alg as usize];
        let token = issue(signer, &subject(&sub), jti);
        prop_assert!(verify(&token).is_ok());
        let (message, sig_b64) = token.rsplit_once('.').unwrap();
        let sig = URL_SAFE_NO_PAD.decode(sig_b64).unwrap();
        let twin = high_s_twin(alg, &sig);
        prop_assert_ne!(&twin, &sig);
        // The twin is a genuine signature: only the low-S rule can refuse it.
        prop_assert!(plain_ecdsa_accepts(signer.public_key(), message.as_bytes(), &twin));
        let result = verify(&format!("{message}.{}", b64(&twin)));
        prop_assert!(
            matches!(result, Err(ClientError::Token(VerifyError::BadSignature))),
            "{:?}", result
        );
    }

    #[test]
    fn a_valid_token_has_one_spelling(
        alg in algorithm(),
        // The payload's length moves with the subject's, and with it the unused bits.
        sub in "[a-z0-9-]{1,12}",
        jti in any::<[u8; 16]>(),
        segment in 0..3usize,
    ) {
        let token = issue(&FIXTURE.signers[alg as usize], &subject(&sub), jti);
        prop_assert!(verify(&token).is_ok());
        let parts: Vec<&str> = token.split('.').collect();
        for other in respellings(parts[segment]) {
            let mut respelled: Vec<&str> = parts.clone();
            respelled[segment] = &other;
            let respelled = respelled.join(".");
            prop_assert!(verify(&respelled).is_err(), "{} verified", respelled);
        }
    }
}
