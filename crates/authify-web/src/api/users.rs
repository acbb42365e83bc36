//! `/api/v1/me` and `/api/v1/users`.

use actix_web::{HttpRequest, HttpResponse, web};
use authify_core::manage::users::{self, CredentialChange, UserChange, UserFilter};
use authify_core::manage::{PageRequest, views::UserInfo};
use serde::Deserialize;

use super::auth::{ApiActor, json, query};
use super::{created, ok};
use crate::error::WebError;
use crate::state::AppState;

/// Filters of `GET /users`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UserQuery {
    q: Option<String>,
    disabled: Option<bool>,
    admin: Option<bool>,
    cursor: Option<String>,
    limit: Option<u32>,
}

/// `GET /api/v1/me`.
pub async fn get_me(ApiActor(actor): ApiActor) -> HttpResponse {
    ok(&UserInfo::from(&actor.user))
}

/// Body of `PATCH /api/v1/me`. No `Debug`: it holds passwords.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MeChange {
    current_password: String,
    email: Option<String>,
    password: Option<String>,
}

/// `PATCH /api/v1/me`: e-mail and/or password, confirmed with the current password.
pub async fn patch_me(
    state: web::Data<AppState>,
    ApiActor(actor): ApiActor,
    body: web::Bytes,
) -> Result<HttpResponse, WebError> {
    let b: MeChange = json(&body)?;
    let change = CredentialChange {
        current_password: b.current_password,
        email: b.email,
        password: b.password,
    };
    let user =
        users::change_credentials(state.db(), state.authn(), &actor, change, None, state.now())
            .await?;
    Ok(ok(&user))
}

/// `GET /api/v1/users`.
pub async fn list(
    state: web::Data<AppState>,
    req: HttpRequest,
    ApiActor(actor): ApiActor,
) -> Result<HttpResponse, WebError> {
    let q: UserQuery = query(&req)?;
    let filter = UserFilter {
        query: q.q,
        disabled: q.disabled,
        admin: q.admin,
    };
    let page = PageRequest {
        cursor: q.cursor,
        limit: q.limit,
    };
    Ok(ok(&users::list(state.db(), &actor, filter, page).await?))
}

/// Body of `POST /api/v1/users`. No `Debug`: it holds a password.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewUser {
    email: String,
    name: Option<String>,
    password: String,
    #[serde(default)]
    admin: bool,
}

/// `POST /api/v1/users`.
pub async fn create(
    state: web::Data<AppState>,
    ApiActor(actor): ApiActor,
    body: web::Bytes,
) -> Result<HttpResponse, WebError> {
    let b: NewUser = json(&body)?;
    let user = users::create(
        state.db(),
        state.hasher(),
        &actor,
        &b.email,
        b.name.as_deref(),
        &b.password,
        b.admin,
        state.now(),
    )
    .await?;
    Ok(created(&user))
}

/// `GET /api/v1/users/{uid}`.
pub async fn get(
    state: web::Data<AppState>,
    ApiActor(actor): ApiActor,
    uid: web::Path<String>,
) -> Result<HttpResponse, WebError> {
    Ok(ok(&users::get(state.db(), &actor, &uid).await?))
}

/// Body of `PATCH /api/v1/users/{uid}`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Change {
    disabled: Option<bool>,
    admin: Option<bool>,
    name: Option<String>,
}

/// `PATCH /api/v1/users/{uid}`.
pub async fn patch(
    state: web::Data<AppState>,
    ApiActor(actor): ApiActor,
    uid: web::Path<String>,
    body: web::Bytes,
) -> Result<HttpResponse, WebError> {
    let b: Change = json(&body)?;
    let change = UserChange {
        disabled: b.disabled,
        admin: b.admin,
        name: b.name,
    };
    Ok(ok(&users::update(
        state.db(),
        &actor,
        &uid,
        change,
        state.now(),
    )
    .await?))
}
