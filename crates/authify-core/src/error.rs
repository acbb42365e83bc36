//! Errors of the administrative use cases: the command line, the admin console and the API.

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
    /// It exists already, or the change would break a rule (the last admin).
    #[error("{0}")]
    Conflict(String),
    /// The actor may see this but not do this.
    #[error("{0}")]
    Forbidden(String),
    /// The current password given to confirm a change is wrong.
    #[error("the current password is not correct")]
    WrongPassword,
    /// Too many password attempts for this account; wait this long.
    #[error("too many password attempts; try again in {} seconds", .0.as_secs().max(1))]
    Throttled(std::time::Duration),
    /// A budget of the operator's (SMS, mail, invitations) refused: [`crate::costs`].
    #[error("{0}")]
    Cost(#[from] crate::costs::CostError),
    /// The hashing pool is saturated.
    #[error("too many requests in progress; try again in a moment")]
    Busy,
    /// The database is unavailable (unreachable, or the connection broke).
    #[error("{0}")]
    Unavailable(String),
    /// Storage or crypto failure.
    #[error("internal error: {0}")]
    Internal(String),
}

impl From<StoreError> for AdminError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::Conflict(what) => AdminError::Conflict(what),
            StoreError::NotFound(what) => AdminError::NotFound(format!("{what} not found")),
            e if e.is_unavailable() => AdminError::Unavailable(e.to_string()),
            other => AdminError::Internal(other.to_string()),
        }
    }
}

impl From<crate::throttle::ThrottleError> for AdminError {
    fn from(e: crate::throttle::ThrottleError) -> Self {
        match e {
            crate::throttle::ThrottleError::Wait(wait) => AdminError::Throttled(wait),
            crate::throttle::ThrottleError::Store(e) => e.into(),
        }
    }
}

impl From<HashError> for AdminError {
    fn from(e: HashError) -> Self {
        match e {
            HashError::Busy => AdminError::Busy,
            other => AdminError::Internal(other.to_string()),
        }
    }
}

impl From<getrandom::Error> for AdminError {
    fn from(e: getrandom::Error) -> Self {
        AdminError::Internal(format!("randomness: {e}"))
    }
}

impl From<crate::authn::AuthnError> for AdminError {
    fn from(e: crate::authn::AuthnError) -> Self {
        use crate::authn::AuthnError as A;
        match e {
            A::Throttled(wait) => AdminError::Throttled(wait),
            A::Cost(e) => AdminError::Cost(e),
            A::Busy => AdminError::Busy,
            A::Store(e) if e.is_unavailable() => AdminError::Unavailable(e.to_string()),
            other => AdminError::Internal(other.to_string()),
        }
    }
}
