//! Who is acting and what they may do. Roles: global admin (`admin_access`), organization
//! admin, organization member, signed-in user; an API key acts as its owner, never more, and a
//! read-only key may only read.
//!
//! Refusals: a resource the actor cannot see at all is "not found" (its existence is not
//! disclosed); one they can see but not change is "forbidden".

use authify_store::models::{Organization, User};
use authify_store::{DbConnection, orgs};

use crate::error::AdminError;

/// The acting user, as the console or the API authenticated them.
#[derive(Debug, Clone)]
pub struct Actor {
    /// The user, freshly read for this request (a disabled user never gets here).
    pub user: User,
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
    /// A global administrator.
    pub fn is_global_admin(&self) -> bool {
        self.user.is_admin
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
