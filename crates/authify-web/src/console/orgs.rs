//! `/admin/orgs` and `/admin/orgs/{oid}`: organizations (all of them for global admins, the ones
//! they administer for organization admins), creating, renaming and deleting them, their
//! members (add by exact e-mail, promote, demote, remove) and creating their groups.

use actix_web::{HttpRequest, HttpResponse, web};
use authify_core::manage::invitations::{self, InvitationInfo};
use authify_core::manage::views::{GroupInfo, MemberInfo, OrgInfo};
use authify_core::manage::{OrgCreation, PageRequest, groups, orgs};
use serde::{Deserialize, Serialize};

use super::gate::enter;
use super::page::{ActionForm, Confirm, Field, enc, link, notice};
use super::users::ListQuery;
use crate::error::WebError;
use crate::extract::Checked;
use crate::pages::see_other;
use crate::state::AppState;

#[derive(Serialize)]
struct OrgsPage {
    q: String,
    orgs: Vec<OrgInfo>,
    next_url: Option<String>,
    can_create: bool,
}

#[derive(Serialize)]
struct OrgPage {
    org: OrgInfo,
    members: Vec<MemberInfo>,
    next_url: Option<String>,
    groups: Vec<GroupInfo>,
    can_delete: bool,
    require_mfa: bool,
    invitations: Vec<InvitationInfo>,
}

/// Query of an organization's page.
#[derive(Debug, Default, Deserialize)]
pub struct OrgQuery {
    /// Members page cursor.
    pub cursor: Option<String>,
    /// Notice flag.
    pub done: Option<String>,
}

fn org_url(oid: &str, done: &str) -> String {
    format!("/admin/orgs/{}?done={done}", enc(oid))
}

/// `GET /admin/orgs?q=&cursor=`.
pub async fn get_orgs(
    state: web::Data<AppState>,
    req: HttpRequest,
    query: web::Query<ListQuery>,
) -> Result<HttpResponse, WebError> {
    let (state, req) = (state.get_ref(), &req);
    let q = query.into_inner();
    let c = enter!(state, req, "orgs");
    let text = q.q.unwrap_or_default();
    let page = PageRequest {
        cursor: q.cursor,
        limit: None,
    };
    let query = Some(text.clone()).filter(|t| !t.trim().is_empty());
    let found = orgs::list(state.db(), &c.actor, query, page).await?;
    let view = OrgsPage {
        next_url: found
            .next_cursor
            .as_deref()
            .map(|cur| link("/admin/orgs", &[("q", Some(&text)), ("cursor", Some(cur))])),
        q: text,
        // Plain memberships are the account page's business; the console lists what one manages.
        orgs: found
            .items
            .into_iter()
            .filter(|o| o.role != "member")
            .collect(),
        can_create: c.global() || state.config().org_creation == OrgCreation::Users,
    };
    c.frame.render(
        state,
        "admin/orgs",
        "Organizations",
        notice(q.done.as_deref()),
        &view,
    )
}

/// `POST /admin/orgs`: creates an organization.
pub async fn post_orgs(
    state: web::Data<AppState>,
    req: HttpRequest,
    Checked(form): Checked<ActionForm>,
) -> Result<HttpResponse, WebError> {
    create_org(&state, &req, form).await
}

async fn create_org(
    state: &AppState,
    req: &HttpRequest,
    form: ActionForm,
) -> Result<HttpResponse, WebError> {
    let c = enter!(state, req, "orgs");
    let name = ActionForm::text(&form.name);
    let policy = state.config().org_creation;
    let org = orgs::create(state.db(), &c.actor, name, policy, state.now()).await?;
    Ok(see_other(&org_url(&org.oid, "org_created")))
}

