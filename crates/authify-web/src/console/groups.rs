//! `/admin/orgs/{oid}/groups/{gid}`: one group of an organization: renaming, deleting (after
//! confirmation), its members, and adding one of the organization's members to it.

use actix_web::{HttpRequest, HttpResponse, web};
use authify_core::manage::views::{GroupInfo, MAX_LIMIT, MemberInfo, OrgInfo};
use authify_core::manage::{PageRequest, groups, orgs};
use serde::{Deserialize, Serialize};

use super::gate::enter;
use super::page::{ActionForm, Confirm, Field, enc, notice};
use crate::error::WebError;
use crate::extract::Checked;
use crate::pages::see_other;
use crate::state::AppState;

#[derive(Serialize)]
struct GroupPage {
    org: OrgInfo,
    group: GroupInfo,
    members: Vec<MemberInfo>,
    candidates: Vec<MemberInfo>,
}

/// Query of a group's page.
#[derive(Debug, Default, Deserialize)]
pub struct GroupQuery {
    /// Notice flag.
    pub done: Option<String>,
}

fn group_url(oid: &str, gid: &str) -> String {
    format!("/admin/orgs/{}/groups/{}", enc(oid), enc(gid))
}

/// `GET /admin/orgs/{oid}/groups/{gid}`.
pub async fn get_group(
    state: web::Data<AppState>,
    req: HttpRequest,
    path: web::Path<(String, String)>,
    query: web::Query<GroupQuery>,
) -> Result<HttpResponse, WebError> {
    let (oid, gid) = path.into_inner();
    group_page(&state, &req, &oid, &gid, query.into_inner()).await
}

async fn group_page(
    state: &AppState,
    req: &HttpRequest,
    oid: &str,
    gid: &str,
    q: GroupQuery,
) -> Result<HttpResponse, WebError> {
    let c = enter!(state, req, "orgs");
    let org = orgs::get(state.db(), &c.actor, oid).await?;
    let group = groups::get(state.db(), &c.actor, oid, gid).await?;
    let members = groups::members(state.db(), &c.actor, oid, gid).await?;
    // The selector offers the first page of the organization's members not yet in the group.
    let page = PageRequest {
        cursor: None,
        limit: Some(MAX_LIMIT),
    };
    let in_org = orgs::members(state.db(), &c.actor, oid, None, page).await?;
    let candidates = in_org
        .items
        .into_iter()
        .filter(|m| !members.iter().any(|g| g.uid == m.uid))
        .collect();
    let view = GroupPage {
        org,
        group,
        members,
        candidates,
    };
    let title = format!("{} / {}", view.org.name, view.group.name);
    c.frame.render(
        state,
        "admin/group",
        &title,
        notice(q.done.as_deref()),
        &view,
    )
}

/// `POST /admin/orgs/{oid}/groups/{gid}/rename`.
pub async fn post_rename(
    state: web::Data<AppState>,
    req: HttpRequest,
    path: web::Path<(String, String)>,
    Checked(form): Checked<ActionForm>,
) -> Result<HttpResponse, WebError> {
    let (oid, gid) = path.into_inner();
    rename(&state, &req, &oid, &gid, form).await
}

async fn rename(
    state: &AppState,
    req: &HttpRequest,
    oid: &str,
    gid: &str,
    form: ActionForm,
) -> Result<HttpResponse, WebError> {
    let c = enter!(state, req, "orgs");
    let name = ActionForm::text(&form.name);
    groups::rename(state.db(), &c.actor, oid, gid, name, state.now()).await?;
    Ok(see_other(&format!(
        "{}?done=group_renamed",
        group_url(oid, gid)
    )))
}

/// `POST /admin/orgs/{oid}/groups/{gid}/delete` (confirmed).
pub async fn post_delete(
    state: web::Data<AppState>,
    req: HttpRequest,
    path: web::Path<(String, String)>,
    Checked(form): Checked<ActionForm>,
) -> Result<HttpResponse, WebError> {
    let (oid, gid) = path.into_inner();
    delete(&state, &req, &oid, &gid, form).await
}

async fn delete(
    state: &AppState,
    req: &HttpRequest,
    oid: &str,
    gid: &str,
    form: ActionForm,
) -> Result<HttpResponse, WebError> {
    let c = enter!(state, req, "orgs");
    if !form.confirmed() {
        let group = groups::get(state.db(), &c.actor, oid, gid).await?;
        return c.frame.confirm(
            state,
            &Confirm {
                heading: format!("Delete the group {}?", group.name),
                message: "The group and its memberships are deleted; its members stay in the organization. This cannot be undone.".into(),
                action: format!("{}/delete", group_url(oid, gid)),
                fields: vec![],
                button: "Delete group",
                cancel_url: group_url(oid, gid),
            },
        );
    }
    groups::delete(state.db(), &c.actor, oid, gid, state.now()).await?;
    Ok(see_other(&format!(
        "/admin/orgs/{}?done=group_deleted",
        enc(oid)
    )))
}

/// `POST /admin/orgs/{oid}/groups/{gid}/members`: adds an organization member (`uid`).
pub async fn post_member(
    state: web::Data<AppState>,
    req: HttpRequest,
    path: web::Path<(String, String)>,
    Checked(form): Checked<ActionForm>,
) -> Result<HttpResponse, WebError> {
    let (oid, gid) = path.into_inner();
    add_member(&state, &req, &oid, &gid, form).await
}

async fn add_member(
    state: &AppState,
    req: &HttpRequest,
    oid: &str,
    gid: &str,
    form: ActionForm,
) -> Result<HttpResponse, WebError> {
    let c = enter!(state, req, "orgs");
    let uid = ActionForm::text(&form.uid);
    groups::add_member(state.db(), &c.actor, oid, gid, uid, state.now()).await?;
    Ok(see_other(&format!(
        "{}?done=member_added",
        group_url(oid, gid)
    )))
}

/// `POST /admin/orgs/{oid}/groups/{gid}/members/{uid}/remove` (confirmed).
pub async fn post_member_remove(
    state: web::Data<AppState>,
    req: HttpRequest,
    path: web::Path<(String, String, String)>,
    Checked(form): Checked<ActionForm>,
) -> Result<HttpResponse, WebError> {
    let (oid, gid, uid) = path.into_inner();
    remove_member(&state, &req, &oid, &gid, &uid, form).await
}

async fn remove_member(
    state: &AppState,
    req: &HttpRequest,
    oid: &str,
    gid: &str,
    uid: &str,
    form: ActionForm,
) -> Result<HttpResponse, WebError> {
    let c = enter!(state, req, "orgs");
    if !form.confirmed() {
        let group = groups::get(state.db(), &c.actor, oid, gid).await?;
        let who = ActionForm::text(&form.email);
        let who = if who.is_empty() { "this member" } else { who };
        return c.frame.confirm(
            state,
            &Confirm {
                heading: format!("Remove {who} from the group {}?", group.name),
                message: "They stay in the organization.".into(),
                action: format!("{}/members/{}/remove", group_url(oid, gid), enc(uid)),
                fields: vec![Field::hidden("email", who)],
                button: "Remove from group",
                cancel_url: group_url(oid, gid),
            },
        );
    }
    groups::remove_member(state.db(), &c.actor, oid, gid, uid, state.now()).await?;
    Ok(see_other(&format!(
        "{}?done=member_removed",
        group_url(oid, gid)
    )))
}
