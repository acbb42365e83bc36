//! The stylesheet and logo, compiled into the binary.

use actix_web::HttpResponse;
use actix_web::http::header;

use crate::templates::{LOGO, STYLESHEET};

const CACHE: &str = "public, max-age=3600";

/// `GET /static/css/authify.css`.
pub async fn get_stylesheet() -> HttpResponse {
    HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, CACHE))
        .content_type("text/css; charset=utf-8")
        .body(STYLESHEET)
}

/// `GET /static/img/logo.svg`.
pub async fn get_logo() -> HttpResponse {
    HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, CACHE))
        .content_type("image/svg+xml")
        .body(LOGO)
}
