//! Row types. Times are naive UTC, truncated to microseconds (PostgreSQL's precision) by callers.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::schema::*;

/// A user account. `Debug` leaves out the password hash.
#[derive(Clone, PartialEq, Eq, Queryable, Selectable, Identifiable)]
#[diesel(table_name = users)]
pub struct User {
    /// Internal id; never leaves the server.
    pub id: i64,
    /// Stable public id (`sub`, `uid`).
    pub public_id: String,
    /// Normalized e-mail address.
    pub email: String,
    /// Display name.
    pub name: String,
    /// PHC-format argon2id hash.
    pub password_hash: String,
    /// Global administrator (`admin_access`).
    pub is_admin: bool,
    /// Disabled users cannot sign in.
    pub disabled: bool,
    /// Creation time.
    pub created_at: NaiveDateTime,
    /// The user followed a link mailed to `email` (reset by a change of address).
    pub email_verified: bool,
}

// SECURITY: secrets never reach logs; the hash is not printed.
impl std::fmt::Debug for User {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("User")
            .field("public_id", &self.public_id)
            .field("email", &self.email)
            .field("is_admin", &self.is_admin)
            .field("disabled", &self.disabled)
            .finish_non_exhaustive()
    }
}

/// A new user.
#[derive(Insertable)]
#[diesel(table_name = users)]
pub struct NewUser<'a> {
    /// See [`User`].
    pub public_id: &'a str,
    /// See [`User`].
    pub email: &'a str,
    /// See [`User`].
    pub name: &'a str,
    /// See [`User`].
    pub password_hash: &'a str,
    /// See [`User`].
    pub is_admin: bool,
    /// See [`User`].
    pub disabled: bool,
    /// See [`User`].
    pub created_at: NaiveDateTime,
}

/// An organization.
#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable, Identifiable)]
#[diesel(table_name = organizations)]
pub struct Organization {
    /// Internal id.
    pub id: i64,
    /// Stable public id (`oid`).
    pub public_id: String,
    /// Unique name.
    pub name: String,
    /// Creation time.
    pub created_at: NaiveDateTime,
}

/// A group inside an organization.
#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable, Identifiable)]
#[diesel(table_name = groups)]
pub struct Group {
    /// Internal id.
    pub id: i64,
    /// Stable public id (`gid`).
    pub public_id: String,
    /// Owning organization.
    pub organization_id: i64,
    /// Name, unique within the organization.
    pub name: String,
    /// Creation time.
    pub created_at: NaiveDateTime,
}

/// A registered relying application.
#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable, Identifiable)]
#[diesel(table_name = applications)]
pub struct Application {
    /// Internal id.
    pub id: i64,
    /// Public app id: the `aud` of its tokens.
    pub app_id: String,
    /// Display name.
    pub name: String,
    /// `sha256:<hex>` of the app secret (256 random bits need no slow hash).
    pub secret_hash: String,
    /// Creation time.
    pub created_at: NaiveDateTime,
    /// `confidential`, `public` (no secret, PKCE) or `service` (client credentials only).
    pub client_type: String,
    /// Trusted by the operator: no consent page.
    pub first_party: bool,
    /// Algorithm of its OpenID Connect tokens (`ES256`, `ES384`, `ES512`).
    pub algorithm: String,
    /// OpenID Back-Channel Logout receiver.
    pub backchannel_logout_uri: Option<String>,
    /// Where RP-initiated logout may send the browser.
    pub post_logout_redirect_uri: Option<String>,
    /// Consecutive failed back-channel deliveries.
    pub backchannel_failures: i32,
}

/// A server-side session.
#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable, Identifiable)]
#[diesel(table_name = sessions)]
pub struct Session {
    /// Internal id.
    pub id: i64,
    /// SHA-256 (hex) of the cookie token.
    pub token_hash: String,
    /// Whose session.
    pub user_id: i64,
    /// Creation time.
    pub created_at: NaiveDateTime,
    /// Absolute expiry.
    pub expires_at: NaiveDateTime,
    /// How the user signed in: RFC 8176 `amr` values, space-separated.
    pub amr: String,
    /// Client address at sign-in.
    pub ip: Option<String>,
    /// Browser at sign-in.
    pub user_agent: Option<String>,
    /// Last sign-in to an application through this session.
    pub last_seen_at: Option<NaiveDateTime>,
}

