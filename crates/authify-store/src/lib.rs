//! Authify's storage: one diesel schema served by SQLite (embedded default) or PostgreSQL, chosen
//! by the database URL at run time.
//!
//! - [`pool`]: the connection type over both backends, the pool, pragmas, migrations.
//! - [`schema`]: table definitions shared by both backends.
//! - [`models`]: row types.
//! - [`users`], [`orgs`], [`apps`], [`sessions`], [`flows`], [`api_keys`], [`audit`]: plain, synchronous repository functions
//!   (`find_*` → `Option`, `get_*` → error when missing, `list_*`, `insert_*`, `update_*`, `delete_*`),
//!   each taking `&mut DbConnection`. Callers run them off the async workers.
#![cfg_attr(test, allow(clippy::unwrap_used, clippy::expect_used))]

pub mod api_keys;
pub mod apps;
pub mod audit;
mod error;
pub mod flows;
pub mod models;
pub mod orgs;
pub mod pool;
pub mod schema;
pub mod sessions;
pub mod users;

pub use error::StoreError;
pub use pool::{DbConnection, DbPool, connect, run_migrations};

/// Runs `f` in a transaction: everything it wrote is kept only if it returns `Ok`.
pub fn transaction<T, E: From<StoreError>>(
    conn: &mut DbConnection,
    f: impl FnOnce(&mut DbConnection) -> Result<T, E>,
) -> Result<T, E> {
    use diesel::Connection as _;
    enum Failed<E> {
        Inner(E),
        Db(diesel::result::Error),
    }
    impl<E> From<diesel::result::Error> for Failed<E> {
        fn from(e: diesel::result::Error) -> Self {
            Failed::Db(e)
        }
    }
    conn.transaction(|conn| f(conn).map_err(Failed::Inner))
        .map_err(|e| match e {
            Failed::Inner(e) => e,
            Failed::Db(e) => StoreError::from(e).into(),
        })
}
