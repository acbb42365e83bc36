//! The pages of mailed links: `/password/forgot` and `/password/reset` (password reset,
//! `authify_core::authn::reset`), `/email/verify` (`authify_core::authn::verify`) and `/invite`
//! (`authify_core::authn::invite`). Thin handlers: one engine call each. A mailed link's GET
//! only shows its page (mail scanners follow links); its POST spends the link.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use authify_core::account::reset::ResetOutcome;
use authify_core::authn::{AuthnError, FlowCookie, Opened, ReturnRequest, csrf};
use authify_domain::Password;
use serde::{Deserialize, Serialize};

use crate::error::WebError;
use crate::extract::{Checked, CsrfForm};
use crate::handlers::signin::{open, with_flow};
use crate::pages::{current_user, render};
use crate::state::AppState;

/// The form of `/password/forgot`.
#[derive(Debug, Deserialize)]
pub struct ForgotForm {
    csrf_token: Option<String>,
    email: Option<String>,
}

/// The link's query, and the form of `/password/reset`.
#[derive(Debug, Deserialize)]
pub struct ResetForm {
    csrf_token: Option<String>,
    token: Option<String>,
    password: Option<String>,
}

#[derive(Serialize, Default)]
struct ForgotView {
    title: &'static str,
    csrf_token: String,
    email: Option<String>,
    error: Option<String>,
    sent: bool,
}

#[derive(Serialize, Default)]
struct ResetView {
    title: &'static str,
    csrf_token: String,
    token: String,
    email: String,
    error: Option<String>,
    password_min: usize,
    expired: bool,
    done: bool,
}

/// A form token for this browser: its session's when signed in, else its sign-in flow's (made
/// now when it has none; the cookie to set comes back with it).
async fn form_token(
    state: &AppState,
    req: &HttpRequest,
) -> Result<(String, Option<FlowCookie>), WebError> {
    let cookies = state.cookies().read(req);
    if let Some(session) = cookies.session.as_deref()
        && current_user(state, req).await?.is_some()
    {
        return Ok((csrf::token_for(session), None));
    }
    match open(state, req, &ReturnRequest::new(None, None)).await? {
        Opened::Form(ctx) => Ok((ctx.csrf, Some(ctx.flow))),
        Opened::StepUp { flow, .. } => Ok((csrf::token_for(&flow.token), Some(flow))),
        Opened::Returned { .. } => Err(WebError::internal("a signed-in browser without a session")),
    }
}

fn page<T: Serialize>(
    state: &AppState,
    name: &str,
    view: &T,
    status: StatusCode,
    flow: Option<FlowCookie>,
) -> Result<HttpResponse, WebError> {
    let res = render(state, name, view, status)?;
    match flow {
        Some(flow) => with_flow(state, res, &flow),
        None => Ok(res),
    }
}

/// `GET /password/forgot`.
pub async fn get_forgot(
    state: web::Data<AppState>,
    req: HttpRequest,
) -> Result<HttpResponse, WebError> {
    let (csrf_token, flow) = form_token(&state, &req).await?;
    let view = ForgotView {
        title: "Reset your password",
        csrf_token,
        ..ForgotView::default()
    };
    page(&state, "pages/password_forgot", &view, StatusCode::OK, flow)
}

/// `POST /password/forgot`: the same page for every address.
pub async fn post_forgot(
    state: web::Data<AppState>,
    req: HttpRequest,
    Checked(form): Checked<ForgotForm>,
) -> Result<HttpResponse, WebError> {
    let email = form.email.unwrap_or_default().trim().to_owned();
    let asked = state
        .account()
        .reset_request(&email, state.client(&req), state.now())
        .await;
    let (csrf_token, flow) = form_token(&state, &req).await?;
    let mut view = ForgotView {
        title: "Reset your password",
        csrf_token,
        email: Some(email),
        ..ForgotView::default()
    };
    let status = match asked {
        Ok(()) => {
            view.sent = true;
            StatusCode::OK
        }
        Err(AuthnError::BadRequest(why)) => {
            view.error = Some(crate::pages::sentence(&why));
            StatusCode::BAD_REQUEST
        }
        Err(e) => return Err(e.into()),
    };
    page(&state, "pages/password_forgot", &view, status, flow)
}

fn reset_view(csrf_token: String) -> ResetView {
    ResetView {
        title: "Choose a new password",
        csrf_token,
        password_min: Password::MIN,
        ..ResetView::default()
    }
}

/// `GET /password/reset?token=…`: the form, when the link is live. Spends nothing.
pub async fn get_reset(
    state: web::Data<AppState>,
    req: HttpRequest,
    query: web::Query<ResetForm>,
) -> Result<HttpResponse, WebError> {
    let token = query.into_inner().token.unwrap_or_default();
    let email = state.account().reset_check(&token, state.now()).await?;
    let (csrf_token, flow) = form_token(&state, &req).await?;
    let mut view = reset_view(csrf_token);
    let status = match email {
        Some(email) => {
            view.email = email;
            view.token = token;
            StatusCode::OK
        }
        None => {
            view.title = "This link no longer works";
            view.expired = true;
            StatusCode::GONE
        }
    };
    page(&state, "pages/password_reset", &view, status, flow)
}

