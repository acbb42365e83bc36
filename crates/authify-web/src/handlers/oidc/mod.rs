//! The OpenID Connect endpoints: discovery, authorization (a return of the sign-in flow),
//! consent, token, userinfo, revocation and introspection. Thin handlers over
//! `authify_core::authn` (authorize, consent) and `authify_core::oidc` (the rest).
//!
//! Errors of the token-side endpoints use the RFC 6749 §5.2 JSON shape, not [`WebError`]'s:
//! client libraries parse `error`. Every response carrying a token says `Cache-Control:
//! no-store` (RFC 6749 §5.1).

mod authorize;
mod token;

pub use authorize::{get_authorize, get_consent, post_authorize, post_consent};
pub use token::{post_introspect, post_revoke, post_token, userinfo};

use actix_web::HttpResponse;
use actix_web::http::header;
use actix_web::web;
use authify_core::oidc::SCOPES;
use serde_json::json;

use crate::state::AppState;

/// `GET /.well-known/openid-configuration` (Discovery 1.0 §4).
pub async fn get_discovery(state: web::Data<AppState>) -> HttpResponse {
    let issuer = &state.config().public_url;
    let algs: Vec<&str> = state
        .keys()
        .keyring
        .algorithms()
        .iter()
        .map(|a| a.as_str())
        .collect();
    let doc = json!({
        "issuer": issuer,
        "authorization_endpoint": format!("{issuer}/oauth/authorize"),
        "token_endpoint": format!("{issuer}/oauth/token"),
        "userinfo_endpoint": format!("{issuer}/oauth/userinfo"),
        "jwks_uri": format!("{issuer}/.well-known/jwks.json"),
        "revocation_endpoint": format!("{issuer}/oauth/revoke"),
        "introspection_endpoint": format!("{issuer}/oauth/introspect"),
        "end_session_endpoint": format!("{issuer}/logout"),
        "scopes_supported": SCOPES,
        "response_types_supported": ["code"],
        "response_modes_supported": ["query"],
        "grant_types_supported": ["authorization_code", "refresh_token", "client_credentials"],
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": algs,
        "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post", "none"],
        "revocation_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post", "none"],
        "introspection_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
        "code_challenge_methods_supported": ["S256"],
        "prompt_values_supported": ["none", "login", "consent"],
        "claims_supported": ["iss", "sub", "aud", "exp", "iat", "auth_time", "nonce", "amr", "sid", "at_hash", "name", "email", "email_verified", "organizations"],
        "authorization_response_iss_parameter_supported": true,
        "backchannel_logout_supported": true,
        "backchannel_logout_session_supported": true,
        "claims_parameter_supported": false,
        "request_parameter_supported": false,
        "request_uri_parameter_supported": false,
    });
    HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, "public, max-age=300"))
        .insert_header((header::ACCESS_CONTROL_ALLOW_ORIGIN, "*"))
        .json(doc)
}
