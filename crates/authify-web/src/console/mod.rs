//! The admin console under `/admin`: server-rendered pages for global admins and, scoped to
//! their organizations, organization admins. Pages work without JavaScript: every change is a
//! form POST carrying the CSRF token, answered with a 303 back to the page and a notice flag;
//! destructive changes take a second, confirming POST.
//!
//! - [`gate`]: who may enter, the acting user; [`page`]: the shared frame, confirmation and
//!   secret pages, notices.
//! - [`users`], [`orgs`], [`groups`], [`apps`], [`keys`], [`audit`]: one module per section.

pub mod apps;
pub mod audit;
pub mod gate;
pub mod groups;
pub mod invitations;
pub mod keys;
pub mod orgs;
pub mod page;
pub mod users;