/// `POST /password/reset`: sets the password and spends the link.
pub async fn post_reset(
    state: web::Data<AppState>,
    req: HttpRequest,
    Checked(form): Checked<ResetForm>,
) -> Result<HttpResponse, WebError> {
    let token = form.token.unwrap_or_default();
    let finished = state
        .account()
        .reset_finish(
            &token,
            form.password.as_deref().unwrap_or_default(),
            state.client(&req),
            state.now(),
        )
        .await;
    let (csrf_token, flow) = form_token(&state, &req).await?;
    let mut view = reset_view(csrf_token);
    let status = match finished {
        Ok(ResetOutcome::Done) => {
            view.title = "Password changed";
            view.done = true;
            // The browser's own session, if any, ended with the others: its cookie goes too.
            let mut res = page(&state, "pages/password_reset", &view, StatusCode::OK, flow)?;
            res.add_removal_cookie(&state.cookies().session_removal())
                .map_err(WebError::internal)?;
            return Ok(res);
        }
        Ok(ResetOutcome::Expired) => {
            view.title = "This link no longer works";
            view.expired = true;
            StatusCode::GONE
        }
        Err(AuthnError::BadRequest(why)) => {
            view.error = Some(crate::pages::sentence(&why));
            view.email = state
                .account()
                .reset_check(&token, state.now())
                .await?
                .unwrap_or_default();
            view.token = token;
            StatusCode::BAD_REQUEST
        }
        Err(e) => return Err(e.into()),
    };
    page(&state, "pages/password_reset", &view, status, flow)
}

#[derive(Serialize, Default)]
struct VerifyView {
    title: &'static str,
    csrf_token: String,
    token: String,
    email: String,
    expired: bool,
    done: bool,
}

/// `GET /email/verify?token=…`: a button to confirm, when the link is live. Spends nothing.
pub async fn get_verify(
    state: web::Data<AppState>,
    req: HttpRequest,
    query: web::Query<ResetForm>,
) -> Result<HttpResponse, WebError> {
    let token = query.into_inner().token.unwrap_or_default();
    let email = state.account().verify_check(&token, state.now()).await?;
    let (csrf_token, flow) = form_token(&state, &req).await?;
    let (view, status) = match email {
        Some(email) => (
            VerifyView {
                title: "Confirm your e-mail address",
                csrf_token,
                token,
                email,
                ..VerifyView::default()
            },
            StatusCode::OK,
        ),
        None => (
            VerifyView {
                title: "This link no longer works",
                expired: true,
                ..VerifyView::default()
            },
            StatusCode::GONE,
        ),
    };
    page(&state, "pages/email_verify", &view, status, flow)
}

/// `POST /email/verify`: spends the link and confirms the address.
pub async fn post_verify(
    state: web::Data<AppState>,
    req: HttpRequest,
    Checked(form): Checked<ResetForm>,
) -> Result<HttpResponse, WebError> {
    let token = form.token.unwrap_or_default();
    let email = state.account().verify_check(&token, state.now()).await?;
    let done = state
        .account()
        .verify_finish(&token, state.client(&req), state.now())
        .await?;
    let (view, status) = match (done, email) {
        (true, Some(email)) => (
            VerifyView {
                title: "Address confirmed",
                email,
                done: true,
                ..VerifyView::default()
            },
            StatusCode::OK,
        ),
        _ => (
            VerifyView {
                title: "This link no longer works",
                expired: true,
                ..VerifyView::default()
            },
            StatusCode::GONE,
        ),
    };
    page(&state, "pages/email_verify", &view, status, None)
}

#[derive(Serialize, Default)]
struct InviteView {
    title: String,
    csrf_token: String,
    token: String,
    organization: String,
    email: String,
    signed_in_as: Option<String>,
    expired: bool,
}

/// `GET /invite?token=…`: what the invitation offers; a signed-in user gets the button to
/// accept. Spends nothing.
pub async fn get_invite(
    state: web::Data<AppState>,
    req: HttpRequest,
    query: web::Query<ResetForm>,
) -> Result<HttpResponse, WebError> {
    let token = query.into_inner().token.unwrap_or_default();
    let offer = state
        .account()
        .invitation_check(&token, state.now())
        .await?;
    let user = current_user(&state, &req).await?;
    let (csrf_token, flow) = form_token(&state, &req).await?;
    let (view, status) = match offer {
        Some(offer) => (
            InviteView {
                title: format!("Join {}", offer.organization),
                csrf_token,
                token,
                organization: offer.organization,
                email: offer.email,
                signed_in_as: user.map(|u| u.email),
                expired: false,
            },
            StatusCode::OK,
        ),
        None => (
            InviteView {
                title: "This invitation no longer works".into(),
                expired: true,
                ..InviteView::default()
            },
            StatusCode::GONE,
        ),
    };
    page(&state, "pages/invite", &view, status, flow)
}

/// `POST /invite`: the signed-in user accepts; on to the account page.
pub async fn post_invite(
    state: web::Data<AppState>,
    req: HttpRequest,
    Checked(form): Checked<ResetForm>,
) -> Result<HttpResponse, WebError> {
    let Some(user) = current_user(&state, &req).await? else {
        return Ok(crate::pages::see_other("/login"));
    };
    let token = form.token.unwrap_or_default();
    let joined = state
        .account()
        .invitation_accept(&token, &user, state.client(&req), state.now())
        .await?;
    match joined {
        Some(_) => Ok(crate::pages::see_other("/account?done=joined")),
        None => {
            let view = InviteView {
                title: "This invitation no longer works".into(),
                expired: true,
                ..InviteView::default()
            };
            page(&state, "pages/invite", &view, StatusCode::GONE, None)
        }
    }
}

impl CsrfForm for ForgotForm {
    fn csrf_token(&self) -> Option<&str> {
        self.csrf_token.as_deref()
    }
}

impl CsrfForm for ResetForm {
    fn csrf_token(&self) -> Option<&str> {
        self.csrf_token.as_deref()
    }
}
