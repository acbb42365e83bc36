//! Authify's HTTP surface, built on actix-web.
//!
//! - [`routes`]: the one route table.
//! - [`api`]: the management API (`/api/v1`) and `POST /jwt/token`.
//! - [`console`]: the admin console (`/admin`).
//! - [`handlers`]: thin handlers, one module per area.
//! - [`extract`]: extractors for the signed-in user and CSRF-checked forms.
//! - [`state`]: what handlers read: the sign-in engine, the clock, the published keys
//!   (precomputed as response bodies).
//! - [`error`]: the one error type, rendered as JSON or, for browsers on pages, as an HTML page.
//! - [`pages`]: rendering pages, redirects, the CSRF gate of forms, the signed-in user.
//! - [`templates`], [`views`]: compiled handlebars templates and one view struct per page.
//! - [`cookies`]: the session and flow cookies (`__Host-` under https) and the Origin check.
//! - [`client`]: the client's address (`AUTHIFY_TRUSTED_PROXIES`).
//! - [`metrics`]: `/metrics` (its own listener) and the request counter.
//! - [`request_id`]: `X-Request-Id`, its log span, on error pages.
//! - [`headers`]: security headers and access logging applied to every response.
#![cfg_attr(test, allow(clippy::unwrap_used, clippy::expect_used))]

pub mod api;
pub mod client;
pub mod console;
pub mod cookies;
pub mod error;
pub mod extract;
pub mod handlers;
pub mod headers;
pub mod metrics;
pub mod pages;
pub mod qr;
pub mod request_id;
pub mod routes;
pub mod state;
pub mod templates;
pub mod views;

pub use routes::configure;
pub use state::{AppState, KeyRotation, PublishedKeys, StateError, WebConfig};

/// A short random reference that ties an error page to its log line.
pub(crate) fn random_reference() -> String {
    authify_core::random::bytes::<6>()
        .map(|b| b.iter().map(|x| format!("{x:02x}")).collect())
        .unwrap_or_else(|_| "unavailable".to_owned())
}

pub use client::client_ip;
