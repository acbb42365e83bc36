//! `/account`: who you are, your organizations and groups.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use authify_core::{sessions, tokens};
use chrono::Utc;

use crate::cookies;
use crate::pages::{PageError, render, respond, see_other};
use crate::state::AppState;
use crate::views::{AccountGroup, AccountOrganization, AccountUser, AccountView};

/// `GET /account`; without a session, to the sign-in page.
pub async fn get_account(state: web::Data<AppState>, req: HttpRequest) -> HttpResponse {
    respond(&state, account_page(&state, &req).await)
}

async fn account_page(state: &AppState, req: &HttpRequest) -> Result<HttpResponse, PageError> {
    let user = match cookies::session_token(req) {
        Some(token) => sessions::resolve(state.db(), &token, Utc::now())
            .await
            .map_err(PageError::internal)?,
        None => None,
    };
    let Some(user) = user else {
        return Ok(see_other("/login"));
    };
    let subject = {
        let user = user.clone();
        state
            .db()
            .run(move |conn| tokens::subject(conn, &user))
            .await
            .map_err(PageError::internal)?
    };
    let (csrf_token, cookie) =
        cookies::csrf_token(req, state.config().secure_cookies).map_err(PageError::internal)?;
    let view = AccountView {
        title: "Your account",
        csrf_token,
        user: AccountUser {
            email: user.email,
            name: user.name,
            uid: user.public_id,
            admin: user.is_admin,
            created: user.created_at.format("%Y-%m-%d").to_string(),
        },
        organizations: subject
            .user
            .organizations
            .into_iter()
            .map(|o| AccountOrganization {
                name: o.name,
                oid: o.oid,
                admin: o.admin,
                groups: o
                    .memberships
                    .into_iter()
                    .map(|g| AccountGroup {
                        name: g.name,
                        gid: g.gid,
                    })
                    .collect(),
            })
            .collect(),
    };
    let mut res = render(state, "pages/account", &view, StatusCode::OK)?;
    if let Some(c) = cookie {
        res.add_cookie(&c).map_err(PageError::internal)?;
    }
    Ok(res)
}
