//! The account's second factors: `/account/totp` (set up an authenticator app, QR code as an
//! SVG file), `/account/phone` (codes by SMS, confirmed with a code), `/account/factors/email`,
//! removal and new recovery codes after the password, and `/account/approvals` (make this
//! browser an approver device; answer pending requests with number matching). Thin handlers:
//! one engine call each (`authify_core::authn` factors).

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use authify_core::account::{ApprovalView, Decision};
use serde::{Deserialize, Serialize};

use crate::console::page::{ActionForm, notice};
use crate::cookies::session_csrf;
use crate::error::WebError;
use crate::extract::{Checked, CsrfForm, SignedIn};
use crate::handlers::factor::{CodeForm, CodesView, EnrolView};
use crate::pages::{render, see_other};
use crate::state::AppState;

/// The phone form. No `Debug`: it holds a password.
#[derive(Deserialize)]
pub struct PhoneForm {
    csrf_token: Option<String>,
    phone: Option<String>,
    current_password: Option<String>,
}

impl CsrfForm for PhoneForm {
    fn csrf_token(&self) -> Option<&str> {
        self.csrf_token.as_deref()
    }
}

/// An approver's answer.
#[derive(Debug, Deserialize)]
pub struct DecisionForm {
    csrf_token: Option<String>,
    decision: Option<String>,
    number: Option<String>,
}

impl CsrfForm for DecisionForm {
    fn csrf_token(&self) -> Option<&str> {
        self.csrf_token.as_deref()
    }
}

/// Query with a notice.
#[derive(Debug, Default, Deserialize)]
pub struct DoneQuery {
    done: Option<String>,
}

/// The recovery codes, once; or on to the account page when there are none to show.
fn codes_or_account(
    state: &AppState,
    req: &HttpRequest,
    codes: Vec<String>,
    heading: &'static str,
) -> Result<HttpResponse, WebError> {
    if codes.is_empty() {
        return Ok(see_other("/account?done=factor_added"));
    }
    let view = CodesView {
        title: "Save your recovery codes",
        heading,
        message: "",
        csrf_token: session_csrf(&state.cookies().read(req)),
        codes,
        continue_action: None,
    };
    render(state, "pages/codes", &view, StatusCode::OK)
}

/// `GET /account/totp`: the QR code, the key and the code field.
pub async fn get_totp(
    state: web::Data<AppState>,
    req: HttpRequest,
    SignedIn(actor): SignedIn,
) -> Result<HttpResponse, WebError> {
    let session = state.cookies().read(&req).session;
    let enrolment = state
        .account()
        .totp_enrolment(&actor, session.as_deref(), state.now())
        .await?;
    let view = EnrolView {
        title: "Set up an authenticator app",
        csrf_token: session_csrf(&state.cookies().read(&req)),
        app_name: None,
        required: false,
        required_by: String::new(),
        qr_url: "/account/totp/qr.svg",
        secret: enrolment.secret,
        uri: enrolment.uri,
        action: "/account/totp",
        error: None,
    };
    render(&state, "pages/enrol", &view, StatusCode::OK)
}

/// `GET /account/totp/qr.svg`.
pub async fn get_totp_qr(
    state: web::Data<AppState>,
    req: HttpRequest,
    SignedIn(actor): SignedIn,
) -> Result<HttpResponse, WebError> {
    let session = state.cookies().read(&req).session;
    let enrolment = state
        .account()
        .totp_enrolment(&actor, session.as_deref(), state.now())
        .await?;
    Ok(crate::qr::svg_response(&enrolment.uri))
}

/// `POST /account/totp`: the first code turns the app on.
pub async fn post_totp(
    state: web::Data<AppState>,
    req: HttpRequest,
    Checked(form): Checked<CodeForm>,
    SignedIn(actor): SignedIn,
) -> Result<HttpResponse, WebError> {
    let session = state.cookies().read(&req).session;
    let password = form.current_password.unwrap_or_default();
    let codes = state
        .account()
        .totp_confirm(
            &actor,
            session.as_deref(),
            form.code.unwrap_or_default(),
            &password,
            state.client(&req),
            state.now(),
        )
        .await?;
    codes_or_account(&state, &req, codes, "Your authenticator app is set up")
}

#[derive(Serialize)]
struct PhoneView {
    title: &'static str,
    csrf_token: String,
    destination: String,
}

/// `POST /account/phone`: sends a code to the new number.
pub async fn post_phone(
    state: web::Data<AppState>,
    req: HttpRequest,
    Checked(form): Checked<PhoneForm>,
    SignedIn(actor): SignedIn,
) -> Result<HttpResponse, WebError> {
    let destination = state
        .account()
        .phone_start(
            &actor,
            form.phone.as_deref().unwrap_or_default(),
            form.current_password.as_deref().unwrap_or_default(),
            &state.client(&req),
            state.now(),
        )
        .await?;
    let view = PhoneView {
        title: "Confirm your phone",
        csrf_token: session_csrf(&state.cookies().read(&req)),
        destination,
    };
    render(&state, "pages/phone", &view, StatusCode::OK)
}

/// `POST /account/phone/confirm`.
pub async fn post_phone_confirm(
    state: web::Data<AppState>,
    req: HttpRequest,
    Checked(form): Checked<CodeForm>,
    SignedIn(actor): SignedIn,
) -> Result<HttpResponse, WebError> {
    let codes = state
        .account()
        .phone_confirm(
            &actor,
            form.code.unwrap_or_default(),
            state.client(&req),
            state.now(),
        )
        .await?;
    codes_or_account(&state, &req, codes, "Your phone is set up")
}

