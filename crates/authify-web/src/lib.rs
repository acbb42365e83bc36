//! Authify's HTTP surface, built on actix-web.
//!
//! - [`routes`]: the one route table.
//! - [`handlers`]: thin handlers, one module per area.
//! - [`state`]: what handlers read: the published keys, precomputed as response bodies.
//! - [`error`]: the one error type that owns every HTTP status and error body.
//! - [`headers`]: security headers and access logging applied to every response.
#![cfg_attr(test, allow(clippy::unwrap_used, clippy::expect_used))]

pub mod error;
pub mod handlers;
pub mod headers;
pub mod routes;
pub mod state;

pub use routes::configure;
pub use state::{AppState, PublishedKeys, WebConfig};
