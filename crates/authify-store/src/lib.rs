//! Authify's storage: one diesel schema served by SQLite (embedded default) or PostgreSQL, chosen
//! by the database URL at run time.
//!
//! - [`pool`]: the connection type over both backends, the pool, pragmas, migrations.
//! - [`schema`]: table definitions shared by both backends.
//! - [`models`]: row types.
//! - [`users`], [`orgs`], [`apps`], [`sessions`], [`flows`], [`oauth`], [`factors`], [`passkeys`], [`api_keys`], [`audit`], [`instances`] (signing keys, leases, attempt budgets), [`email_tokens`] (mailed single-use links), [`magic_links`] (e-mail sign-in links), [`invitations`], [`upstream`] (identities at upstream providers), [`webhooks`] (outbound webhook health): plain, synchronous repository functions
//!   (`find_*` → `Option`, `get_*` → error when missing, `list_*`, `insert_*`, `update_*`, `delete_*`),
//!   each taking `&mut DbConnection`. Callers run them off the async workers.
#![cfg_attr(test, allow(clippy::unwrap_used, clippy::expect_used))]

/// Runs the same diesel query on the concrete connection of either backend. Queries sent through
/// the `MultiConnection` enum are prepared again on every call; on the concrete connection diesel
/// caches the prepared statement. Used on the hot path of sign-in and single sign-on
/// (docs/performance.md).
macro_rules! on_backend {
    ($conn:expr, |$c:ident| $body:expr) => {
        match $conn {
            $crate::DbConnection::Sqlite($c) => $body,
            $crate::DbConnection::Postgresql($c) => $body,
        }
    };
}
pub(crate) use on_backend;

pub mod api_keys;
pub mod apps;
pub mod audit;
pub mod email_tokens;
mod error;
pub mod factors;
pub mod flows;
pub mod instances;
pub mod invitations;
pub mod magic_links;
pub mod models;
pub mod oauth;
pub mod orgs;
pub mod passkeys;
pub mod pool;
pub mod schema;
pub mod sessions;
pub mod upstream;
pub mod users;
pub mod webhooks;

pub use error::StoreError;
pub use pool::{DbConnection, DbPool, connect, pending_migrations, run_migrations};

/// One SQLite writer at a time in this process (see [`transaction`]).
static SQLITE_WRITER: std::sync::Mutex<()> = std::sync::Mutex::new(());

/// Runs `f` in a transaction: everything it wrote is kept only if it returns `Ok`.
///
/// On SQLite the outermost transaction starts with `BEGIN IMMEDIATE`: it takes the write lock
/// first, so a transaction that reads and then writes waits its turn (`busy_timeout`) instead of
/// failing with "database is locked" when another connection wrote in between (a deferred
/// transaction cannot upgrade its read snapshot). Nested calls become savepoints.
///
/// Writers of this process also queue on a lock before `BEGIN IMMEDIATE`: SQLite has one writer
/// per database, and its busy handler waits by sleeping (1 ms, then up to 100 ms), which turned a
/// burst of single-sign-on redirects into 10 ms waits (docs/performance.md). A lock held for the
/// length of one short transaction hands the database over without sleeping.
pub fn transaction<T, E: From<StoreError>>(
    conn: &mut DbConnection,
    f: impl FnOnce(&mut DbConnection) -> Result<T, E>,
) -> Result<T, E> {
    use diesel::Connection as _;
    use diesel::connection::{AnsiTransactionManager, TransactionManager as _};
    enum Failed<E> {
        Inner(E),
        Db(diesel::result::Error),
    }
    impl<E> From<diesel::result::Error> for Failed<E> {
        fn from(e: diesel::result::Error) -> Self {
            Failed::Db(e)
        }
    }
    let db = |e: diesel::result::Error| E::from(StoreError::from(e));
    if let DbConnection::Sqlite(c) = conn {
        let outermost = AnsiTransactionManager::transaction_manager_status_mut(c)
            .transaction_depth()
            .map_err(db)?
            .is_none();
        if outermost {
            // A poisoned lock guards nothing: the transaction it protected was rolled back.
            let _writer = SQLITE_WRITER
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            AnsiTransactionManager::begin_transaction_sql(c, "BEGIN IMMEDIATE").map_err(db)?;
            let result = f(conn);
            let DbConnection::Sqlite(c) = conn else {
                return result;
            };
            return match result {
                Ok(value) => {
                    AnsiTransactionManager::commit_transaction(c).map_err(db)?;
                    Ok(value)
                }
                Err(e) => {
                    AnsiTransactionManager::rollback_transaction(c).map_err(db)?;
                    Err(e)
                }
            };
        }
    }
    conn.transaction(|conn| f(conn).map_err(Failed::Inner))
        .map_err(|e| match e {
            Failed::Inner(e) => e,
            Failed::Db(e) => StoreError::from(e).into(),
        })
}
