//! GitHub (and GitHub Enterprise): OAuth 2.0 with state and PKCE through the `oauth2` crate,
//! then `GET /user` for the account's stable numeric id and `GET /user/emails` for its address.
//! Only a primary address GitHub marks verified is trusted: `/user`'s public `email` is whatever
//! the account chose to show and is never used.

use authify_core::upstream::{Identity, RoundTrip, UpstreamError};
use oauth2::basic::BasicClient;
use oauth2::{
    AuthType, AuthUrl, AuthorizationCode, ClientId, ClientSecret, CsrfToken, PkceCodeChallenge,
    PkceCodeVerifier, RedirectUrl, RequestTokenError, Scope, TokenResponse, TokenUrl,
};
use serde::Deserialize;

use super::{ProviderSettings, unavailable};
use crate::outbound::Outbound;

fn client(
    p: &ProviderSettings,
    web_url: &str,
    redirect_uri: &str,
) -> Result<
    BasicClient<
        oauth2::EndpointSet,
        oauth2::EndpointNotSet,
        oauth2::EndpointNotSet,
        oauth2::EndpointNotSet,
        oauth2::EndpointSet,
    >,
    UpstreamError,
> {
    let url = |e: oauth2::url::ParseError| unavailable(p, e);
    Ok(BasicClient::new(ClientId::new(p.client_id.clone()))
        .set_client_secret(ClientSecret::new(p.client_secret.0.clone()))
        // GitHub takes the client's credentials in the request body.
        .set_auth_type(AuthType::RequestBody)
        .set_auth_uri(AuthUrl::new(format!("{web_url}/login/oauth/authorize")).map_err(url)?)
        .set_token_uri(TokenUrl::new(format!("{web_url}/login/oauth/access_token")).map_err(url)?)
        .set_redirect_uri(RedirectUrl::new(redirect_uri.to_owned()).map_err(url)?))
}

/// The authorization URL of `trip`.
pub(super) fn authorize_url(
    p: &ProviderSettings,
    web_url: &str,
    redirect_uri: &str,
    trip: &RoundTrip,
) -> Result<String, UpstreamError> {
    let challenge =
        PkceCodeChallenge::from_code_verifier_sha256(&PkceCodeVerifier::new(trip.verifier.clone()));
    let state = trip.state.clone();
    let client = client(p, web_url, redirect_uri)?;
    let mut request = client
        .authorize_url(move || CsrfToken::new(state))
        .set_pkce_challenge(challenge);
    for scope in &p.scopes {
        request = request.add_scope(Scope::new(scope.clone()));
    }
    Ok(request.url().0.to_string())
}

#[derive(Deserialize)]
struct GitHubUser {
    id: u64,
    login: String,
    name: Option<String>,
}

#[derive(Deserialize)]
struct GitHubEmail {
    email: String,
    primary: bool,
    verified: bool,
}

/// Exchanges `code` and says who signed in.
pub(super) async fn identify(
    http: &Outbound,
    p: &ProviderSettings,
    web_url: &str,
    api_url: &str,
    redirect_uri: &str,
    code: &str,
    trip: &RoundTrip,
) -> Result<Identity, UpstreamError> {
    let client = client(p, web_url, redirect_uri)?;
    let send_with = super::Http(http);
    let token = client
        .exchange_code(AuthorizationCode::new(code.to_owned()))
        .set_pkce_verifier(PkceCodeVerifier::new(trip.verifier.clone()))
        .request_async(&send_with)
        .await
        .map_err(|e| match e {
            RequestTokenError::ServerResponse(r) => UpstreamError::Refused(format!(
                "{} did not accept the sign-in ({}).",
                p.display,
                r.error()
            )),
            // GitHub answers a bad code with 200 and an error object: not a token.
            RequestTokenError::Parse(..) => {
                UpstreamError::Refused(format!("{} did not accept the sign-in.", p.display))
            }
            other => unavailable(p, other),
        })?;
    let bearer = token.access_token().secret().clone();
    let user: GitHubUser = get_json(http, p, &format!("{api_url}/user"), &bearer).await?;
    let emails: Vec<GitHubEmail> =
        get_json(http, p, &format!("{api_url}/user/emails"), &bearer).await?;
    // SECURITY: only the primary address, and only when GitHub verified it.
    let primary = emails.into_iter().find(|e| e.primary);
    Ok(Identity {
        provider: p.name.clone(),
        subject: user.id.to_string(),
        email_verified: primary.as_ref().is_some_and(|e| e.verified),
        email: primary.map(|e| e.email),
        name: user
            .name
            .filter(|n| !n.trim().is_empty())
            .or(Some(user.login)),
    })
}

async fn get_json<T: serde::de::DeserializeOwned>(
    http: &Outbound,
    p: &ProviderSettings,
    url: &str,
    bearer: &str,
) -> Result<T, UpstreamError> {
    let mut response = http
        .send(reqwest::Method::GET, url, |r| {
            r.bearer_auth(bearer)
                .header("Accept", "application/vnd.github+json")
                .timeout(super::TIMEOUT)
        })
        .await
        .map_err(|e| unavailable(p, e))?;
    if !response.status().is_success() {
        return Err(unavailable(
            p,
            format!("{url} answered {}", response.status()),
        ));
    }
    let body = crate::outbound::read_capped(&mut response)
        .await
        .map_err(|e| unavailable(p, e))?;
    serde_json::from_slice(&body).map_err(|e| unavailable(p, format!("{url}: {e}")))
}
