//! The claims of an Authify token: the registered claims of RFC 7519 §4.1 plus the original
//! Authify's `scopes` and `user` (kept because relying apps read them).
//!
//! One definition serves the signer (server) and the verifier (relying apps).

use serde::{Deserialize, Serialize};

/// Scope every signed-in user has.
pub const SCOPE_USER: &str = "user_access";
/// Scope of global administrators.
pub const SCOPE_ADMIN: &str = "admin_access";
/// Scope of an API token from a read-only API key.
pub const SCOPE_READ_ONLY: &str = "read_only";
/// The `aud` of API tokens (from `POST /jwt/token`). The management API accepts only this
/// audience, so a token issued to a relying app through the callback is refused there.
pub const API_AUDIENCE: &str = "urn:authify:api";

/// The payload of an Authify JWT.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Claims {
    /// Issuer, `AUTHIFY_JWT_ISSUER` (RFC 7519 §4.1.1).
    pub iss: String,
    /// Stable, opaque user id (RFC 7519 §4.1.2); unlike the e-mail it never changes.
    pub sub: String,
    /// The application the token was issued to (RFC 7519 §4.1.3).
    pub aud: String,
    /// Issued at, seconds since the epoch (RFC 7519 §4.1.6).
    pub iat: i64,
    /// Not before, seconds since the epoch (RFC 7519 §4.1.5).
    pub nbf: i64,
    /// Expiry, seconds since the epoch (RFC 7519 §4.1.4).
    pub exp: i64,
    /// Unique token id (RFC 7519 §4.1.7).
    pub jti: String,
    /// `user_access`, plus `admin_access` for global administrators.
    pub scopes: Vec<String>,
    /// The user as the original Authify described them.
    pub user: UserClaim,
    /// API tokens only: the access key they were issued for, checked (not revoked, not expired)
    /// on every API request.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub api_key: Option<String>,
    /// The Authify session the token was issued in (OpenID `sid`): the back-channel logout
    /// webhook names it, so an app can end the matching local session.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sid: Option<String>,
    /// How the user signed in (RFC 8176: `pwd`, `otp`, `sms`, `swk`, `mfa`), on tokens issued
    /// from a sign-in.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub amr: Option<Vec<String>>,
}

/// The `user` claim.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserClaim {
    /// The user's e-mail address, as in the original Authify.
    pub username: String,
    /// The user's stable public id (the same value as `sub`).
    pub uid: String,
    /// Whether the user proved control of `username` by following a link mailed to it. Absent
    /// in tokens of servers before it: read as false.
    #[serde(default)]
    pub email_verified: bool,
    /// Organizations the user belongs to.
    pub organizations: Vec<OrganizationClaim>,
}

/// One organization of the user.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrganizationClaim {
    /// Display name.
    pub name: String,
    /// Stable organization id.
    pub oid: String,
    /// Whether the user administers this organization.
    pub admin: bool,
    /// The groups of this organization the user is in.
    pub memberships: Vec<GroupClaim>,
}

/// One group membership inside an organization.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GroupClaim {
    /// Display name.
    pub name: String,
    /// Stable group id.
    pub gid: String,
}

impl Claims {
    /// Whether the token carries `scope`.
    pub fn has_scope(&self, scope: &str) -> bool {
        self.scopes.iter().any(|s| s == scope)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn claims_serialize_with_the_original_authify_shape() {
        let claims = Claims {
            iss: "https://id.example.com".into(),
            sub: "u1".into(),
            aud: "app1".into(),
            iat: 1,
            nbf: 1,
            exp: 901,
            jti: "j".into(),
            scopes: vec![SCOPE_USER.into()],
            api_key: None,
            sid: None,
            amr: None,
            user: UserClaim {
                email_verified: false,
                username: "a@example.com".into(),
                uid: "u1".into(),
                organizations: vec![OrganizationClaim {
                    name: "Acme".into(),
                    oid: "o1".into(),
                    admin: true,
                    memberships: vec![GroupClaim {
                        name: "ops".into(),
                        gid: "g1".into(),
                    }],
                }],
            },
        };
        let v = serde_json::to_value(&claims).unwrap();
        assert_eq!(v["user"]["organizations"][0]["memberships"][0]["gid"], "g1");
        assert_eq!(v["scopes"][0], "user_access");
        assert!(
            v.get("api_key").is_none(),
            "app tokens carry no api_key claim"
        );
        assert!(claims.has_scope(SCOPE_USER) && !claims.has_scope(SCOPE_ADMIN));
        let back: Claims = serde_json::from_value(v).unwrap();
        assert_eq!(back, claims);
    }
}
