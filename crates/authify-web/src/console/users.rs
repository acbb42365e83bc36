//! `/admin/users` (global admins): search by e-mail or name, page through, disable or enable a
//! user (disabling asks for confirmation), grant or revoke global admin.

use actix_web::{HttpRequest, HttpResponse, web};
use authify_core::manage::PageRequest;
use authify_core::manage::users::{self, UserChange, UserFilter};
use authify_core::manage::views::UserInfo;
use serde::{Deserialize, Serialize};

use super::gate::enter;
use super::page::{ActionForm, Confirm, Field, enc, link, notice};
use crate::error::WebError;
use crate::extract::Checked;
use crate::pages::see_other;
use crate::state::AppState;

/// Query of list pages.
#[derive(Debug, Default, Deserialize)]
pub struct ListQuery {
    /// Search text.
    pub q: Option<String>,
    /// Page cursor.
    pub cursor: Option<String>,
    /// Notice flag.
    pub done: Option<String>,
}

#[derive(Serialize)]
struct UsersPage {
    q: String,
    users: Vec<UserInfo>,
    self_uid: String,
    next_url: Option<String>,
    failing_webhooks: Vec<FailingWebhook>,
}

/// A webhook failing several times in a row, shown above the users.
#[derive(Serialize)]
struct FailingWebhook {
    name: String,
    failures: i32,
    last_error: String,
    since: String,
}

/// `GET /admin`: the first section the actor may open.
pub async fn get_admin(
    state: web::Data<AppState>,
    req: HttpRequest,
) -> Result<HttpResponse, WebError> {
    let (state, req) = (state.get_ref(), &req);
    let c = enter!(state, req, "users");
    Ok(see_other(if c.global() {
        "/admin/users"
    } else {
        "/admin/orgs"
    }))
}

/// `GET /admin/users?q=&cursor=`.
pub async fn get_users(
    state: web::Data<AppState>,
    req: HttpRequest,
    query: web::Query<ListQuery>,
) -> Result<HttpResponse, WebError> {
    let (state, req) = (state.get_ref(), &req);
    let q = query.into_inner();
    let c = enter!(state, req, "users");
    let text = q.q.unwrap_or_default();
    let page = PageRequest {
        cursor: q.cursor,
        limit: None,
    };
    let filter = UserFilter {
        query: Some(text.clone()).filter(|t| !t.trim().is_empty()),
        ..UserFilter::default()
    };
    let found = users::list(state.db(), &c.actor, filter, page).await?;
    let failing_webhooks = authify_core::notify::failing_webhooks(state.db())
        .await?
        .into_iter()
        .map(|w| FailingWebhook {
            name: w.name,
            failures: w.failures,
            last_error: w.last_error.unwrap_or_default(),
            since: w.updated_at.format("%Y-%m-%d %H:%M").to_string(),
        })
        .collect();
    let view = UsersPage {
        failing_webhooks,
        next_url: found
            .next_cursor
            .as_deref()
            .map(|cur| link("/admin/users", &[("q", Some(&text)), ("cursor", Some(cur))])),
        q: text,
        users: found.items,
        self_uid: c.actor.user.public_id.clone(),
    };
    c.frame.render(
        state,
        "admin/users",
        "Users",
        notice(q.done.as_deref()),
        &view,
    )
}

/// `POST /admin/users/{uid}/disabled`: `value=yes` disables (after confirmation), `no` enables.
pub async fn post_disabled(
    state: web::Data<AppState>,
    req: HttpRequest,
    uid: web::Path<String>,
    Checked(form): Checked<ActionForm>,
) -> Result<HttpResponse, WebError> {
    set_disabled(&state, &req, &uid, form).await
}

async fn set_disabled(
    state: &AppState,
    req: &HttpRequest,
    uid: &str,
    form: ActionForm,
) -> Result<HttpResponse, WebError> {
    let c = enter!(state, req, "users");
    let disable = ActionForm::yes(&form.value);
    if disable && !form.confirmed() {
        let user = users::get(state.db(), &c.actor, uid).await?;
        return c.frame.confirm(
            state,
            &Confirm {
                heading: format!("Disable {}?", user.email),
                message:
                    "They are signed out everywhere at once and cannot sign in until enabled again."
                        .into(),
                action: format!("/admin/users/{}/disabled", enc(uid)),
                fields: vec![Field::hidden("value", "yes")],
                button: "Disable user",
                cancel_url: "/admin/users".into(),
            },
        );
    }
    let change = UserChange {
        disabled: Some(disable),
        ..UserChange::default()
    };
    users::update(state.db(), &c.actor, uid, change, state.now()).await?;
    let done = if disable {
        "user_disabled"
    } else {
        "user_enabled"
    };
    Ok(see_other(&format!("/admin/users?done={done}")))
}

/// `POST /admin/users/{uid}/admin`: `value=yes` grants global admin, `no` revokes it.
pub async fn post_admin(
    state: web::Data<AppState>,
    req: HttpRequest,
    uid: web::Path<String>,
    Checked(form): Checked<ActionForm>,
) -> Result<HttpResponse, WebError> {
    set_admin(&state, &req, &uid, form).await
}

async fn set_admin(
    state: &AppState,
    req: &HttpRequest,
    uid: &str,
    form: ActionForm,
) -> Result<HttpResponse, WebError> {
    let c = enter!(state, req, "users");
    let admin = ActionForm::yes(&form.value);
    let change = UserChange {
        admin: Some(admin),
        ..UserChange::default()
    };
    users::update(state.db(), &c.actor, uid, change, state.now()).await?;
    let done = if admin {
        "admin_granted"
    } else {
        "admin_revoked"
    };
    Ok(see_other(&format!("/admin/users?done={done}")))
}

/// `POST /admin/users/{uid}/factors/reset` (confirmed): removes every second factor.
pub async fn post_reset_factors(
    state: web::Data<AppState>,
    req: HttpRequest,
    uid: web::Path<String>,
    Checked(form): Checked<ActionForm>,
) -> Result<HttpResponse, WebError> {
    let c = enter!(state.get_ref(), &req, "users");
    if !form.confirmed() {
        let user = users::get(state.db(), &c.actor, &uid).await?;
        return c.frame.confirm(
            state.get_ref(),
            &Confirm {
                heading: format!("Reset the second factors of {}?", user.email),
                message: "Every authenticator app, phone, e-mail code, approver device and recovery code of this user is removed; they sign in with their password alone until they set up a new factor, and are told by e-mail. Do this only once you are sure who asked.".into(),
                action: format!("/admin/users/{}/factors/reset", enc(&uid)),
                fields: vec![],
                button: "Reset second factors",
                cancel_url: "/admin/users".into(),
            },
        );
    }
    users::reset_factors(
        state.db(),
        &c.actor,
        &uid,
        &state.authn().mfa().costs,
        state.now(),
    )
    .await?;
    Ok(see_other("/admin/users?done=factors_reset"))
}
