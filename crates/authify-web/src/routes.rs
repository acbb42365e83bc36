//! The route table: every path Authify answers, in one place.

use actix_web::{Handler, Resource, Responder, guard, web};

use crate::error::{method_not_allowed, not_found};
use crate::handlers::{
    account, account_factors, assets, factor, health, jwt, logout, magic_link, mail_links, oidc,
    passwordless, signin, upstream, webauthn,
};

/// Registers every route. The caller adds [`crate::AppState`] as app data.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(read_only("/", assets::get_root))
        .service(read_only("/jwt/key", jwt::get_key))
        .service(read_only("/jwt/meta", jwt::get_meta))
        .service(read_only("/about/jwt/download_key", jwt::get_download_key))
        .service(read_only("/.well-known/jwks.json", jwt::get_jwks))
        .service(read_only("/health", health::get_health))
        .service(read_only("/ready", health::get_ready))
        .service(read_only("/static/css/authify.css", assets::get_stylesheet))
        .service(read_only("/static/img/logo.svg", assets::get_logo))
        .service(read_only(
            "/static/js/approval.js",
            assets::get_approval_script,
        ))
        .service(read_only(
            "/static/js/passkey.js",
            assets::get_passkey_script,
        ))
        .service(read_only("/account", account::get_account))
        .service(form_page(
            "/login/phone",
            passwordless::get_phone_signin,
            passwordless::post_phone_signin,
        ))
        .service(json_post(
            "/webauthn/login/options",
            webauthn::login_options,
        ))
        .service(json_post("/webauthn/login/finish", webauthn::login_finish))
        .service(json_post(
            "/webauthn/register/options",
            webauthn::register_options,
        ))
        .service(json_post(
            "/webauthn/register/finish",
            webauthn::register_finish,
        ))
        .service(post_only(
            "/account/passkeys/{id}/rename",
            account_factors::post_rename_passkey,
        ))
        .service(form_page("/login", signin::get_login, signin::post_login))
        .service(form_page(
            "/login/email-link",
            magic_link::get_link,
            magic_link::post_link,
        ))
        .service(form_page(
            "/login/email-link/confirm",
            magic_link::get_confirm,
            magic_link::post_confirm,
        ))
        .service(post_only("/login/upstream/{name}", upstream::post_start))
        .service(read_only(
            "/login/upstream/{name}/callback",
            upstream::get_callback,
        ))
        .service(post_only(
            "/account/upstream/{name}/link",
            upstream::post_link,
        ))
        .service(post_only(
            "/account/upstream/{name}/unlink",
            upstream::post_unlink,
        ))
        .service(form_page(
            "/password/forgot",
            mail_links::get_forgot,
            mail_links::post_forgot,
        ))
        .service(form_page(
            "/password/reset",
            mail_links::get_reset,
            mail_links::post_reset,
        ))
        .service(form_page(
            "/email/verify",
            mail_links::get_verify,
            mail_links::post_verify,
        ))
        .service(form_page(
            "/invite",
            mail_links::get_invite,
            mail_links::post_invite,
        ))
        .service(post_only(
            "/account/email/verify",
            account::post_send_verification,
        ))
        .service(form_page(
            "/login/factor",
            factor::get_factor,
            factor::post_factor,
        ))
        .service(read_only("/login/approval", factor::get_approval))
        .service(form_page(
            "/login/enrol",
            factor::get_enrol,
            factor::post_enrol,
        ))
        .service(read_only("/login/enrol/qr.svg", factor::get_enrol_qr))
        .service(post_only("/login/continue", factor::post_continue))
        .service(form_page(
            "/account/totp",
            account_factors::get_totp,
            account_factors::post_totp,
        ))
        .service(read_only(
            "/account/totp/qr.svg",
            account_factors::get_totp_qr,
        ))
        .service(post_only("/account/phone", account_factors::post_phone))
        .service(post_only(
            "/account/phone/confirm",
            account_factors::post_phone_confirm,
        ))
        .service(post_only(
            "/account/factors/email",
            account_factors::post_email_factor,
        ))
        .service(post_only(
            "/account/factors/{id}/remove",
            account_factors::post_remove,
        ))
        .service(post_only(
            "/account/recovery-codes",
            account_factors::post_recovery_codes,
        ))
        .service(form_page(
            "/account/approvals",
            account_factors::get_approvals,
            account_factors::post_approvals,
        ))
        .service(post_only(
            "/account/approvals/{id}",
            account_factors::post_decision,
        ))
        .service(form_page(
            "/signup",
            signin::get_signup,
            signin::post_signup,
        ))
        .service(form_page(
            "/logout",
            logout::get_logout,
            logout::post_logout,
        ))
        .service(read_only(
            "/.well-known/openid-configuration",
            oidc::get_discovery,
        ))
        .service(form_page(
            "/oauth/authorize",
            oidc::get_authorize,
            oidc::post_authorize,
        ))
        .service(form_page(
            "/oauth/consent",
            oidc::get_consent,
            oidc::post_consent,
        ))
        .service(post_only("/oauth/token", oidc::post_token))
        .service(form_page("/oauth/userinfo", oidc::userinfo, oidc::userinfo))
        .service(post_only("/oauth/revoke", oidc::post_revoke))
        .service(post_only("/oauth/introspect", oidc::post_introspect))
        .configure(crate::api::configure)
        .configure(crate::console::configure)
        .default_service(web::to(not_found));
}

/// A resource answering GET and HEAD, and a JSON 405 to anything else.
pub(crate) fn read_only<F, Args>(path: &str, handler: F) -> Resource
where
    F: Handler<Args>,
    Args: actix_web::FromRequest + 'static,
    F::Output: Responder + 'static,
{
    web::resource(path)
        .route(
            web::route()
                .guard(guard::Any(guard::Get()).or(guard::Head()))
                .to(handler),
        )
        .default_service(web::to(method_not_allowed))
}

/// An endpoint answering POST only, and a JSON 405 to anything else.
pub(crate) fn post_only<F, Args>(path: &str, handler: F) -> Resource
where
    F: Handler<Args>,
    Args: actix_web::FromRequest + 'static,
    F::Output: Responder + 'static,
{
    web::resource(path)
        .route(web::post().to(handler))
        .default_service(web::to(method_not_allowed))
}

/// A JSON endpoint answering POST only: bodies up to 64 KiB, and a body that does not parse is
/// a JSON 400 saying why (not actix's plain-text answer).
pub(crate) fn json_post<F, Args>(path: &str, handler: F) -> Resource
where
    F: Handler<Args>,
    Args: actix_web::FromRequest + 'static,
    F::Output: Responder + 'static,
{
    let config = web::JsonConfig::default()
        .limit(64 * 1024)
        .error_handler(|e, _| {
            crate::error::WebError::Invalid(format!("the request body is not valid: {e}")).into()
        });
    post_only(path, handler).app_data(config)
}

/// A page answering GET (and HEAD) and POST (its form), and a JSON 405 to anything else.
pub(crate) fn form_page<G, GA, P, PA>(path: &str, get: G, post: P) -> Resource
where
    G: Handler<GA>,
    GA: actix_web::FromRequest + 'static,
    G::Output: Responder + 'static,
    P: Handler<PA>,
    PA: actix_web::FromRequest + 'static,
    P::Output: Responder + 'static,
{
    web::resource(path)
        .route(
            web::route()
                .guard(guard::Any(guard::Get()).or(guard::Head()))
                .to(get),
        )
        .route(web::post().to(post))
        .default_service(web::to(method_not_allowed))
}
