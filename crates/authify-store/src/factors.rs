//! Second-factor rows: factors, recovery codes, one-time code challenges, push approval
//! requests, and the policy columns. What they mean belongs to
//! `authify_core::mfa`; this module only reads and writes rows.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::models::{ApprovalRequest, Challenge, Factor};
use crate::schema::{
    applications, approval_requests, auth_flows, factor_challenges, organization_members,
    organizations, recovery_codes, user_factors,
};
use crate::{DbConnection, StoreError};

/// A factor to record.
#[derive(Debug, Clone, Insertable)]
#[diesel(table_name = user_factors)]
pub struct NewFactor<'a> {
    /// See [`Factor`].
    pub user_id: i64,
    /// See [`Factor`].
    pub kind: &'a str,
    /// See [`Factor`].
    pub label: &'a str,
    /// See [`Factor`].
    pub secret: Option<&'a str>,
    /// See [`Factor`].
    pub phone: Option<&'a str>,
    /// See [`Factor`].
    pub device_hash: Option<&'a str>,
    /// See [`Factor`].
    pub pending_for: Option<&'a str>,
    /// See [`Factor`].
    pub confirmed: bool,
    /// See [`Factor`].
    pub created_at: NaiveDateTime,
}

/// Records a factor; returns its id.
pub fn insert_factor(conn: &mut DbConnection, f: &NewFactor<'_>) -> Result<i64, StoreError> {
    Ok(diesel::insert_into(user_factors::table)
        .values(f)
        .returning(user_factors::id)
        .get_result(conn)?)
}

/// A user's factors, confirmed or not, oldest first.
pub fn list_factors(conn: &mut DbConnection, user_id: i64) -> Result<Vec<Factor>, StoreError> {
    Ok(user_factors::table
        .filter(user_factors::user_id.eq(user_id))
        .order(user_factors::id)
        .select(Factor::as_select())
        .load(conn)?)
}

/// One factor of a user.
pub fn find_factor(
    conn: &mut DbConnection,
    user_id: i64,
    id: i64,
) -> Result<Option<Factor>, StoreError> {
    Ok(user_factors::table
        .filter(user_factors::user_id.eq(user_id))
        .filter(user_factors::id.eq(id))
        .select(Factor::as_select())
        .first(conn)
        .optional()?)
}

/// The confirmed approver device with this token hash.
pub fn find_device(conn: &mut DbConnection, hash: &str) -> Result<Option<Factor>, StoreError> {
    Ok(user_factors::table
        .filter(user_factors::device_hash.eq(hash))
        .filter(user_factors::kind.eq("approver"))
        .filter(user_factors::confirmed.eq(true))
        .select(Factor::as_select())
        .first(conn)
        .optional()?)
}

/// Marks a factor confirmed.
pub fn confirm_factor(conn: &mut DbConnection, id: i64) -> Result<(), StoreError> {
    diesel::update(user_factors::table.find(id))
        .set(user_factors::confirmed.eq(true))
        .execute(conn)?;
    Ok(())
}

/// Records the TOTP step just accepted, only if it is later than the last one; returns whether
/// it was (a step is accepted once, even by two requests racing).
pub fn advance_step(conn: &mut DbConnection, id: i64, step: i64) -> Result<bool, StoreError> {
    let n = diesel::update(
        user_factors::table.find(id).filter(
            user_factors::last_step
                .is_null()
                .or(user_factors::last_step.lt(step)),
        ),
    )
    .set(user_factors::last_step.eq(Some(step)))
    .execute(conn)?;
    Ok(n == 1)
}

/// Deletes one factor; returns whether it existed.
pub fn delete_factor(conn: &mut DbConnection, user_id: i64, id: i64) -> Result<bool, StoreError> {
    Ok(diesel::delete(
        user_factors::table
            .filter(user_factors::user_id.eq(user_id))
            .filter(user_factors::id.eq(id)),
    )
    .execute(conn)?
        > 0)
}

