//! The audit log: building entries, recording them (inside the transaction of the change they
//! describe, or on their own for sign-in events) and reading them back with filters.

use authify_store::audit::{self, EventFilter};
use authify_store::models::{AuditEvent, User};
use authify_store::{DbConnection, StoreError};
use chrono::{DateTime, NaiveDateTime, Utc};
use serde_json::Value;

use super::actor::Actor;
use super::views::{AuditInfo, Page, PageRequest};
use crate::error::AdminError;
use crate::{Db, db_time};

/// One entry being built.
#[derive(Debug, Clone)]
pub struct Entry(AuditEvent);

fn clip(s: &str) -> String {
    s.chars().take(320).collect()
}

impl Entry {
    /// A successful `action` at `now`.
    pub fn new(action: &str, now: NaiveDateTime) -> Self {
        Entry(AuditEvent {
            id: 0,
            occurred_at: now,
            action: action.to_owned(),
            outcome: "success".into(),
            actor_id: None,
            actor: None,
            target_type: None,
            target_id: None,
            target: None,
            organization_id: None,
            ip: None,
            details: None,
        })
    }

    /// The action failed.
    pub fn failed(mut self) -> Self {
        self.0.outcome = "failure".into();
        self
    }

    /// Done by `actor`.
    pub fn by(self, actor: &Actor) -> Self {
        if actor.is_system() {
            // The command line has no user row: no actor id, its name as the actor.
            return self.by_email(super::actor::COMMAND_LINE);
        }
        self.by_user(&actor.user).ip(actor.ip.as_deref())
    }

    /// Done by `user`.
    pub fn by_user(mut self, user: &impl crate::person::Who) -> Self {
        self.0.actor_id = Some(user.public_id().to_owned());
        self.0.actor = Some(user.email().to_owned());
        self
    }

    /// Attempted as `email` (which may name no account).
    pub fn by_email(mut self, email: &str) -> Self {
        self.0.actor = Some(clip(email.trim()));
        self
    }

    /// From client address `ip`.
    pub fn ip(mut self, ip: Option<&str>) -> Self {
        self.0.ip = ip.map(clip);
        self
    }

    /// On `kind` `id`, named `label`.
    pub fn target(mut self, kind: &str, id: &str, label: &str) -> Self {
        self.0.target_type = Some(kind.to_owned());
        self.0.target_id = Some(id.to_owned());
        self.0.target = Some(clip(label));
        self
    }

    /// Concerning organization `oid`.
    pub fn org(mut self, oid: &str) -> Self {
        self.0.organization_id = Some(oid.to_owned());
        self
    }

    /// Particulars, e.g. `{"before": .., "after": ..}`.
    pub fn details(mut self, details: Value) -> Self {
        self.0.details = Some(details.to_string());
        self
    }

    /// Appends the entry.
    pub fn record(self, conn: &mut DbConnection) -> Result<(), StoreError> {
        audit::insert_event(conn, &self.0)
    }

    /// Appends the entry on its own (sign-in events, which change no other row).
    pub async fn save(self, db: &Db) {
        let action = self.0.action.clone();
        if let Err(e) = db.run(move |conn| self.record(conn)).await {
            tracing::error!(%action, error = %e, "audit event not recorded");
        }
    }
}

/// Whitelisted filters of the audit log (exact matches).
#[derive(Debug, Clone, Default)]
pub struct AuditFilter {
    /// Action.
    pub action: Option<String>,
    /// Actor e-mail.
    pub actor: Option<String>,
    /// Target public id.
    pub target_id: Option<String>,
    /// Organization public id; required for organization admins.
    pub organization_id: Option<String>,
    /// `success` or `failure`.
    pub outcome: Option<String>,
}

/// Audit events, newest first. Global admins read everything; an organization admin reads the
/// events of an organization they manage and must name it.
pub async fn list_events(
    db: &Db,
    actor: &Actor,
    filter: AuditFilter,
    page: PageRequest,
) -> Result<Page<AuditInfo>, AdminError> {
    let limit = page.limit()?;
    let before = match page.after()? {
        Some(c) => Some(
            c.parse::<i64>()
                .map_err(|_| AdminError::Invalid("the cursor is not valid".into()))?,
        ),
        None => None,
    };
    let actor = actor.clone();
    db.run(move |conn| {
        if !actor.is_global_admin() {
            let Some(oid) = filter.organization_id.as_deref() else {
                return Err(AdminError::Forbidden(
                    "only global administrators may read the whole audit log; organization admins must filter by their organization".into(),
                ));
            };
            actor.managed_org(conn, oid)?;
        }
        let f = EventFilter {
            action: filter.action,
            actor: filter.actor,
            target_id: filter.target_id,
            organization_id: filter.organization_id,
            outcome: filter.outcome,
        };
        let rows = audit::list_events(conn, &f, before, limit + 1)?;
        Ok(Page::from_rows(
            rows,
            limit,
            |e| e.id.to_string(),
            AuditInfo::from,
        ))
    })
    .await
}

/// Records a sign-in attempt.
pub async fn sign_in(
    db: &Db,
    email: &str,
    user: Option<&User>,
    ok: bool,
    ip: Option<&str>,
    now: DateTime<Utc>,
) {
    let mut e = Entry::new("signin", db_time(now)).ip(ip);
    e = match user {
        Some(u) => e.by_user(u),
        None => e.by_email(email),
    };
    if !ok {
        e = e.failed();
    }
    e.save(db).await;
}

/// Records an event about a user's own session or account (`signup`, `logout`, `token.issue`).
pub async fn user_event(
    db: &Db,
    action: &str,
    user: &User,
    ip: Option<&str>,
    target: Option<(&str, &str, &str)>,
    now: DateTime<Utc>,
) {
    let mut e = Entry::new(action, db_time(now)).by_user(user).ip(ip);
    if let Some((kind, id, label)) = target {
        e = e.target(kind, id, label);
    }
    e.save(db).await;
}
