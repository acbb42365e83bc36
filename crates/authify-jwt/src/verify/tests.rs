//! Unit tests of [`super::verify`]: every way a token can be wrong, on every algorithm.

use authify_domain::{SCOPE_USER, UserClaim};
use serde_json::json;

use super::*;
use crate::keys::PrivateKey;
use crate::sign::{Signer, TokenIssuer, TokenSubject};

const NOW: i64 = 1_700_000_000;

fn subject() -> TokenSubject {
    TokenSubject {
        sub: "u-1".into(),
        user: UserClaim {
            email_verified: false,
            username: "ann@example.com".into(),
            uid: "u-1".into(),
            organizations: vec![],
        },
        scopes: vec![SCOPE_USER.into()],
    }
}

struct Fixture {
    signer: Signer,
    keys: KeySet,
    validation: Validation,
    issuer: TokenIssuer,
}

fn fixture(alg: Algorithm) -> Fixture {
    let key = PrivateKey::generate(alg).unwrap();
    let signer = Signer::new("kid-1", &key).unwrap();
    let mut keys = KeySet::new();
    keys.insert(Some("kid-1".into()), key.public_key());
    Fixture {
        signer,
        keys,
        validation: Validation::new("https://id.example.com", "app-1"),
        issuer: TokenIssuer::new("https://id.example.com", 15),
    }
}

impl Fixture {
    fn token(&self) -> String {
        self.issuer
            .issue(&self.signer, subject(), "app-1", NOW, [7; 16])
            .unwrap()
            .0
    }
    fn check(&self, token: &str, now: i64) -> Result<Claims, VerifyError> {
        verify(token, &self.keys, &self.validation, now)
    }
}

fn b64json(v: serde_json::Value) -> String {
    crate::b64(serde_json::to_vec(&v).unwrap())
}

#[test]
fn a_fresh_token_verifies_on_every_algorithm() {
    for alg in Algorithm::ALL {
        let f = fixture(alg);
        let claims = f.check(&f.token(), NOW + 1).unwrap();
        assert_eq!(claims.sub, "u-1");
        assert_eq!(claims.exp - claims.iat, 15 * 60);
        let header: serde_json::Value =
            serde_json::from_slice(&crate::unb64(f.token().split('.').next().unwrap()).unwrap())
                .unwrap();
        assert_eq!(
            header,
            json!({"alg": alg.as_str(), "typ": "JWT", "kid": "kid-1"})
        );
        let sig = crate::unb64(f.token().rsplit('.').next().unwrap()).unwrap();
        assert_eq!(sig.len(), 2 * alg.coordinate_len());
    }
}

#[test]
fn a_tampered_payload_is_refused() {
    for alg in Algorithm::ALL {
        let f = fixture(alg);
        let token = f.token();
        let parts: Vec<&str> = token.split('.').collect();
        let mut claims: serde_json::Value =
            serde_json::from_slice(&crate::unb64(parts[1]).unwrap()).unwrap();
        claims["scopes"] = json!(["user_access", "admin_access"]);
        let forged = format!("{}.{}.{}", parts[0], b64json(claims), parts[2]);
        assert_eq!(
            f.check(&forged, NOW),
            Err(VerifyError::BadSignature),
            "{alg}"
        );
    }
}

#[test]
fn a_token_signed_by_another_key_is_refused() {
    for alg in Algorithm::ALL {
        let f = fixture(alg);
        let other = Signer::new("kid-1", &PrivateKey::generate(alg).unwrap()).unwrap();
        let token = f
            .issuer
            .issue(&other, subject(), "app-1", NOW, [1; 16])
            .unwrap()
            .0;
        assert_eq!(f.check(&token, NOW), Err(VerifyError::BadSignature));
    }
}

#[test]
fn alg_none_and_hmac_are_refused_before_any_key_is_used() {
    let f = fixture(Algorithm::ES256);
    let token = f.token();
    let payload = token.split('.').nth(1).unwrap();
    let none = format!(
        "{}.{payload}.",
        b64json(json!({"alg": "none", "typ": "JWT", "kid": "kid-1"}))
    );
    assert_eq!(
        f.check(&none, NOW),
        Err(VerifyError::AlgorithmNotAllowed("none".into()))
    );

    // HS256 "signed" with the public key as the HMAC secret: the classic key-confusion attack.
    let header = b64json(json!({"alg": "HS256", "typ": "JWT", "kid": "kid-1"}));
    let pem = f.signer.public_key().to_spki_pem().unwrap();
    let message = format!("{header}.{payload}");
    let mac = jsonwebtoken::crypto::sign(
        message.as_bytes(),
        &jsonwebtoken::EncodingKey::from_secret(pem.as_bytes()),
        jsonwebtoken::Algorithm::HS256,
    )
    .unwrap();
    assert_eq!(
        f.check(&format!("{message}.{mac}"), NOW),
        Err(VerifyError::AlgorithmNotAllowed("HS256".into()))
    );
}

