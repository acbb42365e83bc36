//! The frame every console page shares: the navigation, the CSRF token of its forms (bound to
//! the session), the one-line notice after a change, the confirmation step of
//! destructive actions and the page that shows a new secret once. The account page's forms use
//! the same confirmation and secret pages, without the navigation.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse};
use serde::{Deserialize, Serialize};

use crate::cookies;
use crate::error::WebError;
use crate::pages::render;
use crate::state::AppState;

/// The console navigation: which sections the actor sees and which one is open.
#[derive(Debug, Clone, Serialize)]
pub struct Nav {
    /// Who is signed in.
    pub email: String,
    /// A global admin: every section.
    pub global: bool,
    /// The open section: `users`, `orgs`, `apps`, `keys` or `audit`.
    pub section: &'static str,
}

/// One hidden field of a form, or one labelled value of a result page.
#[derive(Debug, Clone, Serialize)]
pub struct Field {
    /// Field name.
    pub name: &'static str,
    /// Label shown beside the value (result pages).
    pub label: &'static str,
    /// Value.
    pub value: String,
}

impl Field {
    /// A hidden form field.
    pub fn hidden(name: &'static str, value: impl Into<String>) -> Self {
        Field {
            name,
            label: "",
            value: value.into(),
        }
    }

    /// A labelled value on a result page.
    pub fn shown(name: &'static str, label: &'static str, value: impl Into<String>) -> Self {
        Field {
            name,
            label,
            value: value.into(),
        }
    }
}

/// `admin/confirm`: the second step of a destructive action. It re-posts the same fields with
/// `confirmed=yes`, so the action needs two deliberate submissions and no JavaScript.
#[derive(Debug, Serialize)]
pub struct Confirm {
    /// Question.
    pub heading: String,
    /// What will happen.
    pub message: String,
    /// Where the confirmed form goes (the same action).
    pub action: String,
    /// The fields of the first submission, without its CSRF token.
    pub fields: Vec<Field>,
    /// Label of the confirming button.
    pub button: &'static str,
    /// Where "Cancel" leads.
    pub cancel_url: String,
}

/// `admin/secret`: a secret shown this once (never in a URL, never stored in clear).
#[derive(Debug, Serialize)]
pub struct Secret {
    /// Heading.
    pub heading: String,
    /// What to do with it.
    pub message: &'static str,
    /// The values, secret ones included.
    pub values: Vec<Field>,
    /// Where "Done" leads.
    pub back_url: String,
}

/// A page: the frame's fields plus the page's own, flattened into one template context.
#[derive(Serialize)]
struct View<'a, T> {
    title: &'a str,
    nav: Option<&'a Nav>,
    csrf_token: &'a str,
    notice: Option<&'static str>,
    #[serde(flatten)]
    page: &'a T,
}

/// What a page needs besides its own data.
#[derive(Debug)]
pub struct Frame {
    /// Navigation, on console pages.
    pub nav: Option<Nav>,
    /// The token every form on the page carries.
    pub csrf_token: String,
}

impl Frame {
    /// The frame of a signed-in page for `req`: its forms carry the session's token.
    pub fn new(state: &AppState, req: &HttpRequest, nav: Option<Nav>) -> Result<Self, WebError> {
        let csrf_token = cookies::session_csrf(&state.cookies().read(req));
        Ok(Frame { nav, csrf_token })
    }

    /// Renders `template` with the frame and `page`.
    pub fn render<T: Serialize>(
        &self,
        state: &AppState,
        template: &str,
        title: &str,
        notice: Option<&'static str>,
        page: &T,
    ) -> Result<HttpResponse, WebError> {
        let view = View {
            title,
            nav: self.nav.as_ref(),
            csrf_token: &self.csrf_token,
            notice,
            page,
        };
        render(state, template, &view, StatusCode::OK)
    }

    /// The confirmation page of a destructive action.
    pub fn confirm(&self, state: &AppState, confirm: &Confirm) -> Result<HttpResponse, WebError> {
        self.render(state, "admin/confirm", "Please confirm", None, confirm)
    }

    /// The page showing a new secret once.
    pub fn secret(&self, state: &AppState, secret: &Secret) -> Result<HttpResponse, WebError> {
        self.render(state, "admin/secret", "Copy it now", None, secret)
    }
}

impl crate::extract::CsrfForm for ActionForm {
    fn csrf_token(&self) -> Option<&str> {
        self.csrf_token.as_deref()
    }
}

