//! What the admin console needs beyond the shared use cases: who may enter it, the global-admin
//! gate of pages with no use case of their own (signing keys), and the audit entry of a key rotation.

use authify_store::orgs;
use chrono::{DateTime, Utc};

use super::actor::Actor;
use super::audit::Entry;
use crate::error::AdminError;
use crate::{Db, db_time};

/// Whether the actor administers at least one organization.
pub async fn administers_any(db: &Db, actor: &Actor) -> Result<bool, AdminError> {
    let id = actor.user.id;
    Ok(db.run(move |conn| orgs::administers_any(conn, id)).await?)
}

/// Whether the actor may enter the console: a global admin or an organization admin.
pub async fn may_enter(db: &Db, actor: &Actor) -> Result<bool, AdminError> {
    Ok(actor.is_global_admin() || administers_any(db, actor).await?)
}

/// Fails unless the actor is a global admin (pages with no use case of their own).
pub fn require_global(actor: &Actor) -> Result<(), AdminError> {
    actor.global()
}

/// Records that the actor generated and activated signing key `kid`.
pub async fn record_key_rotation(db: &Db, actor: &Actor, kid: &str, now: DateTime<Utc>) {
    Entry::new("signing_key.rotate", db_time(now))
        .by(actor)
        .target("signing_key", kid, kid)
        .save(db)
        .await;
}
