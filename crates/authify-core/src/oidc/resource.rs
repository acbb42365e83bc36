//! What clients do with tokens after the exchange: userinfo (Core §5.3), revocation (RFC 7009),
//! introspection (RFC 7662), and reading the `id_token_hint` of RP-initiated logout.

use std::sync::Arc;

use authify_domain::Algorithm;
use authify_jwt::{Keyring, verify_jws};
use authify_store::{DbConnection, apps, oauth, users};
use chrono::{DateTime, Utc};
use serde::Deserialize;
use serde_json::{Value, json};

use super::claims::{AccessTokenClaims, user_claims};
use super::token::{ClientCredentials, Provider, authenticate};
use super::{OAuthError, OidcError};
use crate::db_time;

/// Why a bearer token was refused (RFC 6750 §3.1): a 401 with `WWW-Authenticate`.
#[derive(Debug, thiserror::Error)]
pub enum BearerError {
    /// Missing, malformed, expired, revoked, or not ours.
    #[error("invalid_token")]
    InvalidToken,
    /// Storage failed.
    #[error("{0}")]
    Internal(String),
}

impl From<OidcError> for BearerError {
    fn from(e: OidcError) -> Self {
        match e {
            OidcError::OAuth(_) => BearerError::InvalidToken,
            OidcError::Internal(m) => BearerError::Internal(m),
        }
    }
}

impl From<authify_store::StoreError> for BearerError {
    fn from(e: authify_store::StoreError) -> Self {
        BearerError::Internal(e.to_string())
    }
}

/// The claims of one of our access tokens, signature, type, issuer and expiry checked.
fn access_claims(
    token: &str,
    keys: &Keyring,
    issuer: &str,
    now: DateTime<Utc>,
    check_expiry: bool,
) -> Option<AccessTokenClaims> {
    // SECURITY: only our keys, only EC algorithms, and only `typ: at+jwt`: an ID token or a
    // legacy token is not an access token.
    let payload = verify_jws(token, keys.verify_keys(), &Algorithm::ALL, "at+jwt").ok()?;
    let claims: AccessTokenClaims = serde_json::from_slice(&payload).ok()?;
    if claims.iss != issuer || (check_expiry && claims.exp <= now.timestamp()) {
        return None;
    }
    Some(claims)
}

/// Whether the token or its family was revoked.
fn revoked(conn: &mut DbConnection, claims: &AccessTokenClaims) -> Result<bool, OidcError> {
    let jti = format!("jti:{}", claims.jti);
    let fam = claims.fam.as_ref().map(|f| format!("family:{f}"));
    let mut keys = vec![jti.as_str()];
    if let Some(f) = &fam {
        keys.push(f);
    }
    Ok(oauth::any_revoked(conn, &keys)?)
}

/// What `id_token_hint` says, signature and issuer checked (expiry is not: a hint may be old).
#[derive(Debug, Clone, Deserialize)]
pub struct LogoutHint {
    /// The client it was issued to.
    pub aud: String,
    /// The user.
    pub sub: String,
    /// The session.
    pub sid: Option<String>,
}

impl Provider {
    /// Userinfo for a bearer access token.
    pub async fn userinfo(
        &self,
        token: Option<String>,
        keys: Arc<Keyring>,
        now: DateTime<Utc>,
    ) -> Result<Value, BearerError> {
        let token = token.ok_or(BearerError::InvalidToken)?;
        let claims = access_claims(&token, &keys, &self.settings.issuer, now, true)
            .ok_or(BearerError::InvalidToken)?;
        // Client-credentials tokens have no user.
        if claims.sid.is_none() {
            return Err(BearerError::InvalidToken);
        }
        self.db
            .run(move |conn| {
                if revoked(conn, &claims)? {
                    return Err(BearerError::InvalidToken);
                }
                let user = users::find_user_by_public_id(conn, &claims.sub)?
                    .filter(|u| !u.disabled)
                    .ok_or(BearerError::InvalidToken)?;
                let mut out = serde_json::to_value(user_claims(conn, &user, &claims.scope)?)
                    .map_err(|e| BearerError::Internal(e.to_string()))?;
                out["sub"] = json!(user.public_id);
                Ok(out)
            })
            .await
    }

    /// RFC 7662: what the authenticated client may know about one of its tokens. A token of
    /// another client, revoked, expired or unknown is `{"active": false}`.
    pub async fn introspect(
        &self,
        client: ClientCredentials,
        token: Option<String>,
        keys: Arc<Keyring>,
        now: DateTime<Utc>,
    ) -> Result<Value, OidcError> {
        let issuer = self.settings.issuer.clone();
        self.db
            .run(move |conn| {
                let app = authenticate(conn, &client)?;
                let inactive = json!({ "active": false });
                let Some(token) = token.filter(|t| !t.is_empty()) else {
                    return Ok(inactive);
                };
                let hash = crate::sessions::token_hash(&token);
                if let Some((row, _)) = oauth::find_refresh_token(conn, &hash)? {
                    let fam = format!("family:{}", row.family);
                    let live = row.application_id == app.id
                        && row.used_at.is_none()
                        && row.expires_at > db_time(now)
                        && !oauth::any_revoked(conn, &[&fam])?;
                    if !live {
                        return Ok(inactive);
                    }
                    let sub = users::get_user(conn, row.user_id)?.public_id;
                    return Ok(json!({
                        "active": true,
                        "token_type": "refresh_token",
                        "client_id": app.app_id,
                        "scope": row.scope,
                        "sub": sub,
                        "iss": issuer,
                        "iat": row.created_at.and_utc().timestamp(),
                        "exp": row.expires_at.and_utc().timestamp(),
                    }));
                }
                let Some(claims) = access_claims(&token, &keys, &issuer, now, true) else {
                    return Ok(inactive);
                };
                if claims.client_id != app.app_id || revoked(conn, &claims)? {
                    return Ok(inactive);
                }
                Ok(json!({
                    "active": true,
                    "token_type": "Bearer",
                    "client_id": claims.client_id,
                    "scope": claims.scope,
                    "sub": claims.sub,
                    "aud": claims.aud,
                    "iss": claims.iss,
                    "iat": claims.iat,
                    "exp": claims.exp,
                    "jti": claims.jti,
                }))
            })
            .await
    }

