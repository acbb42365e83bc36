//! Entering the console: the signed-in user becomes an [`Actor`]; global admins and
//! organization admins get in, anyone else gets a 403 page, and a request without a session is
//! sent to sign in. What each may then see is decided by the core use cases, not here.

use actix_web::HttpRequest;
use authify_core::manage::{self, Actor, PageRequest};

use super::page::{Frame, Nav};
use crate::error::WebError;
use crate::pages::current_user;
use crate::state::AppState;

/// A console request: who acts, and the frame of the page.
#[derive(Debug)]
pub struct Console {
    /// The acting user.
    pub actor: Actor,
    /// Navigation and CSRF token.
    pub frame: Frame,
}

/// An organization the actor manages, for selectors.
#[derive(Debug, Clone, serde::Serialize)]
pub struct OrgChoice {
    /// Public id.
    pub oid: String,
    /// Name.
    pub name: String,
    /// Currently selected.
    pub selected: bool,
}

fn not_an_admin() -> WebError {
    WebError::Forbidden {
        heading: "Not an administrator",
        message: "The admin console is for global administrators and organization admins. Ask an administrator if you need access.".into(),
    }
}

/// The signed-in user as an actor, without the console's access rule (the account page).
pub async fn signed_in(state: &AppState, req: &HttpRequest) -> Result<Option<Actor>, WebError> {
    Ok(current_user(state, req).await?.map(|user| Actor {
        user,
        read_only: false,
        ip: crate::client_ip(req),
    }))
}

impl Console {
    /// The console for `req` with `section` open; `None` without a session (sign in first).
    pub async fn enter(
        state: &AppState,
        req: &HttpRequest,
        section: &'static str,
    ) -> Result<Option<Console>, WebError> {
        let Some(actor) = signed_in(state, req).await? else {
            return Ok(None);
        };
        if !manage::console::may_enter(state.db(), &actor).await? {
            return Err(not_an_admin());
        }
        let nav = Nav {
            email: actor.user.email.clone(),
            global: actor.is_global_admin(),
            section,
        };
        Ok(Some(Console {
            frame: Frame::new(state, req, Some(nav))?,
            actor,
        }))
    }

    /// A global admin.
    pub fn global(&self) -> bool {
        self.actor.is_global_admin()
    }

    /// The organizations the actor administers (not those they merely belong to), by name.
    pub async fn managed_orgs(
        &self,
        state: &AppState,
        selected: Option<&str>,
    ) -> Result<Vec<OrgChoice>, WebError> {
        let page = PageRequest {
            cursor: None,
            limit: Some(manage::views::MAX_LIMIT),
        };
        let orgs = manage::orgs::list(state.db(), &self.actor, None, page).await?;
        Ok(orgs
            .items
            .into_iter()
            .filter(|o| o.role != "member")
            .map(|o| OrgChoice {
                selected: selected == Some(o.oid.as_str()),
                oid: o.oid,
                name: o.name,
            })
            .collect())
    }
}

/// Runs a console page: `None` from [`Console::enter`] becomes the redirect to sign in.
macro_rules! enter {
    ($state:expr, $req:expr, $section:literal) => {
        match $crate::console::gate::Console::enter($state, $req, $section).await? {
            Some(console) => console,
            None => return Ok($crate::pages::see_other("/login")),
        }
    };
}
pub(crate) use enter;
