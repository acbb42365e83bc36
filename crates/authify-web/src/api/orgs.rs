//! `/api/v1/organizations`, their members and invitations.

use actix_web::{HttpRequest, HttpResponse, web};
use authify_core::manage::{PageRequest, invitations, orgs};
use serde::Deserialize;

use super::auth::{ApiActor, json, query};
use super::{created, no_content, ok};
use crate::error::WebError;
use crate::state::AppState;

/// Filters of list endpoints that search by name.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SearchQuery {
    q: Option<String>,
    cursor: Option<String>,
    limit: Option<u32>,
}

impl SearchQuery {
    fn page(&self) -> PageRequest {
        PageRequest {
            cursor: self.cursor.clone(),
            limit: self.limit,
        }
    }
}

/// Body naming something.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Named {
    /// The name.
    pub name: String,
}

/// `GET /api/v1/organizations`: all for global admins, the caller's own otherwise.
pub async fn list(
    state: web::Data<AppState>,
    req: HttpRequest,
    ApiActor(actor): ApiActor,
) -> Result<HttpResponse, WebError> {
    let q: SearchQuery = query(&req)?;
    let page = q.page();
    Ok(ok(&orgs::list(state.db(), &actor, q.q, page).await?))
}

/// `POST /api/v1/organizations`.
pub async fn create(
    state: web::Data<AppState>,
    ApiActor(actor): ApiActor,
    body: web::Bytes,
) -> Result<HttpResponse, WebError> {
    let b: Named = json(&body)?;
    let policy = state.config().org_creation;
    Ok(created(
        &orgs::create(state.db(), &actor, &b.name, policy, state.now()).await?,
    ))
}

/// `GET /api/v1/organizations/{oid}`.
pub async fn get(
    state: web::Data<AppState>,
    ApiActor(actor): ApiActor,
    oid: web::Path<String>,
) -> Result<HttpResponse, WebError> {
    Ok(ok(&orgs::get(state.db(), &actor, &oid).await?))
}

/// `PATCH /api/v1/organizations/{oid}`.
pub async fn patch(
    state: web::Data<AppState>,
    ApiActor(actor): ApiActor,
    oid: web::Path<String>,
    body: web::Bytes,
) -> Result<HttpResponse, WebError> {
    let b: Named = json(&body)?;
    Ok(ok(&orgs::rename(
        state.db(),
        &actor,
        &oid,
        &b.name,
        state.now(),
    )
    .await?))
}

/// `DELETE /api/v1/organizations/{oid}`.
pub async fn delete(
    state: web::Data<AppState>,
    ApiActor(actor): ApiActor,
    oid: web::Path<String>,
) -> Result<HttpResponse, WebError> {
    orgs::delete(state.db(), &actor, &oid, state.now()).await?;
    Ok(no_content())
}

/// `GET /api/v1/organizations/{oid}/members`.
pub async fn members(
    state: web::Data<AppState>,
    req: HttpRequest,
    ApiActor(actor): ApiActor,
    oid: web::Path<String>,
) -> Result<HttpResponse, WebError> {
    let q: SearchQuery = query(&req)?;
    let page = q.page();
    Ok(ok(
        &orgs::members(state.db(), &actor, &oid, q.q, page).await?
    ))
}

/// Body of `POST /api/v1/organizations/{oid}/members`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewMember {
    email: String,
    #[serde(default)]
    admin: bool,
}

/// `POST /api/v1/organizations/{oid}/members`: adds the user with this exact e-mail.
pub async fn add_member(
    state: web::Data<AppState>,
    ApiActor(actor): ApiActor,
    oid: web::Path<String>,
    body: web::Bytes,
) -> Result<HttpResponse, WebError> {
    let b: NewMember = json(&body)?;
    Ok(created(
        &orgs::add_member(state.db(), &actor, &oid, &b.email, b.admin, state.now()).await?,
    ))
}

/// Body of `PATCH /api/v1/organizations/{oid}/members/{uid}`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MemberChange {
    admin: bool,
}

/// `PATCH /api/v1/organizations/{oid}/members/{uid}`: promote or demote.
pub async fn patch_member(
    state: web::Data<AppState>,
    ApiActor(actor): ApiActor,
    path: web::Path<(String, String)>,
    body: web::Bytes,
) -> Result<HttpResponse, WebError> {
    let b: MemberChange = json(&body)?;
    let (oid, uid) = path.into_inner();
    Ok(ok(&orgs::set_member_admin(
        state.db(),
        &actor,
        &oid,
        &uid,
        b.admin,
        state.now(),
    )
    .await?))
}

/// `DELETE /api/v1/organizations/{oid}/members/{uid}`: remove, or leave when `uid` is the caller.
pub async fn remove_member(
    state: web::Data<AppState>,
    ApiActor(actor): ApiActor,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, WebError> {
    let (oid, uid) = path.into_inner();
    orgs::remove_member(state.db(), &actor, &oid, &uid, state.now()).await?;
    Ok(no_content())
}

/// Body of `POST /api/v1/organizations/{oid}/invitations`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewInvitation {
    email: String,
}

/// `GET /api/v1/organizations/{oid}/invitations`: the live invitations (organization admins).
pub async fn invitations(
    state: web::Data<AppState>,
    ApiActor(actor): ApiActor,
    oid: web::Path<String>,
) -> Result<HttpResponse, WebError> {
    let live = invitations::pending(state.db(), &actor, &oid, state.now()).await?;
    Ok(ok(&serde_json::json!({ "items": live })))
}

/// `POST /api/v1/organizations/{oid}/invitations`: mails an invitation.
pub async fn invite(
    state: web::Data<AppState>,
    ApiActor(actor): ApiActor,
    oid: web::Path<String>,
    body: web::Bytes,
) -> Result<HttpResponse, WebError> {
    let b: NewInvitation = json(&body)?;
    Ok(created(
        &invitations::invite(
            state.db(),
            &actor,
            &oid,
            &b.email,
            &state.authn().mfa().costs,
            &state.config().public_url,
            state.now(),
        )
        .await?,
    ))
}

/// `DELETE /api/v1/organizations/{oid}/invitations/{id}`: revokes it.
pub async fn revoke_invitation(
    state: web::Data<AppState>,
    ApiActor(actor): ApiActor,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, WebError> {
    let (oid, id) = path.into_inner();
    invitations::revoke(state.db(), &actor, &oid, &id, state.now()).await?;
    Ok(no_content())
}
