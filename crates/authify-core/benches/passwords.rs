//! One argon2id hash and one verification with the production (OWASP) parameters: the time that
//! bounds password sign-ins per second per core (docs/performance.md).
#![allow(clippy::unwrap_used)]

use authify_core::{HashParams, PasswordHasher};
use criterion::{Criterion, criterion_group, criterion_main};

fn bench(c: &mut Criterion) {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let hasher = PasswordHasher::new(HashParams::default(), 1).unwrap();
    let hash = runtime
        .block_on(hasher.hash("correct horse battery staple".into()))
        .unwrap();
    let mut group = c.benchmark_group("argon2id_owasp");
    group.sample_size(30);
    group.bench_function("hash", |b| {
        b.iter(|| {
            runtime
                .block_on(hasher.hash("correct horse battery staple".into()))
                .unwrap()
        })
    });
    group.bench_function("verify", |b| {
        b.iter(|| {
            runtime
                .block_on(hasher.verify("correct horse battery staple".into(), Some(hash.clone())))
                .unwrap()
        })
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
