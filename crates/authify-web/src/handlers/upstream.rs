//! Upstream sign-in (`authify_core::authn` `upstream`): the login page's provider buttons
//! (`POST /login/upstream/{name}`), the provider's return (`GET /login/upstream/{name}/callback`),
//! and linking or unlinking providers on the account page. Thin: one engine call each.

use actix_web::{HttpRequest, HttpResponse, web};
use authify_core::account::Unlink;
use authify_core::authn::{Progress, UpstreamAnswer, UpstreamReturn};
use authify_core::manage::Actor;
use authify_domain::Password;
use serde::Deserialize;

use super::signin::{next_step, signed_in, upstream_refused, with_flow};
use crate::console::page::ActionForm;
use crate::error::WebError;
use crate::extract::{Checked, SignedIn};
use crate::pages::see_other;
use crate::state::AppState;

/// What the provider sends the browser back with (other parameters, `iss` say, are ignored).
#[derive(Debug, Deserialize)]
pub struct CallbackQuery {
    code: Option<String>,
    state: Option<String>,
    error: Option<String>,
}

/// `POST /login/upstream/{name}`: off to the provider, the flow (and its return) kept.
pub async fn post_start(
    state: web::Data<AppState>,
    req: HttpRequest,
    name: web::Path<String>,
    // SECURITY: a form with the flow's token (`Checked`): no page elsewhere can start a round
    // trip in this browser.
    Checked(_form): Checked<ActionForm>,
) -> Result<HttpResponse, WebError> {
    let (url, flow) = state
        .authn()
        .upstream_begin(
            state.cookies().read(&req),
            &name,
            state.client(&req).ip,
            state.now(),
        )
        .await?;
    with_flow(&state, see_other(&url), &flow)
}

/// `GET /login/upstream/{name}/callback`.
pub async fn get_callback(
    state: web::Data<AppState>,
    req: HttpRequest,
    name: web::Path<String>,
    query: web::Query<CallbackQuery>,
) -> Result<HttpResponse, WebError> {
    let q = query.into_inner();
    let answer = UpstreamAnswer {
        code: q.code,
        state: q.state,
        error: q.error,
    };
    let outcome = state
        .authn()
        .upstream_return(
            state.cookies().read(&req),
            &name,
            answer,
            state.keys().keyring.clone(),
            state.client(&req),
            state.now(),
        )
        .await?;
    match outcome {
        UpstreamReturn::SignIn(Progress::Done(done)) => signed_in(&state, done),
        UpstreamReturn::SignIn(Progress::Pending { flow, state: at }) => {
            next_step(&state, &flow, at)
        }
        UpstreamReturn::SignIn(Progress::Refused { reason, form }) => {
            upstream_refused(&state, &form, reason)
        }
        UpstreamReturn::Linked => Ok(see_other("/account?done=provider_linked")),
        UpstreamReturn::NotLinked(message) => Err(WebError::Conflict(message)),
    }
}

/// `POST /account/upstream/{name}/link`: off to the provider to link it to this account, once
/// the current password is confirmed.
pub async fn post_link(
    state: web::Data<AppState>,
    req: HttpRequest,
    name: web::Path<String>,
    Checked(form): Checked<ActionForm>,
    SignedIn(actor): SignedIn,
) -> Result<HttpResponse, WebError> {
    let password = Password::attempt(&form.current_password.unwrap_or_default());
    let (url, flow) = state
        .account()
        .upstream_link_begin(
            &actor.user,
            password,
            state.cookies().read(&req),
            &name,
            state.now(),
        )
        .await?
        .ok_or(WebError::WrongPassword)?;
    with_flow(&state, see_other(&url), &flow)
}

/// `POST /account/upstream/{name}/unlink`: unless it is the account's last way in.
pub async fn post_unlink(
    state: web::Data<AppState>,
    req: HttpRequest,
    name: web::Path<String>,
    Checked(_form): Checked<ActionForm>,
    SignedIn(actor): SignedIn,
) -> Result<HttpResponse, WebError> {
    unlink(&state, &req, &name, actor).await
}

async fn unlink(
    state: &AppState,
    req: &HttpRequest,
    name: &str,
    actor: Actor,
) -> Result<HttpResponse, WebError> {
    match state
        .account()
        .upstream_unlink(&actor.user, name, state.client(req), state.now())
        .await?
    {
        Unlink::Done => Ok(see_other("/account?done=provider_unlinked")),
        Unlink::NotLinked => Ok(see_other("/account")),
        Unlink::LastWayIn => Err(WebError::Conflict(
            "This provider is the only way into your account. Set a password first (Forgot your password? on the sign-in page mails you a link), add a passkey, or link another provider, then unlink it.".into(),
        )),
    }
}
