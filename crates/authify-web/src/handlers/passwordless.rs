//! `/login/phone`: "Sign in with my phone" (`authify_core::authn` passwordless). The page asks
//! only for the e-mail address; its POST sends an approval request to the user's approver
//! devices and the browser waits on `/login/approval` with the number to pick. The answer is the
//! same for every address. Thin handlers: one engine call each.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use authify_core::authn::{AuthnError, FormContext, Opened, ReturnRequest};
use serde::{Deserialize, Serialize};

use crate::error::WebError;
use crate::extract::{Checked, CsrfForm};
use crate::handlers::signin::{FlowQuery, flow_link, next_step, open, request_of, with_flow};
use crate::pages::{render, see_other};
use crate::state::AppState;

/// The form of `/login/phone`.
#[derive(Debug, Deserialize)]
pub struct PhoneSignInForm {
    csrf_token: Option<String>,
    email: Option<String>,
    callback: Option<String>,
    state: Option<String>,
    response_type: Option<String>,
}

#[derive(Serialize)]
struct PhoneSignInView {
    title: &'static str,
    csrf_token: String,
    email: Option<String>,
    error: Option<String>,
    callback: Option<String>,
    state: Option<String>,
    code_exchange: bool,
    app_name: Option<String>,
    login_url: String,
}

fn show(
    state: &AppState,
    form: &FormContext,
    request: &ReturnRequest,
    email: Option<String>,
    error: Option<String>,
    status: StatusCode,
) -> Result<HttpResponse, WebError> {
    let view = PhoneSignInView {
        title: "Sign in with your phone",
        csrf_token: form.csrf.clone(),
        email,
        error,
        callback: request.callback.clone(),
        state: request.state.clone(),
        code_exchange: request.code,
        app_name: form.ret.app_name().map(str::to_owned),
        login_url: flow_link("/login", request),
    };
    with_flow(
        state,
        render(state, "pages/phone_signin", &view, status)?,
        &form.flow,
    )
}

/// `GET /login/phone`.
pub async fn get_phone_signin(
    state: web::Data<AppState>,
    req: HttpRequest,
    query: web::Query<FlowQuery>,
) -> Result<HttpResponse, WebError> {
    let q = query.into_inner();
    let request = request_of(q.callback, q.state, q.response_type);
    match open(&state, &req, &request).await? {
        Opened::Returned { location } => Ok(see_other(&location)),
        Opened::StepUp { flow, state: at } => next_step(&state, &flow, at),
        Opened::Form(form) => show(&state, &form, &request, None, None, StatusCode::OK),
    }
}

/// `POST /login/phone`: on to the waiting page, whatever the address.
pub async fn post_phone_signin(
    state: web::Data<AppState>,
    req: HttpRequest,
    Checked(form): Checked<PhoneSignInForm>,
) -> Result<HttpResponse, WebError> {
    let request = request_of(form.callback, form.state, form.response_type);
    let email = form.email.unwrap_or_default();
    let started = state
        .authn()
        .passwordless_start(
            state.cookies().read(&req).flow,
            request.clone(),
            email.trim(),
            state.client(&req),
            state.now(),
        )
        .await;
    match started {
        Ok(flow) => with_flow(&state, see_other("/login/approval"), &flow),
        Err(AuthnError::BadRequest(why)) => match open(&state, &req, &request).await? {
            Opened::Form(ctx) => show(
                &state,
                &ctx,
                &request,
                Some(email),
                Some(crate::pages::sentence(&why)),
                StatusCode::BAD_REQUEST,
            ),
            Opened::Returned { location } => Ok(see_other(&location)),
            Opened::StepUp { flow, state: at } => next_step(&state, &flow, at),
        },
        Err(e) => Err(e.into()),
    }
}

impl CsrfForm for PhoneSignInForm {
    fn csrf_token(&self) -> Option<&str> {
        self.csrf_token.as_deref()
    }
}