/// A sign-in attempt in progress. The cookie token itself is never stored.
#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable, Identifiable)]
#[diesel(table_name = auth_flows)]
pub struct AuthFlow {
    /// Internal id.
    pub id: i64,
    /// SHA-256 (hex) of the cookie token.
    pub token_hash: String,
    /// Where the attempt returns, as JSON (owned by the core's `authn`).
    pub return_to: String,
    /// The user, once a factor identified them.
    pub user_id: Option<i64>,
    /// `amr` values of the factors satisfied so far, space-separated.
    pub amr: String,
    /// Factors still required, space-separated.
    pub pending: String,
    /// Creation time.
    pub created_at: NaiveDateTime,
    /// Absolute expiry.
    pub expires_at: NaiveDateTime,
}

/// A personal API key. The secret itself is never stored.
#[derive(Clone, PartialEq, Eq, Queryable, Selectable, Identifiable)]
#[diesel(table_name = api_keys)]
pub struct ApiKey {
    /// Internal id.
    pub id: i64,
    /// Public identifier, sent with the secret to `POST /jwt/token`.
    pub access_key: String,
    /// SHA-256 (hex) of the secret.
    pub secret_hash: String,
    /// Owner: the key acts with their rights.
    pub user_id: i64,
    /// Label chosen by the owner.
    pub name: String,
    /// Tokens from this key may only read.
    pub read_only: bool,
    /// Creation time.
    pub created_at: NaiveDateTime,
    /// Optional expiry.
    pub expires_at: Option<NaiveDateTime>,
    /// Set when revoked; a revoked key never works again.
    pub revoked_at: Option<NaiveDateTime>,
    /// Last exchange for a token.
    pub last_used_at: Option<NaiveDateTime>,
}

impl std::fmt::Debug for ApiKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ApiKey")
            .field("access_key", &self.access_key)
            .field("user_id", &self.user_id)
            .field("read_only", &self.read_only)
            .finish_non_exhaustive()
    }
}

/// One audit log entry. Rows are append-only (database triggers refuse updates and deletes).
#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable, Insertable)]
#[diesel(table_name = audit_events)]
pub struct AuditEvent {
    /// Sequence number.
    #[diesel(skip_insertion)]
    pub id: i64,
    /// When.
    pub occurred_at: NaiveDateTime,
    /// What, e.g. `signin` or `organization.create`.
    pub action: String,
    /// `success` or `failure`.
    pub outcome: String,
    /// Public id of who did it.
    pub actor_id: Option<String>,
    /// E-mail of who did it (at the time).
    pub actor: Option<String>,
    /// Kind of target: `user`, `organization`, `group`, `application`, `api_key`, `signing_key`.
    pub target_type: Option<String>,
    /// Public id of the target.
    pub target_id: Option<String>,
    /// Readable name of the target (at the time).
    pub target: Option<String>,
    /// Public id of the organization concerned, for organization admins' view.
    pub organization_id: Option<String>,
    /// Client address.
    pub ip: Option<String>,
    /// JSON: before/after values and other particulars.
    pub details: Option<String>,
}

/// An authorization code. The code itself is never stored.
#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable, Identifiable)]
#[diesel(table_name = oauth_codes)]
pub struct OAuthCode {
    /// Internal id.
    pub id: i64,
    /// SHA-256 (hex) of the code.
    pub code_hash: String,
    /// The client it was issued to.
    pub application_id: i64,
    /// The user.
    pub user_id: i64,
    /// The session's `sid`.
    pub sid: String,
    /// The exact `redirect_uri` (or legacy callback) it was sent to.
    pub redirect_uri: String,
    /// Granted scopes, space-separated.
    pub scope: String,
    /// The client's `nonce`.
    pub nonce: Option<String>,
    /// PKCE S256 challenge.
    pub code_challenge: Option<String>,
    /// When the user authenticated.
    pub auth_time: NaiveDateTime,
    /// How (RFC 8176), space-separated.
    pub amr: String,
    /// Issued by the legacy `/login?response_type=code` flow.
    pub legacy: bool,
    /// The token family of everything issued from it.
    pub family: String,
    /// Issue time.
    pub created_at: NaiveDateTime,
    /// Expiry (60 s).
    pub expires_at: NaiveDateTime,
    /// Set on first redemption; a second one is a replay.
    pub redeemed_at: Option<NaiveDateTime>,
}

/// A refresh token. The token itself is never stored.
#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable, Identifiable)]
#[diesel(table_name = oauth_refresh_tokens)]
pub struct RefreshToken {
    /// Internal id.
    pub id: i64,
    /// SHA-256 (hex) of the token.
    pub token_hash: String,
    /// Its family (one per code).
    pub family: String,
    /// The client.
    pub application_id: i64,
    /// The user.
    pub user_id: i64,
    /// The session's `sid` at the original sign-in.
    pub sid: String,
    /// Granted scopes.
    pub scope: String,
    /// Original authentication time.
    pub auth_time: NaiveDateTime,
    /// Original `amr`.
    pub amr: String,
    /// Issue time.
    pub created_at: NaiveDateTime,
    /// Expiry.
    pub expires_at: NaiveDateTime,
    /// Set when rotated; a second use is a replay.
    pub used_at: Option<NaiveDateTime>,
}

