//! The one async boundary to storage: repository functions are synchronous (diesel) and run here
//! on tokio's blocking pool, never on the async workers.

use authify_store::{DbConnection, DbPool, StoreError};

/// A handle to the database. Cheap to clone.
#[derive(Clone)]
pub struct Db {
    pool: DbPool,
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
        Db { pool }
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
