//! Errors of the administrative use cases (command line now, admin console later).

use authify_store::StoreError;

use crate::passwords::HashError;

/// An administrative action failed.
#[derive(Debug, thiserror::Error)]
pub enum AdminError {
    /// Input that does not parse.
    #[error("{0}")]
    Invalid(String),
    /// Something named does not exist.
    #[error("{0}")]
    NotFound(String),
    /// It exists already.
    #[error("{0}")]
    Conflict(String),
    /// Storage or crypto failure.
    #[error("internal error: {0}")]
    Internal(String),
}

impl From<StoreError> for AdminError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::Conflict(what) => AdminError::Conflict(what),
            StoreError::NotFound(what) => AdminError::NotFound(format!("{what} not found")),
            other => AdminError::Internal(other.to_string()),
        }
    }
}

impl From<HashError> for AdminError {
    fn from(e: HashError) -> Self {
        AdminError::Internal(e.to_string())
    }
}

impl From<getrandom::Error> for AdminError {
    fn from(e: getrandom::Error) -> Self {
        AdminError::Internal(format!("randomness: {e}"))
    }
}
