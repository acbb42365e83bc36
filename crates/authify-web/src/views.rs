//! One view struct per page: exactly the fields its template reads. Optional fields serialize as
//! `null` (never omitted) so strict templates can test them with `{{#if}}`.

use serde::Serialize;

/// `pages/login`.
#[derive(Debug, Serialize)]
pub struct LoginView {
    /// Page title.
    pub title: &'static str,
    /// CSRF token for the form.
    pub csrf_token: String,
    /// E-mail to prefill after a failed attempt.
    pub email: Option<String>,
    /// Error message.
    pub error: Option<String>,
    /// Neutral notice ("signed out").
    pub notice: Option<String>,
    /// The raw callback parameter, carried through the form.
    pub callback: Option<String>,
    /// The app's `state`, carried through the form.
    pub state: Option<String>,
    /// `response_type=code`, carried through the form (the legacy code exchange).
    pub code_exchange: bool,
    /// Name of the application being signed in to.
    pub app_name: Option<String>,
    /// Whether to offer sign-up.
    pub signup_enabled: bool,
    /// Link to sign-up, keeping callback and state.
    pub signup_url: String,
    /// Offer "Sign in with a passkey".
    pub passkeys: bool,
    /// Link to "Sign in with my phone", keeping callback and state.
    pub phone_url: String,
    /// Link to "E-mail me a sign-in link" when `AUTHIFY_MAGIC_LINKS` is on.
    pub email_link_url: Option<String>,
    /// Upstream providers, a button each.
    pub providers: Vec<authify_core::upstream::ProviderInfo>,
}

/// `pages/signup`.
#[derive(Debug, Serialize)]
pub struct SignupView {
    /// Page title.
    pub title: &'static str,
    /// CSRF token for the form.
    pub csrf_token: String,
    /// Name to prefill.
    pub name: Option<String>,
    /// E-mail to prefill.
    pub email: Option<String>,
    /// Error message.
    pub error: Option<String>,
    /// See [`LoginView::callback`].
    pub callback: Option<String>,
    /// See [`LoginView::state`].
    pub state: Option<String>,
    /// `response_type=code`, carried through the form.
    pub code_exchange: bool,
    /// See [`LoginView::app_name`].
    pub app_name: Option<String>,
    /// Link to sign-in, keeping callback and state.
    pub login_url: String,
    /// Minimum password length.
    pub password_min: usize,
    /// The proof-of-work challenge (`AUTHIFY_SIGNUP_WORK_BITS`), when asked for.
    pub work_challenge: Option<String>,
    /// Its zero bits.
    pub work_bits: u8,
}

/// `pages/account` (inside the console's page frame: title, CSRF token, notice).
#[derive(Debug, Serialize)]
pub struct AccountView {
    /// The user.
    pub user: AccountUser,
    /// Their organizations.
    pub organizations: Vec<AccountOrganization>,
    /// May enter the admin console (a global admin or an organization admin).
    pub console: bool,
    /// May create an organization.
    pub can_create_org: bool,
    /// Their API keys, newest first.
    pub api_keys: Vec<authify_core::manage::views::ApiKeyInfo>,
    /// Their live sessions, newest first.
    pub sessions: Vec<authify_core::sessions::SessionInfo>,
    /// The apps they allowed (consent).
    pub grants: Vec<authify_core::oidc::grants::GrantInfo>,
    /// Their second factors.
    pub mfa: authify_core::account::FactorsView,
    /// Upstream sign-in providers, linked or not.
    pub providers: Vec<authify_core::account::LinkedProvider>,
}

/// The user on the account page.
#[derive(Debug, Serialize)]
pub struct AccountUser {
    /// E-mail address.
    pub email: String,
    /// Display name.
    pub name: String,
    /// Public id.
    pub uid: String,
    /// Global administrator.
    pub admin: bool,
    /// Member since (date).
    pub created: String,
    /// The address was confirmed by a mailed link.
    pub email_verified: bool,
    /// Verification is on (a link can be sent again).
    pub verification: bool,
    /// The account has a password (accounts made through a provider have none).
    pub password: bool,
}

/// An organization on the account page.
#[derive(Debug, Serialize)]
pub struct AccountOrganization {
    /// Name.
    pub name: String,
    /// Public id.
    pub oid: String,
    /// Whether the user administers it.
    pub admin: bool,
    /// The user's groups in it.
    pub groups: Vec<AccountGroup>,
}

/// A group on the account page.
#[derive(Debug, Serialize)]
pub struct AccountGroup {
    /// Name.
    pub name: String,
    /// Public id.
    pub gid: String,
}

/// `pages/logout`.
#[derive(Debug, Serialize)]
pub struct LogoutView {
    /// Page title.
    pub title: &'static str,
    /// CSRF token for the form.
    pub csrf_token: String,
    /// Who is signed in.
    pub email: String,
    /// RP-initiated logout: carried through the form.
    pub post_logout_redirect_uri: Option<String>,
    /// RP-initiated logout: carried through the form.
    pub client_id: Option<String>,
    /// RP-initiated logout: carried through the form.
    pub state: Option<String>,
    /// RP-initiated logout: carried through the form.
    pub id_token_hint: Option<String>,
}

/// `pages/consent`.
#[derive(Debug, Serialize)]
pub struct ConsentView {
    /// Page title.
    pub title: &'static str,
    /// CSRF token (bound to the flow).
    pub csrf_token: String,
    /// The application asking.
    pub app_name: String,
    /// What it asks for, in words.
    pub scopes: Vec<ScopeLine>,
}

/// One scope on the consent page.
#[derive(Debug, Serialize)]
pub struct ScopeLine {
    /// The scope's name.
    pub scope: String,
    /// What it releases.
    pub description: &'static str,
}

impl ScopeLine {
    /// The words for `scope`.
    pub fn of(scope: &str) -> Self {
        let description = match scope {
            "openid" => "Know who you are (your Authify user id)",
            "profile" => "See your name",
            "email" => "See your e-mail address",
            "offline_access" => "Stay signed in to it while you are away",
            "organizations" => "See your organizations and groups",
            _ => "Access you have not been told about",
        };
        ScopeLine {
            scope: scope.to_owned(),
            description,
        }
    }
}

/// `pages/error`.
#[derive(Debug, Serialize)]
pub struct ErrorView {
    /// Page title.
    pub title: String,
    /// HTTP status.
    pub status: u16,
    /// Heading.
    pub heading: String,
    /// What went wrong and what to do.
    pub message: String,
    /// Where "Go back" leads.
    pub back_url: Option<String>,
    /// The request's id (`X-Request-Id`), to quote to an administrator.
    pub request_id: Option<String>,
}