    /// RFC 7009: revokes a refresh token (and its family) or an access token of the
    /// authenticated client. Unknown tokens and other clients' tokens are ignored (§2.2).
    pub async fn revoke(
        &self,
        client: ClientCredentials,
        token: Option<String>,
        keys: Arc<Keyring>,
        now: DateTime<Utc>,
    ) -> Result<(), OidcError> {
        let this = self.clone();
        self.db
            .run(move |conn| {
                let app = authenticate(conn, &client)?;
                let Some(token) = token.filter(|t| !t.is_empty()) else {
                    return Err(OAuthError::invalid_request("token is missing").into());
                };
                let hash = crate::sessions::token_hash(&token);
                if let Some((row, _)) = oauth::find_refresh_token(conn, &hash)? {
                    if row.application_id == app.id {
                        this.revoke_family(conn, &row.family, now)?;
                    }
                    return Ok(());
                }
                let issuer = &this.settings.issuer;
                if let Some(claims) = access_claims(&token, &keys, issuer, now, true)
                    && claims.client_id == app.app_id
                {
                    let until = DateTime::from_timestamp(claims.exp, 0).unwrap_or(now);
                    oauth::revoke(conn, &format!("jti:{}", claims.jti), db_time(until))?;
                }
                Ok(())
            })
            .await
    }

    /// Reads an `id_token_hint`: one of our ID tokens (signature and issuer), expired or not.
    pub fn logout_hint(&self, hint: &str, keys: &Keyring) -> Option<LogoutHint> {
        let payload = verify_jws(hint, keys.verify_keys(), &Algorithm::ALL, "JWT").ok()?;
        #[derive(Deserialize)]
        struct Iss {
            iss: String,
        }
        let iss: Iss = serde_json::from_slice(&payload).ok()?;
        if iss.iss != self.settings.issuer {
            return None;
        }
        serde_json::from_slice(&payload).ok()
    }
}

/// Where RP-initiated logout may send the browser afterwards, and whose session the hint named.
#[derive(Debug, Clone, Default)]
pub struct LogoutTarget {
    /// The registered `post_logout_redirect_uri` with `state`, when one was asked for.
    pub redirect: Option<String>,
    /// The `sid` of a valid `id_token_hint`.
    pub hinted_sid: Option<String>,
}

impl Provider {
    /// Checks an RP-initiated logout request (RP-Initiated Logout 1.0 §2): the client comes from
    /// the hint's `aud` or `client_id`; `post_logout_redirect_uri` must equal the one it
    /// registered. `Err` names the problem for a 400 page.
    pub async fn end_session_target(
        &self,
        id_token_hint: Option<String>,
        client_id: Option<String>,
        post_logout_redirect_uri: Option<String>,
        state: Option<String>,
        keys: Arc<Keyring>,
    ) -> Result<LogoutTarget, String> {
        let hint = match id_token_hint.filter(|h| !h.is_empty()) {
            Some(h) => Some(
                self.logout_hint(&h, &keys)
                    .ok_or("The id_token_hint is not an ID token issued by this server.")?,
            ),
            None => None,
        };
        if let (Some(h), Some(c)) = (&hint, &client_id)
            && &h.aud != c
        {
            return Err("The id_token_hint was issued to another client than client_id.".into());
        }
        let hinted_sid = hint.as_ref().and_then(|h| h.sid.clone());
        let Some(uri) = post_logout_redirect_uri.filter(|u| !u.is_empty()) else {
            return Ok(LogoutTarget {
                redirect: None,
                hinted_sid,
            });
        };
        let Some(client) = hint.map(|h| h.aud).or(client_id) else {
            return Err("A post_logout_redirect_uri needs an id_token_hint or a client_id.".into());
        };
        let app = self
            .db
            .run(move |conn| apps::find_application(conn, &client))
            .await
            .map_err(|e| e.to_string())?
            .ok_or("No application with this client_id is registered.")?;
        // SECURITY: exact match with the registered value; never an open redirect.
        if app.post_logout_redirect_uri.as_deref() != Some(uri.as_str()) {
            return Err(
                "The post_logout_redirect_uri is not registered for this application.".into(),
            );
        }
        let cb = authify_domain::CallbackUrl::parse(&uri).map_err(|e| e.to_string())?;
        let params: Vec<(&str, &str)> = state.iter().map(|s| ("state", s.as_str())).collect();
        Ok(LogoutTarget {
            redirect: Some(cb.with_params(&params)),
            hinted_sid,
        })
    }
}
