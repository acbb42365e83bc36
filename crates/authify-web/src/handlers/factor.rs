//! The second-factor steps of a sign-in (`authify_core::authn` second): `/login/factor` (a code,
//! sending one, or asking the approver device), `/login/approval` (the waiting page and its JSON
//! status), `/login/enrol` (setting up a factor when policy requires one) and `/login/continue`.
//! Every step works without JavaScript; each handler makes one engine call.

use actix_web::http::{StatusCode, header};
use actix_web::{HttpRequest, HttpResponse, web};
use authify_core::authn::{
    ApprovalState, AuthnError, EnrolStep, FactorAnswer, FactorOutcome, FactorStep, Prompt,
};
use authify_core::mfa::Method;
use serde::{Deserialize, Serialize};

use crate::error::WebError;
use crate::extract::{Checked, CsrfForm};
use crate::handlers::signin::signed_in;
use crate::pages::{render, see_other};
use crate::state::AppState;

/// Query of `/login/factor`.
#[derive(Debug, Default, Deserialize)]
pub struct FactorQuery {
    method: Option<String>,
}

/// The form of `/login/factor`. No `Debug`: it holds a code.
#[derive(Deserialize)]
pub struct FactorForm {
    csrf_token: Option<String>,
    method: Option<String>,
    action: Option<String>,
    code: Option<String>,
}

/// The form of `/login/enrol` and `/login/continue`. No `Debug`: it holds a code.
#[derive(Deserialize)]
pub struct CodeForm {
    pub(crate) csrf_token: Option<String>,
    pub(crate) code: Option<String>,
    /// The current password, where adding a factor from the account page needs it.
    pub(crate) current_password: Option<String>,
}

impl crate::extract::CsrfForm for CodeForm {
    fn csrf_token(&self) -> Option<&str> {
        self.csrf_token.as_deref()
    }
}

#[derive(Serialize)]
struct Other {
    value: &'static str,
    label: &'static str,
}

#[derive(Serialize)]
struct FactorView {
    title: &'static str,
    csrf_token: String,
    app_name: Option<String>,
    method: &'static str,
    push: bool,
    passkey: bool,
    send: bool,
    ask_code: bool,
    resend: bool,
    recovery: bool,
    code_label: &'static str,
    code_hint: String,
    destination: Option<String>,
    others: Vec<Other>,
    email_link: bool,
    error: Option<String>,
    notice: Option<String>,
}

fn show_step(
    state: &AppState,
    step: FactorStep,
    error: Option<String>,
    status: StatusCode,
) -> Result<HttpResponse, WebError> {
    let mut view = FactorView {
        title: "Two-step verification",
        csrf_token: step.csrf,
        app_name: step.app_name,
        method: step.method.as_str(),
        push: false,
        passkey: false,
        send: false,
        ask_code: false,
        resend: false,
        recovery: false,
        code_label: "Code we sent you",
        code_hint: String::new(),
        destination: None,
        others: step
            .methods
            .iter()
            .filter(|o| **o != step.method)
            .map(|o| Other {
                value: o.as_str(),
                label: o.label(),
            })
            .collect(),
        email_link: state.authn().magic_links() && step.email_link,
        notice: None,
        error,
    };
    match step.prompt {
        Prompt::Approve => view.push = true,
        Prompt::Passkey => view.passkey = true,
        Prompt::Code {
            label,
            hint,
            recovery,
        } => {
            (view.ask_code, view.code_label, view.code_hint) = (true, label, hint);
            view.recovery = recovery;
        }
        Prompt::Sent { to, sent } => {
            (view.send, view.ask_code, view.resend) = (!sent, sent, sent);
            view.code_hint = format!("Sent to {to}.");
            if sent && view.error.is_none() {
                view.notice = Some(format!("We sent a code to {to}."));
            }
            view.destination = Some(to);
        }
    }
    render(state, "pages/factor", &view, status)
}

/// A sign-in that is over (expired, or too many wrong codes): back to the start.
fn start_again(state: &AppState, why: &'static str) -> Result<HttpResponse, WebError> {
    let mut res = see_other(&format!("/login?ended={why}"));
    res.add_cookie(&state.cookies().flow_removal())
        .map_err(WebError::internal)?;
    Ok(res)
}

