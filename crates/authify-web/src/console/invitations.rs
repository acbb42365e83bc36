//! `/admin/orgs/{oid}/invitations`: an organization's admins invite by e-mail and revoke
//! (`authify_core::manage::invitations`); the organization page lists the live invitations.

use actix_web::{HttpRequest, HttpResponse, web};
use authify_core::manage::invitations;

use super::gate::enter;
use super::page::{ActionForm, enc};
use crate::error::WebError;
use crate::extract::Checked;
use crate::pages::see_other;
use crate::state::AppState;

fn org_url(oid: &str, done: &str) -> String {
    format!("/admin/orgs/{}?done={done}#invitations-heading", enc(oid))
}

/// `POST /admin/orgs/{oid}/invitations`: mails an invitation to `email`.
pub async fn post_invite(
    state: web::Data<AppState>,
    req: HttpRequest,
    oid: web::Path<String>,
    Checked(form): Checked<ActionForm>,
) -> Result<HttpResponse, WebError> {
    let c = enter!(&state, &req, "orgs");
    invitations::invite(
        state.db(),
        &c.actor,
        &oid,
        ActionForm::text(&form.email),
        &state.authn().mfa().costs,
        &state.config().public_url,
        state.now(),
    )
    .await?;
    Ok(see_other(&org_url(&oid, "invited")))
}

/// `POST /admin/orgs/{oid}/invitations/{id}/revoke`.
pub async fn post_revoke(
    state: web::Data<AppState>,
    req: HttpRequest,
    path: web::Path<(String, String)>,
    Checked(_form): Checked<ActionForm>,
) -> Result<HttpResponse, WebError> {
    let (oid, id) = path.into_inner();
    let c = enter!(&state, &req, "orgs");
    invitations::revoke(state.db(), &c.actor, &oid, &id, state.now()).await?;
    Ok(see_other(&org_url(&oid, "invitation_revoked")))
}
