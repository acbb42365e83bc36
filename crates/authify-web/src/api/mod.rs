//! The management API under `/api/v1` (JSON) and the API token exchange at `POST /jwt/token`.
//!
//! - [`auth`]: Bearer API tokens → the acting user; query and body parsing after authentication.
//! - [`factors`]: approver devices and approvals, factor resets, organizations' MFA requirement.
//! - [`users`], [`orgs`], [`groups`], [`apps`], [`keys`], [`audit`]: thin handlers over
//!   `authify_core::manage`, which holds every permission rule.
//!
//! The API's routes are part of the one route table (`crate::routes`, [`ROUTES`]);
//! `web/static/openapi.json` describes exactly these routes, and a test fails when the two
//! differ.

use actix_web::HttpResponse;
use actix_web::http::header;
use serde::Serialize;

pub mod apps;
pub mod audit;
pub mod auth;
pub mod factors;
pub mod groups;
pub mod keys;
pub mod orgs;
pub mod users;

pub use crate::routes::API_ROUTES as ROUTES;

/// The API description, served at `/api/v1/openapi.json`.
pub const OPENAPI: &str = include_str!(concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../web/static/openapi.json"
));

pub(crate) fn ok<T: Serialize>(body: &T) -> HttpResponse {
    HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .json(body)
}

pub(crate) fn created<T: Serialize>(body: &T) -> HttpResponse {
    HttpResponse::Created()
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .json(body)
}

pub(crate) fn no_content() -> HttpResponse {
    HttpResponse::NoContent()
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .finish()
}

pub(crate) async fn get_openapi() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("application/json")
        .insert_header((header::CACHE_CONTROL, "public, max-age=300"))
        .body(OPENAPI)
}

macro_rules! api_routes {
    ($( $path:literal => { $( $method:ident => $handler:path ),+ $(,)? } ),+ $(,)?) => {
        /// Every API route as `(METHOD, path)`, paths relative to `/api/v1`.
        pub const API_ROUTES: &[(&str, &str)] = &[ $( $( (stringify!($method), $path) ),+ ),+ ];

        fn configure_api_v1(cfg: &mut ::actix_web::web::ServiceConfig) {
            $(
                cfg.service(
                    ::actix_web::web::resource($path)
                        $( .route(::actix_web::web::method(::actix_web::http::Method::$method).to($handler)) )+
                        .default_service(::actix_web::web::to($crate::error::method_not_allowed)),
                );
            )+
        }
    };
}
pub(crate) use api_routes;
