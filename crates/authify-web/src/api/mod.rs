//! The management API under `/api/v1` and the API token exchange at `POST /jwt/token`.

use actix_web::web;

/// Registers the API's routes.
pub fn configure(_cfg: &mut web::ServiceConfig) {}
