//! Management use cases, shared by the admin console and the `/api/v1` API so both enforce the
//! same rules: who may do what is decided here, once, and every change is audited in the same
//! transaction that makes it.
//!
//! - [`actor`]: who is acting (a signed-in user or an API key) and the permission checks.
//! - [`views`]: what the use cases return: serializable records and pages.
//! - [`users`], [`orgs`], [`groups`], [`apps`], [`api_keys`], [`audit`]: one module per resource.

pub mod actor;
pub mod api_keys;
pub mod apps;
pub mod audit;
pub mod groups;
pub mod invitations;
pub mod orgs;
pub mod users;
pub mod views;

pub use actor::{Actor, OrgCreation};
pub use views::{Page, PageRequest};
pub mod console;
