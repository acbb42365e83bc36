//! What management use cases return: plain serializable records (the API's JSON and the
//! console's template data) and cursor pages.

use authify_store::models::{ApiKey, AuditEvent, Group, Organization, User};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::NaiveDateTime;
use serde::Serialize;

use crate::error::AdminError;

/// The most items one page may hold.
pub const MAX_LIMIT: u32 = 200;
/// Items per page when the request does not say.
pub const DEFAULT_LIMIT: u32 = 50;

fn time(t: NaiveDateTime) -> String {
    t.and_utc()
        .to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

/// A page request: an opaque cursor from the previous page and a size.
#[derive(Debug, Clone, Default)]
pub struct PageRequest {
    /// `next_cursor` of the previous page.
    pub cursor: Option<String>,
    /// Items wanted, 1..=[`MAX_LIMIT`].
    pub limit: Option<u32>,
}

impl PageRequest {
    pub(crate) fn limit(&self) -> Result<i64, AdminError> {
        match self.limit {
            None => Ok(i64::from(DEFAULT_LIMIT)),
            Some(n) if (1..=MAX_LIMIT).contains(&n) => Ok(i64::from(n)),
            Some(_) => Err(AdminError::Invalid(format!(
                "limit must be between 1 and {MAX_LIMIT}"
            ))),
        }
    }

    /// The decoded cursor (the sort key of the last item seen).
    pub(crate) fn after(&self) -> Result<Option<String>, AdminError> {
        let Some(c) = self.cursor.as_deref().filter(|c| !c.is_empty()) else {
            return Ok(None);
        };
        URL_SAFE_NO_PAD
            .decode(c)
            .ok()
            .and_then(|b| String::from_utf8(b).ok())
            .map(Some)
            .ok_or_else(|| AdminError::Invalid("the cursor is not valid".into()))
    }
}

/// One page of results.
#[derive(Debug, Clone, Serialize)]
pub struct Page<T> {
    /// The items.
    pub items: Vec<T>,
    /// Pass as `cursor` to get the next page; absent on the last page.
    pub next_cursor: Option<String>,
}

impl<T> Page<T> {
    /// Builds a page from up to `limit + 1` rows: the extra row only says there is more.
    pub(crate) fn from_rows<R>(
        mut rows: Vec<R>,
        limit: i64,
        key: impl Fn(&R) -> String,
        map: impl Fn(R) -> T,
    ) -> Self {
        let more = rows.len() as i64 > limit;
        rows.truncate(usize::try_from(limit).unwrap_or(0));
        let next_cursor = if more {
            rows.last().map(|r| URL_SAFE_NO_PAD.encode(key(r)))
        } else {
            None
        };
        Page {
            items: rows.into_iter().map(map).collect(),
            next_cursor,
        }
    }
}

/// A user.
#[derive(Debug, Clone, Serialize)]
pub struct UserInfo {
    /// Public id.
    pub uid: String,
    /// E-mail address.
    pub email: String,
    /// Display name.
    pub name: String,
    /// Global admin.
    pub admin: bool,
    /// Disabled.
    pub disabled: bool,
    /// RFC 3339.
    pub created_at: String,
}

impl From<&crate::Person> for UserInfo {
    fn from(u: &crate::Person) -> Self {
        UserInfo {
            uid: u.public_id.clone(),
            email: u.email.clone(),
            name: u.name.clone(),
            admin: u.is_admin,
            disabled: u.disabled,
            created_at: time(u.created_at),
        }
    }
}

impl From<&User> for UserInfo {
    fn from(u: &User) -> Self {
        UserInfo {
            uid: u.public_id.clone(),
            email: u.email.clone(),
            name: u.name.clone(),
            admin: u.is_admin,
            disabled: u.disabled,
            created_at: time(u.created_at),
        }
    }
}

/// An organization, with the actor's role in it.
#[derive(Debug, Clone, Serialize)]
pub struct OrgInfo {
    /// Public id.
    pub oid: String,
    /// Name.
    pub name: String,
    /// RFC 3339.
    pub created_at: String,
    /// `global_admin`, `admin` or `member`.
    pub role: &'static str,
}

impl OrgInfo {
    pub(crate) fn new(o: &Organization, role: super::actor::OrgRole) -> Self {
        OrgInfo {
            oid: o.public_id.clone(),
            name: o.name.clone(),
            created_at: time(o.created_at),
            role: role.as_str(),
        }
    }
}

/// A member of an organization.
#[derive(Debug, Clone, Serialize)]
pub struct MemberInfo {
    /// User id.
    pub uid: String,
    /// E-mail address.
    pub email: String,
    /// Display name.
    pub name: String,
    /// Admin of the organization.
    pub admin: bool,
}

impl MemberInfo {
    pub(crate) fn new(u: &User, admin: bool) -> Self {
        MemberInfo {
            uid: u.public_id.clone(),
            email: u.email.clone(),
            name: u.name.clone(),
            admin,
        }
    }
}

/// A group.
#[derive(Debug, Clone, Serialize)]
pub struct GroupInfo {
    /// Public id.
    pub gid: String,
    /// Name.
    pub name: String,
    /// RFC 3339.
    pub created_at: String,
}

impl From<&Group> for GroupInfo {
    fn from(g: &Group) -> Self {
        GroupInfo {
            gid: g.public_id.clone(),
            name: g.name.clone(),
            created_at: time(g.created_at),
        }
    }
}

/// A registered application.
#[derive(Debug, Clone, Serialize)]
pub struct AppInfo {
    /// Public app id (`aud` of its tokens; the OAuth `client_id`).
    pub app_id: String,
    /// Name.
    pub name: String,
    /// Registered callbacks.
    pub callbacks: Vec<String>,
    /// RFC 3339.
    pub created_at: String,
    /// `confidential`, `public` or `service`.
    pub client_type: String,
    /// No consent page.
    pub first_party: bool,
    /// Algorithm of its OpenID tokens.
    pub algorithm: String,
    /// Back-channel logout receiver.
    pub backchannel_logout_uri: Option<String>,
    /// RP-initiated logout destination.
    pub post_logout_redirect_uri: Option<String>,
    /// Three or more back-channel deliveries in a row have failed.
    pub backchannel_failing: bool,
}

impl AppInfo {
    /// The view of a stored application.
    pub fn new(app: authify_store::models::Application, callbacks: Vec<String>) -> Self {
        AppInfo {
            created_at: app
                .created_at
                .and_utc()
                .to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
            backchannel_failing: app.backchannel_failures >= crate::oidc::outbox::FAILING_AFTER,
            app_id: app.app_id,
            name: app.name,
            callbacks,
            client_type: app.client_type,
            first_party: app.first_party,
            algorithm: app.algorithm,
            backchannel_logout_uri: app.backchannel_logout_uri,
            post_logout_redirect_uri: app.post_logout_redirect_uri,
        }
    }
}

/// A personal API key (never its secret).
#[derive(Debug, Clone, Serialize)]
pub struct ApiKeyInfo {
    /// Public identifier.
    pub access_key: String,
    /// Label.
    pub name: String,
    /// Read-only.
    pub read_only: bool,
    /// RFC 3339.
    pub created_at: String,
    /// RFC 3339, if it expires.
    pub expires_at: Option<String>,
    /// RFC 3339, if revoked.
    pub revoked_at: Option<String>,
    /// RFC 3339, last exchange for a token.
    pub last_used_at: Option<String>,
    /// Usable now.
    pub active: bool,
}

impl ApiKeyInfo {
    pub(crate) fn new(k: &ApiKey, now: NaiveDateTime) -> Self {
        ApiKeyInfo {
            access_key: k.access_key.clone(),
            name: k.name.clone(),
            read_only: k.read_only,
            created_at: time(k.created_at),
            expires_at: k.expires_at.map(time),
            revoked_at: k.revoked_at.map(time),
            last_used_at: k.last_used_at.map(time),
            active: k.revoked_at.is_none() && k.expires_at.is_none_or(|e| e > now),
        }
    }
}

/// A key with its secret, returned once at creation.
#[derive(Debug, Clone, Serialize)]
pub struct CreatedApiKey {
    /// The key.
    #[serde(flatten)]
    pub key: ApiKeyInfo,
    /// The secret: shown this once, stored only as a hash.
    pub secret_key: String,
}

/// An audit log entry.
#[derive(Debug, Clone, Serialize)]
pub struct AuditInfo {
    /// Sequence number.
    pub id: i64,
    /// RFC 3339.
    pub occurred_at: String,
    /// What happened.
    pub action: String,
    /// `success` or `failure`.
    pub outcome: String,
    /// Who (e-mail).
    pub actor: Option<String>,
    /// Who (public id).
    pub actor_id: Option<String>,
    /// Kind of target.
    pub target_type: Option<String>,
    /// Target public id.
    pub target_id: Option<String>,
    /// Target name.
    pub target: Option<String>,
    /// Organization concerned.
    pub organization_id: Option<String>,
    /// Client address.
    pub ip: Option<String>,
    /// Particulars (before/after).
    pub details: serde_json::Value,
}

impl From<AuditEvent> for AuditInfo {
    fn from(e: AuditEvent) -> Self {
        AuditInfo {
            id: e.id,
            occurred_at: time(e.occurred_at),
            action: e.action,
            outcome: e.outcome,
            actor: e.actor,
            actor_id: e.actor_id,
            target_type: e.target_type,
            target_id: e.target_id,
            target: e.target,
            organization_id: e.organization_id,
            ip: e.ip,
            details: e
                .details
                .and_then(|d| serde_json::from_str(&d).ok())
                .unwrap_or(serde_json::Value::Null),
        }
    }
}