/// Every console and account form. Each action reads the fields it needs; all are optional so a
/// tampered form still reaches the CSRF check and gets a page. No `Debug`: it may hold passwords.
#[derive(Default, Deserialize)]
pub struct ActionForm {
    /// Double-submit CSRF token.
    pub csrf_token: Option<String>,
    /// `yes` on the second, confirmed submission of a destructive action.
    pub confirmed: Option<String>,
    /// `yes`/`no` of a switch (disable, admin).
    pub value: Option<String>,
    /// A name (organization, group, application, API key).
    pub name: Option<String>,
    /// An e-mail address.
    pub email: Option<String>,
    /// A checkbox: `yes` when ticked.
    pub admin: Option<String>,
    /// A user id.
    pub uid: Option<String>,
    /// An organization id.
    pub oid: Option<String>,
    /// Callback URLs, one per line.
    pub callbacks: Option<String>,
    /// An API key's access key.
    pub access_key: Option<String>,
    /// A checkbox: `yes` when ticked.
    pub read_only: Option<String>,
    /// Days until an API key expires; empty for never.
    pub expires_in_days: Option<String>,
    /// The current password, confirming a credential change.
    pub current_password: Option<String>,
    /// The new password.
    pub password: Option<String>,
    /// An application's client type: `confidential`, `public` or `service`.
    pub client_type: Option<String>,
    /// A checkbox: `yes` when the application is first-party.
    pub first_party: Option<String>,
    /// An application's token algorithm.
    pub algorithm: Option<String>,
    /// An application's back-channel logout URI.
    pub backchannel_logout_uri: Option<String>,
    /// An application's post-logout redirect URI.
    pub post_logout_redirect_uri: Option<String>,
    /// A checkbox: `yes` when sign-ins (to an app) need a second factor.
    pub require_mfa: Option<String>,
}

impl ActionForm {
    /// The second submission of a destructive action.
    pub fn confirmed(&self) -> bool {
        self.confirmed.as_deref() == Some("yes")
    }

    /// A `yes`/`no` field as a bool (a missing or other value is `no`).
    pub fn yes(field: &Option<String>) -> bool {
        field.as_deref() == Some("yes")
    }

    /// A text field, empty when missing.
    pub fn text(field: &Option<String>) -> &str {
        field.as_deref().unwrap_or("")
    }
}

/// The short notice after a change (`?done=`); unknown flags show nothing, so the query
/// cannot put text on the page.
pub fn notice(done: Option<&str>) -> Option<&'static str> {
    Some(match done? {
        "user_disabled" => "The user was disabled and signed out everywhere.",
        "user_enabled" => "The user was enabled.",
        "admin_granted" => "The user is now a global administrator.",
        "admin_revoked" => "The user is no longer a global administrator.",
        "org_created" => "The organization was created.",
        "org_renamed" => "The organization was renamed.",
        "org_deleted" => "The organization was deleted.",
        "member_added" => "The member was added.",
        "member_removed" => "The member was removed.",
        "member_promoted" => "The member is now an admin of the organization.",
        "member_demoted" => "The member is no longer an admin of the organization.",
        "group_created" => "The group was created.",
        "group_renamed" => "The group was renamed.",
        "group_deleted" => "The group was deleted.",
        "app_updated" => "The application was saved.",
        "app_deleted" => "The application was deleted.",
        "key_generated" => "A new signing key was generated and now signs new tokens.",
        "email_changed" => "Your e-mail address was changed. A link to confirm it is on its way.",
        "joined" => "You joined the organization.",
        "invited" => "The invitation is on its way; the link works once, for 7 days.",
        "invitation_revoked" => "The invitation was revoked: its link no longer works.",
        "verification_sent" => {
            "A link to confirm your address is on its way (at most two a minute)."
        }
        "password_changed" => "Your password was changed. Your other sessions were signed out.",
        "api_key_revoked" => "The API key was revoked.",
        "org_left" => "You left the organization.",
        "factor_added" => "The second factor was added.",
        "factor_removed" => "The second factor was removed.",
        "provider_linked" => "The sign-in provider was linked: it now signs you in.",
        "provider_unlinked" => "The sign-in provider was unlinked.",
        "passkey_added" => "The passkey was added: you can sign in with it.",
        "passkey_renamed" => "The passkey was renamed.",
        "factors_reset" => "Every second factor of the user was removed; they were told by e-mail.",
        "device_added" => "This browser now approves your sign-ins.",
        "approved" => "Approved: the other browser is signing in.",
        "denied" => "Denied: nothing was signed in.",
        "mfa_required" => "Members now need a second factor to sign in.",
        "mfa_optional" => "A second factor is no longer required by this organization.",
        _ => return None,
    })
}

/// `value` as one URL path segment or query value.
pub fn enc(value: &str) -> String {
    url::form_urlencoded::byte_serialize(value.as_bytes()).collect()
}

/// `path` with the non-empty `params` as its query.
pub fn link(path: &str, params: &[(&str, Option<&str>)]) -> String {
    let mut query = url::form_urlencoded::Serializer::new(String::new());
    for (k, v) in params {
        if let Some(v) = v.filter(|v| !v.is_empty()) {
            query.append_pair(k, v);
        }
    }
    let query = query.finish();
    if query.is_empty() {
        path.to_owned()
    } else {
        format!("{path}?{query}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_done_flags_show_no_notice() {
        assert_eq!(notice(Some("<script>")), None);
        assert_eq!(notice(None), None);
        assert!(notice(Some("member_added")).is_some());
    }

    #[test]
    fn links_drop_empty_parameters_and_encode_the_rest() {
        assert_eq!(
            link("/admin/users", &[("q", Some("")), ("cursor", None)]),
            "/admin/users"
        );
        assert_eq!(
            link(
                "/admin/users",
                &[("q", Some("a b&c")), ("cursor", Some("x"))]
            ),
            "/admin/users?q=a+b%26c&cursor=x"
        );
    }
}
