//! The storage error type. Database messages stay in logs; callers see the kind.

/// A storage failure.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// A `get_*` found nothing.
    #[error("{0} not found")]
    NotFound(&'static str),
    /// A unique constraint refused the write (duplicate e-mail, name, callback...).
    #[error("already exists: {0}")]
    Conflict(String),
    /// The database URL is unusable.
    #[error("invalid database URL: {0}")]
    Url(String),
    /// Connecting failed, or the connection broke: the database is unavailable.
    #[error("cannot connect to the database: {0}")]
    Connect(String),
    /// Any other database error.
    #[error("database error: {0}")]
    Database(diesel::result::Error),
    /// Migrations failed.
    #[error("migrations failed: {0}")]
    Migration(String),
}

impl From<diesel::result::Error> for StoreError {
    fn from(e: diesel::result::Error) -> Self {
        use diesel::result::{DatabaseErrorKind, Error};
        match e {
            Error::DatabaseError(DatabaseErrorKind::UniqueViolation, info) => {
                StoreError::Conflict(info.message().to_owned())
            }
            Error::NotFound => StoreError::NotFound("row"),
            // The connection broke (the server went away): the database is unavailable, not
            // wrong; callers answer 503 and the pool replaces the connection.
            Error::DatabaseError(DatabaseErrorKind::ClosedConnection, info) => {
                StoreError::Connect(info.message().to_owned())
            }
            Error::DatabaseError(DatabaseErrorKind::UnableToSendCommand, info) => {
                StoreError::Connect(info.message().to_owned())
            }
            other => StoreError::Database(other),
        }
    }
}

impl From<diesel::r2d2::PoolError> for StoreError {
    fn from(e: diesel::r2d2::PoolError) -> Self {
        StoreError::Connect(e.to_string())
    }
}

impl StoreError {
    /// Whether the database is unavailable (not reachable, or the connection broke), as opposed
    /// to refusing this query.
    pub fn is_unavailable(&self) -> bool {
        matches!(self, StoreError::Connect(_))
    }
}