/// A back-channel logout still to deliver.
#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable, Identifiable)]
#[diesel(table_name = logout_outbox)]
pub struct OutboxEntry {
    /// Internal id.
    pub id: i64,
    /// The receiving application.
    pub application_id: i64,
    /// The user's public id.
    pub sub: String,
    /// The ended session's `sid`.
    pub sid: String,
    /// Failed attempts so far.
    pub attempts: i32,
    /// When to try next.
    pub next_attempt_at: NaiveDateTime,
    /// Why the last attempt failed.
    pub last_error: Option<String>,
    /// When the session ended.
    pub created_at: NaiveDateTime,
}

/// A second factor. `Debug` leaves out the sealed secret.
#[derive(Clone, PartialEq, Eq, Queryable, Selectable, Identifiable)]
#[diesel(table_name = user_factors)]
pub struct Factor {
    /// Internal id.
    pub id: i64,
    /// Owner.
    pub user_id: i64,
    /// `totp`, `sms`, `email` or `approver`.
    pub kind: String,
    /// Shown to the user.
    pub label: String,
    /// TOTP: the secret, sealed under the master key.
    pub secret: Option<String>,
    /// SMS: the number in E.164.
    pub phone: Option<String>,
    /// Approver: SHA-256 of its device token.
    pub device_hash: Option<String>,
    /// TOTP: the last accepted time step.
    pub last_step: Option<i64>,
    /// An unconfirmed TOTP set-up: the flow or session it was shown to.
    pub pending_for: Option<String>,
    /// Counts as a factor.
    pub confirmed: bool,
    /// Creation time.
    pub created_at: NaiveDateTime,
    /// Passkey: webauthn-rs's `Passkey` as JSON (the registration state while unconfirmed).
    pub credential: Option<String>,
    /// Passkey: the credential id, base64url.
    pub credential_id: Option<String>,
}

impl std::fmt::Debug for Factor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Factor")
            .field("id", &self.id)
            .field("user_id", &self.user_id)
            .field("kind", &self.kind)
            .field("confirmed", &self.confirmed)
            .finish_non_exhaustive()
    }
}

/// A one-time code sent by SMS or e-mail. `Debug` leaves out the code's MAC.
#[derive(Clone, PartialEq, Eq, Queryable, Selectable, Identifiable)]
#[diesel(table_name = factor_challenges)]
pub struct Challenge {
    /// Internal id.
    pub id: i64,
    /// The sign-in attempt it belongs to (none: confirming a new factor).
    pub flow_id: Option<i64>,
    /// The factor it was sent through.
    pub factor_id: i64,
    /// SHA-256 of the code with its flow or factor.
    pub code_hash: String,
    /// Wrong codes so far.
    pub tries: i32,
    /// Sent at.
    pub created_at: NaiveDateTime,
    /// Expiry.
    pub expires_at: NaiveDateTime,
}

impl std::fmt::Debug for Challenge {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Challenge")
            .field("id", &self.id)
            .field("flow_id", &self.flow_id)
            .field("tries", &self.tries)
            .finish_non_exhaustive()
    }
}

/// A push approval request.
#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable, Identifiable)]
#[diesel(table_name = approval_requests)]
pub struct ApprovalRequest {
    /// Internal id.
    pub id: i64,
    /// The id in URLs and the API.
    pub public_id: String,
    /// The waiting sign-in attempt.
    pub flow_id: Option<i64>,
    /// Whose approval is asked.
    pub user_id: i64,
    /// The application being signed in to.
    pub app_name: Option<String>,
    /// The requesting browser's address.
    pub ip: Option<String>,
    /// The requesting browser's user agent.
    pub user_agent: Option<String>,
    /// The number the requesting browser shows.
    pub number: i32,
    /// The three numbers offered to the approver, space-separated.
    pub choices: String,
    /// `pending`, `approved`, `denied` or `used`.
    pub status: String,
    /// The approver device that answered.
    pub decided_by: Option<i64>,
    /// Creation time.
    pub created_at: NaiveDateTime,
    /// Expiry.
    pub expires_at: NaiveDateTime,
}

/// Health of an outgoing webhook.
#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable)]
#[diesel(table_name = webhook_health)]
pub struct WebhookHealth {
    /// `push` or `sms`.
    pub name: String,
    /// Consecutive failures.
    pub failures: i32,
    /// Why the last delivery failed.
    pub last_error: Option<String>,
    /// Last delivery.
    pub updated_at: NaiveDateTime,
}
