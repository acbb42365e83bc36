//! An application's options and the checks of its callbacks and secret, shared by
//! [`crate::manage::apps`] (the one way applications are registered). Callbacks are resolved by
//! the sign-in engine ([`crate::authn`]).

use authify_domain::{Algorithm, CallbackUrl, OutboundPolicy, check_redirect_target};
use authify_store::apps::{self, NewCallback};
use authify_store::models::Application;

use crate::error::AdminError;
use crate::oidc::ClientType;
use crate::random;

/// How an application signs in and out, as administrators give it (`apps create --public
/// --service --first-party --alg --backchannel-logout-uri --post-logout-redirect-uri`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AppOptions {
    /// Confidential (default), public or service.
    pub client_type: ClientType,
    /// Trusted: no consent page.
    pub first_party: bool,
    /// Algorithm of its OpenID tokens (ES256 by default).
    pub algorithm: Algorithm,
    /// OpenID Back-Channel Logout receiver.
    pub backchannel_logout_uri: Option<String>,
    /// Where RP-initiated logout may send the browser.
    pub post_logout_redirect_uri: Option<String>,
}

impl Default for AppOptions {
    fn default() -> Self {
        AppOptions {
            client_type: ClientType::Confidential,
            first_party: false,
            algorithm: Algorithm::ES256,
            backchannel_logout_uri: None,
            post_logout_redirect_uri: None,
        }
    }
}

impl AppOptions {
    /// Checks the URLs and gives the stored form. Both pass the checks of a callback; the
    /// back-channel logout URI, which the server itself POSTs to, must also pass `outbound`.
    pub(crate) fn to_store(
        &self,
        outbound: &OutboundPolicy,
    ) -> Result<apps::AppOptions, AdminError> {
        let given = |raw: &Option<String>| {
            raw.as_deref()
                .map(str::trim)
                .filter(|u| !u.is_empty())
                .map(str::to_owned)
        };
        let backchannel = given(&self.backchannel_logout_uri)
            .map(|u| {
                let what = "backchannel logout URI";
                let checked = CallbackUrl::parse(&u)
                    .map_err(|e| AdminError::Invalid(format!("{what} {u}: {e}")))?;
                // SECURITY: the server sends this request from inside the operator's network:
                // refused when it points there (loopback, private, metadata, ...), here with the
                // reason and again at every connection (docs/SECURITY.md, Outbound requests).
                outbound
                    .check_url(checked.as_str())
                    .map_err(|e| AdminError::Invalid(format!("{what} {u}: {e}")))?;
                Ok::<_, AdminError>(checked.as_str().to_owned())
            })
            .transpose()?;
        let post_logout = given(&self.post_logout_redirect_uri)
            .map(|u| {
                let what = "post-logout redirect URI";
                let checked = CallbackUrl::parse(&u)
                    .map_err(|e| AdminError::Invalid(format!("{what} {u}: {e}")))?;
                // SECURITY: only the user's browser goes there, never the server, so it follows
                // the rule of callbacks (http://localhost and intranet apps stay possible); but
                // no application lives at 0.0.0.0 (browsers connect it to the user's own
                // machine) or at a metadata service.
                check_redirect_target(checked.as_str())
                    .map_err(|e| AdminError::Invalid(format!("{what} {u}: {e}")))?;
                Ok::<_, AdminError>(checked.as_str().to_owned())
            })
            .transpose()?;
        Ok(apps::AppOptions {
            client_type: self.client_type.as_str().to_owned(),
            first_party: self.first_party,
            algorithm: self.algorithm.as_str().to_owned(),
            backchannel_logout_uri: backchannel,
            post_logout_redirect_uri: post_logout,
        })
    }

    /// The options of a stored application.
    pub fn of(app: &Application) -> Self {
        AppOptions {
            client_type: ClientType::of(app),
            first_party: app.first_party,
            algorithm: crate::oidc::algorithm_of(app),
            backchannel_logout_uri: app.backchannel_logout_uri.clone(),
            post_logout_redirect_uri: app.post_logout_redirect_uri.clone(),
        }
    }
}

/// Checks the callbacks an application of this type needs: none for a service, at least one
/// otherwise.
pub(crate) fn check_callbacks(
    options: &AppOptions,
    callbacks: &[String],
) -> Result<Vec<NewCallback>, AdminError> {
    if callbacks.is_empty() && options.client_type != ClientType::Service {
        return Err(AdminError::Invalid(
            "an application needs at least one callback URL (a --service application needs none)"
                .into(),
        ));
    }
    parse_callbacks(callbacks)
}

/// A secret for a new application, unless it is public (no secret; PKCE instead).
pub(crate) fn secret_for(options: &AppOptions) -> Result<(Option<String>, String), AdminError> {
    if options.client_type == ClientType::Public {
        // No stored hash can match any presented secret.
        return Ok((None, String::new()));
    }
    let (secret, hash) = new_secret()?;
    Ok((Some(secret), hash))
}

/// Parses callback URLs with the same checks as a login callback.
pub(crate) fn parse_callbacks(callbacks: &[String]) -> Result<Vec<NewCallback>, AdminError> {
    let mut parsed = Vec::new();
    for raw in callbacks {
        let cb = CallbackUrl::parse(raw).map_err(|e| AdminError::Invalid(format!("{raw}: {e}")))?;
        parsed.push(NewCallback {
            url: cb.as_str().to_owned(),
            match_key: cb.match_key().to_owned(),
        });
    }
    Ok(parsed)
}

/// A fresh app secret and its stored form.
pub(crate) fn new_secret() -> Result<(String, String), AdminError> {
    let secret = random::token::<32>()?;
    // A 256-bit random secret needs no slow hash; SHA-256 keeps verification cheap.
    let hash = format!("sha256:{}", crate::sessions::token_hash(&secret));
    Ok((secret, hash))
}
