//! The tokens of the OpenID provider and how they are signed: ID tokens (Core §2), access tokens
//! as JWTs (RFC 9068, `typ: at+jwt`, verifiable offline with the JWKS) and logout tokens
//! (Back-Channel Logout §2.4, `typ: logout+jwt`). The user's claims for each scope are built
//! here, once, for the ID token and for userinfo.

use authify_domain::{Algorithm, OrganizationClaim};
use authify_jwt::{Keyring, Signer};
use authify_store::DbConnection;
use authify_store::models::User;
use serde::{Deserialize, Serialize};
use sha2::{Digest as _, Sha256, Sha384, Sha512};

use super::OidcError;

/// The user's claims that scopes release (`profile`, `email`, `organizations`).
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
pub struct UserClaims {
    /// `profile`: display name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// `email`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    /// `email`: Authify does not verify addresses yet, so always false.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub email_verified: Option<bool>,
    /// `organizations`: the same shape as the legacy token's `user.organizations`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub organizations: Option<Vec<OrganizationClaim>>,
}

/// What `scope` releases about `user`. Reads memberships only when `organizations` is granted.
pub fn user_claims(
    conn: &mut DbConnection,
    user: &User,
    scope: &str,
) -> Result<UserClaims, OidcError> {
    let has = |s: &str| scope.split_whitespace().any(|x| x == s);
    let mut claims = UserClaims::default();
    if has("profile") {
        claims.name = Some(user.name.clone());
    }
    if has("email") {
        claims.email = Some(user.email.clone());
        claims.email_verified = Some(user.email_verified);
    }
    if has("organizations") {
        let subject = crate::tokens::subject(conn, user)?;
        claims.organizations = Some(subject.user.organizations);
    }
    Ok(claims)
}

/// An ID token (Core §2).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct IdTokenClaims {
    /// Issuer: `AUTHIFY_PUBLIC_URL`.
    pub iss: String,
    /// The user's public id.
    pub sub: String,
    /// The client id.
    pub aud: String,
    /// Expiry.
    pub exp: i64,
    /// Issue time.
    pub iat: i64,
    /// When the user authenticated.
    pub auth_time: i64,
    /// The client's nonce, unchanged.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub nonce: Option<String>,
    /// How (RFC 8176).
    pub amr: Vec<String>,
    /// The session, for back-channel logout.
    pub sid: String,
    /// Left half of the access token's hash (Core §3.1.3.6).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub at_hash: Option<String>,
    /// The user's claims for the granted scopes.
    #[serde(flatten)]
    pub user: UserClaims,
}

/// An access token (RFC 9068 §2.2).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct AccessTokenClaims {
    /// Issuer.
    pub iss: String,
    /// The user's public id, or the client id for client credentials.
    pub sub: String,
    /// The client id: Authify's own resources (userinfo, introspection) check it.
    pub aud: String,
    /// The client.
    pub client_id: String,
    /// Expiry.
    pub exp: i64,
    /// Issue time.
    pub iat: i64,
    /// Unique id: revocation is recorded against it.
    pub jti: String,
    /// Granted scopes, space-separated.
    pub scope: String,
    /// When the user authenticated (absent for client credentials).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub auth_time: Option<i64>,
    /// The session (absent for client credentials).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sid: Option<String>,
    /// The token family: a reused code or refresh token revokes it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fam: Option<String>,
}

/// A logout token (Back-Channel Logout §2.4): no `nonce`, an `events` member.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct LogoutTokenClaims {
    /// Issuer.
    pub iss: String,
    /// The client id.
    pub aud: String,
    /// Issue time.
    pub iat: i64,
    /// Expiry (two minutes).
    pub exp: i64,
    /// Unique id.
    pub jti: String,
    /// The user.
    pub sub: String,
    /// The ended session.
    pub sid: String,
    /// `{"http://schemas.openid.net/event/backchannel-logout": {}}`.
    pub events: serde_json::Value,
}

/// The signer for `alg`, or the active one when the server holds no key of that algorithm.
pub fn signer(keys: &Keyring, alg: Algorithm) -> &Signer {
    keys.signer_for(alg).unwrap_or_else(|| keys.signer())
}

/// `at_hash`: base64url of the left half of the access token's hash, with the hash of the ID
/// token's algorithm (Core §3.1.3.6).
pub fn at_hash(access_token: &str, alg: Algorithm) -> String {
    use base64::Engine as _;
    let digest: Vec<u8> = match alg {
        Algorithm::ES256 => Sha256::digest(access_token.as_bytes()).to_vec(),
        Algorithm::ES384 => Sha384::digest(access_token.as_bytes()).to_vec(),
        Algorithm::ES512 => Sha512::digest(access_token.as_bytes()).to_vec(),
    };
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(&digest[..digest.len() / 2])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn at_hash_matches_the_openid_core_example() {
        // OpenID Connect Core, Appendix A.3 (RS256 uses SHA-256 like ES256).
        assert_eq!(
            at_hash(
                "jHkWEdUXMU1BwAsC4vtUsZwnNvTIxEl0z9K3vx5KF0Y",
                Algorithm::ES256
            ),
            "77QmUPtjPfzWtF2AnpK9RQ"
        );
    }

    #[test]
    fn logout_tokens_carry_no_nonce_and_the_backchannel_event() {
        let t = LogoutTokenClaims {
            iss: "i".into(),
            aud: "a".into(),
            iat: 1,
            exp: 2,
            jti: "j".into(),
            sub: "s".into(),
            sid: "d".into(),
            events: serde_json::json!({"http://schemas.openid.net/event/backchannel-logout": {}}),
        };
        let v = serde_json::to_value(&t).unwrap();
        assert!(v.get("nonce").is_none());
        assert!(v["events"]["http://schemas.openid.net/event/backchannel-logout"].is_object());
    }
}
