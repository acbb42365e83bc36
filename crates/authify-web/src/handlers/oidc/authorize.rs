//! `/oauth/authorize` and `/oauth/consent`: one engine call each.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use authify_core::oidc::{AuthorizeRequest, Authorized};
use serde::Deserialize;

use crate::error::WebError;
use crate::extract::{Checked, CsrfForm};
use crate::handlers::signin::{login_form, with_flow};
use crate::pages::{render, see_other};
use crate::state::AppState;
use crate::views::ConsentView;

/// `GET /oauth/authorize`.
pub async fn get_authorize(
    state: web::Data<AppState>,
    req: HttpRequest,
    query: web::Query<AuthorizeRequest>,
) -> Result<HttpResponse, WebError> {
    authorize(&state, &req, query.into_inner()).await
}

/// `POST /oauth/authorize` (Core §3.1.2.1 allows the request as a form).
pub async fn post_authorize(
    state: web::Data<AppState>,
    req: HttpRequest,
    form: web::Form<AuthorizeRequest>,
) -> Result<HttpResponse, WebError> {
    authorize(&state, &req, form.into_inner()).await
}

async fn authorize(
    state: &AppState,
    req: &HttpRequest,
    request: AuthorizeRequest,
) -> Result<HttpResponse, WebError> {
    let outcome = state
        .authn()
        .authorize(
            state.cookies().read(req),
            request,
            state.keys().keyring.clone(),
            state.client(req),
            state.now(),
        )
        .await?;
    match outcome {
        Authorized::Redirect(location) => Ok(see_other(&location)),
        Authorized::SignIn { form, login_hint } => login_form(state, &form, login_hint),
        Authorized::Consent { flow } => with_flow(state, see_other("/oauth/consent"), &flow),
        Authorized::StepUp { flow, state: at } => {
            crate::handlers::signin::next_step(state, &flow, at)
        }
    }
}

/// `GET /oauth/consent`: the application, the scopes, allow or deny.
pub async fn get_consent(
    state: web::Data<AppState>,
    req: HttpRequest,
) -> Result<HttpResponse, WebError> {
    let view = state
        .authn()
        .consent_page(state.cookies().read(&req), state.now())
        .await?;
    let scopes = view
        .scopes
        .iter()
        .map(|s| crate::views::ScopeLine::of(s))
        .collect();
    let page = ConsentView {
        title: "Allow access?",
        csrf_token: view.csrf,
        app_name: view.app_name,
        scopes,
    };
    render(&state, "pages/consent", &page, StatusCode::OK)
}

/// The consent form.
#[derive(Debug, Deserialize)]
pub struct ConsentForm {
    csrf_token: Option<String>,
    decision: Option<String>,
}

impl CsrfForm for ConsentForm {
    fn csrf_token(&self) -> Option<&str> {
        self.csrf_token.as_deref()
    }
}

/// `POST /oauth/consent`: `decision=allow` or `decision=deny`.
pub async fn post_consent(
    state: web::Data<AppState>,
    req: HttpRequest,
    form: Checked<ConsentForm>,
) -> Result<HttpResponse, WebError> {
    let allow = match form.0.decision.as_deref() {
        Some("allow") => true,
        Some("deny") => false,
        _ => {
            return Err(WebError::BadRequest {
                heading: "Choose allow or deny",
                message: "The form must say decision=allow or decision=deny.".into(),
            });
        }
    };
    let location = state
        .authn()
        .consent(
            state.cookies().read(&req),
            allow,
            state.keys().keyring.clone(),
            state.client(&req),
            state.now(),
        )
        .await?;
    let mut res = see_other(&location);
    res.add_cookie(&state.cookies().flow_removal())
        .map_err(WebError::internal)?;
    Ok(res)
}
