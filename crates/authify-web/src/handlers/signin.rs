//! The sign-in flow: `/login`, `/signup`, `/logout`, and the redirect that hands the app its token.
//!
//! `/login?callback=<base64 url>&state=..`: the callback is checked against the registered
//! applications before anything else (a bad one gets a 400 page, signed in or not); a user with
//! a session goes straight back with a fresh token (single sign-on); otherwise the form.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use authify_core::accounts::{self, SignInError, SignUp, SignUpError};
use authify_core::apps::{self, ResolveError};
use authify_core::manage::audit;
use authify_core::{Application, User, sessions, tokens};
use authify_domain::{CallbackUrl, Email, Name, Password};
use chrono::Utc;
use serde::Deserialize;

use crate::cookies;
use crate::pages::{PageError, current_user, render, require_csrf, respond, see_other};
use crate::state::AppState;
use crate::views::{LoginView, LogoutView, SignupView};

/// Query of `/login` and `/signup`.
#[derive(Debug, Default, Deserialize)]
pub struct FlowQuery {
    callback: Option<String>,
    state: Option<String>,
    signed_out: Option<String>,
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
}

/// The sign-out form.
#[derive(Debug, Deserialize)]
pub struct LogoutForm {
    csrf_token: Option<String>,
}

type Target = Option<(Application, CallbackUrl)>;

fn non_empty(v: Option<String>) -> Option<String> {
    v.filter(|s| !s.trim().is_empty())
}

async fn target(state: &AppState, callback: Option<&str>) -> Result<Target, PageError> {
    let Some(raw) = callback.filter(|c| !c.is_empty()) else {
        return Ok(None);
    };
    match apps::resolve_callback(state.db(), raw).await {
        Ok(found) => Ok(Some(found)),
        Err(ResolveError::Callback(e)) => Err(PageError::BadRequest {
            heading: "This sign-in link is not valid",
            message: format!(
                "{}. The application that sent you here must use a callback URL registered with Authify; nothing was signed in or sent.",
                sentence(&e.to_string())
            ),
        }),
        Err(ResolveError::Store(e)) => Err(PageError::internal(e)),
    }
}

/// Sends a signed-in user on: to the app's callback with a token, or to their account.
async fn finish(
    state: &AppState,
    req: &HttpRequest,
    user: User,
    target: Target,
    app_state: Option<String>,
) -> Result<HttpResponse, PageError> {
    let Some((app, callback)) = target else {
        return Ok(see_other("/account"));
    };
    let keys = state.keys();
    let now = Utc::now();
    let token = tokens::issue(
        state.db(),
        state.token_issuer(),
        keys.keyring.signer(),
        user.clone(),
        &app.app_id,
        now,
    )
    .await
    .map_err(PageError::internal)?;
    let ip = crate::client_ip(req);
    audit::user_event(
        state.db(),
        "token.issue",
        &user,
        ip.as_deref(),
        Some(("application", &app.app_id, &app.name)),
        now,
    )
    .await;
    let mut params = vec![("jwt", token.as_str())];
    if let Some(s) = app_state.as_deref() {
        params.push(("state", s));
    }
    Ok(see_other(&callback.with_params(&params)))
}

/// Starts a session and sends the user on.
async fn sign_in_as(
    state: &AppState,
    req: &HttpRequest,
    user: User,
    target: Target,
    app_state: Option<String>,
) -> Result<HttpResponse, PageError> {
    // SECURITY: a fresh session id at every sign-in (no fixation); any previous one is revoked.
    if let Some(old) = cookies::session_token(req) {
        sessions::end(state.db(), &old)
            .await
            .map_err(PageError::internal)?;
    }
    let ttl = chrono::Duration::hours(i64::from(state.config().session_ttl_hours));
    let token = sessions::start(state.db(), user.id, Utc::now(), ttl)
        .await
        .map_err(PageError::internal)?;
    let mut res = finish(state, req, user, target, app_state).await?;
    let cookie = cookies::build(
        cookies::SESSION,
        token,
        state.config().secure_cookies,
        actix_web::cookie::SameSite::Lax,
        Some(ttl.num_seconds()),
    );
    res.add_cookie(&cookie).map_err(PageError::internal)?;
    Ok(res)
}

