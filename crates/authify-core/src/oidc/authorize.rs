//! The authorization request (Core §3.1.2): checked in the order that decides where an error may
//! go. Until the client and its `redirect_uri` are known good, errors are a 400 page (never a
//! redirect: that would make Authify an open redirector); after, they go back to the client
//! (RFC 6749 §4.1.2.1) with `state` and `iss` (RFC 9207).

use authify_domain::CallbackUrl;
use authify_store::models::Application;
use authify_store::{DbConnection, apps};
use serde::{Deserialize, Serialize};

use super::{ClientType, OAuthError, parse_scopes};
use crate::authn::{AuthnError, FlowCookie};

/// The query of `/oauth/authorize`, unparsed. Blank values count as absent.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct AuthorizeRequest {
    /// Must be `code`.
    pub response_type: Option<String>,
    /// The application's `app_id`.
    pub client_id: Option<String>,
    /// One of the application's callbacks, exactly.
    pub redirect_uri: Option<String>,
    /// Space-separated; must include `openid`.
    pub scope: Option<String>,
    /// Returned unchanged.
    pub state: Option<String>,
    /// Copied into the ID token.
    pub nonce: Option<String>,
    /// PKCE (RFC 7636).
    pub code_challenge: Option<String>,
    /// Must be `S256` when a challenge is given.
    pub code_challenge_method: Option<String>,
    /// `none`, `login`, `consent` (space-separated).
    pub prompt: Option<String>,
    /// Seconds since the last authentication beyond which the user must sign in again.
    pub max_age: Option<String>,
    /// Prefills the e-mail field.
    pub login_hint: Option<String>,
    /// Only `query` is supported.
    pub response_mode: Option<String>,
}

impl AuthorizeRequest {
    /// Every parameter within its length limit: a 400 page names the first one past it
    /// (nothing is stored, nothing sent back to the client).
    // SECURITY: the request is stored in the flow an anonymous GET creates: bounded, so a
    // flood of requests cannot write megabytes per second (issue 32).
    pub fn within_limits(&self) -> Result<(), AuthnError> {
        use crate::limits::{MAX_STATE, at_most};
        at_most("response_type", self.response_type.as_deref(), 32)?;
        at_most("client_id", self.client_id.as_deref(), 128)?;
        at_most("redirect_uri", self.redirect_uri.as_deref(), 2048)?;
        at_most("scope", self.scope.as_deref(), 1024)?;
        at_most("state", self.state.as_deref(), MAX_STATE)?;
        at_most("nonce", self.nonce.as_deref(), 512)?;
        at_most("code_challenge", self.code_challenge.as_deref(), 128)?;
        at_most(
            "code_challenge_method",
            self.code_challenge_method.as_deref(),
            16,
        )?;
        at_most("prompt", self.prompt.as_deref(), 64)?;
        at_most("max_age", self.max_age.as_deref(), 16)?;
        at_most("login_hint", self.login_hint.as_deref(), 320)?;
        at_most("response_mode", self.response_mode.as_deref(), 32)
    }
}

/// A checked request, as the sign-in flow keeps it until the code is issued.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuthorizeReturn {
    /// The client.
    pub app_id: String,
    /// Shown on the sign-in and consent pages.
    pub app_name: String,
    /// Exactly as registered.
    pub redirect_uri: String,
    /// Returned unchanged.
    pub state: Option<String>,
    /// Copied into the ID token.
    pub nonce: Option<String>,
    /// Granted if the user agrees: known scopes only, space-separated.
    pub scope: String,
    /// PKCE S256 challenge.
    pub code_challenge: Option<String>,
    /// `prompt=consent`: ask even when a grant covers the scopes.
    pub force_consent: bool,
    /// No consent page for this app.
    pub first_party: bool,
}

/// A checked request and what it asks of the session.
#[derive(Debug, Clone)]
pub struct Checked {
    /// The request.
    pub ret: AuthorizeReturn,
    /// `prompt=none`: answer without any page.
    pub prompt_none: bool,
    /// `prompt=login`: authenticate again even with a session.
    pub prompt_login: bool,
    /// `max_age`, seconds.
    pub max_age: Option<i64>,
    /// `login_hint`.
    pub login_hint: Option<String>,
}

