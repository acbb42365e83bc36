//! Authify's storage: one diesel schema served by SQLite (embedded default) or PostgreSQL, chosen
//! by the database URL at run time.
//!
//! - [`pool`]: the connection type over both backends, the pool, pragmas, migrations.
//! - [`schema`]: table definitions shared by both backends.
//! - [`models`]: row types.
//! - [`users`], [`orgs`], [`apps`], [`sessions`]: plain, synchronous repository functions
//!   (`find_*` → `Option`, `get_*` → error when missing, `list_*`, `insert_*`, `update_*`, `delete_*`),
//!   each taking `&mut DbConnection`. Callers run them off the async workers.
#![cfg_attr(test, allow(clippy::unwrap_used, clippy::expect_used))]

pub mod apps;
mod error;
pub mod models;
pub mod orgs;
pub mod pool;
pub mod schema;
pub mod sessions;
pub mod users;

pub use error::StoreError;
pub use pool::{DbConnection, DbPool, connect, run_migrations};
