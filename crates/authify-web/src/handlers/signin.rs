//! `/login`, `/signup`: thin handlers over the sign-in engine (`authify_core::authn`).
//!
//! `/login?callback=<base64 url>&state=..`: the callback is checked against the registered
//! applications before anything else (a bad one gets a 400 page, signed in or not); a user with
//! a session goes straight back with a fresh token (single sign-on); otherwise the form of the
//! browser's sign-in flow. Each handler makes one engine call.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use authify_core::authn::{
    AuthnError, Completion, FlowCookie, FlowState, FormContext, Opened, Progress, Refusal,
    ReturnRequest, SignUpForm,
};
use authify_domain::Password;
use serde::Deserialize;

use crate::error::{Said, WebError, refusal};
use crate::extract::{Checked, CsrfForm};
use crate::pages::{render, see_other};
use crate::state::AppState;
use crate::views::{LoginView, SignupView};

/// Query of `/login` and `/signup`.

#[derive(Debug, Default, Deserialize)]
pub struct FlowQuery {
    pub(crate) callback: Option<String>,
    pub(crate) state: Option<String>,
    pub(crate) response_type: Option<String>,
    signed_out: Option<String>,
    ended: Option<String>,
}

/// The sign-in form. Every field is optional so a tampered form reaches the CSRF check and gets a
/// page, not an extractor error. No `Debug`: it holds a password.
#[derive(Deserialize)]
pub struct LoginForm {
    csrf_token: Option<String>,
    email: Option<String>,
    password: Option<String>,
    callback: Option<String>,
    state: Option<String>,
    response_type: Option<String>,
}

/// The sign-up form. No `Debug`: it holds a password.
#[derive(Deserialize)]
pub struct SignupForm {
    csrf_token: Option<String>,
    name: Option<String>,
    email: Option<String>,
    password: Option<String>,
    callback: Option<String>,
    state: Option<String>,
    response_type: Option<String>,
    work: Option<String>,
}

/// The legacy request: `callback`, `state`, and `response_type=code` for the code exchange.
pub(crate) fn request_of(
    callback: Option<String>,
    state: Option<String>,
    response_type: Option<String>,
) -> ReturnRequest {
    ReturnRequest::new(callback, state).with_code(response_type.as_deref() == Some("code"))
}

pub(crate) fn flow_link(path: &str, request: &ReturnRequest) -> String {
    let mut query = url::form_urlencoded::Serializer::new(String::new());
    if let Some(c) = &request.callback {
        query.append_pair("callback", c);
    }
    if let Some(s) = &request.state {
        query.append_pair("state", s);
    }
    if request.code {
        query.append_pair("response_type", "code");
    }
    let query = query.finish();
    if query.is_empty() {
        path.to_owned()
    } else {
        format!("{path}?{query}")
    }
}

/// What a form page shows besides the form's flow.
#[derive(Default)]
struct Shown {
    name: Option<String>,
    email: Option<String>,
    error: Option<String>,
    notice: Option<String>,
}

/// Adds the flow cookie when the flow is new.
pub(crate) fn with_flow(
    state: &AppState,
    mut res: HttpResponse,
    flow: &FlowCookie,
) -> Result<HttpResponse, WebError> {
    if flow.new {
        let cookie = state
            .cookies()
            .flow_cookie(flow.token.clone(), flow.max_age);
        res.add_cookie(&cookie).map_err(WebError::internal)?;
    }
    Ok(res)
}

fn show_login(
    state: &AppState,
    form: &FormContext,
    request: &ReturnRequest,
    shown: Shown,
    status: StatusCode,
) -> Result<HttpResponse, WebError> {
    let view = LoginView {
        title: "Sign in",
        csrf_token: form.csrf.clone(),
        signup_url: flow_link("/signup", request),
        signup_enabled: state.config().signup_enabled,
        email: shown.email,
        error: shown.error,
        notice: shown.notice,
        callback: request.callback.clone(),
        state: request.state.clone(),
        code_exchange: request.code,
        app_name: form.ret.app_name().map(str::to_owned),
        passkeys: state.authn().mfa().passkeys.is_some(),
        phone_url: flow_link("/login/phone", request),
        email_link_url: (state.authn().magic_links())
            .then(|| flow_link("/login/email-link", request)),
        providers: state.authn().upstream_providers(),
    };
    with_flow(
        state,
        render(state, "pages/login", &view, status)?,
        &form.flow,
    )
}

