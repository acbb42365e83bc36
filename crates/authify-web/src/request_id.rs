//! Request ids: `X-Request-Id` taken from a trusted proxy (`AUTHIFY_TRUSTED_PROXIES`) or made
//! here, returned on every response, carried by a tracing span so every log line of the request
//! names it, and shown on error pages.

use actix_web::HttpMessage;
use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{HeaderName, HeaderValue};
use actix_web::middleware::Next;
use tracing::Instrument;

/// The request's id, in its extensions.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestId(pub String);

/// The header.
pub const HEADER: &str = "x-request-id";

/// An id a proxy sent is kept when it is 1 to 128 visible ASCII characters.
fn acceptable(id: &str) -> bool {
    (1..=128).contains(&id.len()) && id.bytes().all(|b| b.is_ascii_graphic())
}

/// A new id: 16 hex digits from the OS generator.
fn fresh() -> String {
    authify_core::random::bytes::<8>()
        .map(|b| b.iter().map(|x| format!("{x:02x}")).collect())
        .unwrap_or_else(|_| "unavailable".to_owned())
}

/// The id of `req`: a trusted proxy's, or a new one.
fn id_of(req: &ServiceRequest) -> String {
    let from_proxy = req
        .app_data::<actix_web::web::Data<crate::AppState>>()
        .zip(req.peer_addr())
        .filter(|(state, peer)| state.config().trusted_proxies.trusts_peer(peer.ip()))
        .and_then(|_| req.headers().get(HEADER))
        .and_then(|v| v.to_str().ok())
        .filter(|v| acceptable(v));
    // SECURITY: from anyone else the header could forge or flood log correlation: ignored.
    from_proxy.map_or_else(fresh, str::to_owned)
}

/// Middleware: the id, its span, its response header.
pub async fn request_id(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let id = id_of(&req);
    req.extensions_mut().insert(RequestId(id.clone()));
    let span = tracing::info_span!("request", id = %id);
    let mut res = next.call(req).instrument(span).await?;
    if let Ok(v) = HeaderValue::from_str(&id) {
        res.headers_mut().insert(HeaderName::from_static(HEADER), v);
    }
    Ok(res)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_proxys_id_is_kept_only_when_it_is_short_visible_ascii() {
        assert!(acceptable("4bf92f3577b34da6a3ce929d0e0e4736"));
        assert!(!acceptable(""));
        assert!(!acceptable("has space"));
        assert!(!acceptable(&"x".repeat(129)));
        assert_eq!(fresh().len(), 16);
        assert_ne!(fresh(), fresh());
    }
}
