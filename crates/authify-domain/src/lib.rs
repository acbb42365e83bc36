//! Authify's domain vocabulary: signing algorithms, token claims, callback URLs, the e-mail
//! addresses, passwords and names people type, and where the server may send requests.
//!
//! Nothing here does I/O. Types are parsed at the edge (settings, HTTP, token headers) into these
//! and the rest of the code only sees valid values.
#![cfg_attr(test, allow(clippy::unwrap_used, clippy::expect_used))]

mod algorithm;
mod callback;
mod claims;
mod identity;
mod outbound;

pub use algorithm::{Algorithm, UnknownAlgorithm};
pub use callback::{CallbackError, CallbackUrl, MAX_CALLBACK_LEN};
pub use claims::{
    API_AUDIENCE, Claims, GroupClaim, OrganizationClaim, SCOPE_ADMIN, SCOPE_READ_ONLY, SCOPE_USER,
    UserClaim,
};
pub use identity::{Email, InputError, Name, Password};
pub use outbound::{OutboundPolicy, Range, Refusal, check_redirect_target};
