//! Authify's domain vocabulary: the signing algorithms and the claims a token carries.
//!
//! Nothing here does I/O. Types are parsed at the edge (settings, HTTP, token headers) into these
//! and the rest of the code only sees valid values.
#![cfg_attr(test, allow(clippy::unwrap_used, clippy::expect_used))]

mod algorithm;
mod claims;

pub use algorithm::{Algorithm, UnknownAlgorithm};
pub use claims::{Claims, GroupClaim, OrganizationClaim, SCOPE_ADMIN, SCOPE_USER, UserClaim};
