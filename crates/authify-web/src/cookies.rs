//! The cookies Authify sets, and the CSRF check of every form.
//!
//! - the session cookie: the opaque session token. HttpOnly, SameSite=Lax (so the SSO redirect
//!   from an app's link still carries it), Secure when the public URL is https.
//! - the flow cookie: the token of the sign-in attempt in progress (`authify_core::authn`).
//!   HttpOnly, SameSite=Lax, as long-lived as the flow.
//! - the device cookie: the token of an approver device (second factors), 400 days.
//!
//! Under https they carry the `__Host-` prefix: the browser then refuses them from a sibling
//! subdomain or over http, so nobody can plant one (RFC 6265bis §4.1.3.2).
//!
//! Forms carry a token bound to the session or the flow (`authn::csrf`); a POST must carry the
//! token of one of the browser's own cookies and, when the browser sends `Origin`, come from our
//! own origin (scheme, host and port).

use actix_web::HttpRequest;
use actix_web::cookie::{Cookie, SameSite, time::Duration as CookieDuration};
use actix_web::http::header;
use authify_core::authn::{Cookies, csrf};

/// The cookie names for a deployment: `__Host-` prefixed under https.
#[derive(Debug, Clone, Copy)]
pub struct Names {
    /// Session cookie.
    pub session: &'static str,
    /// Flow cookie.
    pub flow: &'static str,
    /// Approver-device cookie.
    pub device: &'static str,
    /// Set `Secure`.
    pub secure: bool,
}

impl Names {
    /// The names for http (`secure == false`) or https.
    pub fn new(secure: bool) -> Self {
        if secure {
            Names {
                session: "__Host-authify_session",
                flow: "__Host-authify_flow",
                device: "__Host-authify_device",
                secure,
            }
        } else {
            Names {
                session: "authify_session",
                flow: "authify_flow",
                device: "authify_device",
                secure,
            }
        }
    }

    /// The session cookie carrying `token` for `max_age` seconds.
    pub fn session_cookie(&self, token: String, max_age: i64) -> Cookie<'static> {
        build(self.session, token, self.secure, Some(max_age))
    }

    /// The flow cookie carrying `token` for `max_age` seconds.
    pub fn flow_cookie(&self, token: String, max_age: i64) -> Cookie<'static> {
        build(self.flow, token, self.secure, Some(max_age))
    }

    /// The approver-device cookie: lasts as long as browsers allow (400 days).
    pub fn device_cookie(&self, token: String) -> Cookie<'static> {
        build(self.device, token, self.secure, Some(400 * 24 * 3600))
    }

    /// A cookie that deletes the session cookie.
    pub fn session_removal(&self) -> Cookie<'static> {
        removal(self.session, self.secure)
    }

    /// A cookie that deletes the flow cookie.
    pub fn flow_removal(&self) -> Cookie<'static> {
        removal(self.flow, self.secure)
    }

    /// The session and flow tokens the browser sent.
    pub fn read(&self, req: &HttpRequest) -> Cookies {
        let value = |name| {
            req.cookie(name)
                .map(|c| c.value().to_owned())
                .filter(|v| !v.is_empty())
        };
        Cookies {
            session: value(self.session),
            flow: value(self.flow),
            device: value(self.device),
        }
    }
}

fn build(name: &'static str, value: String, secure: bool, max_age: Option<i64>) -> Cookie<'static> {
    let mut c = Cookie::build(name, value)
        .path("/")
        .http_only(true)
        .secure(secure)
        .same_site(SameSite::Lax)
        .finish();
    if let Some(secs) = max_age {
        c.set_max_age(CookieDuration::seconds(secs));
    }
    c
}

fn removal(name: &'static str, secure: bool) -> Cookie<'static> {
    let mut c = build(name, String::new(), secure, Some(0));
    c.make_removal();
    c
}

/// The form token of a signed-in browser's pages (bound to its session).
pub fn session_csrf(cookies: &Cookies) -> String {
    cookies
        .session
        .as_deref()
        .map(csrf::token_for)
        .unwrap_or_default()
}

/// The form token bound to the flow (second-factor pages).
pub fn flow_csrf(cookies: &Cookies) -> String {
    cookies
        .flow
        .as_deref()
        .map(csrf::token_for)
        .unwrap_or_default()
}

/// Whether a form POST's origin is acceptable (the token is checked by the engine, which knows
/// whether the session or flow it is bound to is live).
// SECURITY: with the token check, every state-changing form goes through here.
pub fn origin_allowed(req: &HttpRequest, public_origin: &str) -> bool {
    let ok = origin_ok(req, public_origin);
    if !ok {
        tracing::info!(
            path = req.path(),
            "form refused: foreign or malformed Origin"
        );
    }
    ok
}

/// `Origin` absent, or equal to our public origin, or to this request's own scheme and host.
fn origin_ok(req: &HttpRequest, public_origin: &str) -> bool {
    let Some(raw) = req.headers().get(header::ORIGIN) else {
        // Older browsers and non-browser clients send no Origin; the token check stands alone.
        return true;
    };
    // SECURITY: an Origin that is not visible ASCII is refused, not treated as absent.
    let Ok(origin) = raw.to_str() else {
        return false;
    };
    if origin.is_empty() || !origin.bytes().all(|b| b.is_ascii_graphic()) {
        return false;
    }
    if origin == public_origin {
        return true;
    }
    // Same origin as the request itself (e.g. reached on another address than the public URL):
    // scheme and host both match.
    let info = req.connection_info();
    origin == format!("{}://{}", info.scheme(), info.host())
}

#[cfg(test)]
mod tests {
    use super::*;
    use actix_web::test::TestRequest;

    fn check(origin: &[u8]) -> bool {
        let req = TestRequest::default()
            .insert_header((header::HOST, "id.example"))
            .insert_header((
                header::ORIGIN,
                header::HeaderValue::from_bytes(origin).unwrap(),
            ))
            .to_http_request();
        origin_ok(&req, "https://id.example")
    }

    #[test]
    fn the_origin_check_compares_scheme_host_and_port_and_refuses_odd_bytes() {
        assert!(check(b"https://id.example"));
        // The request itself is plain http here: its own origin is http://id.example.
        assert!(check(b"http://id.example"));
        assert!(!check(b"https://id.example:8443"));
        assert!(!check(b"https://evil.example"));
        assert!(!check(b"ftp://id.example"));
        assert!(!check(b"null"));
        assert!(!check("https://id.example\u{e9}".as_bytes()));
        assert!(!check(b"https://id.example x"));
    }
}
