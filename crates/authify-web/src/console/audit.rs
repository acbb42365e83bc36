//! `/admin/audit`: the audit log, newest first, filtered by action, actor, outcome and
//! organization. Global admins read all of it; an organization admin reads the events of one
//! organization they manage, chosen from a selector (the first one when none is named).

use actix_web::{HttpRequest, HttpResponse, web};
use authify_core::manage::PageRequest;
use authify_core::manage::audit::{self, AuditFilter};
use authify_core::manage::views::AuditInfo;
use serde::{Deserialize, Serialize};

use super::gate::{OrgChoice, enter};
use super::page::link;
use crate::error::WebError;
use crate::state::AppState;

/// Query of the audit page.
#[derive(Debug, Default, Deserialize)]
pub struct AuditQuery {
    action: Option<String>,
    actor: Option<String>,
    outcome: Option<String>,
    org: Option<String>,
    cursor: Option<String>,
}

#[derive(Serialize)]
struct Filter {
    action: String,
    actor: String,
    outcome: String,
    org: String,
}

#[derive(Serialize)]
struct EventRow {
    occurred_at: String,
    action: String,
    failed: bool,
    outcome: String,
    actor: Option<String>,
    target: Option<String>,
    ip: Option<String>,
    details: Option<String>,
}

#[derive(Serialize)]
struct AuditPage {
    filter: Filter,
    /// The organizations an organization admin may pick; `null` for global admins.
    org_choices: Option<Vec<OrgChoice>>,
    events: Vec<EventRow>,
    next_url: Option<String>,
}

fn row(e: AuditInfo) -> EventRow {
    let target = match (e.target_type, e.target, e.target_id) {
        (Some(kind), Some(name), Some(id)) if name != id => Some(format!("{kind} {name} ({id})")),
        (Some(kind), _, Some(id)) => Some(format!("{kind} {id}")),
        (_, name, _) => name,
    };
    EventRow {
        failed: e.outcome != "success",
        occurred_at: e.occurred_at,
        action: e.action,
        outcome: e.outcome,
        actor: e.actor,
        target,
        ip: e.ip,
        details: (!e.details.is_null()).then(|| e.details.to_string()),
    }
}

fn given(v: Option<String>) -> Option<String> {
    v.map(|s| s.trim().to_owned()).filter(|s| !s.is_empty())
}

/// `GET /admin/audit?action=&actor=&outcome=&org=&cursor=`.
pub async fn get_audit(
    state: web::Data<AppState>,
    req: HttpRequest,
    query: web::Query<AuditQuery>,
) -> Result<HttpResponse, WebError> {
    let (state, req) = (state.get_ref(), &req);
    let q = query.into_inner();
    let c = enter!(state, req, "audit");
    let (action, actor, outcome) = (given(q.action), given(q.actor), given(q.outcome));
    let mut org = given(q.org);
    let org_choices = if c.global() {
        None
    } else {
        let mine = c.managed_orgs(state, None).await?;
        if org.is_none() {
            org = mine.first().map(|o| o.oid.clone());
        }
        Some(
            mine.into_iter()
                .map(|o| OrgChoice {
                    selected: org.as_deref() == Some(o.oid.as_str()),
                    ..o
                })
                .collect(),
        )
    };
    let filter = AuditFilter {
        action: action.clone(),
        actor: actor.clone(),
        target_id: None,
        organization_id: org.clone(),
        outcome: outcome.clone(),
    };
    let page = PageRequest {
        cursor: q.cursor,
        limit: None,
    };
    let found = audit::list_events(state.db(), &c.actor, filter, page).await?;
    let next_url = found.next_cursor.as_deref().map(|cur| {
        link(
            "/admin/audit",
            &[
                ("action", action.as_deref()),
                ("actor", actor.as_deref()),
                ("outcome", outcome.as_deref()),
                ("org", org.as_deref()),
                ("cursor", Some(cur)),
            ],
        )
    });
    let view = AuditPage {
        filter: Filter {
            action: action.unwrap_or_default(),
            actor: actor.unwrap_or_default(),
            outcome: outcome.unwrap_or_default(),
            org: org.unwrap_or_default(),
        },
        org_choices,
        events: found.items.into_iter().map(row).collect(),
        next_url,
    };
    c.frame
        .render(state, "admin/audit", "Audit log", None, &view)
}
