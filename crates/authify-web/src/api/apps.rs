//! `/api/v1/applications`: global admins only.

use actix_web::{HttpResponse, web};
use authify_core::manage::apps;
use serde::Deserialize;
use serde_json::json as value;

use super::auth::{ApiActor, json};
use super::{created, no_content, ok};
use crate::error::WebError;
use crate::state::AppState;

/// `GET /api/v1/applications`.
pub async fn list(
    state: web::Data<AppState>,
    ApiActor(actor): ApiActor,
) -> Result<HttpResponse, WebError> {
    let items = apps::list(state.db(), &actor).await?;
    Ok(ok(&value!({ "items": items, "next_cursor": null })))
}

/// Body of `POST /api/v1/applications`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewApp {
    name: String,
    callbacks: Vec<String>,
}

/// `POST /api/v1/applications`: the secret is in this response only.
pub async fn create(
    state: web::Data<AppState>,
    ApiActor(actor): ApiActor,
    body: web::Bytes,
) -> Result<HttpResponse, WebError> {
    let b: NewApp = json(&body)?;
    let (app, secret) =
        apps::create(state.db(), &actor, &b.name, &b.callbacks, state.now()).await?;
    Ok(created(&value!({
        "app_id": app.app_id,
        "name": app.name,
        "callbacks": app.callbacks,
        "created_at": app.created_at,
        "secret": secret,
    })))
}

/// `GET /api/v1/applications/{app_id}`.
pub async fn get(
    state: web::Data<AppState>,
    ApiActor(actor): ApiActor,
    app_id: web::Path<String>,
) -> Result<HttpResponse, WebError> {
    Ok(ok(&apps::get(state.db(), &actor, &app_id).await?))
}

/// Body of `PATCH /api/v1/applications/{app_id}`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AppChange {
    name: Option<String>,
    callbacks: Option<Vec<String>>,
}

/// `PATCH /api/v1/applications/{app_id}`: name and/or the whole callback list.
pub async fn patch(
    state: web::Data<AppState>,
    ApiActor(actor): ApiActor,
    app_id: web::Path<String>,
    body: web::Bytes,
) -> Result<HttpResponse, WebError> {
    let b: AppChange = json(&body)?;
    Ok(ok(&apps::update(
        state.db(),
        &actor,
        &app_id,
        b.name.as_deref(),
        b.callbacks.as_deref(),
        state.now(),
    )
    .await?))
}

/// `DELETE /api/v1/applications/{app_id}`.
pub async fn delete(
    state: web::Data<AppState>,
    ApiActor(actor): ApiActor,
    app_id: web::Path<String>,
) -> Result<HttpResponse, WebError> {
    apps::delete(state.db(), &actor, &app_id, state.now()).await?;
    Ok(no_content())
}

/// `POST /api/v1/applications/{app_id}/secret`: a new secret, in this response only.
pub async fn rotate_secret(
    state: web::Data<AppState>,
    ApiActor(actor): ApiActor,
    app_id: web::Path<String>,
) -> Result<HttpResponse, WebError> {
    let secret = apps::rotate_secret(state.db(), &actor, &app_id, state.now()).await?;
    Ok(ok(
        &value!({ "app_id": app_id.into_inner(), "secret": secret }),
    ))
}
