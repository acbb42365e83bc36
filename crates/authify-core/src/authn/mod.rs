//! The sign-in engine: one persisted flow per sign-in attempt.
//!
//! A browser that is not signed in gets a flow when it opens `/login` or `/signup`: a row in
//! `auth_flows` found by the SHA-256 of a random token the browser keeps in its own HttpOnly
//! cookie. The flow records where the attempt returns ([`Return`]), the user once a factor
//! identified them, the factors satisfied so far (RFC 8176 `amr` values) and those still
//! required. Steps ([`Authn::password`], [`Authn::sign_up`], the second factors of `second`;
//! passkeys, passwordless approval; upstream providers) move it on; only the last step creates the session, issues the token and
//! writes the audit entries, in one transaction ([`complete`]). An abandoned flow leaves nothing
//! but its row, which expires and is swept.
//!
//! Each public method is one call per HTTP request, with `now` passed in; the web layer never
//! sees a database connection.
//!
//! - [`flow`]: the flow record and its returns; `state`: where a flow stands ([`FlowState`]).
//! - `advance`: the one decision of what comes after a step; `policy`: what a user still needs.
//! - `magic_link`: e-mail sign-in links, a factor on top of `advance`.
//! - [`csrf`]: form tokens bound to the session or flow.
//! - [`complete`]: the final transaction, and what each return sends (a legacy token, a code).
//! - `authorize`: the OpenID authorization request as a return of the flow, and consent.
//! - `second`: second-factor steps (codes, push approval, enrolment inside the flow).
//! - `second_push`, `second_enrol`: push approval and enrolment inside the flow.
//! - `factors`, `sent_factors`: the account's own factors; `approvals`: approver devices and their answers.
//! - `passkeys`: passkey sign-in and the passkey as a second factor; `passkey_account`: registering
//!   and renaming passkeys; `passwordless`: "sign in with my phone" (approval without a password).
//! - `flow_rows`: the browser's flow row (found by cookie, or made within the per-client bounds).
//! - [`work`]: the optional proof of work of the sign-up form (`AUTHIFY_SIGNUP_WORK_BITS`).
//! - `upstream`: sign-in through GitHub, Google or an OpenID provider; `upstream_account`:
//!   linking and unlinking them on the account page.

mod advance;
mod authorize;
mod complete;
pub mod csrf;
mod factor;
pub(crate) mod flow;
mod flow_rows;
mod magic_link;
pub(crate) mod passkeys;
mod passwordless;
mod policy;
mod second;
mod second_enrol;
mod second_push;
mod state;
mod steps;
pub(crate) mod upstream;
pub mod work;

use std::sync::Arc;

use authify_domain::{CallbackError, Password};
use authify_jwt::TokenIssuer;
use authify_store::StoreError;
use chrono::{DateTime, Duration, Utc};

pub use factor::{FactorAnswer, FactorOutcome, Prompt};
pub use flow::{Return, ReturnRequest};
pub use magic_link::{AMR_EMAIL_LINK, LinkAnswer, LinkPage, MAGIC_LINK_TTL_MINUTES};
pub use passkeys::PasskeyOutcome;
pub use second::FactorStep;
pub(crate) use second::StepResult;
pub use second_enrol::EnrolStep;
pub use second_push::ApprovalState;
pub use state::FlowState;
pub use steps::AMR_PASSWORD;
pub use steps::SignUpForm;
pub use upstream::{AMR_FED, UpstreamAnswer, UpstreamReturn};

use crate::mfa::MfaConfig;
use crate::throttle::SignInThrottle;
use crate::{Db, PasswordHasher, random};