/// What the authorization endpoint does.
#[derive(Debug)]
pub enum Authorized {
    /// Back to the client: a code, or an error, in the query.
    Redirect(String),
    /// Show the sign-in form of this flow (prefilled with `login_hint`).
    SignIn {
        /// The form.
        form: crate::authn::FormContext,
        /// Prefill for the e-mail field.
        login_hint: Option<String>,
    },
    /// Ask for consent (`/oauth/consent`).
    Consent {
        /// The flow holding the request.
        flow: FlowCookie,
    },
    /// Signed in, but the app requires a second factor the session lacks: that step first.
    StepUp {
        /// The flow holding the request and naming the user.
        flow: FlowCookie,
        /// A second factor, or enrolling one.
        state: crate::authn::FlowState,
    },
}

/// What the consent page shows.
#[derive(Debug, Clone)]
pub struct ConsentView {
    /// The application.
    pub app_name: String,
    /// The scopes asked for.
    pub scopes: Vec<String>,
    /// The form token.
    pub csrf: String,
}

fn blank(v: &Option<String>) -> Option<&str> {
    v.as_deref().map(str::trim).filter(|s| !s.is_empty())
}

/// The redirect carrying an error back to a client whose `redirect_uri` was checked.
pub fn error_redirect(
    redirect_uri: &str,
    state: Option<&str>,
    issuer: &str,
    err: &OAuthError,
) -> Result<String, AuthnError> {
    let cb = CallbackUrl::parse(redirect_uri).map_err(AuthnError::Callback)?;
    let mut params = vec![
        ("error", err.error),
        ("error_description", err.description.as_str()),
    ];
    if let Some(s) = state {
        params.push(("state", s));
    }
    params.push(("iss", issuer));
    Ok(cb.with_params(&params))
}

/// The redirect carrying a code back to the client.
pub fn code_redirect(
    redirect_uri: &str,
    code: &str,
    state: Option<&str>,
    issuer: Option<&str>,
) -> Result<String, AuthnError> {
    let cb = CallbackUrl::parse(redirect_uri).map_err(AuthnError::Callback)?;
    let mut params = vec![("code", code)];
    if let Some(s) = state {
        params.push(("state", s));
    }
    if let Some(i) = issuer {
        params.push(("iss", i));
    }
    Ok(cb.with_params(&params))
}

/// The client and its redirect: a 400 page when either is wrong.
fn client_and_redirect(
    conn: &mut DbConnection,
    req: &AuthorizeRequest,
) -> Result<(Application, String), AuthnError> {
    let bad = |m: &str| AuthnError::BadRequest(m.to_owned());
    let client_id = blank(&req.client_id)
        .ok_or_else(|| bad("The request names no application (client_id is missing)."))?;
    let app = apps::find_application(conn, client_id)?
        .ok_or_else(|| bad("No application with this client_id is registered."))?;
    let redirect =
        blank(&req.redirect_uri).ok_or_else(|| bad("The request has no redirect_uri."))?;
    // SECURITY: exact string match against the registered callbacks, query included
    // (RFC 9700 §4.1.3); the legacy flow's tolerance for extra parameters does not apply.
    let registered = apps::list_callbacks(conn, app.id)?;
    if !registered.iter().any(|r| r == redirect) {
        return Err(bad(
            "The redirect_uri is not registered for this application (it must match exactly).",
        ));
    }
    Ok((app, redirect.to_owned()))
}

