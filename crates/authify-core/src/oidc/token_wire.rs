//! The token endpoint's request and response as they travel (RFC 6749 §4.1.3, §5.1), unparsed on
//! the way in. None of them has a `Debug` that shows a secret, a code or a token.

use serde::Serialize;

/// How the client authenticated: HTTP Basic (`client_secret_basic`), form fields
/// (`client_secret_post`), or only its id (`none`, public clients). No `Debug`: it holds a secret.
#[derive(Default, Clone)]
pub struct ClientCredentials {
    /// From the `Authorization: Basic` header, decoded.
    pub basic: Option<(String, String)>,
    /// `client_id` form field.
    pub client_id: Option<String>,
    /// `client_secret` form field.
    pub client_secret: Option<String>,
}

impl std::fmt::Debug for ClientCredentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClientCredentials")
            .field("client_id", &self.client_id)
            .finish_non_exhaustive()
    }
}

/// A token request, unparsed. No `Debug`: it holds codes and tokens.
#[derive(Default, Clone)]
pub struct TokenRequest {
    /// `authorization_code`, `refresh_token` or `client_credentials`.
    pub grant_type: Option<String>,
    /// The code.
    pub code: Option<String>,
    /// Must equal the authorization request's.
    pub redirect_uri: Option<String>,
    /// PKCE verifier.
    pub code_verifier: Option<String>,
    /// The refresh token.
    pub refresh_token: Option<String>,
    /// Narrower scope on refresh.
    pub scope: Option<String>,
    /// Who is asking.
    pub client: ClientCredentials,
}

/// A successful token response (RFC 6749 §5.1). No `Debug`: it holds tokens.
#[derive(Serialize)]
pub struct TokenResponse {
    /// A JWT (RFC 9068).
    pub access_token: String,
    /// `Bearer`.
    pub token_type: &'static str,
    /// Seconds.
    pub expires_in: i64,
    /// Granted scopes.
    pub scope: String,
    /// When `openid` was granted.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id_token: Option<String>,
    /// When `offline_access` was granted.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub refresh_token: Option<String>,
    /// The legacy flow's code exchange: the same Authify JWT the callback would have carried.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub jwt: Option<String>,
}