/// Deletes a user's unconfirmed factors of one kind (an abandoned enrolment).
pub fn delete_unconfirmed(
    conn: &mut DbConnection,
    user_id: i64,
    kind: &str,
) -> Result<usize, StoreError> {
    Ok(diesel::delete(
        user_factors::table
            .filter(user_factors::user_id.eq(user_id))
            .filter(user_factors::kind.eq(kind))
            .filter(user_factors::confirmed.eq(false)),
    )
    .execute(conn)?)
}

/// Deletes every factor and recovery code of a user; returns how many factors.
pub fn delete_all(conn: &mut DbConnection, user_id: i64) -> Result<usize, StoreError> {
    diesel::delete(recovery_codes::table.filter(recovery_codes::user_id.eq(user_id)))
        .execute(conn)?;
    Ok(
        diesel::delete(user_factors::table.filter(user_factors::user_id.eq(user_id)))
            .execute(conn)?,
    )
}

/// Replaces a user's recovery codes with these hashes.
pub fn replace_recovery_codes(
    conn: &mut DbConnection,
    user_id: i64,
    hashes: &[String],
) -> Result<(), StoreError> {
    diesel::delete(recovery_codes::table.filter(recovery_codes::user_id.eq(user_id)))
        .execute(conn)?;
    // One row at a time: the multi-backend connection has no batch insert (10 rows).
    for h in hashes {
        diesel::insert_into(recovery_codes::table)
            .values((
                recovery_codes::user_id.eq(user_id),
                recovery_codes::code_hash.eq(h),
            ))
            .execute(conn)?;
    }
    Ok(())
}

/// Spends an unused recovery code of the user; returns whether one matched.
pub fn use_recovery_code(
    conn: &mut DbConnection,
    user_id: i64,
    hash: &str,
    now: NaiveDateTime,
) -> Result<bool, StoreError> {
    Ok(diesel::update(
        recovery_codes::table
            .filter(recovery_codes::user_id.eq(user_id))
            .filter(recovery_codes::code_hash.eq(hash))
            .filter(recovery_codes::used_at.is_null()),
    )
    .set(recovery_codes::used_at.eq(Some(now)))
    .execute(conn)?
        == 1)
}

/// How many unused recovery codes the user has.
pub fn count_recovery_codes(conn: &mut DbConnection, user_id: i64) -> Result<i64, StoreError> {
    Ok(recovery_codes::table
        .filter(recovery_codes::user_id.eq(user_id))
        .filter(recovery_codes::used_at.is_null())
        .count()
        .get_result(conn)?)
}

/// Records a sent code, replacing any earlier one for the same flow (or factor, when confirming).
pub fn insert_challenge(
    conn: &mut DbConnection,
    flow_id: Option<i64>,
    factor_id: i64,
    code_hash: &str,
    now: NaiveDateTime,
    expires_at: NaiveDateTime,
) -> Result<i64, StoreError> {
    match flow_id {
        Some(flow) => {
            diesel::delete(factor_challenges::table.filter(factor_challenges::flow_id.eq(flow)))
                .execute(conn)?
        }
        None => diesel::delete(
            factor_challenges::table
                .filter(factor_challenges::flow_id.is_null())
                .filter(factor_challenges::factor_id.eq(factor_id)),
        )
        .execute(conn)?,
    };
    Ok(diesel::insert_into(factor_challenges::table)
        .values((
            factor_challenges::flow_id.eq(flow_id),
            factor_challenges::factor_id.eq(factor_id),
            factor_challenges::code_hash.eq(code_hash),
            factor_challenges::created_at.eq(now),
            factor_challenges::expires_at.eq(expires_at),
        ))
        .returning(factor_challenges::id)
        .get_result(conn)?)
}

/// The live challenge of a flow, or of a factor being confirmed (`flow_id` none).
pub fn find_challenge(
    conn: &mut DbConnection,
    flow_id: Option<i64>,
    factor_id: Option<i64>,
    now: NaiveDateTime,
) -> Result<Option<Challenge>, StoreError> {
    let mut q = factor_challenges::table
        .filter(factor_challenges::expires_at.gt(now))
        .order(factor_challenges::id.desc())
        .select(Challenge::as_select())
        .into_boxed();
    q = match flow_id {
        Some(flow) => q.filter(factor_challenges::flow_id.eq(flow)),
        None => q.filter(factor_challenges::flow_id.is_null()),
    };
    if let Some(f) = factor_id {
        q = q.filter(factor_challenges::factor_id.eq(f));
    }
    Ok(q.first(conn).optional()?)
}

