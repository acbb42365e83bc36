//! `/api/v1/applications`: global admins only.

use actix_web::{HttpResponse, web};
use authify_core::apps::AppOptions;
use authify_core::manage::apps;
use authify_core::oidc::ClientType;
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
    #[serde(default)]
    callbacks: Vec<String>,
    client_type: Option<String>,
    first_party: Option<bool>,
    algorithm: Option<String>,
    /// `null` removes it.
    #[serde(default, deserialize_with = "present")]
    backchannel_logout_uri: Option<Option<String>>,
    /// `null` removes it.
    #[serde(default, deserialize_with = "present")]
    post_logout_redirect_uri: Option<Option<String>>,
}

/// A field that is present (even as `null`) is `Some`.
fn present<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<Option<String>>, D::Error> {
    Option::<String>::deserialize(d).map(Some)
}

/// The OpenID options of an application, each optional (absent: unchanged, or the default).
#[derive(Debug, Default)]
struct OptionsBody {
    client_type: Option<String>,
    first_party: Option<bool>,
    algorithm: Option<String>,
    backchannel_logout_uri: Option<Option<String>>,
    post_logout_redirect_uri: Option<Option<String>>,
}

macro_rules! options_body {
    ($b:expr) => {
        OptionsBody {
            client_type: $b.client_type,
            first_party: $b.first_party,
            algorithm: $b.algorithm,
            backchannel_logout_uri: $b.backchannel_logout_uri,
            post_logout_redirect_uri: $b.post_logout_redirect_uri,
        }
    };
}

impl OptionsBody {
    fn given(&self) -> bool {
        self.client_type.is_some()
            || self.first_party.is_some()
            || self.algorithm.is_some()
            || self.backchannel_logout_uri.is_some()
            || self.post_logout_redirect_uri.is_some()
    }

    /// `base` with the given fields replaced.
    fn apply(self, mut base: AppOptions) -> Result<AppOptions, WebError> {
        let invalid = |m: String| WebError::Invalid(m);
        if let Some(t) = self.client_type {
            base.client_type = ClientType::parse(&t).ok_or_else(|| {
                invalid(format!(
                    "client_type {t:?}: use confidential, public or service"
                ))
            })?;
        }
        if let Some(f) = self.first_party {
            base.first_party = f;
        }
        if let Some(a) = self.algorithm {
            base.algorithm = a
                .parse()
                .map_err(|_| invalid(format!("algorithm {a:?}: use ES256, ES384 or ES512")))?;
        }
        if let Some(u) = self.backchannel_logout_uri {
            base.backchannel_logout_uri = u;
        }
        if let Some(u) = self.post_logout_redirect_uri {
            base.post_logout_redirect_uri = u;
        }
        Ok(base)
    }
}

/// `POST /api/v1/applications`: the secret is in this response only.
pub async fn create(
    state: web::Data<AppState>,
    ApiActor(actor): ApiActor,
    body: web::Bytes,
) -> Result<HttpResponse, WebError> {
    let b: NewApp = json(&body)?;
    let (name, callbacks) = (b.name.clone(), b.callbacks.clone());
    let options = options_body!(b).apply(AppOptions::default())?;
    let (app, secret) = apps::create(
        state.db(),
        &actor,
        &name,
        &callbacks,
        &options,
        &state.config().outbound,
        state.now(),
    )
    .await?;
    let mut out = serde_json::to_value(&app).map_err(WebError::internal)?;
    out["secret"] = value!(secret);
    Ok(created(&out))
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
    client_type: Option<String>,
    first_party: Option<bool>,
    algorithm: Option<String>,
    /// `null` removes it.
    #[serde(default, deserialize_with = "present")]
    backchannel_logout_uri: Option<Option<String>>,
    /// `null` removes it.
    #[serde(default, deserialize_with = "present")]
    post_logout_redirect_uri: Option<Option<String>>,
}

/// `PATCH /api/v1/applications/{app_id}`: name and/or the whole callback list.
pub async fn patch(
    state: web::Data<AppState>,
    ApiActor(actor): ApiActor,
    app_id: web::Path<String>,
    body: web::Bytes,
) -> Result<HttpResponse, WebError> {
    let b: AppChange = json(&body)?;
    let (name, callbacks) = (b.name.clone(), b.callbacks.clone());
    let body = options_body!(b);
    let options = if body.given() {
        let current = apps::get(state.db(), &actor, &app_id).await?;
        Some(body.apply(options_of(&current))?)
    } else {
        None
    };
    Ok(ok(&apps::update(
        state.db(),
        &actor,
        &app_id,
        name.as_deref(),
        callbacks.as_deref(),
        options.as_ref(),
        &state.config().outbound,
        state.now(),
    )
    .await?))
}

/// The options an application has now.
fn options_of(app: &authify_core::manage::views::AppInfo) -> AppOptions {
    AppOptions {
        client_type: ClientType::parse(&app.client_type).unwrap_or(ClientType::Confidential),
        first_party: app.first_party,
        algorithm: app
            .algorithm
            .parse()
            .unwrap_or(authify_jwt::Algorithm::ES256),
        backchannel_logout_uri: app.backchannel_logout_uri.clone(),
        post_logout_redirect_uri: app.post_logout_redirect_uri.clone(),
    }
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
