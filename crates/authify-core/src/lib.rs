//! Authify's use cases. Handlers and the command line call these; these call the store and the
//! token crate. Every function that depends on time takes `now`; randomness comes from
//! [`random`] at the edge of each use case so tests can see what was drawn.
//!
//! - [`clock`]: the one reading of the system clock; a fixed clock for tests.
//! - [`authn`]: the sign-in engine: one persisted flow per attempt, steps, the final transaction.
//! - [`account`]: the account side: one's own factors, passkeys, providers; mailed links.
//! - [`db`]: the async boundary: repository calls on the blocking pool.
//! - [`passwords`]: argon2id on a bounded pool, with a dummy hash for unknown users.
//! - [`sessions`]: server-side sessions behind an opaque cookie token.
//! - [`tokens`]: the claims of a user for an application, and signing them.
//! - [`apps`]: an application's options (`AppOptions`) and the checks of its callbacks and secret,
//!   shared by `manage::apps`.
//! - [`throttle`]: sign-in attempts per account and per client address, counted in the database.
//! - [`signing_keys`]: signing keys in the database, sealed; their rotation schedule and lease.
//! - [`metrics`]: process metrics in the Prometheus text format.
//! - [`seed`]: a synthetic population for scale tests.
//! - [`oidc`]: the OpenID Connect provider: authorization checks, tokens, userinfo, back-channel logout.
//! - [`mfa`]: second factors: TOTP, sent codes, recovery codes, approval numbers, policy values.
//! - [`secrets`]: the master key sealing secrets at rest (AES-256-GCM).
//! - [`costs`]: budgets for what costs the operator (SMS, mail, push, sign-ups, invitations),
//!   shared through the database; the only way to queue a notice.
//! - [`notify`]: the queue of SMS, mail and push notices the server delivers.
//! - [`upstream`]: upstream providers (GitHub, Google, OpenID) as the engine sees them: the connector.
//! - [`limits`]: length limits of what a request may make the server store.
//! - [`manage`]: the console's and the API's use cases, with their permission checks and audit.
#![cfg_attr(test, allow(clippy::unwrap_used, clippy::expect_used))]

pub mod account;
pub mod apps;
pub mod authn;
pub mod clock;
pub mod costs;
pub mod db;
mod error;
pub mod limits;
pub mod manage;
pub mod metrics;
pub mod mfa;
pub mod notify;
pub mod oidc;
pub mod passwords;
mod person;
pub mod random;
pub mod secrets;
pub mod seed;
pub mod sessions;
pub mod signing_keys;
pub mod throttle;
pub mod tokens;
pub mod upstream;

pub use authify_store::StoreError;
pub use authify_store::models::{Application, User};
pub use clock::{Clock, FixedClock, SystemClock};
pub use db::Db;
pub use error::AdminError;
pub use passwords::{HashParams, PasswordHasher};
pub use person::Person;

/// Times are stored at microsecond precision: PostgreSQL's, so both backends read back the same.
pub fn db_time(now: chrono::DateTime<chrono::Utc>) -> chrono::NaiveDateTime {
    let naive = now.naive_utc();
    naive
        - chrono::Duration::nanoseconds(i64::from(naive.and_utc().timestamp_subsec_nanos() % 1000))
}
