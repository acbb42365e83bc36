//! The one async boundary to storage: repository functions are synchronous (diesel) and run here
//! on tokio's blocking pool. One exception, [`Db::run_quick`]: the single sign-on task runs on the
//! async worker itself when the database is SQLite and a connection is free at once, because its
//! few microsecond queries cost less than the hop (docs/performance.md).

use authify_store::{DbConnection, DbPool, StoreError};

/// A handle to the database. Cheap to clone.
#[derive(Clone)]
pub struct Db {
    pool: DbPool,
    sqlite: bool,
}

impl std::fmt::Debug for Db {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Db")
            .field("connections", &self.pool.state().connections)
            .finish()
    }
}

impl Db {
    /// Wraps a pool.
    pub fn new(pool: DbPool) -> Self {
        let sqlite = pool
            .try_get()
            .is_some_and(|c| matches!(*c, DbConnection::Sqlite(_)));
        Db { pool, sqlite }
    }

    /// Pool connections in use and idle, now (for metrics).
    pub fn pool_load(&self) -> (u32, u32) {
        let state = self.pool.state();
        (
            state.connections.saturating_sub(state.idle_connections),
            state.idle_connections,
        )
    }

    /// Runs `f` with a pooled connection on the blocking pool. Crate-private: callers outside
    /// the core go through use cases, never through a connection.
    pub(crate) async fn run<T, E, F>(&self, f: F) -> Result<T, E>
    where
        F: FnOnce(&mut DbConnection) -> Result<T, E> + Send + 'static,
        T: Send + 'static,
        E: From<StoreError> + Send + 'static,
    {
        let pool = self.pool.clone();
        tokio::task::spawn_blocking(move || {
            let mut conn = pool.get().map_err(StoreError::from)?;
            f(&mut conn)
        })
        .await
        .unwrap_or_else(|join| {
            Err(StoreError::Connect(format!("database task failed: {join}")).into())
        })
    }

    /// Runs `f` on the calling (async) thread when the database is SQLite and a connection is
    /// free at once; otherwise as [`Db::run`]. For the short reads and one-row writes of single
    /// sign-on: a SQLite query costs microseconds, less than the two thread switches of a hop to
    /// the blocking pool (docs/performance.md). Never for argon2, PostgreSQL or anything long.
    pub(crate) async fn run_quick<T, E, F>(&self, f: F) -> Result<T, E>
    where
        F: FnOnce(&mut DbConnection) -> Result<T, E> + Send + 'static,
        T: Send + 'static,
        E: From<StoreError> + Send + 'static,
    {
        if self.sqlite
            && let Some(mut conn) = self.pool.try_get()
        {
            return f(&mut conn);
        }
        self.run(f).await
    }

    /// Whether the database answers and its schema is at head: `Err` says why not (readiness).
    pub async fn ready(&self) -> Result<(), String> {
        let pending = self
            .run_quick(authify_store::pending_migrations)
            .await
            .map_err(|e: StoreError| {
                // SECURITY: the driver's words (hosts, ports, hints) go to the log, not to the
                // public readiness answer.
                tracing::warn!(error = %e, "not ready: database unreachable");
                "database unreachable".to_owned()
            })?;
        if pending > 0 {
            return Err(format!(
                "database schema behind: {pending} migration(s) not applied (run `authify migrate`)"
            ));
        }
        Ok(())
    }

    /// Runs `f` synchronously (command line, migrations, test set-up).
    pub fn run_blocking<T, E>(
        &self,
        f: impl FnOnce(&mut DbConnection) -> Result<T, E>,
    ) -> Result<T, E>
    where
        E: From<StoreError>,
    {
        let mut conn = self.pool.get().map_err(StoreError::from)?;
        f(&mut conn)
    }
}