/// Checks a request. `Err` is a 400 page; `Ok(Err(url))` is an error sent back to the client.
pub fn check(
    conn: &mut DbConnection,
    req: &AuthorizeRequest,
    issuer: &str,
) -> Result<Result<Checked, String>, AuthnError> {
    req.within_limits()?;
    let (app, redirect_uri) = client_and_redirect(conn, req)?;
    let state = blank(&req.state).map(str::to_owned);
    let back = |e: OAuthError| error_redirect(&redirect_uri, state.as_deref(), issuer, &e).map(Err);
    if blank(&req.response_type) != Some("code") {
        return back(OAuthError::new(
            "unsupported_response_type",
            "only response_type=code is supported",
        ));
    }
    if blank(&req.response_mode).is_some_and(|m| m != "query") {
        return back(OAuthError::invalid_request(
            "only response_mode=query is supported",
        ));
    }
    let kind = ClientType::of(&app);
    if kind == ClientType::Service {
        return back(OAuthError::new(
            "unauthorized_client",
            "a service application uses client_credentials, not the authorization endpoint",
        ));
    }
    let scopes = parse_scopes(blank(&req.scope).unwrap_or_default());
    if !scopes.contains(&"openid") {
        return back(OAuthError::new(
            "invalid_scope",
            "the scope must include openid",
        ));
    }
    let challenge = blank(&req.code_challenge);
    match (challenge, blank(&req.code_challenge_method)) {
        (None, Some(_)) => {
            return back(OAuthError::invalid_request(
                "code_challenge_method without code_challenge",
            ));
        }
        // SECURITY: `plain` (and the default, which is plain) would let an intercepted
        // request's challenge redeem the code (RFC 9700 §2.1.1).
        (Some(_), m) if m != Some("S256") => {
            return back(OAuthError::invalid_request(
                "code_challenge_method must be S256",
            ));
        }
        (Some(c), _) if !(43..=128).contains(&c.len()) || !c.bytes().all(pkce_char) => {
            return back(OAuthError::invalid_request("code_challenge is malformed"));
        }
        // SECURITY: a public client has no secret; PKCE is what binds the code to it.
        (None, _) if kind == ClientType::Public => {
            return back(OAuthError::invalid_request(
                "PKCE (code_challenge with S256) is required for public applications",
            ));
        }
        _ => {}
    }
    let prompts: Vec<&str> = blank(&req.prompt)
        .map(|p| p.split_whitespace().collect())
        .unwrap_or_default();
    if let Some(p) = prompts
        .iter()
        .find(|p| !["none", "login", "consent", "select_account"].contains(p))
    {
        return back(OAuthError::invalid_request(format!(
            "unknown prompt value {p:?}"
        )));
    }
    let prompt_none = prompts.contains(&"none");
    if prompt_none && prompts.len() > 1 {
        return back(OAuthError::invalid_request(
            "prompt=none cannot be combined with other values",
        ));
    }
    let max_age = match blank(&req.max_age) {
        None => None,
        Some(m) => match m.parse::<i64>() {
            Ok(v) if v >= 0 => Some(v),
            _ => {
                return back(OAuthError::invalid_request(
                    "max_age must be a number of seconds",
                ));
            }
        },
    };
    Ok(Ok(Checked {
        ret: AuthorizeReturn {
            app_id: app.app_id,
            app_name: app.name,
            redirect_uri,
            state,
            nonce: blank(&req.nonce).map(str::to_owned),
            scope: scopes.join(" "),
            code_challenge: challenge.map(str::to_owned),
            force_consent: prompts.contains(&"consent"),
            first_party: app.first_party,
        },
        prompt_none,
        prompt_login: prompts.contains(&"login"),
        max_age,
        login_hint: blank(&req.login_hint).map(str::to_owned),
    }))
}

/// RFC 7636 §4.1 unreserved characters.
fn pkce_char(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~')
}

/// Whether `verifier` matches the S256 `challenge` (RFC 7636 §4.6), in constant time.
pub fn pkce_matches(verifier: &str, challenge: &str) -> bool {
    use base64::Engine as _;
    use sha2::Digest as _;
    use subtle::ConstantTimeEq as _;
    if !(43..=128).contains(&verifier.len()) || !verifier.bytes().all(pkce_char) {
        return false;
    }
    let computed = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .encode(sha2::Sha256::digest(verifier.as_bytes()));
    // SECURITY: constant-time comparison of a value derived from a secret.
    bool::from(computed.as_bytes().ct_eq(challenge.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pkce_s256_matches_the_rfc_7636_example() {
        assert!(pkce_matches(
            "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk",
            "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
        ));
        assert!(!pkce_matches(
            "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXj",
            "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
        ));
        assert!(!pkce_matches(
            "short",
            "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
        ));
    }
}