/// Settings of the engine.
#[derive(Debug, Clone)]
pub struct AuthnSettings {
    /// How long a sign-in attempt may take (`AUTHIFY_FLOW_TTL`, minutes; default 10).
    pub flow_ttl: Duration,
    /// How long a session lasts (`AUTHIFY_SESSION_TTL`, hours).
    pub session_ttl: Duration,
    /// Public sign-up allowed (`AUTHIFY_SIGNUP`).
    pub signup_enabled: bool,
    /// `AUTHIFY_PUBLIC_URL` without a trailing slash: the OpenID issuer (`iss` of responses).
    pub public_url: String,
    /// `AUTHIFY_EMAIL_VERIFICATION`.
    pub email_verification: crate::account::verify::EmailVerification,
    /// `AUTHIFY_MAGIC_LINKS`: sign-in links by e-mail.
    pub magic_links: bool,
    /// `AUTHIFY_UNVERIFIED_ACCOUNT_DAYS`: sign-ups never verified are deleted after this many
    /// days (with verification required; 0: never).
    pub unverified_account_days: u32,
    /// `AUTHIFY_SIGNUP_WORK_BITS`: the proof of work sign-up asks for (0: none).
    pub signup_work_bits: u8,
    /// `AUTHIFY_FLOWS_PER_ADDRESS`: live sign-in flows kept per client (0: no cap).
    pub flows_per_address: u32,
    /// `AUTHIFY_FLOWS_PER_ADDRESS_PER_MINUTE`: new flows per client per minute (0: no limit).
    pub flows_per_address_per_minute: u32,
}

/// The request's origin, for the audit log.
#[derive(Debug, Clone, Default)]
pub struct Client {
    /// Client address.
    pub ip: Option<String>,
    /// `User-Agent`, shown with the session on the account page.
    pub user_agent: Option<String>,
}

/// The browser's cookies that matter to the engine.
#[derive(Clone, Default)]
pub struct Cookies {
    /// Session token.
    pub session: Option<String>,
    /// Flow token.
    pub flow: Option<String>,
    /// Approver-device token: this browser approves sign-ins for its user.
    pub device: Option<String>,
}

// SECURITY: both are bearer secrets; they never reach logs.
impl std::fmt::Debug for Cookies {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Cookies")
            .field("session", &self.session.is_some())
            .field("flow", &self.flow.is_some())
            .field("device", &self.device.is_some())
            .finish()
    }
}

/// The flow cookie a response must carry.
#[derive(Clone)]
pub struct FlowCookie {
    /// The token.
    pub token: String,
    /// A new flow: the cookie must be set.
    pub new: bool,
    /// Lifetime in seconds.
    pub max_age: i64,
}

impl std::fmt::Debug for FlowCookie {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FlowCookie")
            .field("new", &self.new)
            .finish_non_exhaustive()
    }
}

/// What a sign-in or sign-up form needs to be shown.
#[derive(Debug, Clone)]
pub struct FormContext {
    /// The flow the form belongs to.
    pub flow: FlowCookie,
    /// The form token (bound to the flow).
    pub csrf: String,
    /// Where the attempt returns.
    pub ret: Return,
}

/// A finished sign-in: the new session and where to send the browser.
#[derive(Clone)]
pub struct Completion {
    /// The new session token (cookie value).
    pub session: String,
    /// Session lifetime in seconds.
    pub max_age: i64,
    /// Where to send the browser (the account page, or the app's callback with its token).
    pub location: String,
    /// The flow lives on (an OpenID request waiting for consent): keep its cookie.
    pub flow_kept: bool,
}

impl std::fmt::Debug for Completion {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Completion").finish_non_exhaustive()
    }
}

/// The answer to opening `/login` or `/signup`.
#[derive(Debug)]
pub enum Opened {
    /// Already signed in: sent on at once (single sign-on). No session is created.
    Returned {
        /// Where to.
        location: String,
    },
    /// Show the form.
    Form(FormContext),
    /// Signed in, but without the second factor this return requires: the step to take first
    /// (a second factor, or enrolling one), in a new flow that already names the user.
    StepUp {
        /// The flow.
        flow: FlowCookie,
        /// What it waits for.
        state: FlowState,
    },
}

/// A user mistake: the form again, with what went wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    /// Unknown e-mail or wrong password: indistinguishable by design.
    InvalidCredentials,
    /// Right password, disabled account.
    Disabled,
    /// Sign-up: the address has an account.
    EmailTaken,
    /// Sign-up: input that does not parse (the message says what).
    Invalid(String),
    /// `AUTHIFY_EMAIL_VERIFICATION=required` and the address is not verified yet: a link to
    /// verify it is on its way (at most twice a minute).
    Unverified,
    /// Sign-up under `AUTHIFY_EMAIL_VERIFICATION=required`: the account was made and signs in
    /// once its address is confirmed; the link is on its way. Not a mistake: accepted.
    SignedUpUnverified,
    /// An upstream provider did not sign the user in (cancelled, no verified address, sign-up
    /// closed, an answer that does not hold); `unavailable`: it could not be reached.
    Upstream {
        /// What the user is told.
        message: String,
        /// The provider failed, not the user.
        unavailable: bool,
    },
    /// A new upstream identity whose verified address has an account here: sign in to that
    /// account once (password and factors) and the identity is linked.
    LinkFirst {
        /// The provider's display name.
        provider: String,
        /// The address.
        email: String,
    },
}

