//! The token endpoint (RFC 6749 §3.2): client authentication, then one of three grants, each in
//! one transaction. Codes are single-use and live 60 s; a second redemption revokes every token
//! the first one produced (RFC 6749 §4.1.2). Refresh tokens rotate on every use; presenting a
//! used one revokes the whole family (RFC 9700 §4.14.2).

use std::sync::Arc;

use authify_jwt::{Keyring, TokenIssuer};
use authify_store::models::{Application, User};
use authify_store::oauth::{self, NewRefreshToken};
use authify_store::{DbConnection, apps, transaction, users};
use chrono::{DateTime, Utc};
use subtle::ConstantTimeEq as _;

use super::claims::{AccessTokenClaims, IdTokenClaims, at_hash, signer, user_claims};
use super::{
    ClientType, OAuthError, OidcError, OidcSettings, REFRESH_TTL_DAYS, algorithm_of, covers,
    new_family,
};
use crate::manage::audit::Entry;
use crate::{Db, db_time, random};

pub use super::token_wire::{ClientCredentials, TokenRequest, TokenResponse};

/// The OpenID provider's endpoints that are not part of the sign-in flow. Cheap to clone.
#[derive(Clone)]
pub struct Provider {
    pub(crate) db: Db,
    pub(crate) settings: Arc<OidcSettings>,
    pub(crate) legacy: TokenIssuer,
}

impl std::fmt::Debug for Provider {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Provider")
            .field("issuer", &self.settings.issuer)
            .finish_non_exhaustive()
    }
}

/// Checks the client's credentials; the application on success.
pub(crate) fn authenticate(
    conn: &mut DbConnection,
    creds: &ClientCredentials,
) -> Result<Application, OAuthError> {
    if creds.basic.is_some() && (creds.client_secret.is_some()) {
        return Err(OAuthError::invalid_request(
            "use one client authentication method, not two",
        ));
    }
    let (id, secret) = match &creds.basic {
        Some((id, secret)) => (Some(id.as_str()), Some(secret.as_str())),
        None => (creds.client_id.as_deref(), creds.client_secret.as_deref()),
    };
    if let (Some((basic_id, _)), Some(form_id)) = (&creds.basic, &creds.client_id)
        && basic_id != form_id
    {
        return Err(OAuthError::invalid_client());
    }
    let id = id
        .filter(|s| !s.is_empty())
        .ok_or_else(OAuthError::invalid_client)?;
    let app = apps::find_application(conn, id)
        .map_err(|_| OAuthError::invalid_client())?
        .ok_or_else(OAuthError::invalid_client)?;
    match (ClientType::of(&app), secret) {
        (ClientType::Public, None) => Ok(app),
        (ClientType::Public, Some(_)) => Err(OAuthError::invalid_client()),
        (_, Some(secret)) => {
            let presented = format!("sha256:{}", crate::sessions::token_hash(secret));
            // SECURITY: constant-time comparison of the stored hash with the presented one.
            if bool::from(presented.as_bytes().ct_eq(app.secret_hash.as_bytes())) {
                Ok(app)
            } else {
                Err(OAuthError::invalid_client())
            }
        }
        (_, None) => Err(OAuthError::invalid_client()),
    }
}

/// What a grant produces before signing.
struct Grant<'a> {
    app: &'a Application,
    user: &'a User,
    scope: &'a str,
    sid: &'a str,
    auth_time: i64,
    amr: &'a str,
    nonce: Option<&'a str>,
    family: &'a str,
    refresh: bool,
    legacy: bool,
}

impl Provider {
    /// A provider over `db`. `legacy` signs the Authify JWT of the legacy code exchange.
    pub fn new(db: Db, settings: OidcSettings, legacy: TokenIssuer) -> Self {
        Provider {
            db,
            settings: Arc::new(settings),
            legacy,
        }
    }

    /// The issuer (`AUTHIFY_PUBLIC_URL`).
    pub fn issuer(&self) -> &str {
        &self.settings.issuer
    }

    /// The settings.
    pub fn settings(&self) -> &OidcSettings {
        &self.settings
    }