/// `POST /account/factors/email`: codes by e-mail, after the password.
pub async fn post_email_factor(
    state: web::Data<AppState>,
    req: HttpRequest,
    Checked(form): Checked<ActionForm>,
    SignedIn(actor): SignedIn,
) -> Result<HttpResponse, WebError> {
    let password = form.current_password.unwrap_or_default();
    let codes = state
        .account()
        .email_factor(&actor, &password, state.client(&req), state.now())
        .await?;
    codes_or_account(&state, &req, codes, "Codes by e-mail are on")
}

/// `POST /account/factors/{id}/remove`, after the password.
pub async fn post_remove(
    state: web::Data<AppState>,
    req: HttpRequest,
    path: web::Path<String>,
    Checked(form): Checked<ActionForm>,
    SignedIn(actor): SignedIn,
) -> Result<HttpResponse, WebError> {
    let id = path
        .parse::<i64>()
        .map_err(|_| WebError::NotFound("no such factor".into()))?;
    let password = form.current_password.unwrap_or_default();
    state
        .account()
        .remove_factor(&actor, id, &password, state.client(&req), state.now())
        .await?;
    Ok(see_other("/account?done=factor_removed"))
}

/// `POST /account/passkeys/{id}/rename`.
pub async fn post_rename_passkey(
    state: web::Data<AppState>,
    path: web::Path<String>,
    Checked(form): Checked<ActionForm>,
    SignedIn(actor): SignedIn,
) -> Result<HttpResponse, WebError> {
    let id = path
        .parse::<i64>()
        .map_err(|_| WebError::NotFound("no such passkey".into()))?;
    state
        .account()
        .rename_passkey(
            &actor,
            id,
            form.name.as_deref().unwrap_or_default(),
            state.now(),
        )
        .await?;
    Ok(see_other("/account?done=passkey_renamed"))
}

/// `POST /account/recovery-codes`: new codes, after the password.
pub async fn post_recovery_codes(
    state: web::Data<AppState>,
    req: HttpRequest,
    Checked(form): Checked<ActionForm>,
    SignedIn(actor): SignedIn,
) -> Result<HttpResponse, WebError> {
    let password = form.current_password.unwrap_or_default();
    let codes = state
        .account()
        .renew_recovery_codes(&actor, &password, state.client(&req), state.now())
        .await?;
    codes_or_account(&state, &req, codes, "New recovery codes")
}

#[derive(Serialize)]
struct ApprovalsView {
    title: &'static str,
    csrf_token: String,
    notice: Option<&'static str>,
    this_device: bool,
    requests: Vec<ApprovalView>,
}

/// `GET /account/approvals`: register this browser; pending requests to answer.
pub async fn get_approvals(
    state: web::Data<AppState>,
    req: HttpRequest,
    query: web::Query<DoneQuery>,
    SignedIn(actor): SignedIn,
) -> Result<HttpResponse, WebError> {
    let cookies = state.cookies().read(&req);
    let factors = state
        .account()
        .factors(&actor.user, cookies.device.clone())
        .await?;
    let requests = state.account().approvals(&actor.user, state.now()).await?;
    let view = ApprovalsView {
        title: "Sign-in approvals",
        csrf_token: session_csrf(&cookies),
        notice: notice(query.done.as_deref()),
        this_device: factors.this_device,
        requests,
    };
    render(&state, "pages/approvals", &view, StatusCode::OK)
}

/// `POST /account/approvals`: this browser becomes an approver device (a long-lived cookie).
pub async fn post_approvals(
    state: web::Data<AppState>,
    req: HttpRequest,
    Checked(form): Checked<CodeForm>,
    SignedIn(actor): SignedIn,
) -> Result<HttpResponse, WebError> {
    let password = form.current_password.unwrap_or_default();
    let client = state.client(&req);
    let label = client
        .user_agent
        .clone()
        .unwrap_or_else(|| "Browser".to_owned());
    let (token, codes) = state
        .account()
        .register_device(&actor, &label, &password, client, state.now())
        .await?;
    let mut res = if codes.is_empty() {
        see_other("/account/approvals?done=device_added")
    } else {
        codes_or_account(
            &state,
            &req,
            codes,
            "This browser now approves your sign-ins",
        )?
    };
    res.add_cookie(&state.cookies().device_cookie(token))
        .map_err(WebError::internal)?;
    Ok(res)
}

/// `POST /account/approvals/{id}`: `decision=approve|deny` with the `number` picked.
pub async fn post_decision(
    state: web::Data<AppState>,
    req: HttpRequest,
    path: web::Path<String>,
    Checked(form): Checked<DecisionForm>,
    SignedIn(actor): SignedIn,
) -> Result<HttpResponse, WebError> {
    let approve = form.decision.as_deref() == Some("approve");
    let number = form.number.as_deref().and_then(|n| n.trim().parse().ok());
    let device = state.cookies().read(&req).device;
    let decision = state
        .account()
        .decide(
            &actor,
            device,
            &path.into_inner(),
            approve,
            number,
            state.client(&req),
            state.now(),
        )
        .await?;
    Ok(see_other(match decision {
        Decision::Approved => "/account/approvals?done=approved",
        Decision::Denied => "/account/approvals?done=denied",
    }))
}
