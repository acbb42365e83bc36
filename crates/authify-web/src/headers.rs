//! Headers every response carries, and the access log.

use actix_web::http::header::{self, HeaderValue};
use actix_web::middleware::DefaultHeaders;

/// Security headers for every response. Pages use no inline script or style, so a strict policy
/// holds. With an https public URL, `Strict-Transport-Security` too (a year; browsers then never
/// try plain http, where a network attacker could strip TLS). `Referrer-Policy: same-origin`, not `no-referrer`: with `no-referrer` browsers send
/// `Origin: null` on our own form posts, which the CSRF origin check must refuse.
pub fn security_headers(https: bool) -> DefaultHeaders {
    let headers = if https {
        // SECURITY: HSTS only when served over https (RFC 6797 ignores it over http anyway).
        DefaultHeaders::new().add((
            header::STRICT_TRANSPORT_SECURITY,
            HeaderValue::from_static("max-age=31536000"),
        ))
    } else {
        DefaultHeaders::new()
    };
    headers
        .add((
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        ))
        .add((header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY")))
        .add((
            header::REFERRER_POLICY,
            HeaderValue::from_static("same-origin"),
        ))
        .add((
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(
                "default-src 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'",
            ),
        ))
}

/// Logs method, path, status and latency of every request at `debug`.
// SECURITY: the path only, never the query string: it carries callbacks and tokens.
pub async fn access_log(
    req: actix_web::dev::ServiceRequest,
    next: actix_web::middleware::Next<impl actix_web::body::MessageBody>,
) -> Result<actix_web::dev::ServiceResponse<impl actix_web::body::MessageBody>, actix_web::Error> {
    // Most deployments log at info: skip the clock and the path copy unless the line is wanted.
    if !tracing::enabled!(tracing::Level::DEBUG) {
        return next.call(req).await;
    }
    let start = std::time::Instant::now();
    let method = req.method().clone();
    let path = req.path().to_owned();
    let res = next.call(req).await?;
    tracing::debug!(%method, %path, status = res.status().as_u16(), micros = start.elapsed().as_micros() as u64, "request");
    Ok(res)
}

/// Adds `Server-Timing: app;dur=<ms>` (W3C Server Timing) to console and API responses, so
/// their server time can be measured from outside without a profiler. Other paths (the key
/// documents, the sign-in pages) skip the clock.
pub async fn server_timing(
    req: actix_web::dev::ServiceRequest,
    next: actix_web::middleware::Next<impl actix_web::body::MessageBody>,
) -> Result<actix_web::dev::ServiceResponse<impl actix_web::body::MessageBody>, actix_web::Error> {
    let path = req.path();
    if !(path.starts_with("/admin") || path.starts_with("/api/")) {
        return next.call(req).await;
    }
    let start = std::time::Instant::now();
    let mut res = next.call(req).await?;
    let ms = start.elapsed().as_secs_f64() * 1000.0;
    if let Ok(v) = HeaderValue::from_str(&format!("app;dur={ms:.2}")) {
        res.headers_mut()
            .insert(header::HeaderName::from_static("server-timing"), v);
    }
    Ok(res)
}