fn flow_link(path: &str, callback: Option<&str>, app_state: Option<&str>) -> String {
    let mut query = url::form_urlencoded::Serializer::new(String::new());
    if let Some(c) = callback {
        query.append_pair("callback", c);
    }
    if let Some(s) = app_state {
        query.append_pair("state", s);
    }
    let query = query.finish();
    if query.is_empty() {
        path.to_owned()
    } else {
        format!("{path}?{query}")
    }
}

/// What the login page shows besides the form.
#[derive(Default)]
struct LoginPage {
    callback: Option<String>,
    state: Option<String>,
    app_name: Option<String>,
    email: Option<String>,
    error: Option<String>,
    notice: Option<String>,
}

fn show_login(
    state: &AppState,
    req: &HttpRequest,
    page: LoginPage,
    status: StatusCode,
) -> Result<HttpResponse, PageError> {
    let (csrf_token, cookie) =
        cookies::csrf_token(req, state.config().secure_cookies).map_err(PageError::internal)?;
    let view = LoginView {
        title: "Sign in",
        csrf_token,
        signup_url: flow_link("/signup", page.callback.as_deref(), page.state.as_deref()),
        signup_enabled: state.config().signup_enabled,
        email: page.email,
        error: page.error,
        notice: page.notice,
        callback: page.callback,
        state: page.state,
        app_name: page.app_name,
    };
    with_cookie(render(state, "pages/login", &view, status)?, cookie)
}

fn with_cookie(
    mut res: HttpResponse,
    cookie: Option<actix_web::cookie::Cookie<'static>>,
) -> Result<HttpResponse, PageError> {
    if let Some(c) = cookie {
        res.add_cookie(&c).map_err(PageError::internal)?;
    }
    Ok(res)
}

/// `GET /login`.
pub async fn get_login(
    state: web::Data<AppState>,
    req: HttpRequest,
    query: web::Query<FlowQuery>,
) -> HttpResponse {
    respond(&state, login_page(&state, &req, query.into_inner()).await)
}

async fn login_page(
    state: &AppState,
    req: &HttpRequest,
    q: FlowQuery,
) -> Result<HttpResponse, PageError> {
    let (callback, app_state) = (non_empty(q.callback), non_empty(q.state));
    let target = target(state, callback.as_deref()).await?;
    if let Some(user) = current_user(state, req).await? {
        return finish(state, req, user, target, app_state).await;
    }
    let page = LoginPage {
        app_name: target.as_ref().map(|(app, _)| app.name.clone()),
        notice: q.signed_out.map(|_| "You have been signed out.".to_owned()),
        callback,
        state: app_state,
        ..LoginPage::default()
    };
    show_login(state, req, page, StatusCode::OK)
}

/// `POST /login`.
pub async fn post_login(
    state: web::Data<AppState>,
    req: HttpRequest,
    form: web::Form<LoginForm>,
) -> HttpResponse {
    respond(&state, login_submit(&state, &req, form.into_inner()).await)
}

