//! The public-key endpoints relying apps use to verify tokens: `/jwt/key` and `/jwt/meta`
//! (the original Authify's interface), the raw PEM download, and the standard JWKS.
//!
//! Bodies are precomputed; these handlers pick one and apply HTTP caching (RFC 9111) and
//! conditional requests (RFC 9110 §13.1.2).

use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpRequest, HttpResponse, web};

use crate::state::{AppState, Document};

/// Keys change only on rotation, and verifiers refetch on an unknown `kid`; five minutes of
/// caching keeps load off the server without delaying rotation much.
const CACHE_CONTROL: &str = "public, max-age=300";

/// `GET /jwt/key`: `{"data": "<SubjectPublicKeyInfo PEM of the active key>"}`.
pub async fn get_key(state: web::Data<AppState>, req: HttpRequest) -> HttpResponse {
    respond(&req, &state.keys().key)
}

/// `GET /jwt/meta`: `{"algorithm", "issuer", "expiration"}` (minutes, always an integer).
pub async fn get_meta(state: web::Data<AppState>, req: HttpRequest) -> HttpResponse {
    respond(&req, &state.keys().meta)
}

/// `GET /about/jwt/download_key`: the active public key as a PEM file download.
pub async fn get_download_key(state: web::Data<AppState>, req: HttpRequest) -> HttpResponse {
    let mut res = respond(&req, &state.keys().pem);
    res.headers_mut().insert(
        header::CONTENT_DISPOSITION,
        HeaderValue::from_static("attachment; filename=\"authify-public-key.pem\""),
    );
    res
}

/// `GET /.well-known/jwks.json`: every published key (RFC 7517 §5).
pub async fn get_jwks(state: web::Data<AppState>, req: HttpRequest) -> HttpResponse {
    respond(&req, &state.keys().jwks)
}

fn respond(req: &HttpRequest, doc: &Document) -> HttpResponse {
    let not_modified = etag_matches(req, &doc.etag);
    let mut res = if not_modified {
        HttpResponse::NotModified().finish()
    } else {
        HttpResponse::Ok().body(doc.body.clone())
    };
    let headers = res.headers_mut();
    headers.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static(CACHE_CONTROL),
    );
    headers.insert(header::ETAG, doc.etag_header.clone());
    // Public keys are meant to be read from anywhere, browsers included.
    headers.insert(
        header::ACCESS_CONTROL_ALLOW_ORIGIN,
        HeaderValue::from_static("*"),
    );
    if !not_modified {
        headers.insert(header::CONTENT_TYPE, doc.content_type.clone());
    }
    res
}

/// `If-None-Match` uses weak comparison (RFC 9110 §13.1.2).
fn etag_matches(req: &HttpRequest, etag: &str) -> bool {
    let Some(value) = req
        .headers()
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
    else {
        return false;
    };
    value
        .split(',')
        .map(|t| t.trim())
        .any(|t| t == "*" || t.strip_prefix("W/").unwrap_or(t) == etag)
}
