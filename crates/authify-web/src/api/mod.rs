//! The management API under `/api/v1` (JSON) and the API token exchange at `POST /jwt/token`.
//!
//! - [`auth`]: Bearer API tokens → the acting user; query and body parsing after authentication.
//! - [`factors`]: approver devices and approvals, factor resets, organizations' MFA requirement.
//! - [`users`], [`orgs`], [`groups`], [`apps`], [`keys`], [`audit`]: thin handlers over
//!   `authify_core::manage`, which holds every permission rule.
//!
//! [`ROUTES`] is the route table; `web/static/openapi.json` describes exactly these routes, and
//! a test fails when the two differ.

use actix_web::http::header;
use actix_web::{HttpResponse, web};
use serde::Serialize;

use crate::error::{method_not_allowed, not_found};

pub mod apps;
pub mod audit;
pub mod auth;
pub mod factors;
pub mod groups;
pub mod keys;
pub mod orgs;
pub mod users;

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

async fn get_openapi() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("application/json")
        .insert_header((header::CACHE_CONTROL, "public, max-age=300"))
        .body(OPENAPI)
}

macro_rules! api_routes {
    ($( $path:literal => { $( $method:ident => $handler:path ),+ $(,)? } ),+ $(,)?) => {
        /// Every API route as `(METHOD, path)`, paths relative to `/api/v1`.
        pub const ROUTES: &[(&str, &str)] = &[ $( $( (stringify!($method), $path) ),+ ),+ ];

        fn configure_v1(cfg: &mut web::ServiceConfig) {
            $(
                cfg.service(
                    web::resource($path)
                        $( .route(web::method(actix_web::http::Method::$method).to($handler)) )+
                        .default_service(web::to(method_not_allowed)),
                );
            )+
        }
    };
}

api_routes! {
    "/openapi.json" => { GET => get_openapi },
    "/me" => { GET => users::get_me, PATCH => users::patch_me },
    "/me/approvers" => { POST => factors::register },
    "/me/approvals" => { GET => factors::list },
    "/me/approvals/{id}" => { POST => factors::decide },
    "/users/{uid}/factors" => { DELETE => factors::reset },
    "/organizations/{oid}/mfa" => { GET => factors::get_org, PUT => factors::put_org },
    "/users" => { GET => users::list, POST => users::create },
    "/users/{uid}" => { GET => users::get, PATCH => users::patch },
    "/organizations" => { GET => orgs::list, POST => orgs::create },
    "/organizations/{oid}" => { GET => orgs::get, PATCH => orgs::patch, DELETE => orgs::delete },
    "/organizations/{oid}/members" => { GET => orgs::members, POST => orgs::add_member },
    "/organizations/{oid}/members/{uid}" => {
        PATCH => orgs::patch_member,
        DELETE => orgs::remove_member,
    },
    "/organizations/{oid}/invitations" => { GET => orgs::invitations, POST => orgs::invite },
    "/organizations/{oid}/invitations/{id}" => { DELETE => orgs::revoke_invitation },
    "/organizations/{oid}/groups" => { GET => groups::list, POST => groups::create },
    "/organizations/{oid}/groups/{gid}" => {
        GET => groups::get,
        PATCH => groups::patch,
        DELETE => groups::delete,
    },
    "/organizations/{oid}/groups/{gid}/members" => {
        GET => groups::members,
        POST => groups::add_member,
    },
    "/organizations/{oid}/groups/{gid}/members/{uid}" => { DELETE => groups::remove_member },
    "/applications" => { GET => apps::list, POST => apps::create },
    "/applications/{app_id}" => {
        GET => apps::get,
        PATCH => apps::patch,
        DELETE => apps::delete,
    },
    "/applications/{app_id}/secret" => { POST => apps::rotate_secret },
    "/api-keys" => { GET => keys::list, POST => keys::create },
    "/api-keys/{access_key}" => { DELETE => keys::revoke },
    "/audit-events" => { GET => audit::list },
}

/// Registers `POST /jwt/token` and the `/api/v1` scope (with a JSON 404 for unknown paths).
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::resource("/jwt/token")
            .route(web::post().to(keys::post_token))
            .default_service(web::to(method_not_allowed)),
    )
    .service(
        web::scope("/api/v1")
            .app_data(web::PayloadConfig::new(64 * 1024))
            .configure(configure_v1)
            .default_service(web::to(not_found)),
    );
}