async fn login_submit(
    state: &AppState,
    req: &HttpRequest,
    form: LoginForm,
) -> Result<HttpResponse, PageError> {
    require_csrf(state, req, form.csrf_token.as_deref())?;
    let (callback, app_state) = (non_empty(form.callback), non_empty(form.state));
    let target = target(state, callback.as_deref()).await?;
    let email = form.email.unwrap_or_default();
    // SECURITY: throttled per account, known or not (W-13), before any password is checked.
    state
        .throttle()
        .attempt(&email)
        .map_err(PageError::TooMany)?;
    let password = Password::attempt(&form.password.unwrap_or_default());
    let failed = |message: &str, status| {
        let page = LoginPage {
            app_name: target.as_ref().map(|(app, _)| app.name.clone()),
            email: Some(email.trim().to_owned()).filter(|e| !e.is_empty()),
            error: Some(message.to_owned()),
            callback: callback.clone(),
            state: app_state.clone(),
            notice: None,
        };
        show_login(state, req, page, status)
    };
    let result = accounts::sign_in(state.db(), state.hasher(), &email, password).await;
    let ip = crate::client_ip(req);
    match &result {
        Ok(user) => {
            audit::sign_in(
                state.db(),
                &email,
                Some(user),
                true,
                ip.as_deref(),
                Utc::now(),
            )
            .await
        }
        Err(SignInError::InvalidCredentials | SignInError::Disabled) => {
            audit::sign_in(state.db(), &email, None, false, ip.as_deref(), Utc::now()).await;
        }
        Err(_) => {}
    }
    match result {
        Ok(user) => sign_in_as(state, req, user, target, app_state).await,
        Err(SignInError::InvalidCredentials) => failed(
            "Incorrect e-mail address or password.",
            StatusCode::UNAUTHORIZED,
        ),
        Err(SignInError::Disabled) => failed(
            "This account is disabled. Contact your administrator.",
            StatusCode::FORBIDDEN,
        ),
        Err(SignInError::Busy) => Err(PageError::Busy),
        Err(SignInError::Internal(e)) => Err(PageError::Internal(e)),
    }
}

fn signup_disabled() -> PageError {
    PageError::Forbidden {
        heading: "Sign-up is disabled",
        message: "This Authify does not accept new accounts. Ask your administrator to create one for you.".into(),
    }
}

/// What the sign-up page shows besides the form.
#[derive(Default)]
struct SignupPage {
    callback: Option<String>,
    state: Option<String>,
    app_name: Option<String>,
    name: Option<String>,
    email: Option<String>,
    error: Option<String>,
}

fn show_signup(
    state: &AppState,
    req: &HttpRequest,
    page: SignupPage,
    status: StatusCode,
) -> Result<HttpResponse, PageError> {
    let (csrf_token, cookie) =
        cookies::csrf_token(req, state.config().secure_cookies).map_err(PageError::internal)?;
    let view = SignupView {
        title: "Create your account",
        csrf_token,
        login_url: flow_link("/login", page.callback.as_deref(), page.state.as_deref()),
        password_min: Password::MIN,
        name: page.name,
        email: page.email,
        error: page.error,
        callback: page.callback,
        state: page.state,
        app_name: page.app_name,
    };
    with_cookie(render(state, "pages/signup", &view, status)?, cookie)
}

/// `GET /signup`.
pub async fn get_signup(
    state: web::Data<AppState>,
    req: HttpRequest,
    query: web::Query<FlowQuery>,
) -> HttpResponse {
    respond(&state, signup_page(&state, &req, query.into_inner()).await)
}

async fn signup_page(
    state: &AppState,
    req: &HttpRequest,
    q: FlowQuery,
) -> Result<HttpResponse, PageError> {
    if !state.config().signup_enabled {
        return Err(signup_disabled());
    }
    let (callback, app_state) = (non_empty(q.callback), non_empty(q.state));
    let target = target(state, callback.as_deref()).await?;
    if let Some(user) = current_user(state, req).await? {
        return finish(state, req, user, target, app_state).await;
    }
    let page = SignupPage {
        app_name: target.as_ref().map(|(app, _)| app.name.clone()),
        callback,
        state: app_state,
        ..SignupPage::default()
    };
    show_signup(state, req, page, StatusCode::OK)
}

/// `POST /signup`.
pub async fn post_signup(
    state: web::Data<AppState>,
    req: HttpRequest,
    form: web::Form<SignupForm>,
) -> HttpResponse {
    respond(&state, signup_submit(&state, &req, form.into_inner()).await)
}