/// `GET /admin/orgs/{oid}?cursor=`.
pub async fn get_org(
    state: web::Data<AppState>,
    req: HttpRequest,
    oid: web::Path<String>,
    query: web::Query<OrgQuery>,
) -> Result<HttpResponse, WebError> {
    let (state, req) = (state.get_ref(), &req);
    let oid = &oid;
    let q = query.into_inner();
    let c = enter!(state, req, "orgs");
    let org = orgs::get(state.db(), &c.actor, oid).await?;
    let page = PageRequest {
        cursor: q.cursor,
        limit: None,
    };
    let members = orgs::members(state.db(), &c.actor, oid, None, page).await?;
    let groups = groups::list(state.db(), &c.actor, oid).await?;
    let require_mfa = orgs::requires_mfa(state.db(), &c.actor, oid).await?;
    let invitations = invitations::pending(state.db(), &c.actor, oid, state.now()).await?;
    let view = OrgPage {
        invitations,
        require_mfa,
        next_url: members.next_cursor.as_deref().map(|cur| {
            link(
                &format!("/admin/orgs/{}", enc(oid)),
                &[("cursor", Some(cur))],
            )
        }),
        members: members.items,
        groups,
        can_delete: c.global(),
        org,
    };
    let title = view.org.name.clone();
    c.frame
        .render(state, "admin/org", &title, notice(q.done.as_deref()), &view)
}

/// `POST /admin/orgs/{oid}/rename`.
pub async fn post_rename(
    state: web::Data<AppState>,
    req: HttpRequest,
    oid: web::Path<String>,
    Checked(form): Checked<ActionForm>,
) -> Result<HttpResponse, WebError> {
    rename(&state, &req, &oid, form).await
}

async fn rename(
    state: &AppState,
    req: &HttpRequest,
    oid: &str,
    form: ActionForm,
) -> Result<HttpResponse, WebError> {
    let c = enter!(state, req, "orgs");
    let name = ActionForm::text(&form.name);
    orgs::rename(state.db(), &c.actor, oid, name, state.now()).await?;
    Ok(see_other(&org_url(oid, "org_renamed")))
}

/// `POST /admin/orgs/{oid}/mfa`: `value=yes` requires a second factor of the members.
pub async fn post_mfa(
    state: web::Data<AppState>,
    req: HttpRequest,
    oid: web::Path<String>,
    Checked(form): Checked<ActionForm>,
) -> Result<HttpResponse, WebError> {
    let c = enter!(state.get_ref(), &req, "orgs");
    let value = ActionForm::yes(&form.value);
    orgs::set_require_mfa(state.db(), &c.actor, &oid, value, state.now()).await?;
    Ok(see_other(&org_url(
        &oid,
        if value {
            "mfa_required"
        } else {
            "mfa_optional"
        },
    )))
}

/// `POST /admin/orgs/{oid}/delete` (confirmed).
pub async fn post_delete(
    state: web::Data<AppState>,
    req: HttpRequest,
    oid: web::Path<String>,
    Checked(form): Checked<ActionForm>,
) -> Result<HttpResponse, WebError> {
    delete(&state, &req, &oid, form).await
}

async fn delete(
    state: &AppState,
    req: &HttpRequest,
    oid: &str,
    form: ActionForm,
) -> Result<HttpResponse, WebError> {
    let c = enter!(state, req, "orgs");
    if !form.confirmed() {
        let org = orgs::get(state.db(), &c.actor, oid).await?;
        return c.frame.confirm(
            state,
            &Confirm {
                heading: format!("Delete {}?", org.name),
                message: "The organization, its groups and all memberships are deleted. Applications stop seeing it in tokens. This cannot be undone.".into(),
                action: format!("/admin/orgs/{}/delete", enc(oid)),
                fields: vec![],
                button: "Delete organization",
                cancel_url: format!("/admin/orgs/{}", enc(oid)),
            },
        );
    }
    orgs::delete(state.db(), &c.actor, oid, state.now()).await?;
    Ok(see_other("/admin/orgs?done=org_deleted"))
}

