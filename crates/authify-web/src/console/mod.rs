//! The admin console under `/admin`: server-rendered pages for global admins and, scoped to
//! their organizations, organization admins. Pages work without JavaScript: every change is a
//! form POST carrying the CSRF token, answered with a 303 back to the page and a notice flag;
//! destructive changes take a second, confirming POST.
//!
//! - [`gate`]: who may enter, the acting user; [`page`]: the shared frame, confirmation and
//!   secret pages, notices.
//! - [`users`], [`orgs`], [`groups`], [`apps`], [`keys`], [`audit`]: one module per section.

use actix_web::{Handler, Resource, Responder, web};

use crate::error::method_not_allowed;
use crate::handlers::account;
use crate::routes::{form_page, read_only};

pub mod apps;
pub mod audit;
pub mod gate;
pub mod groups;
pub mod invitations;
pub mod keys;
pub mod orgs;
pub mod page;
pub mod users;

/// A resource answering only POST (a form's action), and a JSON 405 to anything else.
fn form_action<F, Args>(path: &str, handler: F) -> Resource
where
    F: Handler<Args>,
    Args: actix_web::FromRequest + 'static,
    F::Output: Responder + 'static,
{
    web::resource(path)
        .route(web::post().to(handler))
        .default_service(web::to(method_not_allowed))
}

/// Registers the console's routes, and the account page's forms (which share its frame).
pub fn configure(cfg: &mut web::ServiceConfig) {
    const ORG: &str = "/admin/orgs/{oid}";
    const GROUP: &str = "/admin/orgs/{oid}/groups/{gid}";
    const APP: &str = "/admin/apps/{app_id}";
    cfg.service(read_only("/admin", users::get_admin))
        .service(read_only("/admin/users", users::get_users))
        .service(form_action(
            "/admin/users/{uid}/disabled",
            users::post_disabled,
        ))
        .service(form_action("/admin/users/{uid}/admin", users::post_admin))
        .service(form_page("/admin/orgs", orgs::get_orgs, orgs::post_orgs))
        .service(read_only(ORG, orgs::get_org))
        .service(form_action(&format!("{ORG}/rename"), orgs::post_rename))
        .service(form_action(&format!("{ORG}/mfa"), orgs::post_mfa))
        .service(form_action(
            "/admin/users/{uid}/factors/reset",
            users::post_reset_factors,
        ))
        .service(form_action(&format!("{ORG}/delete"), orgs::post_delete))
        .service(form_action(&format!("{ORG}/members"), orgs::post_member))
        .service(form_action(
            &format!("{ORG}/members/{{uid}}/admin"),
            orgs::post_member_admin,
        ))
        .service(form_action(
            &format!("{ORG}/members/{{uid}}/remove"),
            orgs::post_member_remove,
        ))
        .service(form_action(&format!("{ORG}/groups"), orgs::post_group))
        .service(form_action(
            &format!("{ORG}/invitations"),
            invitations::post_invite,
        ))
        .service(form_action(
            &format!("{ORG}/invitations/{{id}}/revoke"),
            invitations::post_revoke,
        ))
        .service(read_only(GROUP, groups::get_group))
        .service(form_action(&format!("{GROUP}/rename"), groups::post_rename))
        .service(form_action(&format!("{GROUP}/delete"), groups::post_delete))
        .service(form_action(
            &format!("{GROUP}/members"),
            groups::post_member,
        ))
        .service(form_action(
            &format!("{GROUP}/members/{{uid}}/remove"),
            groups::post_member_remove,
        ))
        .service(form_page("/admin/apps", apps::get_apps, apps::post_apps))
        .service(read_only(APP, apps::get_app))
        .service(form_action(&format!("{APP}/update"), apps::post_update))
        .service(form_action(&format!("{APP}/rotate"), apps::post_rotate))
        .service(form_action(&format!("{APP}/delete"), apps::post_delete))
        .service(form_page("/admin/keys", keys::get_keys, keys::post_keys))
        .service(read_only("/admin/audit", audit::get_audit))
        // routes.rs registers `GET /account`; its forms live with the console's frame.
        .service(form_action("/account/email", account::post_email))
        .service(form_action("/account/password", account::post_password))
        .service(form_action("/account/api-keys", account::post_api_key))
        .service(form_action(
            "/account/api-keys/revoke",
            account::post_api_key_revoke,
        ))
        .service(form_action("/account/orgs", account::post_org))
        .service(form_action("/account/orgs/leave", account::post_org_leave))
        .service(form_action(
            "/account/sessions/revoke",
            crate::handlers::account_sessions::post_session_revoke,
        ))
        .service(form_action(
            "/account/grants/revoke",
            crate::handlers::account_sessions::post_grant_revoke,
        ));
}
