//! The audit log: insert and read only. There is no update or delete function, and the database
//! refuses both (triggers in the migrations).

use diesel::prelude::*;

use crate::models::AuditEvent;
use crate::schema::audit_events;
use crate::{DbConnection, StoreError};

/// Appends an event.
pub fn insert_event(conn: &mut DbConnection, event: &AuditEvent) -> Result<(), StoreError> {
    // Every column bound explicitly (absent values as NULL): one statement shape whatever is
    // set, so diesel caches it; `.values(event)` leaves absent columns out and builds new SQL.
    let row = (
        audit_events::occurred_at.eq(event.occurred_at),
        audit_events::action.eq(&event.action),
        audit_events::outcome.eq(&event.outcome),
        audit_events::actor_id.eq(event.actor_id.as_deref()),
        audit_events::actor.eq(event.actor.as_deref()),
        audit_events::target_type.eq(event.target_type.as_deref()),
        audit_events::target_id.eq(event.target_id.as_deref()),
        audit_events::target.eq(event.target.as_deref()),
        audit_events::organization_id.eq(event.organization_id.as_deref()),
        audit_events::ip.eq(event.ip.as_deref()),
        audit_events::details.eq(event.details.as_deref()),
    );
    crate::on_backend!(conn, |c| diesel::insert_into(audit_events::table)
        .values(row)
        .execute(c))?;
    Ok(())
}

/// Filters of [`list_events`]; each is an exact match.
#[derive(Debug, Clone, Default)]
pub struct EventFilter {
    /// Action, e.g. `signin`.
    pub action: Option<String>,
    /// Actor e-mail.
    pub actor: Option<String>,
    /// Target public id.
    pub target_id: Option<String>,
    /// Organization public id.
    pub organization_id: Option<String>,
    /// `success` or `failure`.
    pub outcome: Option<String>,
}

/// Events newest first, older than id `before`, at most `limit`.
pub fn list_events(
    conn: &mut DbConnection,
    filter: &EventFilter,
    before: Option<i64>,
    limit: i64,
) -> Result<Vec<AuditEvent>, StoreError> {
    let mut q = audit_events::table
        .select(AuditEvent::as_select())
        .into_boxed();
    if let Some(v) = &filter.action {
        q = q.filter(audit_events::action.eq(v.clone()));
    }
    if let Some(v) = &filter.actor {
        q = q.filter(audit_events::actor.eq(v.clone()));
    }
    if let Some(v) = &filter.target_id {
        q = q.filter(audit_events::target_id.eq(v.clone()));
    }
    if let Some(v) = &filter.organization_id {
        q = q.filter(audit_events::organization_id.eq(v.clone()));
    }
    if let Some(v) = &filter.outcome {
        q = q.filter(audit_events::outcome.eq(v.clone()));
    }
    if let Some(before) = before {
        q = q.filter(audit_events::id.lt(before));
    }
    Ok(q.order(audit_events::id.desc()).limit(limit).load(conn)?)
}
