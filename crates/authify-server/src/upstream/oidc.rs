//! OpenID providers (Google, `[[upstream]]`): discovery (cached an hour, forgotten after a failed
//! sign-in so rotated keys are picked up), the authorization URL with state, nonce and the PKCE
//! S256 challenge, and the code exchange whose ID token `openidconnect` verifies (signature by
//! the provider's published keys, `iss`, `aud`, `exp`, `nonce`). The address comes from the ID
//! token, or from userinfo (checked to be about the same `sub`) when the token does not carry it.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use authify_core::upstream::{Identity, RoundTrip, UpstreamError};
use openidconnect::core::{CoreAuthenticationFlow, CoreClient, CoreProviderMetadata};
use openidconnect::{
    AuthorizationCode, ClientId, ClientSecret, CsrfToken, EndpointMaybeSet, EndpointNotSet,
    EndpointSet, IssuerUrl, Nonce, OAuth2TokenResponse, PkceCodeChallenge, PkceCodeVerifier,
    RedirectUrl, RequestTokenError, Scope, TokenResponse,
};

use super::{ProviderSettings, unavailable};
use crate::outbound::Outbound;

/// How long a discovery document (and its key set) is trusted before it is fetched again.
const DISCOVERY_TTL: Duration = Duration::from_secs(3600);

/// Discovery documents by provider name. A cache, not state: any instance fetches its own.
#[derive(Default)]
pub(super) struct Discovered(Mutex<HashMap<String, (Instant, Arc<CoreProviderMetadata>)>>);

impl Discovered {
    /// The provider's discovery document, fetched when missing or older than an hour.
    pub(super) async fn get(
        &self,
        http: &Outbound,
        name: &str,
        issuer: &str,
    ) -> Result<Arc<CoreProviderMetadata>, UpstreamError> {
        if let Some((at, meta)) = self.lock().get(name)
            && at.elapsed() < DISCOVERY_TTL
        {
            return Ok(meta.clone());
        }
        let issuer_url = IssuerUrl::new(issuer.to_owned())
            .map_err(|e| UpstreamError::Unavailable(format!("{name}: issuer: {e}")))?;
        let client = super::Http(http);
        // Discovery checks that the document names exactly this issuer.
        let meta = CoreProviderMetadata::discover_async(issuer_url, &client)
            .await
            .map_err(|e| UpstreamError::Unavailable(format!("{name}: discovery: {e}")))?;
        let meta = Arc::new(meta);
        self.lock()
            .insert(name.to_owned(), (Instant::now(), meta.clone()));
        Ok(meta)
    }

    /// Drops the cached document of `name`.
    pub(super) fn forget(&self, name: &str) {
        self.lock().remove(name);
    }

    fn lock(
        &self,
    ) -> std::sync::MutexGuard<'_, HashMap<String, (Instant, Arc<CoreProviderMetadata>)>> {
        // A panic while holding the lock leaves a valid map.
        self.0.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// The client for `p`, as discovered, coming back to `redirect_uri`.
fn client(
    p: &ProviderSettings,
    meta: &CoreProviderMetadata,
    redirect_uri: &str,
) -> Result<
    CoreClient<
        EndpointSet,
        EndpointNotSet,
        EndpointNotSet,
        EndpointNotSet,
        EndpointMaybeSet,
        EndpointMaybeSet,
    >,
    UpstreamError,
> {
    let redirect = RedirectUrl::new(redirect_uri.to_owned())
        .map_err(|e| UpstreamError::Unavailable(format!("redirect URI: {e}")))?;
    Ok(CoreClient::from_provider_metadata(
        meta.clone(),
        ClientId::new(p.client_id.clone()),
        Some(ClientSecret::new(p.client_secret.0.clone())),
    )
    .set_redirect_uri(redirect))
}

/// The authorization URL of `trip`.
pub(super) fn authorize_url(
    p: &ProviderSettings,
    meta: Arc<CoreProviderMetadata>,
    redirect_uri: &str,
    trip: &RoundTrip,
) -> Result<String, UpstreamError> {
    let client = client(p, &meta, redirect_uri)?;
    let challenge =
        PkceCodeChallenge::from_code_verifier_sha256(&PkceCodeVerifier::new(trip.verifier.clone()));
    let (state, nonce) = (trip.state.clone(), trip.nonce.clone());
    let mut request = client
        .authorize_url(
            CoreAuthenticationFlow::AuthorizationCode,
            move || CsrfToken::new(state),
            move || Nonce::new(nonce),
        )
        .set_pkce_challenge(challenge);
    for scope in p.scopes.iter().filter(|s| s.as_str() != "openid") {
        request = request.add_scope(Scope::new(scope.clone()));
    }
    let (url, _, _) = request.url();
    Ok(url.to_string())
}

/// Exchanges `code` and says who signed in.
pub(super) async fn identify(
    http: &Outbound,
    p: &ProviderSettings,
    meta: Arc<CoreProviderMetadata>,
    redirect_uri: &str,
    code: &str,
    trip: &RoundTrip,
) -> Result<Identity, UpstreamError> {
    let client = client(p, &meta, redirect_uri)?;
    let send_with = super::Http(http);
    let token = client
        .exchange_code(AuthorizationCode::new(code.to_owned()))
        .map_err(|e| unavailable(p, e))?
        .set_pkce_verifier(PkceCodeVerifier::new(trip.verifier.clone()))
        .request_async(&send_with)
        .await
        .map_err(|e| match e {
            RequestTokenError::ServerResponse(r) => UpstreamError::Refused(format!(
                "{} did not accept the sign-in ({}).",
                p.display,
                r.error()
            )),
            other => unavailable(p, other),
        })?;
    let id_token = token
        .id_token()
        .ok_or_else(|| UpstreamError::Refused(format!("{} sent no ID token.", p.display)))?;
    // SECURITY: the ID token's signature (the provider's published keys, its own algorithm),
    // issuer, audience, expiry and nonce: a token minted for another round trip, another client
    // or by anyone else is refused.
    let claims = id_token
        .claims(&client.id_token_verifier(), &Nonce::new(trip.nonce.clone()))
        .map_err(|e| {
            UpstreamError::Refused(format!(
                "{} sent an ID token that does not hold ({e}).",
                p.display
            ))
        })?;
    let mut identity = Identity {
        provider: p.name.clone(),
        subject: claims.subject().to_string(),
        email: claims.email().map(|e| e.to_string()),
        email_verified: claims.email_verified().unwrap_or(false),
        name: claims
            .name()
            .and_then(|n| n.get(None))
            .map(|n| n.to_string()),
    };
    if identity.email.is_none() && meta.userinfo_endpoint().is_some() {
        let info: openidconnect::core::CoreUserInfoClaims = client
            .user_info(token.access_token().clone(), Some(claims.subject().clone()))
            .map_err(|e| unavailable(p, e))?
            .request_async(&send_with)
            .await
            .map_err(|e| unavailable(p, format!("userinfo: {e}")))?;
        identity.email = info.email().map(|e| e.to_string());
        identity.email_verified = info.email_verified().unwrap_or(false);
        if identity.name.is_none() {
            identity.name = info.name().and_then(|n| n.get(None)).map(|n| n.to_string());
        }
    }
    Ok(identity)
}
