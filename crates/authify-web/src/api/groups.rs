//! `/api/v1/organizations/{oid}/groups` and their members.

use actix_web::{HttpResponse, web};
use authify_core::manage::groups;
use serde::Deserialize;

use super::auth::{ApiActor, json};
use super::orgs::Named;
use super::{created, no_content, ok};
use crate::error::WebError;
use crate::state::AppState;

/// `GET /api/v1/organizations/{oid}/groups`.
pub async fn list(
    state: web::Data<AppState>,
    ApiActor(actor): ApiActor,
    oid: web::Path<String>,
) -> Result<HttpResponse, WebError> {
    let items = groups::list(state.db(), &actor, &oid).await?;
    Ok(ok(
        &serde_json::json!({ "items": items, "next_cursor": null }),
    ))
}

/// `POST /api/v1/organizations/{oid}/groups`.
pub async fn create(
    state: web::Data<AppState>,
    ApiActor(actor): ApiActor,
    oid: web::Path<String>,
    body: web::Bytes,
) -> Result<HttpResponse, WebError> {
    let b: Named = json(&body)?;
    Ok(created(
        &groups::create(state.db(), &actor, &oid, &b.name, state.now()).await?,
    ))
}

/// `GET /api/v1/organizations/{oid}/groups/{gid}`.
pub async fn get(
    state: web::Data<AppState>,
    ApiActor(actor): ApiActor,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, WebError> {
    let (oid, gid) = path.into_inner();
    Ok(ok(&groups::get(state.db(), &actor, &oid, &gid).await?))
}

/// `PATCH /api/v1/organizations/{oid}/groups/{gid}`.
pub async fn patch(
    state: web::Data<AppState>,
    ApiActor(actor): ApiActor,
    path: web::Path<(String, String)>,
    body: web::Bytes,
) -> Result<HttpResponse, WebError> {
    let b: Named = json(&body)?;
    let (oid, gid) = path.into_inner();
    Ok(ok(&groups::rename(
        state.db(),
        &actor,
        &oid,
        &gid,
        &b.name,
        state.now(),
    )
    .await?))
}

/// `DELETE /api/v1/organizations/{oid}/groups/{gid}`.
pub async fn delete(
    state: web::Data<AppState>,
    ApiActor(actor): ApiActor,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, WebError> {
    let (oid, gid) = path.into_inner();
    groups::delete(state.db(), &actor, &oid, &gid, state.now()).await?;
    Ok(no_content())
}

/// `GET /api/v1/organizations/{oid}/groups/{gid}/members`.
pub async fn members(
    state: web::Data<AppState>,
    ApiActor(actor): ApiActor,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, WebError> {
    let (oid, gid) = path.into_inner();
    let items = groups::members(state.db(), &actor, &oid, &gid).await?;
    Ok(ok(
        &serde_json::json!({ "items": items, "next_cursor": null }),
    ))
}

/// Body of `POST .../members`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewGroupMember {
    uid: String,
}

/// `POST /api/v1/organizations/{oid}/groups/{gid}/members`.
pub async fn add_member(
    state: web::Data<AppState>,
    ApiActor(actor): ApiActor,
    path: web::Path<(String, String)>,
    body: web::Bytes,
) -> Result<HttpResponse, WebError> {
    let b: NewGroupMember = json(&body)?;
    let (oid, gid) = path.into_inner();
    Ok(created(
        &groups::add_member(state.db(), &actor, &oid, &gid, &b.uid, state.now()).await?,
    ))
}

/// `DELETE /api/v1/organizations/{oid}/groups/{gid}/members/{uid}`.
pub async fn remove_member(
    state: web::Data<AppState>,
    ApiActor(actor): ApiActor,
    path: web::Path<(String, String, String)>,
) -> Result<HttpResponse, WebError> {
    let (oid, gid, uid) = path.into_inner();
    groups::remove_member(state.db(), &actor, &oid, &gid, &uid, state.now()).await?;
    Ok(no_content())
}
