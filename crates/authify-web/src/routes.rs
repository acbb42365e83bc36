//! The route table: every path Authify answers, in one place.

use actix_web::{Handler, Resource, Responder, guard, web};

use crate::error::{method_not_allowed, not_found};
use crate::handlers::{health, jwt};

/// Registers every route. The caller adds [`crate::AppState`] as app data.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(read_only("/jwt/key", jwt::get_key))
        .service(read_only("/jwt/meta", jwt::get_meta))
        .service(read_only("/about/jwt/download_key", jwt::get_download_key))
        .service(read_only("/.well-known/jwks.json", jwt::get_jwks))
        .service(read_only("/health", health::get_health))
        .default_service(web::to(not_found));
}

/// A resource answering GET and HEAD, and a JSON 405 to anything else.
fn read_only<F, Args>(path: &str, handler: F) -> Resource
where
    F: Handler<Args>,
    Args: actix_web::FromRequest + 'static,
    F::Output: Responder + 'static,
{
    web::resource(path)
        .route(
            web::route()
                .guard(guard::Any(guard::Get()).or(guard::Head()))
                .to(handler),
        )
        .default_service(web::to(method_not_allowed))
}
