//! `/login/email-link`: "e-mail me a sign-in link" (`authify_core::authn` magic links). The
//! page asks for the address (first factor) or offers the link to the confirmed address of the
//! user whose flow waits for a second factor; its POST mails the link and answers the same for
//! every address. The mailed link opens `/login/email-link/confirm`, whose GET only shows a
//! confirm button (or says the link belongs to another browser, or expired); its POST spends
//! the link. Answered 404 while `AUTHIFY_MAGIC_LINKS` is off. Thin handlers: one engine call
//! each; the flow's answer becomes a response in [`crate::handlers::signin::moved_on`].

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use authify_core::authn::{AuthnError, LinkAnswer, LinkPage, ReturnRequest};
use serde::{Deserialize, Serialize};

use crate::error::WebError;
use crate::extract::{Checked, CsrfForm};
use crate::handlers::signin::{FlowQuery, flow_link, moved_on, request_of, with_flow};
use crate::pages::{render, sentence};
use crate::state::AppState;

/// The form of `/login/email-link`.
#[derive(Debug, Deserialize)]
pub struct LinkForm {
    csrf_token: Option<String>,
    email: Option<String>,
    callback: Option<String>,
    state: Option<String>,
    response_type: Option<String>,
}

impl CsrfForm for LinkForm {
    fn csrf_token(&self) -> Option<&str> {
        self.csrf_token.as_deref()
    }
}

/// The query of the mailed link, and the form of its confirm button.
#[derive(Deserialize)]
pub struct ConfirmForm {
    csrf_token: Option<String>,
    token: Option<String>,
}

impl CsrfForm for ConfirmForm {
    fn csrf_token(&self) -> Option<&str> {
        self.csrf_token.as_deref()
    }
}

/// `?token=` of the mailed link. No `Debug`: it is a bearer secret.
#[derive(Deserialize)]
pub struct LinkQuery {
    token: Option<String>,
}

#[derive(Serialize, Default)]
struct LinkView {
    title: &'static str,
    csrf_token: String,
    app_name: Option<String>,
    second_to: Option<String>,
    email: Option<String>,
    error: Option<String>,
    sent: bool,
    minutes: i64,
    callback: Option<String>,
    state: Option<String>,
    code_exchange: bool,
    login_url: String,
    /// The confirm page: the token and what the link came to.
    token: Option<String>,
    ready: bool,
    other_browser: bool,
    expired: bool,
}

fn off(state: &AppState) -> Result<(), WebError> {
    if state.authn().magic_links() {
        Ok(())
    } else {
        Err(WebError::NotFound("no such page".into()))
    }
}

fn ask_view(page: &LinkPage, request: &ReturnRequest) -> LinkView {
    LinkView {
        title: "E-mail me a sign-in link",
        csrf_token: page.csrf.clone(),
        app_name: page.app_name.clone(),
        second_to: page.second_to.clone(),
        minutes: authify_core::authn::MAGIC_LINK_TTL_MINUTES,
        callback: request.callback.clone(),
        state: request.state.clone(),
        code_exchange: request.code,
        login_url: flow_link("/login", request),
        ..LinkView::default()
    }
}

fn show(
    state: &AppState,
    view: &LinkView,
    page: &LinkPage,
    status: StatusCode,
) -> Result<HttpResponse, WebError> {
    with_flow(
        state,
        render(state, "pages/magic_link", view, status)?,
        &page.flow,
    )
}

/// `GET /login/email-link`.
pub async fn get_link(
    state: web::Data<AppState>,
    req: HttpRequest,
    query: web::Query<FlowQuery>,
) -> Result<HttpResponse, WebError> {
    off(&state)?;
    let q = query.into_inner();
    let request = request_of(q.callback, q.state, q.response_type);
    let page = state
        .authn()
        .magic_link_page(
            state.cookies().read(&req),
            request.clone(),
            state.client(&req),
            state.now(),
        )
        .await?;
    show(&state, &ask_view(&page, &request), &page, StatusCode::OK)
}

/// `POST /login/email-link`: the same page for every address.
pub async fn post_link(
    state: web::Data<AppState>,
    req: HttpRequest,
    Checked(form): Checked<LinkForm>,
) -> Result<HttpResponse, WebError> {
    off(&state)?;
    let request = request_of(form.callback, form.state, form.response_type);
    let email = form.email.unwrap_or_default().trim().to_owned();
    let cookies = state.cookies().read(&req);
    let sent = state
        .authn()
        .magic_link_send(
            cookies.clone(),
            request.clone(),
            &email,
            state.client(&req),
            state.now(),
        )
        .await;
    match sent {
        Ok(page) => {
            let mut view = ask_view(&page, &request);
            view.sent = true;
            view.email = page.second_to.clone().or(Some(email));
            show(&state, &view, &page, StatusCode::OK)
        }
        Err(AuthnError::BadRequest(why)) => {
            let page = state
                .authn()
                .magic_link_page(cookies, request.clone(), state.client(&req), state.now())
                .await?;
            let mut view = ask_view(&page, &request);
            view.email = Some(email).filter(|e| !e.is_empty());
            view.error = Some(sentence(&why));
            show(&state, &view, &page, StatusCode::BAD_REQUEST)
        }
        Err(e) => Err(e.into()),
    }
}

fn answer_page(
    state: &AppState,
    answer: LinkAnswer,
    token: String,
) -> Result<HttpResponse, WebError> {
    let mut view = LinkView {
        title: "Sign in with the link from your mail",
        login_url: "/login".to_owned(),
        minutes: authify_core::authn::MAGIC_LINK_TTL_MINUTES,
        ..LinkView::default()
    };
    let status = match answer {
        LinkAnswer::Moved(progress) => return moved_on(state, progress),
        LinkAnswer::Ready { csrf } => {
            view.csrf_token = csrf;
            view.token = Some(token);
            view.ready = true;
            StatusCode::OK
        }
        LinkAnswer::OtherBrowser => {
            view.other_browser = true;
            StatusCode::FORBIDDEN
        }
        LinkAnswer::Expired => {
            view.expired = true;
            StatusCode::GONE
        }
    };
    render(state, "pages/magic_link", &view, status)
}

/// `GET /login/email-link/confirm?token=`: the link from the mail. Spends nothing.
pub async fn get_confirm(
    state: web::Data<AppState>,
    req: HttpRequest,
    query: web::Query<LinkQuery>,
) -> Result<HttpResponse, WebError> {
    off(&state)?;
    let token = query.into_inner().token.unwrap_or_default();
    let answer = state
        .authn()
        .magic_link_open(state.cookies().read(&req), token.clone(), state.now())
        .await?;
    answer_page(&state, answer, token)
}

/// `POST /login/email-link/confirm`: spends the link; signs in or goes on to the next step.
pub async fn post_confirm(
    state: web::Data<AppState>,
    req: HttpRequest,
    Checked(form): Checked<ConfirmForm>,
) -> Result<HttpResponse, WebError> {
    off(&state)?;
    let token = form.token.unwrap_or_default();
    let answer = state
        .authn()
        .magic_link_confirm(
            state.cookies().read(&req),
            token.clone(),
            state.keys().keyring.clone(),
            state.client(&req),
            state.now(),
        )
        .await?;
    answer_page(&state, answer, token)
}
