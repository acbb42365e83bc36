// Verify an Authify token in a Rust app with the authify-client crate.
// Cargo.toml: authify-client = { git = "https://github.com/authify/authify" }
use authify_client::{AuthifyClient, Claims, ClientConfig, ClientError};

/// Build once at start-up and share it (e.g. in actix `web::Data`): it caches the keys.
pub fn authify_verifier(authify_url: &str, app_id: &str) -> Result<AuthifyClient, ClientError> {
    AuthifyClient::new(ClientConfig::new(authify_url, app_id))
}

/// Per request: `Ok(claims)` is a signed-in user; answer 401 on `ClientError::Token`,
/// 503 on `ClientError::Fetch` (Authify unreachable).
pub async fn signed_in_user(verifier: &AuthifyClient, token: &str) -> Result<Claims, ClientError> {
    verifier.verify(token).await
}
