//! Who is acting and what they may do. Roles: global admin (`admin_access`), organization
//! admin, organization member, signed-in user; an API key acts as its owner, never more, and a
//! read-only key may only read. The command line acts as [`Actor::system`]: a global admin with
//! no account of its own.
//!
//! Refusals: a resource the actor cannot see at all is "not found" (its existence is not
//! disclosed); one they can see but not change is "forbidden".

use authify_store::models::Organization;
use authify_store::{DbConnection, orgs};
use chrono::NaiveDateTime;

use super::audit::Entry;
use crate::error::AdminError;

/// How the audit log names the command line.
pub const COMMAND_LINE: &str = "command line";

/// The id of [`Actor::system`]'s stand-in user. No row has it: ids start at 1 on both backends.
const SYSTEM_ID: i64 = 0;
/// Its public id: not a UUID, so it never equals a user's.
const SYSTEM_UID: &str = "command-line";

/// The acting user, as the console or the API authenticated them, or the command line.
#[derive(Debug, Clone)]
pub struct Actor {
    /// The user, freshly read for this request (a disabled user never gets here). For
    /// [`Actor::system`], a stand-in that matches no row.
    pub user: crate::Person,
    /// Acting through a read-only API key.
    pub read_only: bool,
    /// Client address, for the audit log.
    pub ip: Option<String>,
}

/// Who may create organizations (`AUTHIFY_ORG_CREATION`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum OrgCreation {
    /// Global admins only (the default).
    #[default]
    Admins,
    /// Any signed-in user, who becomes the new organization's admin.
    Users,
}

/// The actor's relation to one organization.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OrgRole {
    /// A global admin: everything.
    Global,
    /// An admin of this organization.
    Admin,
    /// A plain member.
    Member,
}

impl OrgRole {
    /// Whether this role may manage the organization.
    pub fn manages(self) -> bool {
        matches!(self, OrgRole::Global | OrgRole::Admin)
    }

    /// Lower-case name, as the API shows it.
    pub fn as_str(self) -> &'static str {
        match self {
            OrgRole::Global => "global_admin",
            OrgRole::Admin => "admin",
            OrgRole::Member => "member",
        }
    }
}

impl Actor {
    /// The command line (`authify users|apps|orgs|groups`). Whoever runs it holds the database
    /// and its settings, so it acts with a global administrator's rights and is never read-only;
    /// the rules of the use cases (the last enabled administrator, the last organization admin)
    /// still hold. It is no user: it has no sessions, API keys or password, and the audit log
    /// names it [`COMMAND_LINE`] with no user id.
    pub fn system() -> Actor {
        Actor {
            user: crate::Person {
                id: SYSTEM_ID,
                public_id: SYSTEM_UID.to_owned(),
                email: COMMAND_LINE.to_owned(),
                name: COMMAND_LINE.to_owned(),
                // SECURITY: not a PHC string, so no password ever verifies against it.
                has_password: false,
                is_admin: true,
                disabled: false,
                created_at: NaiveDateTime::default(),
                email_verified: false,
            },
            read_only: false,
            ip: None,
        }
    }

    /// The command line rather than a signed-in user or an API key.
    pub fn is_system(&self) -> bool {
        self.user.id == SYSTEM_ID
    }

    /// A global administrator.
    pub fn is_global_admin(&self) -> bool {
        self.user.is_admin
    }

    /// An audit entry of `action` at `now`, done by this actor: the user and their address, or
    /// the command line (which has no user id).
    pub fn entry(&self, action: &str, now: NaiveDateTime) -> Entry {
        let entry = Entry::new(action, now);
        if self.is_system() {
            entry.by_email(COMMAND_LINE)
        } else {
            entry.by(self)
        }
    }

    /// Fails for the command line, which has no account: its own credentials, API keys.
    pub(crate) fn own_account(&self) -> Result<(), AdminError> {
        if self.is_system() {
            Err(AdminError::Forbidden(
                "the command line has no account of its own".into(),
            ))
        } else {
            Ok(())
        }
    }

    // SECURITY: every write goes through here first; a read-only key changes nothing.
    pub(crate) fn can_write(&self) -> Result<(), AdminError> {
        if self.read_only {
            Err(AdminError::Forbidden(
                "this API key is read-only; it cannot change anything".into(),
            ))
        } else {
            Ok(())
        }
    }

    pub(crate) fn global(&self) -> Result<(), AdminError> {
        if self.is_global_admin() {
            Ok(())
        } else {
            Err(AdminError::Forbidden(
                "only global administrators may do this".into(),
            ))
        }
    }

    /// The organization `oid` and the actor's role in it; "not found" when the actor is neither
    /// a member nor a global admin, so other organizations stay invisible.
    pub(crate) fn org(
        &self,
        conn: &mut DbConnection,
        oid: &str,
    ) -> Result<(Organization, OrgRole), AdminError> {
        let missing = || AdminError::NotFound(format!("no organization {oid:?}"));
        let org = orgs::find_organization(conn, oid)?.ok_or_else(missing)?;
        if self.is_global_admin() {
            return Ok((org, OrgRole::Global));
        }
        match orgs::find_membership(conn, org.id, self.user.id)? {
            Some(true) => Ok((org, OrgRole::Admin)),
            Some(false) => Ok((org, OrgRole::Member)),
            None => Err(missing()),
        }
    }

    /// The organization `oid`, if the actor manages it.
    pub(crate) fn managed_org(
        &self,
        conn: &mut DbConnection,
        oid: &str,
    ) -> Result<Organization, AdminError> {
        let (org, role) = self.org(conn, oid)?;
        if role.manages() {
            Ok(org)
        } else {
            Err(AdminError::Forbidden(
                "only this organization's admins may do this".into(),
            ))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn user_actor(is_admin: bool) -> Actor {
        let mut actor = Actor::system();
        actor.user = crate::Person {
            id: 1,
            public_id: "7d0f8a1e-5b1c-4f0e-9d2a-3c4b5a6d7e8f".into(),
            email: "ann@example.com".into(),
            is_admin,
            ..actor.user
        };
        actor
    }

    #[test]
    fn the_command_line_is_a_writing_global_admin_without_an_account() {
        let cli = Actor::system();
        assert!(cli.is_system() && cli.is_global_admin());
        assert!(cli.can_write().is_ok() && cli.global().is_ok());
        assert!(matches!(cli.own_account(), Err(AdminError::Forbidden(_))));
    }

    #[test]
    fn signed_in_users_are_never_the_command_line() {
        for admin in [true, false] {
            let actor = user_actor(admin);
            assert!(!actor.is_system());
            assert!(actor.own_account().is_ok());
            assert_eq!(actor.global().is_ok(), admin);
        }
    }
}