/// Counts a wrong code; returns the tries so far.
pub fn count_challenge_try(conn: &mut DbConnection, id: i64) -> Result<i32, StoreError> {
    Ok(diesel::update(factor_challenges::table.find(id))
        .set(factor_challenges::tries.eq(factor_challenges::tries + 1))
        .returning(factor_challenges::tries)
        .get_result::<i32>(conn)
        .optional()?
        .unwrap_or(i32::MAX))
}

/// Deletes a challenge (spent or exhausted); returns whether it still existed (a code spent
/// by a concurrent request does not count twice).
pub fn delete_challenge(conn: &mut DbConnection, id: i64) -> Result<bool, StoreError> {
    Ok(diesel::delete(factor_challenges::table.find(id)).execute(conn)? == 1)
}

/// Counts a wrong code in a sign-in attempt; returns the failures so far.
pub fn count_flow_failure(conn: &mut DbConnection, flow_id: i64) -> Result<i32, StoreError> {
    Ok(diesel::update(auth_flows::table.find(flow_id))
        .set(auth_flows::factor_failures.eq(auth_flows::factor_failures + 1))
        .returning(auth_flows::factor_failures)
        .get_result::<i32>(conn)
        .optional()?
        .unwrap_or(i32::MAX))
}

/// A push approval request to record.
#[derive(Debug, Clone, Insertable)]
#[diesel(table_name = approval_requests)]
pub struct NewApproval<'a> {
    /// See [`ApprovalRequest`].
    pub public_id: &'a str,
    /// See [`ApprovalRequest`].
    pub flow_id: Option<i64>,
    /// See [`ApprovalRequest`].
    pub user_id: i64,
    /// See [`ApprovalRequest`].
    pub app_name: Option<&'a str>,
    /// See [`ApprovalRequest`].
    pub ip: Option<&'a str>,
    /// See [`ApprovalRequest`].
    pub user_agent: Option<&'a str>,
    /// See [`ApprovalRequest`].
    pub number: i32,
    /// See [`ApprovalRequest`].
    pub choices: &'a str,
    /// See [`ApprovalRequest`].
    pub status: &'a str,
    /// See [`ApprovalRequest`].
    pub created_at: NaiveDateTime,
    /// See [`ApprovalRequest`].
    pub expires_at: NaiveDateTime,
}

/// Records an approval request, replacing any earlier one of the same flow.
pub fn insert_approval(conn: &mut DbConnection, a: &NewApproval<'_>) -> Result<(), StoreError> {
    if let Some(flow) = a.flow_id {
        diesel::delete(approval_requests::table.filter(approval_requests::flow_id.eq(flow)))
            .execute(conn)?;
    }
    diesel::insert_into(approval_requests::table)
        .values(a)
        .execute(conn)?;
    Ok(())
}

/// The latest approval request of a flow.
pub fn find_approval_of_flow(
    conn: &mut DbConnection,
    flow_id: i64,
) -> Result<Option<ApprovalRequest>, StoreError> {
    Ok(approval_requests::table
        .filter(approval_requests::flow_id.eq(flow_id))
        .order(approval_requests::id.desc())
        .select(ApprovalRequest::as_select())
        .first(conn)
        .optional()?)
}

/// An approval request by its public id.
pub fn find_approval(
    conn: &mut DbConnection,
    public_id: &str,
) -> Result<Option<ApprovalRequest>, StoreError> {
    Ok(approval_requests::table
        .filter(approval_requests::public_id.eq(public_id))
        .select(ApprovalRequest::as_select())
        .first(conn)
        .optional()?)
}

