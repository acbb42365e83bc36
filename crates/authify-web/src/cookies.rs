//! The two cookies Authify sets, and the CSRF check.
//!
//! - `authify_session`: the opaque session token. HttpOnly, SameSite=Lax (so the SSO redirect from
//!   an app's link still carries it), Secure when the public URL is https.
//! - `authify_csrf`: a random token repeated in every form (double-submit). HttpOnly,
//!   SameSite=Strict. A POST must carry the same value in `csrf_token`, and, when the browser
//!   sends `Origin`, come from our own origin.

use actix_web::HttpRequest;
use actix_web::cookie::{Cookie, SameSite, time::Duration as CookieDuration};
use actix_web::http::header;
use subtle::ConstantTimeEq as _;

/// Session cookie name.
pub const SESSION: &str = "authify_session";
/// CSRF cookie name.
pub const CSRF: &str = "authify_csrf";

/// Builds a cookie with our flags.
pub fn build(
    name: &'static str,
    value: String,
    secure: bool,
    same_site: SameSite,
    max_age: Option<i64>,
) -> Cookie<'static> {
    let mut c = Cookie::build(name, value)
        .path("/")
        .http_only(true)
        .secure(secure)
        .same_site(same_site)
        .finish();
    if let Some(secs) = max_age {
        c.set_max_age(CookieDuration::seconds(secs));
    }
    c
}

/// A cookie that deletes `name`.
pub fn removal(name: &'static str, secure: bool) -> Cookie<'static> {
    let mut c = build(name, String::new(), secure, SameSite::Lax, Some(0));
    c.make_removal();
    c
}

/// The session token the browser sent, if any.
pub fn session_token(req: &HttpRequest) -> Option<String> {
    req.cookie(SESSION)
        .map(|c| c.value().to_owned())
        .filter(|v| !v.is_empty())
}

/// The CSRF token for a page: the browser's, or a fresh one with the cookie to set.
pub fn csrf_token(
    req: &HttpRequest,
    secure: bool,
) -> Result<(String, Option<Cookie<'static>>), getrandom::Error> {
    if let Some(existing) = req
        .cookie(CSRF)
        .map(|c| c.value().to_owned())
        .filter(|v| v.len() == 43)
    {
        return Ok((existing, None));
    }
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes)?;
    use base64::Engine as _;
    let token = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes);
    let cookie = build(CSRF, token.clone(), secure, SameSite::Strict, None);
    Ok((token, Some(cookie)))
}

/// Whether a form POST may proceed: the form's token equals the cookie (constant time) and the
/// request's `Origin`, when present, is ours.
// SECURITY: every state-changing form goes through here; a missing or mismatched token means the
// request changes nothing.
pub fn csrf_ok(req: &HttpRequest, form_token: Option<&str>, public_origin: &str) -> bool {
    let Some(cookie) = req.cookie(CSRF) else {
        tracing::info!(path = req.path(), "form refused: no CSRF cookie");
        return false;
    };
    let Some(form) = form_token else {
        tracing::info!(path = req.path(), "form refused: no CSRF token in the form");
        return false;
    };
    if !(cookie.value().len() == 43 && bool::from(cookie.value().as_bytes().ct_eq(form.as_bytes())))
    {
        tracing::info!(
            path = req.path(),
            "form refused: CSRF token does not match its cookie"
        );
        return false;
    }
    if !origin_ok(req, public_origin) {
        tracing::info!(path = req.path(), origin = ?req.headers().get(header::ORIGIN), "form refused: foreign Origin");
        return false;
    }
    true
}

fn origin_ok(req: &HttpRequest, public_origin: &str) -> bool {
    let Some(origin) = req
        .headers()
        .get(header::ORIGIN)
        .and_then(|v| v.to_str().ok())
    else {
        // Older browsers and non-browser clients send no Origin; the token check stands alone.
        return true;
    };
    if origin == public_origin {
        return true;
    }
    // Same origin as the request itself (e.g. reached on another address than the public URL).
    let host = req
        .headers()
        .get(header::HOST)
        .and_then(|v| v.to_str().ok());
    match (origin.split_once("://"), host) {
        (Some((_, origin_host)), Some(host)) => origin_host == host,
        _ => false,
    }
}
