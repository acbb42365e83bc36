//! Sign and verify per algorithm, next to a raw ECDSA signature of the same message on the same
//! curve and backend: the floor that token signing is measured against (docs/performance.md).
#![allow(clippy::unwrap_used)]

use authify_domain::{Algorithm, OrganizationClaim, SCOPE_USER, UserClaim};
use authify_jwt::{KeySet, PrivateKey, Signer, TokenIssuer, TokenSubject, Validation, verify};
use criterion::{Criterion, criterion_group, criterion_main};
use std::hint::black_box;

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
            username: "ann@example.com".into(),
            uid: "3f1c5a52-8d1e-4b9a-9e63-0c3f6f0f2b11".into(),
            organizations: (0..3).map(org).collect(),
        },
        scopes: vec![SCOPE_USER.into()],
    }
}

fn raw_sign(key: &PrivateKey, message: &[u8]) -> usize {
    use aws_lc_rs::rand::SystemRandom;
    use aws_lc_rs::signature::{
        ECDSA_P256_SHA256_FIXED_SIGNING, ECDSA_P384_SHA384_FIXED_SIGNING, EcdsaKeyPair,
    };
    match key {
        PrivateKey::P521(k) => {
            use p521::ecdsa::signature::Signer as _;
            let sig: p521::ecdsa::Signature = k.sign(message);
            sig.to_bytes().len()
        }
        // The jsonwebtoken backend parses the PKCS#8 key on every call; so does this floor.
        PrivateKey::P256(_) | PrivateKey::P384(_) => {
            let der = key.to_pkcs8_der().unwrap();
            let alg = match key.algorithm() {
                Algorithm::ES256 => &ECDSA_P256_SHA256_FIXED_SIGNING,
                _ => &ECDSA_P384_SHA384_FIXED_SIGNING,
            };
            let pair = EcdsaKeyPair::from_pkcs8(alg, der.as_bytes()).unwrap();
            pair.sign(&SystemRandom::new(), message)
                .unwrap()
                .as_ref()
                .len()
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

        let mut group = c.benchmark_group(alg.as_str());
        group.bench_function("raw_ecdsa_sign", |b| {
            b.iter(|| raw_sign(&key, black_box(&message)))
        });
        group.bench_function("token_sign", |b| {
            b.iter(|| {
                issuer
                    .issue(&signer, subject(), black_box("app"), now, [9; 16])
                    .unwrap()
            })
        });
        group.bench_function("token_verify", |b| {
            b.iter(|| verify(black_box(&token), &keys, &validation, now).unwrap())
        });
        group.finish();
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);