/// The sign-in form after an upstream provider did not sign the user in: why, or (a new
/// identity whose address has an account here) the invitation to sign in once to link it.
pub(crate) fn upstream_refused(
    state: &AppState,
    form: &FormContext,
    reason: Refusal,
) -> Result<HttpResponse, WebError> {
    let (said, status) = refusal(&reason);
    let mut shown = Shown::default();
    match said {
        Said::Error(m) => shown.error = Some(m),
        Said::Notice(m) => shown.notice = Some(m),
    }
    if let Refusal::LinkFirst { email, .. } = reason {
        shown.email = Some(email);
    }
    show_login(state, form, &ReturnRequest::default(), shown, status)
}

/// The sign-in form of an OpenID authorization request's flow, prefilled with `login_hint`.
pub(crate) fn login_form(
    state: &AppState,
    form: &FormContext,
    login_hint: Option<String>,
) -> Result<HttpResponse, WebError> {
    let shown = Shown {
        email: login_hint,
        ..Shown::default()
    };
    show_login(
        state,
        form,
        &ReturnRequest::default(),
        shown,
        StatusCode::OK,
    )
}

fn show_signup(
    state: &AppState,
    form: &FormContext,
    request: &ReturnRequest,
    shown: Shown,
    status: StatusCode,
) -> Result<HttpResponse, WebError> {
    let work = state.authn().signup_work(state.now())?;
    let view = SignupView {
        title: "Create your account",
        work_bits: work.as_ref().map_or(0, |w| w.bits),
        work_challenge: work.map(|w| w.challenge),
        csrf_token: form.csrf.clone(),
        login_url: flow_link("/login", request),
        password_min: Password::MIN,
        name: shown.name,
        email: shown.email,
        error: shown.error,
        callback: request.callback.clone(),
        state: request.state.clone(),
        code_exchange: request.code,
        app_name: form.ret.app_name().map(str::to_owned),
    };
    with_flow(
        state,
        render(state, "pages/signup", &view, status)?,
        &form.flow,
    )
}

/// Signed in: the new session cookie, the flow cookie gone (unless the flow waits for consent),
/// on to the return.
pub(crate) fn signed_in(state: &AppState, done: Completion) -> Result<HttpResponse, WebError> {
    let names = state.cookies();
    let mut res = see_other(&done.location);
    res.add_cookie(&names.session_cookie(done.session, done.max_age))
        .map_err(WebError::internal)?;
    if !done.flow_kept {
        res.add_cookie(&names.flow_removal())
            .map_err(WebError::internal)?;
    }
    Ok(res)
}

/// The page of each state a flow waits in: the one place a [`FlowState`] becomes a URL.
pub(crate) fn page_of(at: FlowState) -> &'static str {
    match at {
        FlowState::FirstFactor | FlowState::Upstream => "/login",
        FlowState::SecondFactor => "/login/factor",
        FlowState::Enrol | FlowState::RecoveryCodes => "/login/enrol",
        FlowState::Approval => "/login/approval",
        FlowState::Consent => "/oauth/consent",
    }
}

/// The flow waits for more: on to the page of its state.
pub(crate) fn next_step(
    state: &AppState,
    flow: &FlowCookie,
    at: FlowState,
) -> Result<HttpResponse, WebError> {
    with_flow(state, see_other(page_of(at)), flow)
}

/// Where a step left the flow, as a response: signed in, on to the page of the state the flow
/// waits in, or the sign-in form saying why not.
pub(crate) fn moved_on(state: &AppState, progress: Progress) -> Result<HttpResponse, WebError> {
    match progress {
        Progress::Done(done) => signed_in(state, done),
        Progress::Pending { flow, state: at } => next_step(state, &flow, at),
        Progress::Refused { reason, form } => upstream_refused(state, &form, reason),
    }
}

/// The engine's answer to opening a form page for `request`.
pub(crate) async fn open(
    state: &AppState,
    req: &HttpRequest,
    request: &ReturnRequest,
) -> Result<Opened, WebError> {
    Ok(state
        .authn()
        .open(
            state.cookies().read(req),
            request.clone(),
            state.keys().keyring.clone(),
            state.client(req),
            state.now(),
        )
        .await?)
}

fn trimmed(v: &str) -> Option<String> {
    Some(v.trim().to_owned()).filter(|v| !v.is_empty())
}

