//! Sign and verify per algorithm, next to a raw ECDSA signature of the same message on the same
//! curve and backend with a pre-parsed key: the floor that token signing is measured against
//! (docs/performance.md). For ES256/ES384 also `jsonwebtoken::crypto::sign`, which re-parses the
//! key on every call: the reason the signer calls aws-lc-rs directly.
#![allow(clippy::unwrap_used)]

use std::hint::black_box;

use authify_domain::{Algorithm, OrganizationClaim, SCOPE_USER, UserClaim};
use authify_jwt::{KeySet, PrivateKey, Signer, TokenIssuer, TokenSubject, Validation, verify};
use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::signature::{
    ECDSA_P256_SHA256_FIXED_SIGNING, ECDSA_P384_SHA384_FIXED_SIGNING, EcdsaKeyPair,
};
use criterion::{Criterion, criterion_group, criterion_main};
use p521::ecdsa::signature::Signer as _;

fn subject() -> TokenSubject {
    let org = |i: usize| OrganizationClaim {
        name: format!("Org {i}"),
        oid: format!("o-{i}"),
        admin: i == 0,
        memberships: vec![],
    };
    TokenSubject {
        sub: "3f1c5a52-8d1e-4b9a-9e63-0c3f6f0f2b11".into(),
        user: UserClaim {
            email_verified: false,
            username: "ann@example.com".into(),
            uid: "3f1c5a52-8d1e-4b9a-9e63-0c3f6f0f2b11".into(),
            organizations: (0..3).map(org).collect(),
        },
        scopes: vec![SCOPE_USER.into()],
    }
}

/// The floor: one ECDSA signature with a key parsed beforehand.
enum Raw {
    AwsLc(EcdsaKeyPair, SystemRandom),
    P521(p521::ecdsa::SigningKey),
}

impl Raw {
    fn new(key: &PrivateKey) -> Self {
        match key {
            PrivateKey::P521(k) => Raw::P521(k.clone()),
            _ => {
                let alg = match key.algorithm() {
                    Algorithm::ES256 => &ECDSA_P256_SHA256_FIXED_SIGNING,
                    _ => &ECDSA_P384_SHA384_FIXED_SIGNING,
                };
                let der = key.to_pkcs8_der().unwrap();
                Raw::AwsLc(
                    EcdsaKeyPair::from_pkcs8(alg, der.as_bytes()).unwrap(),
                    SystemRandom::new(),
                )
            }
        }
    }

    fn sign(&self, message: &[u8]) -> usize {
        match self {
            Raw::AwsLc(pair, rng) => pair.sign(rng, message).unwrap().as_ref().len(),
            Raw::P521(k) => {
                let sig: p521::ecdsa::Signature = k.sign(message);
                sig.to_bytes().len()
            }
        }
    }
}

fn bench(c: &mut Criterion) {
    for alg in Algorithm::ALL {
        let key = PrivateKey::generate(alg).unwrap();
        let signer = Signer::new("bench", &key).unwrap();
        let issuer = TokenIssuer::new("https://id.example.com", 15);
        let now = 1_700_000_000;
        let token = issuer
            .issue(&signer, subject(), "app", now, [9; 16])
            .unwrap()
            .0;
        let message = token.rsplit_once('.').unwrap().0.as_bytes().to_vec();
        let mut keys = KeySet::new();
        keys.insert(Some("bench".into()), key.public_key());
        let validation = Validation::new("https://id.example.com", "app");
        let raw = Raw::new(&key);

        let mut group = c.benchmark_group(alg.as_str());
        group.bench_function("raw_ecdsa_sign", |b| {
            b.iter(|| raw.sign(black_box(&message)))
        });
        group.bench_function("token_sign", |b| {
            b.iter(|| {
                issuer
                    .issue(&signer, subject(), black_box("app"), now, [9; 16])
                    .unwrap()
            })
        });
        if alg != Algorithm::ES512 {
            let der = key.to_pkcs8_der().unwrap();
            let encoding = jsonwebtoken::EncodingKey::from_ec_der(der.as_bytes());
            let jalg = if alg == Algorithm::ES256 {
                jsonwebtoken::Algorithm::ES256
            } else {
                jsonwebtoken::Algorithm::ES384
            };
            group.bench_function("jsonwebtoken_crypto_sign", |b| {
                b.iter(|| jsonwebtoken::crypto::sign(black_box(&message), &encoding, jalg).unwrap())
            });
        }
        group.bench_function("token_verify", |b| {
            b.iter(|| verify(black_box(&token), &keys, &validation, now).unwrap())
        });
        group.finish();
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);
