//! `/admin/keys` (global admins): the signing keys the server publishes, which one signs, and
//! generating a new key that takes over signing at once (older keys stay published, so tokens
//! already issued still verify).

use actix_web::{HttpRequest, HttpResponse, web};
use authify_core::manage::console;
use chrono::{DateTime, Utc};
use serde::Serialize;

use super::apps::DoneQuery;
use super::gate::enter;
use super::page::{ActionForm, notice};
use crate::error::WebError;
use crate::extract::Checked;
use crate::pages::see_other;
use crate::state::AppState;

#[derive(Serialize)]
struct KeyRow {
    kid: String,
    algorithm: String,
    created: String,
    active: bool,
}

#[derive(Serialize)]
struct KeysPage {
    keys: Vec<KeyRow>,
}

/// `GET /admin/keys`.
pub async fn get_keys(
    state: web::Data<AppState>,
    req: HttpRequest,
    query: web::Query<DoneQuery>,
) -> Result<HttpResponse, WebError> {
    let (state, req) = (state.get_ref(), &req);
    let q = query.into_inner();
    let c = enter!(state, req, "keys");
    console::require_global(&c.actor)?;
    let published = state.keys();
    let mut keys: Vec<KeyRow> = published
        .keyring
        .summaries()
        .iter()
        .map(|k| KeyRow {
            kid: k.kid.clone(),
            algorithm: k.algorithm.as_str().to_owned(),
            created: DateTime::<Utc>::from_timestamp_millis(k.created_ms)
                .map(|t| t.format("%Y-%m-%dT%H:%M:%SZ").to_string())
                .unwrap_or_default(),
            active: k.active,
        })
        .collect();
    keys.sort_by(|a, b| b.created.cmp(&a.created));
    c.frame.render(
        state,
        "admin/keys",
        "Signing keys",
        notice(q.done.as_deref()),
        &KeysPage { keys },
    )
}

/// `POST /admin/keys`: generates a key and makes it the signer.
pub async fn post_keys(
    state: web::Data<AppState>,
    req: HttpRequest,
    Checked(form): Checked<ActionForm>,
) -> Result<HttpResponse, WebError> {
    generate(&state, &req, form).await
}

async fn generate(
    state: &AppState,
    req: &HttpRequest,
    _form: ActionForm,
) -> Result<HttpResponse, WebError> {
    let c = enter!(state, req, "keys");
    console::require_global(&c.actor)?;
    let now = state.now();
    let kid = state.rotate_key(now).map_err(WebError::internal)?;
    console::record_key_rotation(state.db(), &c.actor, &kid, now).await;
    Ok(see_other("/admin/keys?done=key_generated"))
}
