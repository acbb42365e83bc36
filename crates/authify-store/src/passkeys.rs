//! Passkey rows (factors of kind `passkey`, their `credential` and `credential_id` columns) and
//! the ceremony column of sign-in attempts. What they mean belongs to `authify_core::authn`
//! (`passkeys`, `passwordless`); this module only reads and writes rows.

use diesel::prelude::*;

use crate::models::Factor;
use crate::schema::{auth_flows, user_factors};
use crate::{DbConnection, StoreError};

/// Stores a factor's credential (a registration state, then the registered passkey) and, once
/// registered, its credential id.
pub fn set_credential(
    conn: &mut DbConnection,
    id: i64,
    credential: &str,
    credential_id: Option<&str>,
) -> Result<(), StoreError> {
    diesel::update(user_factors::table.find(id))
        .set((
            user_factors::credential.eq(Some(credential)),
            user_factors::credential_id.eq(credential_id),
        ))
        .execute(conn)?;
    Ok(())
}

/// Replaces a registered passkey's credential (its counter and backup state after a use) only
/// if it is still `expected`: two sign-ins racing with one authenticator cannot both write.
pub fn update_credential(
    conn: &mut DbConnection,
    id: i64,
    expected: &str,
    credential: &str,
) -> Result<bool, StoreError> {
    Ok(diesel::update(
        user_factors::table
            .find(id)
            .filter(user_factors::credential.eq(expected)),
    )
    .set(user_factors::credential.eq(Some(credential)))
    .execute(conn)?
        == 1)
}

/// Whether any account holds this credential id (registered or not).
pub fn credential_taken(conn: &mut DbConnection, credential_id: &str) -> Result<bool, StoreError> {
    Ok(user_factors::table
        .filter(user_factors::credential_id.eq(credential_id))
        .count()
        .get_result::<i64>(conn)?
        > 0)
}

/// Renames one of a user's confirmed factors of `kind`; returns whether it existed.
pub fn rename_factor(
    conn: &mut DbConnection,
    user_id: i64,
    id: i64,
    kind: &str,
    label: &str,
) -> Result<bool, StoreError> {
    Ok(diesel::update(
        user_factors::table
            .filter(user_factors::user_id.eq(user_id))
            .filter(user_factors::id.eq(id))
            .filter(user_factors::kind.eq(kind))
            .filter(user_factors::confirmed.eq(true)),
    )
    .set(user_factors::label.eq(label))
    .execute(conn)?
        == 1)
}

/// A user's unconfirmed factor of `kind` made for `context` (a registration in progress).
pub fn find_pending(
    conn: &mut DbConnection,
    user_id: i64,
    kind: &str,
    context: &str,
) -> Result<Option<Factor>, StoreError> {
    Ok(user_factors::table
        .filter(user_factors::user_id.eq(user_id))
        .filter(user_factors::kind.eq(kind))
        .filter(user_factors::confirmed.eq(false))
        .filter(user_factors::pending_for.eq(context))
        .order(user_factors::id.desc())
        .select(Factor::as_select())
        .first(conn)
        .optional()?)
}

/// Sets (or clears) the ceremony of an attempt.
pub fn set_ceremony(
    conn: &mut DbConnection,
    flow_id: i64,
    ceremony: Option<&str>,
) -> Result<(), StoreError> {
    diesel::update(auth_flows::table.find(flow_id))
        .set(auth_flows::ceremony.eq(ceremony))
        .execute(conn)?;
    Ok(())
}

/// The attempt's ceremony, taken: cleared by a conditional UPDATE, so a challenge is answered
/// once even by two requests racing.
pub fn take_ceremony(conn: &mut DbConnection, flow_id: i64) -> Result<Option<String>, StoreError> {
    let current: Option<String> = auth_flows::table
        .find(flow_id)
        .select(auth_flows::ceremony)
        .first::<Option<String>>(conn)
        .optional()?
        .flatten();
    let Some(value) = current else {
        return Ok(None);
    };
    let n = diesel::update(
        auth_flows::table
            .find(flow_id)
            .filter(auth_flows::ceremony.eq(&value)),
    )
    .set(auth_flows::ceremony.eq(None::<String>))
    .execute(conn)?;
    Ok((n == 1).then_some(value))
}

/// The attempt's ceremony, read without taking it.
pub fn peek_ceremony(conn: &mut DbConnection, flow_id: i64) -> Result<Option<String>, StoreError> {
    Ok(auth_flows::table
        .find(flow_id)
        .select(auth_flows::ceremony)
        .first::<Option<String>>(conn)
        .optional()?
        .flatten())
}

/// Records what an attempt waits for, with or without an identified user (a passwordless
/// request for an unknown address names nobody).
pub fn set_waiting(
    conn: &mut DbConnection,
    flow_id: i64,
    user_id: Option<i64>,
    pending: &str,
) -> Result<(), StoreError> {
    diesel::update(auth_flows::table.find(flow_id))
        .set((
            auth_flows::user_id.eq(user_id),
            auth_flows::pending.eq(pending),
        ))
        .execute(conn)?;
    Ok(())
}