/// Where a step left the attempt.
#[derive(Debug)]
pub enum Progress {
    /// Signed in.
    Done(Completion),
    /// The user is identified and the flow waits for more.
    Pending {
        /// The flow.
        flow: FlowCookie,
        /// What it waits for.
        state: FlowState,
    },
    /// The step failed by the user's mistake; show the form again.
    Refused {
        /// Why.
        reason: Refusal,
        /// The form to show again.
        form: FormContext,
    },
}

/// A step could not be taken. User mistakes are [`Progress::Refused`], not errors.
#[derive(Debug, thiserror::Error)]
pub enum AuthnError {
    /// The callback is not valid or not registered (a 400 page, nothing signed in or sent).
    #[error("{0}")]
    Callback(CallbackError),
    /// Too many attempts for this account; wait this long.
    #[error("too many sign-in attempts; retry in {0:?}")]
    Throttled(std::time::Duration),
    /// A budget of the operator's (SMS, mail, push, sign-ups) refused: [`crate::costs`].
    #[error("{0}")]
    Cost(#[from] crate::costs::CostError),
    /// Public sign-up is off.
    #[error("sign-up is disabled")]
    SignupDisabled,
    /// A protocol request that cannot be answered to its client (a 400 page saying why).
    #[error("{0}")]
    BadRequest(String),
    /// No consent is waiting in this browser (expired, or already answered).
    #[error("no consent request is waiting")]
    NoConsent,
    /// No sign-in is waiting for a second factor in this browser (expired, ended, or done).
    #[error("no sign-in is waiting in this browser")]
    NoFlow,
    /// An upstream provider could not start a sign-in (unreachable, bad discovery document).
    #[error("{0}")]
    Upstream(String),
    /// The hashing pool is saturated.
    #[error("too many sign-ins in progress")]
    Busy,
    /// Storage failed.
    #[error("storage: {0}")]
    Store(#[source] StoreError),
    /// Signing, randomness or a damaged row.
    #[error("{0}")]
    Internal(String),
}

impl From<crate::passwords::HashError> for AuthnError {
    fn from(e: crate::passwords::HashError) -> Self {
        match e {
            crate::passwords::HashError::Busy => AuthnError::Busy,
            other => AuthnError::Internal(other.to_string()),
        }
    }
}

impl From<getrandom::Error> for AuthnError {
    fn from(e: getrandom::Error) -> Self {
        AuthnError::Internal(format!("randomness: {e}"))
    }
}

impl From<crate::tokens::TokenError> for AuthnError {
    fn from(e: crate::tokens::TokenError) -> Self {
        match e {
            crate::tokens::TokenError::Store(s) => AuthnError::Store(s),
            other => AuthnError::Internal(other.to_string()),
        }
    }
}

pub(crate) struct Inner {
    pub(crate) issuer: TokenIssuer,
    pub(crate) settings: AuthnSettings,
    pub(crate) mfa: MfaConfig,
    pub(crate) throttle: Arc<SignInThrottle>,
}

/// The sign-in engine. Cheap to clone.
#[derive(Clone)]
pub struct Authn {
    pub(crate) db: Db,
    pub(crate) hasher: PasswordHasher,
    pub(crate) inner: Arc<Inner>,
    pub(crate) upstream: Arc<dyn crate::upstream::Connector>,
}

impl std::fmt::Debug for Authn {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Authn")
            .field("settings", &self.inner.settings)
            .finish_non_exhaustive()
    }
}

/// A new random token and the hash the database keeps.
pub(crate) fn new_token() -> Result<(String, String), AuthnError> {
    let token = random::token::<32>()?;
    let hash = crate::sessions::token_hash(&token);
    Ok((token, hash))
}

impl Authn {
    /// An engine over `db`, signing tokens as `issuer`, asking for second factors as `mfa` says.
    pub fn new(
        db: Db,
        hasher: PasswordHasher,
        throttle: SignInThrottle,
        issuer: TokenIssuer,
        settings: AuthnSettings,
        mfa: MfaConfig,
    ) -> Self {
        Authn {
            db,
            hasher,
            inner: Arc::new(Inner {
                issuer,
                settings,
                mfa,
                throttle: Arc::new(throttle),
            }),
            upstream: Arc::new(crate::upstream::NoProviders),
        }
    }

