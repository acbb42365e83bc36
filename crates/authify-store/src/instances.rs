//! What several instances on one database share: signing keys (`signing_keys`), leases
//! (`leases`) and attempt budgets (`throttle_buckets`). Rows only; sealing, rotation policy and
//! budget arithmetic belong to `authify_core`.
//!
//! Times are milliseconds since the epoch. The two statements that must decide atomically (take
//! a lease, spend an attempt) are single upserts, written once per backend because the
//! placeholders (`?` / `$n`) and the maximum function (`MAX` / `GREATEST`) differ.

use diesel::prelude::*;
use diesel::sql_types::{BigInt, Integer, Text};

use crate::schema::{leases, signing_keys, throttle_buckets};
use crate::{DbConnection, StoreError};

/// A stored signing key, its private half still sealed.
#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable, Insertable)]
#[diesel(table_name = signing_keys)]
pub struct SigningKeyRow {
    /// The key id.
    pub kid: String,
    /// `ES256`, `ES384` or `ES512`.
    pub algorithm: String,
    /// The PKCS#8 PEM sealed under the master key (base64 of nonce, ciphertext, tag).
    pub private_sealed: String,
    /// When it was made (and first published).
    pub created_at_ms: i64,
    /// When it may start signing.
    pub signs_from_ms: i64,
}

/// Every stored key, oldest first.
pub fn list_signing_keys(conn: &mut DbConnection) -> Result<Vec<SigningKeyRow>, StoreError> {
    Ok(on_backend!(conn, |c| signing_keys::table
        .select(SigningKeyRow::as_select())
        .order((signing_keys::signs_from_ms, signing_keys::kid))
        .load(c))?)
}

/// Stores a key.
pub fn insert_signing_key(conn: &mut DbConnection, row: &SigningKeyRow) -> Result<(), StoreError> {
    diesel::insert_into(signing_keys::table)
        .values(row)
        .execute(conn)?;
    Ok(())
}

/// Deletes a key (retired: nothing it signed is still valid).
pub fn delete_signing_key(conn: &mut DbConnection, kid: &str) -> Result<bool, StoreError> {
    Ok(diesel::delete(signing_keys::table.find(kid)).execute(conn)? > 0)
}

/// How many keys are stored (sealed secrets that need the master key).
pub fn count_signing_keys(conn: &mut DbConnection) -> Result<i64, StoreError> {
    Ok(signing_keys::table.count().get_result(conn)?)
}

#[derive(QueryableByName)]
struct Holder {
    #[diesel(sql_type = Text)]
    holder: String,
}

/// Takes or renews the lease `name` for `holder` until `expires_at_ms`: succeeds when nobody
/// holds it, `holder` already does, or the last holder's lease ran out before `now_ms`.
pub fn take_lease(
    conn: &mut DbConnection,
    name: &str,
    holder: &str,
    now_ms: i64,
    expires_at_ms: i64,
) -> Result<bool, StoreError> {
    // One statement: two instances racing for a free lease are ordered by the row lock
    // (PostgreSQL) or the write lock (SQLite); the second sees the first's row and its WHERE fails.
    let taken: Vec<Holder> = match conn {
        DbConnection::Sqlite(c) => diesel::sql_query(
            "INSERT INTO leases (name, holder, expires_at_ms) VALUES (?, ?, ?) \
             ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, expires_at_ms = excluded.expires_at_ms \
             WHERE leases.holder = excluded.holder OR leases.expires_at_ms < ? RETURNING holder",
        )
        .bind::<Text, _>(name)
        .bind::<Text, _>(holder)
        .bind::<BigInt, _>(expires_at_ms)
        .bind::<BigInt, _>(now_ms)
        .load(c)?,
        DbConnection::Postgresql(c) => diesel::sql_query(
            "INSERT INTO leases AS l (name, holder, expires_at_ms) VALUES ($1, $2, $3) \
             ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, expires_at_ms = excluded.expires_at_ms \
             WHERE l.holder = excluded.holder OR l.expires_at_ms < $4 RETURNING holder",
        )
        .bind::<Text, _>(name)
        .bind::<Text, _>(holder)
        .bind::<BigInt, _>(expires_at_ms)
        .bind::<BigInt, _>(now_ms)
        .load(c)?,
    };
    Ok(taken.iter().any(|h| h.holder == holder))
}