/// `POST /admin/orgs/{oid}/members`: adds the user with this exact e-mail address.
pub async fn post_member(
    state: web::Data<AppState>,
    req: HttpRequest,
    oid: web::Path<String>,
    Checked(form): Checked<ActionForm>,
) -> Result<HttpResponse, WebError> {
    add_member(&state, &req, &oid, form).await
}

async fn add_member(
    state: &AppState,
    req: &HttpRequest,
    oid: &str,
    form: ActionForm,
) -> Result<HttpResponse, WebError> {
    let c = enter!(state, req, "orgs");
    let (email, admin) = (ActionForm::text(&form.email), ActionForm::yes(&form.admin));
    orgs::add_member(state.db(), &c.actor, oid, email, admin, state.now()).await?;
    Ok(see_other(&org_url(oid, "member_added")))
}

/// `POST /admin/orgs/{oid}/members/{uid}/admin`: `value=yes` promotes, `no` demotes.
pub async fn post_member_admin(
    state: web::Data<AppState>,
    req: HttpRequest,
    path: web::Path<(String, String)>,
    Checked(form): Checked<ActionForm>,
) -> Result<HttpResponse, WebError> {
    let (oid, uid) = path.into_inner();
    member_admin(&state, &req, &oid, &uid, form).await
}

async fn member_admin(
    state: &AppState,
    req: &HttpRequest,
    oid: &str,
    uid: &str,
    form: ActionForm,
) -> Result<HttpResponse, WebError> {
    let c = enter!(state, req, "orgs");
    let admin = ActionForm::yes(&form.value);
    orgs::set_member_admin(state.db(), &c.actor, oid, uid, admin, state.now()).await?;
    let done = if admin {
        "member_promoted"
    } else {
        "member_demoted"
    };
    Ok(see_other(&org_url(oid, done)))
}

/// `POST /admin/orgs/{oid}/members/{uid}/remove` (confirmed).
pub async fn post_member_remove(
    state: web::Data<AppState>,
    req: HttpRequest,
    path: web::Path<(String, String)>,
    Checked(form): Checked<ActionForm>,
) -> Result<HttpResponse, WebError> {
    let (oid, uid) = path.into_inner();
    remove_member(&state, &req, &oid, &uid, form).await
}

async fn remove_member(
    state: &AppState,
    req: &HttpRequest,
    oid: &str,
    uid: &str,
    form: ActionForm,
) -> Result<HttpResponse, WebError> {
    let c = enter!(state, req, "orgs");
    if !form.confirmed() {
        let org = orgs::get(state.db(), &c.actor, oid).await?;
        let who = ActionForm::text(&form.email);
        let who = if who.is_empty() { "this member" } else { who };
        return c.frame.confirm(
            state,
            &Confirm {
                heading: format!("Remove {who} from {}?", org.name),
                message: "They leave the organization and all of its groups.".into(),
                action: format!("/admin/orgs/{}/members/{}/remove", enc(oid), enc(uid)),
                fields: vec![Field::hidden("email", who)],
                button: "Remove member",
                cancel_url: format!("/admin/orgs/{}", enc(oid)),
            },
        );
    }
    orgs::remove_member(state.db(), &c.actor, oid, uid, state.now()).await?;
    Ok(see_other(&org_url(oid, "member_removed")))
}

/// `POST /admin/orgs/{oid}/groups`: creates a group.
pub async fn post_group(
    state: web::Data<AppState>,
    req: HttpRequest,
    oid: web::Path<String>,
    Checked(form): Checked<ActionForm>,
) -> Result<HttpResponse, WebError> {
    create_group(&state, &req, &oid, form).await
}

async fn create_group(
    state: &AppState,
    req: &HttpRequest,
    oid: &str,
    form: ActionForm,
) -> Result<HttpResponse, WebError> {
    let c = enter!(state, req, "orgs");
    let name = ActionForm::text(&form.name);
    let group = groups::create(state.db(), &c.actor, oid, name, state.now()).await?;
    Ok(see_other(&format!(
        "/admin/orgs/{}/groups/{}?done=group_created",
        enc(oid),
        enc(&group.gid)
    )))
}