#[test]
fn an_algorithm_outside_the_allow_list_or_the_keys_curve_is_refused() {
    let mut f = fixture(Algorithm::ES512);
    f.validation.algorithms = vec![Algorithm::ES256];
    assert_eq!(
        f.check(&f.token(), NOW),
        Err(VerifyError::AlgorithmNotAllowed("ES512".into()))
    );

    // A header claiming ES256 on the kid of a P-521 key finds no ES256 key.
    let f = fixture(Algorithm::ES512);
    let token = f.token();
    let rest = token.split_once('.').unwrap().1;
    let relabelled = format!(
        "{}.{rest}",
        b64json(json!({"alg": "ES256", "typ": "JWT", "kid": "kid-1"}))
    );
    assert!(matches!(
        f.check(&relabelled, NOW),
        Err(VerifyError::BadSignature | VerifyError::UnknownKey(_))
    ));
}

#[test]
fn an_unknown_kid_is_reported_as_such() {
    let f = fixture(Algorithm::ES384);
    let other = Signer::new("kid-2", &PrivateKey::generate(Algorithm::ES384).unwrap()).unwrap();
    let token = f
        .issuer
        .issue(&other, subject(), "app-1", NOW, [1; 16])
        .unwrap()
        .0;
    assert_eq!(
        f.check(&token, NOW),
        Err(VerifyError::UnknownKey(Some("kid-2".into())))
    );
}

#[test]
fn expiry_and_not_before_honour_the_leeway_exactly() {
    let f = fixture(Algorithm::ES256);
    let token = f.token();
    let exp = NOW + 15 * 60;
    assert!(f.check(&token, exp + 29).is_ok());
    assert_eq!(f.check(&token, exp + 30), Err(VerifyError::Expired));
    assert!(f.check(&token, NOW - 30).is_ok());
    assert_eq!(f.check(&token, NOW - 31), Err(VerifyError::NotYetValid));
}

#[test]
fn a_wrong_issuer_or_audience_is_refused() {
    let mut f = fixture(Algorithm::ES256);
    let token = f.token();
    f.validation.issuer = "https://evil.example.com".into();
    assert_eq!(f.check(&token, NOW), Err(VerifyError::WrongIssuer));
    f.validation.issuer = "https://id.example.com".into();
    f.validation.audience = "app-2".into();
    assert_eq!(f.check(&token, NOW), Err(VerifyError::WrongAudience));
}

#[test]
fn malformed_tokens_are_refused_without_panicking() {
    let f = fixture(Algorithm::ES256);
    let token = f.token();
    let cases = [
        String::new(),
        "a.b".into(),
        "a.b.c.d".into(),
        "!!.??.**".into(),
        format!("{token}="),
        format!("{}.{}", b64json(json!({"typ": "JWT"})), "e30.AAAA"),
        format!(
            "{}.e30.AAAA",
            b64json(json!({"alg": "ES256", "crit": ["exp"], "kid": "kid-1"}))
        ),
        "x".repeat(MAX_TOKEN_LEN + 1),
    ];
    for case in cases {
        assert!(f.check(&case, NOW).is_err(), "accepted {case:.40}");
    }
}

#[test]
fn a_der_encoded_signature_is_refused() {
    // Only the fixed-size r||s form of RFC 7518 §3.4 is valid in JWS.
    let f = fixture(Algorithm::ES256);
    let token = f.token();
    let (message, sig) = token.rsplit_once('.').unwrap();
    let raw = crate::unb64(sig).unwrap();
    let der = p256::ecdsa::Signature::from_slice(&raw).unwrap().to_der();
    let forged = format!("{message}.{}", crate::b64(der.as_bytes()));
    assert_eq!(f.check(&forged, NOW), Err(VerifyError::BadSignature));
}

#[test]
fn a_key_pinned_from_a_bare_pem_verifies_tokens_that_carry_a_kid() {
    let f = fixture(Algorithm::ES512);
    let mut pinned = KeySet::new();
    pinned.insert(None, f.signer.public_key().clone());
    assert!(verify(&f.token(), &pinned, &f.validation, NOW).is_ok());
    // ...but only for its own algorithm.
    let other = fixture(Algorithm::ES256);
    assert_eq!(
        verify(&other.token(), &pinned, &other.validation, NOW),
        Err(VerifyError::UnknownKey(Some("kid-1".into())))
    );
}

/// The same signature with `s` replaced by `n − s` (also a valid ECDSA signature).
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

#[test]
fn signatures_are_low_s_and_their_high_s_twin_is_refused() {
    for alg in Algorithm::ALL {
        let f = fixture(alg);
        // Enough tokens that a signer without normalization would produce a high `s`.
        for i in 0..16u8 {
            let token = f
                .issuer
                .issue(&f.signer, subject(), "app-1", NOW, [i; 16])
                .unwrap()
                .0;
            let (head, sig_b64) = token.rsplit_once('.').unwrap();
            let sig = crate::unb64(sig_b64).unwrap();
            assert!(low_s(alg, &sig), "{alg}: the signer emits low s");
            assert!(f.check(&token, NOW).is_ok(), "{alg}");
            let twin = format!("{head}.{}", crate::b64(high_s_twin(alg, &sig)));
            assert_ne!(twin, token);
            assert!(
                matches!(f.check(&twin, NOW), Err(VerifyError::BadSignature)),
                "{alg}: the malleated twin is refused"
            );
        }
    }
}