    /// Answers a token request. One database task.
    pub async fn token(
        &self,
        req: TokenRequest,
        keys: Arc<Keyring>,
        ip: Option<String>,
        now: DateTime<Utc>,
    ) -> Result<TokenResponse, OidcError> {
        let this = self.clone();
        // Like single sign-on: on SQLite the task runs on the worker when a connection is free
        // (Db::run_quick), saving the hop to the blocking pool (docs/performance.md).
        self.db
            .run_quick(move |conn| {
                let app = authenticate(conn, &req.client)?;
                let outcome = match req.grant_type.as_deref() {
                    Some("authorization_code") => {
                        transaction(conn, |conn| this.code_grant(conn, &app, &req, &keys, now))?
                    }
                    Some("refresh_token") => {
                        transaction(conn, |conn| this.refresh_grant(conn, &app, &req, &keys, now))?
                    }
                    Some("client_credentials") => this.client_grant(&app, &keys, now)?,
                    Some(_) => Err(OAuthError::new(
                        "unsupported_grant_type",
                        "grant_type must be authorization_code, refresh_token or client_credentials",
                    )),
                    None => Err(OAuthError::invalid_request("grant_type is missing")),
                };
                let ok = outcome.is_ok();
                let grant = req.grant_type.clone().unwrap_or_default();
                let entry = Entry::new("token.issue", db_time(now))
                    .ip(ip.as_deref())
                    .target("application", &app.app_id, &app.name)
                    .details(serde_json::json!({ "grant_type": grant }));
                if ok {
                    entry.record(conn)?;
                } else if grant != "client_credentials" {
                    entry.failed().record(conn)?;
                }
                Ok::<_, OidcError>(outcome?)
            })
            .await
    }

    /// `authorization_code`. Returns `Ok(Err(..))` for refusals whose writes must be kept (the
    /// revocation after a reused code).
    fn code_grant(
        &self,
        conn: &mut DbConnection,
        app: &Application,
        req: &TokenRequest,
        keys: &Keyring,
        now: DateTime<Utc>,
    ) -> Result<Result<TokenResponse, OAuthError>, OidcError> {
        let code = req.code.as_deref().filter(|c| !c.is_empty());
        let Some(code) = code else {
            return Ok(Err(OAuthError::invalid_request("code is missing")));
        };
        let unknown = || OAuthError::invalid_grant("the code is unknown, expired or already used");
        let Some((row, _)) = oauth::find_code(conn, &crate::sessions::token_hash(code))? else {
            return Ok(Err(unknown()));
        };
        if row.application_id != app.id {
            return Ok(Err(unknown()));
        }
        // SECURITY: the legacy code exchange has no PKCE; only a client with a secret may use it.
        if row.legacy && ClientType::of(app) == ClientType::Public {
            return Ok(Err(OAuthError::new(
                "unauthorized_client",
                "the legacy code exchange needs a confidential application",
            )));
        }
        // SECURITY: a code presented twice was stolen or replayed: everything issued from it is
        // revoked (RFC 6749 §4.1.2), and the refusal is committed with the revocation.
        if row.redeemed_at.is_some() || !oauth::redeem_code(conn, row.id, db_time(now))? {
            self.revoke_family(conn, &row.family, now)?;
            return Ok(Err(unknown()));
        }
        if row.expires_at <= db_time(now) {
            return Ok(Err(unknown()));
        }
        if req.redirect_uri.as_deref() != Some(row.redirect_uri.as_str()) {
            return Ok(Err(OAuthError::invalid_grant(
                "redirect_uri differs from the authorization request's",
            )));
        }
        match (&row.code_challenge, req.code_verifier.as_deref()) {
            (Some(challenge), Some(verifier))
                if super::authorize::pkce_matches(verifier, challenge) => {}
            (Some(_), _) => {
                return Ok(Err(OAuthError::invalid_grant(
                    "code_verifier is missing or does not match the code_challenge",
                )));
            }
            // SECURITY: a verifier without a challenge is a downgrade attempt (RFC 9700 §2.1.1).
            (None, Some(_)) => {
                return Ok(Err(OAuthError::invalid_grant(
                    "code_verifier given but the authorization request had no code_challenge",
                )));
            }
            (None, None) => {}
        }
        let user = users::get_user(conn, row.user_id)?;
        if user.disabled {
            return Ok(Err(OAuthError::invalid_grant("the user is disabled")));
        }
        let grant = Grant {
            app,
            user: &user,
            scope: &row.scope,
            sid: &row.sid,
            auth_time: row.auth_time.and_utc().timestamp(),
            amr: &row.amr,
            nonce: row.nonce.as_deref(),
            family: &row.family,
            refresh: !row.legacy && row.scope.split_whitespace().any(|s| s == "offline_access"),
            legacy: row.legacy,
        };
        Ok(Ok(self.issue(conn, &grant, keys, now)?))
    }

