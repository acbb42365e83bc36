//! The admin console under `/admin`: server-rendered pages for global admins and, scoped to
//! their organizations, organization admins.

use actix_web::web;

/// Registers the console's routes.
pub fn configure(_cfg: &mut web::ServiceConfig) {}