/// `GET /login`.
pub async fn get_login(
    state: web::Data<AppState>,
    req: HttpRequest,
    query: web::Query<FlowQuery>,
) -> Result<HttpResponse, WebError> {
    let (state, req) = (state.get_ref(), &req);
    let q = query.into_inner();
    let request = request_of(q.callback, q.state, q.response_type);
    let opened = open(state, req, &request).await?;
    match opened {
        Opened::Returned { location } => Ok(see_other(&location)),
        Opened::StepUp { flow, state: at } => next_step(state, &flow, at),
        Opened::Form(form) => {
            let shown = Shown {
                notice: match (q.signed_out, q.ended.as_deref()) {
                    (Some(_), _) => Some("You have been signed out.".to_owned()),
                    (None, Some("failures")) => Some(
                        "Too many wrong codes: that sign-in attempt has ended. Sign in again."
                            .to_owned(),
                    ),
                    (None, Some(_)) => {
                        Some("That sign-in attempt has expired. Sign in again.".to_owned())
                    }
                    (None, None) => None,
                },
                ..Shown::default()
            };
            show_login(state, &form, &request, shown, StatusCode::OK)
        }
    }
}

/// `POST /login`.
pub async fn post_login(
    state: web::Data<AppState>,
    req: HttpRequest,
    Checked(form): Checked<LoginForm>,
) -> Result<HttpResponse, WebError> {
    let (state, req) = (state.get_ref(), &req);
    let request = request_of(form.callback, form.state, form.response_type);
    let email = form.email.unwrap_or_default();
    let progress = state
        .authn()
        .password(
            state.cookies().read(req),
            request.clone(),
            &email,
            Password::attempt(&form.password.unwrap_or_default()),
            state.keys().keyring.clone(),
            state.client(req),
            state.now(),
        )
        .await?;
    match progress {
        Progress::Done(done) => signed_in(state, done),
        Progress::Pending { flow, state: at } => next_step(state, &flow, at),
        Progress::Refused { reason, form } => {
            let (said, status) = refusal(&reason);
            let shown = Shown {
                email: trimmed(&email),
                error: Some(said.text()),
                ..Shown::default()
            };
            show_login(state, &form, &request, shown, status)
        }
    }
}

/// `GET /signup`.
pub async fn get_signup(
    state: web::Data<AppState>,
    req: HttpRequest,
    query: web::Query<FlowQuery>,
) -> Result<HttpResponse, WebError> {
    let (state, req) = (state.get_ref(), &req);
    let q = query.into_inner();
    if !state.config().signup_enabled {
        return Err(AuthnError::SignupDisabled.into());
    }
    let request = request_of(q.callback, q.state, q.response_type);
    let opened = open(state, req, &request).await?;
    match opened {
        Opened::Returned { location } => Ok(see_other(&location)),
        Opened::StepUp { flow, state: at } => next_step(state, &flow, at),
        Opened::Form(form) => show_signup(state, &form, &request, Shown::default(), StatusCode::OK),
    }
}

/// `POST /signup`.
pub async fn post_signup(
    state: web::Data<AppState>,
    req: HttpRequest,
    Checked(form): Checked<SignupForm>,
) -> Result<HttpResponse, WebError> {
    let (state, req) = (state.get_ref(), &req);
    let request = request_of(form.callback, form.state, form.response_type);
    let input = SignUpForm {
        name: form.name.unwrap_or_default(),
        email: form.email.unwrap_or_default(),
        password: form.password.unwrap_or_default(),
        work: form.work,
    };
    let (name, email) = (trimmed(&input.name), trimmed(&input.email));
    let progress = state
        .authn()
        .sign_up(
            state.cookies().read(req),
            request.clone(),
            input,
            state.keys().keyring.clone(),
            state.client(req),
            state.now(),
        )
        .await?;
    match progress {
        Progress::Done(done) => signed_in(state, done),
        Progress::Pending { flow, state: at } => next_step(state, &flow, at),
        Progress::Refused { reason, form } => {
            let (said, status) = refusal(&reason);
            let shown = Shown {
                name,
                email,
                error: Some(said.text()),
                notice: None,
            };
            show_signup(state, &form, &request, shown, status)
        }
    }
}

impl CsrfForm for LoginForm {
    fn csrf_token(&self) -> Option<&str> {
        self.csrf_token.as_deref()
    }
}

impl CsrfForm for SignupForm {
    fn csrf_token(&self) -> Option<&str> {
        self.csrf_token.as_deref()
    }
}
