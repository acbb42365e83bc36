//! The stylesheet, logo, the approval page's and the passkey ceremonies' scripts, compiled into the binary; and `GET /`.

use actix_web::HttpResponse;
use actix_web::http::header;

use crate::templates::{APPROVAL_SCRIPT, LOGO, PASSKEY_SCRIPT, STYLESHEET, WORK_SCRIPT};

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

/// `GET /static/js/approval.js`: the polling script of the push-approval waiting page.
pub async fn get_approval_script() -> HttpResponse {
    HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, CACHE))
        .content_type("text/javascript; charset=utf-8")
        .body(APPROVAL_SCRIPT)
}

/// `GET /static/js/passkey.js`: the WebAuthn ceremonies of the sign-in, factor and account pages.
pub async fn get_passkey_script() -> HttpResponse {
    HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, CACHE))
        .content_type("text/javascript; charset=utf-8")
        .body(PASSKEY_SCRIPT)
}

/// `GET /static/js/work.js`: the sign-up form's proof of work (`AUTHIFY_SIGNUP_WORK_BITS`).
pub async fn get_work_script() -> HttpResponse {
    HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, CACHE))
        .content_type("text/javascript; charset=utf-8")
        .body(WORK_SCRIPT)
}

/// `GET /`: people who open Authify's address land on their account (or the sign-in page).
pub async fn get_root() -> HttpResponse {
    crate::pages::see_other("/account")
}