    /// The same engine, signing in through `upstream`'s providers too.
    pub fn with_upstream(mut self, upstream: Arc<dyn crate::upstream::Connector>) -> Self {
        self.upstream = upstream;
        self
    }

    /// Second-factor settings, master key and the budgets in front of delivery.
    pub fn mfa(&self) -> &MfaConfig {
        &self.inner.mfa
    }

    /// The settings.
    pub fn settings(&self) -> &AuthnSettings {
        &self.inner.settings
    }

    /// Attempts per account: every password check, at sign-in or to confirm a change, takes one.
    pub fn throttle(&self) -> &SignInThrottle {
        &self.inner.throttle
    }

    /// The user of an unexpired session, unless they were disabled since.
    pub async fn session_user(
        &self,
        session: Option<&str>,
        now: DateTime<Utc>,
    ) -> Result<Option<crate::Person>, AuthnError> {
        let Some(token) = session else {
            return Ok(None);
        };
        Ok(crate::sessions::resolve(&self.db, token, now)
            .await?
            .map(crate::Person::from))
    }

    /// Checks `user`'s current password to confirm a change (account page, `PATCH /me`): the
    /// same throttle as sign-in, on the bounded hashing pool.
    pub async fn confirm_password(
        &self,
        user: &crate::Person,
        attempt: Password,
    ) -> Result<bool, AuthnError> {
        // SECURITY: every password check is throttled per account (W-13), not only /login.
        self.throttle().attempt(&user.email).await?;
        // The hash is read here, by id: it never leaves the core.
        let id = user.id;
        let hash = self
            .db
            .run(move |conn| {
                Ok::<_, AuthnError>(authify_store::users::get_user(conn, id)?.password_hash)
            })
            .await?;
        // SECURITY: an account without a password costs the same dummy hash as a wrong one.
        Ok(self
            .hasher
            .verify(
                attempt.expose().to_owned(),
                Some(hash).filter(|h| !h.is_empty()),
            )
            .await?)
    }

    /// Hashes a new password (argon2id, bounded pool).
    pub async fn hash_password(&self, password: &Password) -> Result<String, AuthnError> {
        Ok(self.hasher.hash(password.expose().to_owned()).await?)
    }

    /// Whether a form POST may proceed: its token belongs to the browser's session or flow, and
    /// that session or flow is live on the server. A cookie value someone planted, or one whose
    /// flow expired, does not pass.
    // SECURITY: the CSRF check of every form (login CSRF included).
    pub async fn form_allowed(
        &self,
        cookies: &Cookies,
        form_token: Option<&str>,
        now: DateTime<Utc>,
    ) -> Result<bool, AuthnError> {
        let bindings = [cookies.session.as_deref(), cookies.flow.as_deref()];
        let Some(index) = csrf::matching(form_token, &bindings) else {
            return Ok(false);
        };
        let hash = bindings[index]
            .map(crate::sessions::token_hash)
            .unwrap_or_default();
        let when = crate::db_time(now);
        self.db
            .run(move |conn| {
                Ok(if index == 0 {
                    authify_store::sessions::find_session(conn, &hash, when)?.is_some()
                } else {
                    authify_store::flows::find_flow(conn, &hash, when)?.is_some()
                })
            })
            .await
            .map_err(AuthnError::Store)
    }

    /// Deletes expired sessions, and expired flows, codes, refresh tokens, revocations and mailed
    /// links;
    /// returns how many sessions and how many other rows. Run periodically.
    pub async fn sweep(&self, now: DateTime<Utc>) -> Result<(usize, usize), AuthnError> {
        let now = crate::db_time(now);
        self.db
            .run(move |conn| {
                let sessions = authify_store::sessions::delete_expired_sessions(conn, now)?;
                let flows = authify_store::flows::delete_expired_flows(conn, now)?
                    + authify_store::oauth::delete_expired(conn, now)?
                    + authify_store::factors::delete_expired(conn, now)?
                    + authify_store::email_tokens::delete_expired_email_tokens(conn, now)?
                    + authify_store::magic_links::delete_expired_magic_links(conn, now)?;
                Ok::<_, StoreError>((sessions, flows))
            })
            .await
            .map_err(AuthnError::Store)
    }
}