async fn signup_submit(
    state: &AppState,
    req: &HttpRequest,
    form: SignupForm,
) -> Result<HttpResponse, PageError> {
    require_csrf(state, req, form.csrf_token.as_deref())?;
    if !state.config().signup_enabled {
        return Err(signup_disabled());
    }
    let (callback, app_state) = (non_empty(form.callback), non_empty(form.state));
    let target = target(state, callback.as_deref()).await?;
    let (raw_name, raw_email) = (
        form.name.unwrap_or_default(),
        form.email.unwrap_or_default(),
    );
    let failed = |message: String, status| {
        let page = SignupPage {
            app_name: target.as_ref().map(|(app, _)| app.name.clone()),
            name: Some(raw_name.trim().to_owned()).filter(|n| !n.is_empty()),
            email: Some(raw_email.trim().to_owned()).filter(|e| !e.is_empty()),
            error: Some(message),
            callback: callback.clone(),
            state: app_state.clone(),
        };
        show_signup(state, req, page, status)
    };
    let parsed = (|| {
        Ok::<_, authify_domain::InputError>(SignUp {
            name: Name::parse(&raw_name, "the name")?,
            email: Email::parse(&raw_email)?,
            password: Password::new(&form.password.clone().unwrap_or_default())?,
        })
    })();
    let input = match parsed {
        Ok(input) => input,
        Err(e) => {
            return failed(
                format!("{}.", sentence(&e.to_string())),
                StatusCode::BAD_REQUEST,
            );
        }
    };
    match accounts::sign_up(state.db(), state.hasher(), input, Utc::now()).await {
        Ok(user) => {
            let ip = crate::client_ip(req);
            audit::user_event(state.db(), "signup", &user, ip.as_deref(), None, Utc::now()).await;
            sign_in_as(state, req, user, target, app_state).await
        }
        Err(SignUpError::EmailTaken) => failed(
            "An account with this e-mail address already exists. Sign in instead.".into(),
            StatusCode::CONFLICT,
        ),
        Err(SignUpError::Busy) => Err(PageError::Busy),
        Err(SignUpError::Internal(e)) => Err(PageError::Internal(e)),
    }
}

/// `s` with its first letter upper-cased: domain messages are clauses, pages show sentences.
fn sentence(s: &str) -> String {
    let mut c = s.chars();
    c.next()
        .map(|f| f.to_uppercase().chain(c).collect())
        .unwrap_or_default()
}

/// `GET /logout`: asks for confirmation (signing out changes state, so it is a POST).
pub async fn get_logout(state: web::Data<AppState>, req: HttpRequest) -> HttpResponse {
    respond(&state, logout_page(&state, &req).await)
}

async fn logout_page(state: &AppState, req: &HttpRequest) -> Result<HttpResponse, PageError> {
    let Some(user) = current_user(state, req).await? else {
        return Ok(see_other("/login"));
    };
    let (csrf_token, cookie) =
        cookies::csrf_token(req, state.config().secure_cookies).map_err(PageError::internal)?;
    let view = LogoutView {
        title: "Sign out",
        csrf_token,
        email: user.email,
    };
    with_cookie(
        render(state, "pages/logout", &view, StatusCode::OK)?,
        cookie,
    )
}

/// `POST /logout`: deletes the session server-side and clears the cookie.
pub async fn post_logout(
    state: web::Data<AppState>,
    req: HttpRequest,
    form: web::Form<LogoutForm>,
) -> HttpResponse {
    respond(&state, logout_submit(&state, &req, form.into_inner()).await)
}

async fn logout_submit(
    state: &AppState,
    req: &HttpRequest,
    form: LogoutForm,
) -> Result<HttpResponse, PageError> {
    require_csrf(state, req, form.csrf_token.as_deref())?;
    if let Some(token) = cookies::session_token(req) {
        if let Some(user) = sessions::resolve(state.db(), &token, Utc::now())
            .await
            .map_err(PageError::internal)?
        {
            let ip = crate::client_ip(req);
            audit::user_event(state.db(), "logout", &user, ip.as_deref(), None, Utc::now()).await;
        }
        sessions::end(state.db(), &token)
            .await
            .map_err(PageError::internal)?;
    }
    let mut res = see_other("/login?signed_out=1");
    res.add_cookie(&cookies::removal(
        cookies::SESSION,
        state.config().secure_cookies,
    ))
    .map_err(PageError::internal)?;
    Ok(res)
}
