//! `/admin/apps` (global admins): registered applications: creating one (its secret is shown
//! once, on the response to the POST), editing name and callbacks, rotating the secret (shown
//! once) and deleting (both after confirmation).

use actix_web::{HttpRequest, HttpResponse, web};
use authify_core::apps::AppOptions;
use authify_core::manage::apps;
use authify_core::manage::views::AppInfo;
use authify_core::oidc::ClientType;
use serde::{Deserialize, Serialize};

use super::gate::enter;
use super::page::{ActionForm, Confirm, Field, Secret, enc, notice};
use crate::error::WebError;
use crate::extract::Checked;
use crate::pages::see_other;
use crate::state::AppState;

#[derive(Serialize)]
struct AppsPage {
    apps: Vec<AppInfo>,
    form: OptionsForm,
}

#[derive(Serialize)]
struct AppPage {
    app: AppInfo,
    callbacks_text: String,
    form: OptionsForm,
    require_mfa: bool,
}

/// What the options form shows as chosen.
#[derive(Serialize, Default)]
struct OptionsForm {
    public: bool,
    service: bool,
    es384: bool,
    es512: bool,
}

impl OptionsForm {
    fn of(app: &AppInfo) -> Self {
        OptionsForm {
            public: app.client_type == "public",
            service: app.client_type == "service",
            es384: app.algorithm == "ES384",
            es512: app.algorithm == "ES512",
        }
    }
}

/// The OpenID options of the create and settings forms.
fn app_options(form: &ActionForm) -> Result<AppOptions, WebError> {
    let optional = |v: &Option<String>| {
        v.as_deref()
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
    };
    Ok(AppOptions {
        client_type: match ActionForm::text(&form.client_type) {
            "" => ClientType::Confidential,
            other => ClientType::parse(other)
                .ok_or_else(|| WebError::Invalid(format!("unknown client type {other:?}")))?,
        },
        first_party: form.first_party.as_deref() == Some("yes"),
        algorithm: match ActionForm::text(&form.algorithm) {
            "" => authify_jwt::Algorithm::ES256,
            a => a
                .parse()
                .map_err(|_| WebError::Invalid(format!("unknown algorithm {a:?}")))?,
        },
        backchannel_logout_uri: optional(&form.backchannel_logout_uri),
        post_logout_redirect_uri: optional(&form.post_logout_redirect_uri),
    })
}

/// Query carrying only a notice flag.
#[derive(Debug, Default, Deserialize)]
pub struct DoneQuery {
    /// Notice flag.
    pub done: Option<String>,
}

/// The textarea's lines, trimmed, blank ones dropped.
fn callback_lines(raw: &str) -> Vec<String> {
    raw.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(str::to_owned)
        .collect()
}

fn app_url(app_id: &str) -> String {
    format!("/admin/apps/{}", enc(app_id))
}

/// `GET /admin/apps`.
pub async fn get_apps(
    state: web::Data<AppState>,
    req: HttpRequest,
    query: web::Query<DoneQuery>,
) -> Result<HttpResponse, WebError> {
    let (state, req) = (state.get_ref(), &req);
    let q = query.into_inner();
    let c = enter!(state, req, "apps");
    let view = AppsPage {
        form: OptionsForm::default(),
        apps: apps::list(state.db(), &c.actor).await?,
    };
    c.frame.render(
        state,
        "admin/apps",
        "Applications",
        notice(q.done.as_deref()),
        &view,
    )
}

/// `POST /admin/apps`: registers an application and shows its secret once.
pub async fn post_apps(
    state: web::Data<AppState>,
    req: HttpRequest,
    Checked(form): Checked<ActionForm>,
) -> Result<HttpResponse, WebError> {
    create(&state, &req, form).await
}

async fn create(
    state: &AppState,
    req: &HttpRequest,
    form: ActionForm,
) -> Result<HttpResponse, WebError> {
    let c = enter!(state, req, "apps");
    let callbacks = callback_lines(ActionForm::text(&form.callbacks));
    let name = ActionForm::text(&form.name);
    let options = app_options(&form)?;
    let (app, secret) = apps::create(
        state.db(),
        &c.actor,
        name,
        &callbacks,
        &options,
        &state.config().outbound,
        state.now(),
    )
    .await?;
    let mut values = vec![Field::shown("app_id", "App ID", app.app_id.clone())];
    if let Some(secret) = secret {
        values.push(Field::shown("secret", "Secret", secret));
    }
    c.frame.secret(
        state,
        &Secret {
            heading: format!("{} is registered", app.name),
            message: if values.len() > 1 {
                "Copy the secret now: Authify stores only a hash of it and will not show it again. Rotate it if it is lost."
            } else {
                "A public application has no secret: it proves itself with PKCE (S256) instead."
            },
            back_url: app_url(&app.app_id),
            values,
        },
    )
}

