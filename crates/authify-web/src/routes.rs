//! The route table: every path Authify answers, in one place: the pages and protocol endpoints,
//! the management API (its table also lists [`API_ROUTES`] for the OpenAPI check) and the
//! console.

use actix_web::{Handler, Resource, Responder, guard, web};

use crate::api;
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
        .service(read_only("/static/js/work.js", assets::get_work_script))
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
        .configure(configure_api)
        .configure(configure_console)
        .default_service(web::to(not_found));
}

/// `POST /jwt/token` and the management API under `/api/v1` (a JSON 404 for its unknown paths).
fn configure_api(cfg: &mut web::ServiceConfig) {
    cfg.service(post_only("/jwt/token", api::keys::post_token))
        .service(
            web::scope("/api/v1")
                .app_data(web::PayloadConfig::new(64 * 1024))
                .configure(configure_api_v1)
                .default_service(web::to(not_found)),
        );
}

crate::api::api_routes! {
    "/openapi.json" => { GET => api::get_openapi },
    "/me" => { GET => api::users::get_me, PATCH => api::users::patch_me },
    "/me/approvers" => { POST => api::factors::register },
    "/me/approvals" => { GET => api::factors::list },
    "/me/approvals/{id}" => { POST => api::factors::decide },
    "/users/{uid}/factors" => { DELETE => api::factors::reset },
    "/organizations/{oid}/mfa" => { GET => api::factors::get_org, PUT => api::factors::put_org },
    "/users" => { GET => api::users::list, POST => api::users::create },
    "/users/{uid}" => { GET => api::users::get, PATCH => api::users::patch },
    "/organizations" => { GET => api::orgs::list, POST => api::orgs::create },
    "/organizations/{oid}" => { GET => api::orgs::get, PATCH => api::orgs::patch, DELETE => api::orgs::delete },
    "/organizations/{oid}/members" => { GET => api::orgs::members, POST => api::orgs::add_member },
    "/organizations/{oid}/members/{uid}" => {
        PATCH => api::orgs::patch_member,
        DELETE => api::orgs::remove_member,
    },
    "/organizations/{oid}/invitations" => { GET => api::orgs::invitations, POST => api::orgs::invite },
    "/organizations/{oid}/invitations/{id}" => { DELETE => api::orgs::revoke_invitation },
    "/organizations/{oid}/groups" => { GET => api::groups::list, POST => api::groups::create },
    "/organizations/{oid}/groups/{gid}" => {
        GET => api::groups::get,
        PATCH => api::groups::patch,
        DELETE => api::groups::delete,
    },
    "/organizations/{oid}/groups/{gid}/members" => {
        GET => api::groups::members,
        POST => api::groups::add_member,
    },
    "/organizations/{oid}/groups/{gid}/members/{uid}" => { DELETE => api::groups::remove_member },
    "/applications" => { GET => api::apps::list, POST => api::apps::create },
    "/applications/{app_id}" => {
        GET => api::apps::get,
        PATCH => api::apps::patch,
        DELETE => api::apps::delete,
    },
    "/applications/{app_id}/secret" => { POST => api::apps::rotate_secret },
    "/api-keys" => { GET => api::keys::list, POST => api::keys::create },
    "/api-keys/{access_key}" => { DELETE => api::keys::revoke },
    "/audit-events" => { GET => api::audit::list },
}

/// The console under `/admin`, and the account page's forms (which share its frame).
fn configure_console(cfg: &mut web::ServiceConfig) {
    use crate::console::{apps, audit, groups, invitations, keys, orgs, users};
    const ORG: &str = "/admin/orgs/{oid}";
    const GROUP: &str = "/admin/orgs/{oid}/groups/{gid}";
    const APP: &str = "/admin/apps/{app_id}";
    cfg.service(read_only("/admin", users::get_admin))
        .service(read_only("/admin/users", users::get_users))
        .service(post_only(
            "/admin/users/{uid}/disabled",
            users::post_disabled,
        ))
        .service(post_only("/admin/users/{uid}/admin", users::post_admin))
        .service(form_page("/admin/orgs", orgs::get_orgs, orgs::post_orgs))
        .service(read_only(ORG, orgs::get_org))
        .service(post_only(&format!("{ORG}/rename"), orgs::post_rename))
        .service(post_only(&format!("{ORG}/mfa"), orgs::post_mfa))
        .service(post_only(
            "/admin/users/{uid}/factors/reset",
            users::post_reset_factors,
        ))
        .service(post_only(&format!("{ORG}/delete"), orgs::post_delete))
        .service(post_only(&format!("{ORG}/members"), orgs::post_member))
        .service(post_only(
            &format!("{ORG}/members/{{uid}}/admin"),
            orgs::post_member_admin,
        ))
        .service(post_only(
            &format!("{ORG}/members/{{uid}}/remove"),
            orgs::post_member_remove,
        ))
        .service(post_only(&format!("{ORG}/groups"), orgs::post_group))
        .service(post_only(
            &format!("{ORG}/invitations"),
            invitations::post_invite,
        ))
        .service(post_only(
            &format!("{ORG}/invitations/{{id}}/revoke"),
            invitations::post_revoke,
        ))
        .service(read_only(GROUP, groups::get_group))
        .service(post_only(&format!("{GROUP}/rename"), groups::post_rename))
        .service(post_only(&format!("{GROUP}/delete"), groups::post_delete))
        .service(post_only(&format!("{GROUP}/members"), groups::post_member))
        .service(post_only(
            &format!("{GROUP}/members/{{uid}}/remove"),
            groups::post_member_remove,
        ))
        .service(form_page("/admin/apps", apps::get_apps, apps::post_apps))
        .service(read_only(APP, apps::get_app))
        .service(post_only(&format!("{APP}/update"), apps::post_update))
        .service(post_only(&format!("{APP}/rotate"), apps::post_rotate))
        .service(post_only(&format!("{APP}/delete"), apps::post_delete))
        .service(form_page("/admin/keys", keys::get_keys, keys::post_keys))
        .service(read_only("/admin/audit", audit::get_audit))
        // `GET /account` is above; its forms share the console's frame.
        .service(post_only("/account/email", account::post_email))
        .service(post_only("/account/password", account::post_password))
        .service(post_only("/account/api-keys", account::post_api_key))
        .service(post_only(
            "/account/api-keys/revoke",
            account::post_api_key_revoke,
        ))
        .service(post_only("/account/orgs", account::post_org))
        .service(post_only("/account/orgs/leave", account::post_org_leave))
        .service(post_only(
            "/account/sessions/revoke",
            crate::handlers::account_sessions::post_session_revoke,
        ))
        .service(post_only(
            "/account/grants/revoke",
            crate::handlers::account_sessions::post_grant_revoke,
        ));
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