/// Gives the lease up (a clean shutdown), if `holder` has it.
pub fn release_lease(conn: &mut DbConnection, name: &str, holder: &str) -> Result<(), StoreError> {
    diesel::delete(
        leases::table
            .filter(leases::name.eq(name))
            .filter(leases::holder.eq(holder)),
    )
    .execute(conn)?;
    Ok(())
}

#[derive(QueryableByName)]
struct Spent {
    #[diesel(sql_type = BigInt)]
    tat_ms: i64,
    #[diesel(sql_type = Integer)]
    last_allowed: i32,
}

/// Spends one attempt of `key` under the generic cell rate algorithm: each attempt moves the
/// bucket's theoretical arrival time `interval_ms` later; an attempt is allowed when that time
/// stays within `limit_ms` of `now_ms` (the burst times the interval), and a refused one changes
/// nothing. Returns whether it was allowed and the bucket's arrival time afterwards.
pub fn spend_attempt(
    conn: &mut DbConnection,
    key: &str,
    now_ms: i64,
    interval_ms: i64,
    limit_ms: i64,
) -> Result<(bool, i64), StoreError> {
    let rows: Vec<Spent> = match conn {
        DbConnection::Sqlite(c) => diesel::sql_query(
            "INSERT INTO throttle_buckets (key, tat_ms, last_allowed) VALUES (?1, ?2 + ?3, 1) \
             ON CONFLICT (key) DO UPDATE SET \
               tat_ms = CASE WHEN MAX(tat_ms, ?2) + ?3 - ?2 <= ?4 THEN MAX(tat_ms, ?2) + ?3 ELSE tat_ms END, \
               last_allowed = CASE WHEN MAX(tat_ms, ?2) + ?3 - ?2 <= ?4 THEN 1 ELSE 0 END \
             RETURNING tat_ms, last_allowed",
        )
        .bind::<Text, _>(key)
        .bind::<BigInt, _>(now_ms)
        .bind::<BigInt, _>(interval_ms)
        .bind::<BigInt, _>(limit_ms)
        .load(c)?,
        DbConnection::Postgresql(c) => diesel::sql_query(
            "INSERT INTO throttle_buckets AS b (key, tat_ms, last_allowed) VALUES ($1, $2 + $3, 1) \
             ON CONFLICT (key) DO UPDATE SET \
               tat_ms = CASE WHEN GREATEST(b.tat_ms, $2) + $3 - $2 <= $4 THEN GREATEST(b.tat_ms, $2) + $3 ELSE b.tat_ms END, \
               last_allowed = CASE WHEN GREATEST(b.tat_ms, $2) + $3 - $2 <= $4 THEN 1 ELSE 0 END \
             RETURNING tat_ms, last_allowed",
        )
        .bind::<Text, _>(key)
        .bind::<BigInt, _>(now_ms)
        .bind::<BigInt, _>(interval_ms)
        .bind::<BigInt, _>(limit_ms)
        .load(c)?,
    };
    let spent = rows
        .into_iter()
        .next()
        .ok_or_else(|| StoreError::NotFound("the attempt just recorded"))?;
    Ok((spent.last_allowed == 1, spent.tat_ms))
}

/// Deletes the buckets that are full again (their arrival time has passed): a missing bucket is
/// a full one, so memory and rows follow recent attempts only.
pub fn delete_full_buckets(conn: &mut DbConnection, now_ms: i64) -> Result<usize, StoreError> {
    Ok(
        diesel::delete(throttle_buckets::table.filter(throttle_buckets::tat_ms.le(now_ms)))
            .execute(conn)?,
    )
}