/// `GET /login/factor`.
pub async fn get_factor(
    state: web::Data<AppState>,
    req: HttpRequest,
    query: web::Query<FactorQuery>,
) -> Result<HttpResponse, WebError> {
    let wanted = query.method.as_deref().and_then(Method::parse);
    let step = state
        .authn()
        .factor_step(state.cookies().read(&req), wanted, state.now())
        .await;
    match step {
        Ok(step) => show_step(&state, step, None, StatusCode::OK),
        Err(AuthnError::NoFlow) => start_again(&state, "expired"),
        Err(e) => Err(e.into()),
    }
}

/// `POST /login/factor`: `action=verify` (with `code`), `send` (SMS or e-mail) or `push`.
pub async fn post_factor(
    state: web::Data<AppState>,
    req: HttpRequest,
    Checked(form): Checked<FactorForm>,
) -> Result<HttpResponse, WebError> {
    let state = state.get_ref();
    let method = form
        .method
        .as_deref()
        .and_then(Method::parse)
        .ok_or_else(|| WebError::Invalid("the form names no verification method".into()))?;
    let answer = match form.action.as_deref() {
        Some("push") => FactorAnswer::Approve,
        Some("send") => FactorAnswer::Send,
        _ => FactorAnswer::Code(form.code.unwrap_or_default()),
    };
    let outcome = state
        .authn()
        .factor_answer(
            state.cookies().read(&req),
            method,
            answer,
            state.keys().keyring.clone(),
            state.client(&req),
            state.now(),
        )
        .await;
    match outcome {
        Ok(FactorOutcome::Done(done)) => signed_in(state, done),
        Ok(FactorOutcome::Page(step)) => show_step(state, step, None, StatusCode::OK),
        Ok(FactorOutcome::Wrong(step, why)) => {
            show_step(state, step, Some(why), StatusCode::UNAUTHORIZED)
        }
        Ok(FactorOutcome::Approval) => Ok(see_other("/login/approval")),
        Ok(FactorOutcome::Ended) => start_again(state, "failures"),
        Err(e) => over(state, e),
    }
}

/// An engine error of a step: a sign-in that is no longer waiting starts again.
fn over(state: &AppState, e: AuthnError) -> Result<HttpResponse, WebError> {
    match e {
        AuthnError::NoFlow => start_again(state, "expired"),
        other => Err(other.into()),
    }
}

#[derive(Serialize)]
struct ApprovalView {
    title: &'static str,
    csrf_token: String,
    pending: bool,
    denied: bool,
    expired: bool,
    number: i32,
    passwordless: bool,
}

/// `GET /login/approval`: JSON `{"status": ...}` for `Accept: application/json` (the page's
/// script); for the page itself, the number while pending (refreshing itself every 5 seconds
/// for browsers without JavaScript), the sign-in once approved, or why not.
pub async fn get_approval(
    state: web::Data<AppState>,
    req: HttpRequest,
) -> Result<HttpResponse, WebError> {
    let wants_json = req
        .headers()
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.contains("application/json"));
    let cookies = state.cookies().read(&req);
    if wants_json {
        let status = match state.authn().approval_state(cookies, state.now()).await {
            Ok(s) => s.status(),
            Err(AuthnError::NoFlow) => "expired",
            Err(e) => return Err(e.into()),
        };
        return Ok(HttpResponse::Ok()
            .insert_header((header::CACHE_CONTROL, "no-store"))
            .json(serde_json::json!({ "status": status })));
    }
    let finished = state
        .authn()
        .finish_push(
            cookies.clone(),
            state.keys().keyring.clone(),
            state.client(&req),
            state.now(),
        )
        .await;
    let approval = match finished {
        Ok(Ok(done)) => return signed_in(&state, done),
        Ok(Err(ApprovalState::NextFactor)) => return Ok(see_other("/login/factor")),
        Ok(Err(s)) => s,
        Err(AuthnError::NoFlow) => return start_again(&state, "expired"),
        Err(e) => return Err(e.into()),
    };
    let csrf_token = crate::cookies::flow_csrf(&cookies);
    let view = ApprovalView {
        title: "Approve on your device",
        csrf_token,
        pending: matches!(approval, ApprovalState::Pending { .. }),
        denied: approval == ApprovalState::Denied,
        expired: approval == ApprovalState::Expired,
        number: match approval {
            ApprovalState::Pending { number, .. } => number,
            _ => 0,
        },
        passwordless: match &approval {
            ApprovalState::Pending { passwordless, .. } => *passwordless,
            _ => state
                .authn()
                .waiting_passwordless(cookies, state.now())
                .await
                .unwrap_or(false),
        },
    };
    let mut res = render(&state, "pages/approval", &view, StatusCode::OK)?;
    if view.pending {
        res.headers_mut()
            .insert(header::REFRESH, header::HeaderValue::from_static("5"));
    }
    Ok(res)
}

