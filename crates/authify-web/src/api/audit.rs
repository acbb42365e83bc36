//! `GET /api/v1/audit-events`.

use actix_web::{HttpRequest, HttpResponse, web};
use authify_core::manage::PageRequest;
use authify_core::manage::audit::{self, AuditFilter};
use serde::Deserialize;

use super::auth::{ApiActor, query};
use super::ok;
use crate::error::WebError;
use crate::state::AppState;

/// The whitelisted filters.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EventQuery {
    action: Option<String>,
    actor: Option<String>,
    target: Option<String>,
    organization: Option<String>,
    outcome: Option<String>,
    cursor: Option<String>,
    limit: Option<u32>,
}

/// `GET /api/v1/audit-events`: newest first. Organization admins must pass `organization`.
pub async fn list(
    state: web::Data<AppState>,
    req: HttpRequest,
    ApiActor(actor): ApiActor,
) -> Result<HttpResponse, WebError> {
    let q: EventQuery = query(&req)?;
    let filter = AuditFilter {
        action: q.action,
        actor: q.actor,
        target_id: q.target,
        organization_id: q.organization,
        outcome: q.outcome,
    };
    let page = PageRequest {
        cursor: q.cursor,
        limit: q.limit,
    };
    Ok(ok(
        &audit::list_events(state.db(), &actor, filter, page).await?
    ))
}