/// `GET /admin/apps/{app_id}`.
pub async fn get_app(
    state: web::Data<AppState>,
    req: HttpRequest,
    app_id: web::Path<String>,
    query: web::Query<DoneQuery>,
) -> Result<HttpResponse, WebError> {
    let (state, req) = (state.get_ref(), &req);
    let app_id = &app_id;
    let q = query.into_inner();
    let c = enter!(state, req, "apps");
    let app = apps::get(state.db(), &c.actor, app_id).await?;
    let require_mfa = apps::requires_mfa(state.db(), &c.actor, app_id).await?;
    let view = AppPage {
        require_mfa,
        callbacks_text: app.callbacks.join("\n"),
        form: OptionsForm::of(&app),
        app,
    };
    let title = view.app.name.clone();
    c.frame
        .render(state, "admin/app", &title, notice(q.done.as_deref()), &view)
}

/// `POST /admin/apps/{app_id}/update`: name and callbacks.
pub async fn post_update(
    state: web::Data<AppState>,
    req: HttpRequest,
    app_id: web::Path<String>,
    Checked(form): Checked<ActionForm>,
) -> Result<HttpResponse, WebError> {
    update(&state, &req, &app_id, form).await
}

async fn update(
    state: &AppState,
    req: &HttpRequest,
    app_id: &str,
    form: ActionForm,
) -> Result<HttpResponse, WebError> {
    let c = enter!(state, req, "apps");
    let callbacks = callback_lines(ActionForm::text(&form.callbacks));
    let name = ActionForm::text(&form.name);
    let options = app_options(&form)?;
    // A service application has no callbacks; an empty list is not a change then.
    let callbacks = (!(callbacks.is_empty() && options.client_type == ClientType::Service))
        .then_some(callbacks);
    let app = apps::update(
        state.db(),
        &c.actor,
        app_id,
        Some(name),
        callbacks.as_deref(),
        Some(&options),
        &state.config().outbound,
        state.now(),
    )
    .await?;
    let require_mfa = ActionForm::yes(&form.require_mfa);
    if require_mfa != apps::requires_mfa(state.db(), &c.actor, app_id).await? {
        apps::set_require_mfa(state.db(), &c.actor, app_id, require_mfa, state.now()).await?;
    }
    Ok(see_other(&format!(
        "{}?done=app_updated",
        app_url(&app.app_id)
    )))
}

/// `POST /admin/apps/{app_id}/rotate` (confirmed): shows the new secret once.
pub async fn post_rotate(
    state: web::Data<AppState>,
    req: HttpRequest,
    app_id: web::Path<String>,
    Checked(form): Checked<ActionForm>,
) -> Result<HttpResponse, WebError> {
    rotate(&state, &req, &app_id, form).await
}

async fn rotate(
    state: &AppState,
    req: &HttpRequest,
    app_id: &str,
    form: ActionForm,
) -> Result<HttpResponse, WebError> {
    let c = enter!(state, req, "apps");
    let app = apps::get(state.db(), &c.actor, app_id).await?;
    if !form.confirmed() {
        return c.frame.confirm(
            state,
            &Confirm {
                heading: format!("Rotate the secret of {}?", app.name),
                message: "The current secret stops working at once; the application must be given the new one.".into(),
                action: format!("{}/rotate", app_url(app_id)),
                fields: vec![],
                button: "Rotate secret",
                cancel_url: app_url(app_id),
            },
        );
    }
    let secret = apps::rotate_secret(state.db(), &c.actor, app_id, state.now()).await?;
    c.frame.secret(
        state,
        &Secret {
            heading: format!("New secret of {}", app.name),
            message: "Copy the secret now: Authify stores only a hash of it and will not show it again.",
            back_url: app_url(&app.app_id),
            values: vec![
                Field::shown("app_id", "App ID", app.app_id.clone()),
                Field::shown("secret", "Secret", secret),
            ],
        },
    )
}

/// `POST /admin/apps/{app_id}/delete` (confirmed).
pub async fn post_delete(
    state: web::Data<AppState>,
    req: HttpRequest,
    app_id: web::Path<String>,
    Checked(form): Checked<ActionForm>,
) -> Result<HttpResponse, WebError> {
    delete(&state, &req, &app_id, form).await
}

async fn delete(
    state: &AppState,
    req: &HttpRequest,
    app_id: &str,
    form: ActionForm,
) -> Result<HttpResponse, WebError> {
    let c = enter!(state, req, "apps");
    if !form.confirmed() {
        let app = apps::get(state.db(), &c.actor, app_id).await?;
        return c.frame.confirm(
            state,
            &Confirm {
                heading: format!("Delete {}?", app.name),
                message: "Its callbacks stop working at once and its users can no longer sign in to it. This cannot be undone.".into(),
                action: format!("{}/delete", app_url(app_id)),
                fields: vec![],
                button: "Delete application",
                cancel_url: app_url(app_id),
            },
        );
    }
    apps::delete(state.db(), &c.actor, app_id, state.now()).await?;
    Ok(see_other("/admin/apps?done=app_deleted"))
}

#[cfg(test)]
mod tests {
    use super::callback_lines;

    #[test]
    fn callbacks_are_one_per_line_trimmed_without_blank_lines() {
        assert_eq!(
            callback_lines(" https://a.test/cb \r\n\r\nhttps://b.test/cb\n"),
            vec!["https://a.test/cb", "https://b.test/cb"]
        );
    }
}