    /// `refresh_token`, with rotation and reuse detection.
    fn refresh_grant(
        &self,
        conn: &mut DbConnection,
        app: &Application,
        req: &TokenRequest,
        keys: &Keyring,
        now: DateTime<Utc>,
    ) -> Result<Result<TokenResponse, OAuthError>, OidcError> {
        let Some(token) = req.refresh_token.as_deref().filter(|t| !t.is_empty()) else {
            return Ok(Err(OAuthError::invalid_request("refresh_token is missing")));
        };
        let unknown =
            || OAuthError::invalid_grant("the refresh token is unknown, expired or revoked");
        let Some((row, _)) = oauth::find_refresh_token(conn, &crate::sessions::token_hash(token))?
        else {
            return Ok(Err(unknown()));
        };
        if row.application_id != app.id {
            return Ok(Err(unknown()));
        }
        // SECURITY: a rotated refresh token presented again means two holders: the whole family
        // is revoked, the legitimate client signs in again (RFC 9700 §4.14.2).
        if row.used_at.is_some() {
            self.revoke_family(conn, &row.family, now)?;
            return Ok(Err(unknown()));
        }
        let family_key = format!("family:{}", row.family);
        if row.expires_at <= db_time(now) || oauth::any_revoked(conn, &[&family_key])? {
            return Ok(Err(unknown()));
        }
        // Checked before the rotation: a request refused for its scope does not spend the token
        // (the app keeps its offline access; issue 32).
        let scope = match req.scope.as_deref().filter(|s| !s.trim().is_empty()) {
            Some(asked) if !covers(&row.scope, asked) => {
                return Ok(Err(OAuthError::new(
                    "invalid_scope",
                    "a refresh cannot widen the granted scope",
                )));
            }
            Some(asked) => super::parse_scopes(asked).join(" "),
            None => row.scope.clone(),
        };
        // The atomic spend: losing a race to a concurrent use is a reuse too.
        if !oauth::use_refresh_token(conn, row.id, db_time(now))? {
            self.revoke_family(conn, &row.family, now)?;
            return Ok(Err(unknown()));
        }
        let user = users::get_user(conn, row.user_id)?;
        if user.disabled {
            return Ok(Err(OAuthError::invalid_grant("the user is disabled")));
        }
        let grant = Grant {
            app,
            user: &user,
            scope: &scope,
            sid: &row.sid,
            auth_time: row.auth_time.and_utc().timestamp(),
            amr: &row.amr,
            nonce: None,
            family: &row.family,
            refresh: true,
            legacy: false,
        };
        Ok(Ok(self.issue(conn, &grant, keys, now)?))
    }

    /// `client_credentials`: service applications only; the token's subject is the app.
    fn client_grant(
        &self,
        app: &Application,
        keys: &Keyring,
        now: DateTime<Utc>,
    ) -> Result<Result<TokenResponse, OAuthError>, OidcError> {
        if ClientType::of(app) != ClientType::Service {
            return Ok(Err(OAuthError::new(
                "unauthorized_client",
                "client_credentials is for service applications (apps create --service)",
            )));
        }
        let ttl = self.settings.token_ttl.num_seconds();
        let claims = AccessTokenClaims {
            iss: self.settings.issuer.clone(),
            sub: app.app_id.clone(),
            aud: app.app_id.clone(),
            client_id: app.app_id.clone(),
            exp: now.timestamp() + ttl,
            iat: now.timestamp(),
            jti: random::token::<16>()?,
            scope: String::new(),
            auth_time: None,
            sid: None,
            fam: None,
        };
        let access = signer(keys, algorithm_of(app)).sign_typed("at+jwt", &claims)?;
        Ok(Ok(TokenResponse {
            access_token: access,
            token_type: "Bearer",
            expires_in: ttl,
            scope: String::new(),
            id_token: None,
            refresh_token: None,
            jwt: None,
        }))
    }

