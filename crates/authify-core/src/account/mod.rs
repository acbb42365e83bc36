//! The account side, apart from signing in: what a signed-in user does to their own account
//! (second factors, approver devices and their answers, passkeys, linked providers) and what a
//! mailed link does to it (password reset, address verification, invitations). [`Account`]
//! shares the engine's database, hasher, settings and throttle, but none of its steps: sign-in
//! is [`crate::authn::Authn`].
//!
//! - `factors`, `sent_factors`: the account's own second factors; `approvals`: approver devices.
//! - `passkey_account`: registering and renaming passkeys.
//! - `upstream_account`: linking and unlinking upstream providers on the account page.
//! - [`reset`], [`verify`], [`invite`]: the mailed links.

mod approvals;
pub(crate) mod factors;
pub mod invite;
mod passkey_account;
pub mod reset;
mod sent_factors;
mod upstream_account;
pub mod verify;

use std::sync::Arc;

use authify_domain::Password;

use crate::authn::{Authn, AuthnError, Inner};
use crate::throttle::SignInThrottle;
use crate::{Db, PasswordHasher};

pub use approvals::{ApprovalView, Decision};
pub use factors::{FactorView, FactorsView};
pub use upstream_account::{LinkedProvider, Unlink};

/// The account side. Cheap to clone; made from the engine ([`Authn::account`]).
#[derive(Clone)]
pub struct Account {
    pub(crate) db: Db,
    pub(crate) hasher: PasswordHasher,
    pub(crate) inner: Arc<Inner>,
    pub(crate) upstream: Arc<dyn crate::upstream::Connector>,
}

impl std::fmt::Debug for Account {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Account").finish_non_exhaustive()
    }
}

impl Authn {
    /// The account side of this engine.
    pub fn account(&self) -> Account {
        Account {
            db: self.db.clone(),
            hasher: self.hasher.clone(),
            inner: self.inner.clone(),
            upstream: self.upstream.clone(),
        }
    }
}

impl Account {
    /// The engine, for the steps an account action starts (an upstream round trip to link).
    pub(crate) fn authn(&self) -> Authn {
        Authn {
            db: self.db.clone(),
            hasher: self.hasher.clone(),
            inner: self.inner.clone(),
            upstream: self.upstream.clone(),
        }
    }

    /// Attempts per account: every password check takes one.
    pub fn throttle(&self) -> &SignInThrottle {
        &self.inner.throttle
    }

    /// Checks `user`'s current password to confirm a change (account page, `PATCH /me`): the
    /// same throttle as sign-in, on the bounded hashing pool.
    pub async fn confirm_password(
        &self,
        user: &crate::Person,
        attempt: Password,
    ) -> Result<bool, AuthnError> {
        self.authn().confirm_password(user, attempt).await
    }
}
