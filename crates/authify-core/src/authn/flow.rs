//! The flow record: where an attempt returns, who it identified and what it still needs.
//! Stored in `auth_flows` (the store knows only strings); parsed here into [`Return`] and
//! factor lists.

use authify_domain::CallbackUrl;
use authify_store::models::AuthFlow;
use authify_store::{DbConnection, StoreError, apps};
use serde::{Deserialize, Serialize};

use super::AuthnError;

/// Where a finished sign-in sends the user. A new protocol (OpenID Connect authorize) is a new
/// variant here and a new arm in [`super::complete`], not a new sign-in path.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Return {
    /// No application asked: the user's account page.
    Account,
    /// The original Authify flow: `/login?callback=<base64>&state=..`, back with `?jwt=`.
    Legacy {
        /// Audience of the token.
        app_id: String,
        /// Shown on the sign-in page.
        app_name: String,
        /// The registered callback, decoded (the app's own query kept).
        callback: String,
        /// Returned unchanged to the app.
        state: Option<String>,
        /// `response_type=code`: the app gets a code to exchange, not the token in the URL.
        #[serde(default)]
        code: bool,
    },
    /// An OpenID Connect authorization request, checked (`/oauth/authorize`).
    Authorize(Box<crate::oidc::AuthorizeReturn>),
}

impl Return {
    /// The application's name, for the sign-in page.
    pub fn app_name(&self) -> Option<&str> {
        match self {
            Return::Account => None,
            Return::Legacy { app_name, .. } => Some(app_name),
            Return::Authorize(a) => Some(&a.app_name),
        }
    }

    /// The `(callback, state)` the legacy form repeats in hidden fields, base64 as received.
    pub(crate) fn to_json(&self) -> Result<String, AuthnError> {
        serde_json::to_string(self).map_err(|e| AuthnError::Internal(format!("flow return: {e}")))
    }

    pub(crate) fn from_json(s: &str) -> Result<Self, AuthnError> {
        serde_json::from_str(s).map_err(|e| AuthnError::Internal(format!("flow return: {e}")))
    }
}

/// What a request says about its return, unparsed: the `callback` and `state` of the legacy
/// query or form.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ReturnRequest {
    /// Base64 of the callback URL, as the app sent it.
    pub callback: Option<String>,
    /// The app's `state`.
    pub state: Option<String>,
    /// `response_type=code` (the code exchange).
    pub code: bool,
}

impl ReturnRequest {
    /// From raw query or form values; blank values count as absent.
    pub fn new(callback: Option<String>, state: Option<String>) -> Self {
        let keep = |v: Option<String>| v.filter(|s| !s.trim().is_empty());
        ReturnRequest {
            callback: keep(callback),
            state: keep(state),
            code: false,
        }
    }

    /// Whether the request names an application.
    pub fn names_an_app(&self) -> bool {
        self.callback.is_some()
    }

    /// The return the request names, checked; `None` when it names no application (the flow's
    /// own return then stands).
    pub(crate) fn resolve_named(
        &self,
        conn: &mut DbConnection,
    ) -> Result<Option<Return>, AuthnError> {
        if self.names_an_app() {
            self.resolve(conn).map(Some)
        } else {
            Ok(None)
        }
    }

    /// Marks the request as the legacy code exchange (`response_type=code`).
    pub fn with_code(mut self, code: bool) -> Self {
        self.code = code;
        self
    }

    /// Parses and checks the callback against the registered applications.
    pub(crate) fn resolve(&self, conn: &mut DbConnection) -> Result<Return, AuthnError> {
        // SECURITY: what a flow stores is bounded (an anonymous GET must not store megabytes).
        // (The callback's own limit, 2048 characters, is the domain's: `CallbackUrl`.)
        crate::limits::at_most("state", self.state.as_deref(), crate::limits::MAX_STATE)?;
        let Some(raw) = self.callback.as_deref() else {
            return Ok(Return::Account);
        };
        let callback = CallbackUrl::from_base64(raw).map_err(AuthnError::Callback)?;
        // SECURITY: never redirect anywhere that is not registered, signed in or not (W-1).
        let app = apps::find_application_by_callback(conn, callback.match_key())?.ok_or(
            AuthnError::Callback(authify_domain::CallbackError::NotRegistered),
        )?;
        Ok(Return::Legacy {
            app_id: app.app_id,
            app_name: app.name,
            callback: callback.as_str().to_owned(),
            state: self.state.clone(),
            code: self.code,
        })
    }
}

/// A flow row, parsed.
#[derive(Debug, Clone)]
pub(crate) struct Flow {
    pub id: i64,
    pub ret: Return,
    pub user_id: Option<i64>,
    pub amr: Vec<String>,
    pub state: super::FlowState,
}

impl TryFrom<AuthFlow> for Flow {
    type Error = AuthnError;

    fn try_from(row: AuthFlow) -> Result<Self, AuthnError> {
        let words = |s: &str| s.split_whitespace().map(str::to_owned).collect();
        Ok(Flow {
            id: row.id,
            ret: Return::from_json(&row.return_to)?,
            user_id: row.user_id,
            amr: words(&row.amr),
            state: super::FlowState::parse(&row.pending)?,
        })
    }
}

impl From<crate::throttle::ThrottleError> for AuthnError {
    fn from(e: crate::throttle::ThrottleError) -> Self {
        match e {
            crate::throttle::ThrottleError::Wait(wait) => AuthnError::Throttled(wait),
            crate::throttle::ThrottleError::Store(e) => AuthnError::Store(e),
        }
    }
}

impl From<StoreError> for AuthnError {
    fn from(e: StoreError) -> Self {
        AuthnError::Store(e)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_return_survives_its_json_form() {
        let r = Return::Legacy {
            app_id: "a".into(),
            app_name: "Wiki".into(),
            callback: "https://wiki.example/cb?x=1".into(),
            state: Some("s p a c e".into()),
            code: true,
        };
        assert_eq!(Return::from_json(&r.to_json().unwrap()).unwrap(), r);
        assert_eq!(
            Return::from_json(&Return::Account.to_json().unwrap()).unwrap(),
            Return::Account
        );
    }

    #[test]
    fn blank_query_values_count_as_absent() {
        let r = ReturnRequest::new(Some("  ".into()), Some(String::new()));
        assert_eq!(r, ReturnRequest::default());
        assert!(!r.names_an_app());
    }
}