    /// Signs the tokens of a grant and records its refresh token.
    fn issue(
        &self,
        conn: &mut DbConnection,
        g: &Grant<'_>,
        keys: &Keyring,
        now: DateTime<Utc>,
    ) -> Result<TokenResponse, OidcError> {
        let ttl = self.settings.token_ttl.num_seconds();
        let alg = algorithm_of(g.app);
        let key = signer(keys, alg);
        let access_claims = AccessTokenClaims {
            iss: self.settings.issuer.clone(),
            sub: g.user.public_id.clone(),
            aud: g.app.app_id.clone(),
            client_id: g.app.app_id.clone(),
            exp: now.timestamp() + ttl,
            iat: now.timestamp(),
            jti: random::token::<16>()?,
            scope: g.scope.to_owned(),
            auth_time: Some(g.auth_time),
            sid: Some(g.sid.to_owned()),
            fam: Some(g.family.to_owned()),
        };
        let access = key.sign_typed("at+jwt", &access_claims)?;
        let openid = g.scope.split_whitespace().any(|s| s == "openid");
        let id_token = if openid && !g.legacy {
            let claims = IdTokenClaims {
                iss: self.settings.issuer.clone(),
                sub: g.user.public_id.clone(),
                aud: g.app.app_id.clone(),
                exp: now.timestamp() + ttl,
                iat: now.timestamp(),
                auth_time: g.auth_time,
                nonce: g.nonce.map(str::to_owned),
                amr: g.amr.split_whitespace().map(str::to_owned).collect(),
                sid: g.sid.to_owned(),
                at_hash: Some(at_hash(&access, key.algorithm())),
                user: user_claims(conn, g.user, g.scope)?,
            };
            Some(key.sign(&claims)?)
        } else {
            None
        };
        let jwt = if g.legacy {
            let subject = crate::tokens::subject(conn, g.user)?;
            let mut claims = self.legacy.claims(
                subject,
                &g.app.app_id,
                now.timestamp(),
                random::bytes::<16>()?,
            );
            claims.sid = Some(g.sid.to_owned());
            Some(keys.signer().sign(&claims)?)
        } else {
            None
        };
        let refresh_token = if g.refresh {
            let token = random::token::<32>()?;
            let hash = crate::sessions::token_hash(&token);
            oauth::insert_refresh_token(
                conn,
                &NewRefreshToken {
                    token_hash: &hash,
                    family: g.family,
                    application_id: g.app.id,
                    user_id: g.user.id,
                    sid: g.sid,
                    scope: g.scope,
                    auth_time: db_time(DateTime::from_timestamp(g.auth_time, 0).unwrap_or(now)),
                    amr: g.amr,
                    created_at: db_time(now),
                    expires_at: db_time(now + chrono::Duration::days(REFRESH_TTL_DAYS)),
                },
            )?;
            Some(token)
        } else {
            None
        };
        Ok(TokenResponse {
            access_token: access,
            token_type: "Bearer",
            expires_in: ttl,
            scope: g.scope.to_owned(),
            id_token,
            refresh_token,
            jwt,
        })
    }

    /// Revokes every token of `family` (kept until the longest-lived of them has expired).
    pub(crate) fn revoke_family(
        &self,
        conn: &mut DbConnection,
        family: &str,
        now: DateTime<Utc>,
    ) -> Result<(), OidcError> {
        let until = now + chrono::Duration::days(REFRESH_TTL_DAYS);
        oauth::revoke(conn, &format!("family:{family}"), db_time(until))?;
        Ok(())
    }
}

/// A fresh token family (one per code).
pub(crate) fn family() -> Result<String, getrandom::Error> {
    new_family()
}