/// A user's pending, unexpired approval requests, newest first.
pub fn list_pending_approvals(
    conn: &mut DbConnection,
    user_id: i64,
    now: NaiveDateTime,
) -> Result<Vec<ApprovalRequest>, StoreError> {
    Ok(approval_requests::table
        .filter(approval_requests::user_id.eq(user_id))
        .filter(approval_requests::status.eq("pending"))
        .filter(approval_requests::expires_at.gt(now))
        .order(approval_requests::id.desc())
        .limit(20)
        .select(ApprovalRequest::as_select())
        .load(conn)?)
}

/// Moves a request from `from` to `to` (only if it is still in `from` and unexpired); returns
/// whether it moved. Single use: two answers racing, one wins.
pub fn move_approval(
    conn: &mut DbConnection,
    id: i64,
    from: &str,
    to: &str,
    decided_by: Option<i64>,
    now: NaiveDateTime,
) -> Result<bool, StoreError> {
    let target = approval_requests::table
        .find(id)
        .filter(approval_requests::status.eq(from))
        .filter(approval_requests::expires_at.gt(now));
    let n = match decided_by {
        Some(by) => diesel::update(target)
            .set((
                approval_requests::status.eq(to),
                approval_requests::decided_by.eq(Some(by)),
            ))
            .execute(conn)?,
        None => diesel::update(target)
            .set(approval_requests::status.eq(to))
            .execute(conn)?,
    };
    Ok(n == 1)
}

/// Deletes expired challenges and approval requests; returns how many.
pub fn delete_expired(conn: &mut DbConnection, now: NaiveDateTime) -> Result<usize, StoreError> {
    let challenges =
        diesel::delete(factor_challenges::table.filter(factor_challenges::expires_at.le(now)))
            .execute(conn)?;
    // Kept an hour after expiry so a waiting page still reads "expired", not "unknown".
    let cutoff = now - chrono::Duration::hours(1);
    let approvals =
        diesel::delete(approval_requests::table.filter(approval_requests::expires_at.le(cutoff)))
            .execute(conn)?;
    Ok(challenges + approvals)
}

/// Whether any organization the user belongs to requires a second factor.
pub fn orgs_require_mfa(conn: &mut DbConnection, user_id: i64) -> Result<bool, StoreError> {
    let n: i64 = organization_members::table
        .inner_join(organizations::table)
        .filter(organization_members::user_id.eq(user_id))
        .filter(organizations::require_mfa.eq(true))
        .count()
        .get_result(conn)?;
    Ok(n > 0)
}

/// Whether the application (by client id) requires a second factor.
pub fn app_requires_mfa(conn: &mut DbConnection, app_id: &str) -> Result<bool, StoreError> {
    Ok(applications::table
        .filter(applications::app_id.eq(app_id))
        .select(applications::require_mfa)
        .first::<bool>(conn)
        .optional()?
        .unwrap_or(false))
}

/// Sets an organization's requirement (by public id); returns whether it exists.
pub fn set_org_require_mfa(
    conn: &mut DbConnection,
    public_id: &str,
    value: bool,
) -> Result<bool, StoreError> {
    Ok(
        diesel::update(organizations::table.filter(organizations::public_id.eq(public_id)))
            .set(organizations::require_mfa.eq(value))
            .execute(conn)?
            == 1,
    )
}

/// An organization's requirement (by public id).
pub fn org_requires_mfa(conn: &mut DbConnection, public_id: &str) -> Result<bool, StoreError> {
    Ok(organizations::table
        .filter(organizations::public_id.eq(public_id))
        .select(organizations::require_mfa)
        .first::<bool>(conn)
        .optional()?
        .unwrap_or(false))
}

/// Sets an application's requirement (by client id); returns whether it exists.
pub fn set_app_require_mfa(
    conn: &mut DbConnection,
    app_id: &str,
    value: bool,
) -> Result<bool, StoreError> {
    Ok(
        diesel::update(applications::table.filter(applications::app_id.eq(app_id)))
            .set(applications::require_mfa.eq(value))
            .execute(conn)?
            == 1,
    )
}

/// How many factors hold a sealed secret.
pub fn count_sealed(conn: &mut DbConnection) -> Result<i64, StoreError> {
    Ok(user_factors::table
        .filter(user_factors::secret.is_not_null())
        .count()
        .get_result(conn)?)
}