#[derive(Serialize)]
pub(crate) struct EnrolView {
    pub title: &'static str,
    pub csrf_token: String,
    pub app_name: Option<String>,
    pub required: bool,
    pub required_by: String,
    pub qr_url: &'static str,
    pub secret: String,
    pub uri: String,
    pub action: &'static str,
    pub error: Option<String>,
}

fn show_enrol(
    state: &AppState,
    step: EnrolStep,
    error: Option<String>,
    status: StatusCode,
) -> Result<HttpResponse, WebError> {
    let view = EnrolView {
        title: "Set up an authenticator app",
        csrf_token: step.csrf,
        app_name: step.app_name,
        required: true,
        required_by: step.required_by,
        qr_url: "/login/enrol/qr.svg",
        secret: step.enrolment.secret,
        uri: step.enrolment.uri,
        action: "/login/enrol",
        error,
    };
    render(state, "pages/enrol", &view, status)
}

/// `GET /login/enrol`: the TOTP set-up of a sign-in whose policy requires a factor.
pub async fn get_enrol(
    state: web::Data<AppState>,
    req: HttpRequest,
) -> Result<HttpResponse, WebError> {
    match state
        .authn()
        .enrol_step(state.cookies().read(&req), state.now())
        .await
    {
        Ok(step) => show_enrol(&state, step, None, StatusCode::OK),
        Err(AuthnError::NoFlow) => start_again(&state, "expired"),
        Err(e) => Err(e.into()),
    }
}

/// `GET /login/enrol/qr.svg`: the QR code of that set-up.
pub async fn get_enrol_qr(
    state: web::Data<AppState>,
    req: HttpRequest,
) -> Result<HttpResponse, WebError> {
    match state
        .authn()
        .enrol_step(state.cookies().read(&req), state.now())
        .await
    {
        Ok(step) => Ok(crate::qr::svg_response(&step.enrolment.uri)),
        Err(AuthnError::NoFlow) => Err(WebError::NotFound("no set-up is in progress".into())),
        Err(e) => Err(e.into()),
    }
}

#[derive(Serialize)]
pub(crate) struct CodesView {
    pub title: &'static str,
    pub heading: &'static str,
    pub message: &'static str,
    pub csrf_token: String,
    pub codes: Vec<String>,
    pub continue_action: Option<&'static str>,
}

/// `POST /login/enrol`: the code that turns the factor on; then the recovery codes.
pub async fn post_enrol(
    state: web::Data<AppState>,
    req: HttpRequest,
    Checked(form): Checked<CodeForm>,
) -> Result<HttpResponse, WebError> {
    let cookies = state.cookies().read(&req);
    let outcome = state
        .authn()
        .enrol_confirm(
            cookies.clone(),
            form.code.unwrap_or_default(),
            state.keys().keyring.clone(),
            state.client(&req),
            state.now(),
        )
        .await;
    match outcome {
        Ok(Ok(step)) => {
            let view = CodesView {
                title: "Save your recovery codes",
                heading: "Two-step verification is on",
                message: "",
                csrf_token: step.csrf,
                codes: step.recovery_codes,
                continue_action: Some("/login/continue"),
            };
            render(&state, "pages/codes", &view, StatusCode::OK)
        }
        Ok(Err(Some(why))) => {
            let step = state.authn().enrol_step(cookies, state.now()).await?;
            show_enrol(&state, step, Some(why), StatusCode::UNAUTHORIZED)
        }
        Ok(Err(None)) | Err(AuthnError::NoFlow) => start_again(&state, "failures"),
        Err(e) => Err(e.into()),
    }
}

/// `POST /login/continue`: on from the recovery codes to where the sign-in returns.
pub async fn post_continue(
    state: web::Data<AppState>,
    req: HttpRequest,
    Checked(_): Checked<CodeForm>,
) -> Result<HttpResponse, WebError> {
    match state
        .authn()
        .enrol_continue(
            state.cookies().read(&req),
            state.keys().keyring.clone(),
            state.client(&req),
            state.now(),
        )
        .await
    {
        Ok(done) => signed_in(&state, done),
        Err(AuthnError::NoFlow) => start_again(&state, "expired"),
        Err(e) => Err(e.into()),
    }
}

impl CsrfForm for FactorForm {
    fn csrf_token(&self) -> Option<&str> {
        self.csrf_token.as_deref()
    }
}
