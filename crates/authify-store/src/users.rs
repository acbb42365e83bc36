//! Users.

use diesel::prelude::*;

use crate::models::{NewUser, User};
use crate::schema::users;
use crate::{DbConnection, StoreError};

/// Inserts a user; a duplicate e-mail is [`StoreError::Conflict`].
pub fn insert_user(conn: &mut DbConnection, new: &NewUser<'_>) -> Result<User, StoreError> {
    let id: i64 = diesel::insert_into(users::table)
        .values(new)
        .returning(users::id)
        .get_result(conn)?;
    get_user(conn, id)
}

/// The user with internal id `id`.
pub fn get_user(conn: &mut DbConnection, id: i64) -> Result<User, StoreError> {
    crate::on_backend!(conn, |c| users::table
        .find(id)
        .select(User::as_select())
        .first(c)
        .optional())?
    .ok_or(StoreError::NotFound("user"))
}

/// The user with this normalized e-mail address.
pub fn find_user_by_email(
    conn: &mut DbConnection,
    email: &str,
) -> Result<Option<User>, StoreError> {
    Ok(users::table
        .filter(users::email.eq(email))
        .select(User::as_select())
        .first(conn)
        .optional()?)
}

/// Enables or disables a user.
pub fn update_user_disabled(
    conn: &mut DbConnection,
    id: i64,
    disabled: bool,
) -> Result<(), StoreError> {
    let n = diesel::update(users::table.find(id))
        .set(users::disabled.eq(disabled))
        .execute(conn)?;
    if n == 0 {
        return Err(StoreError::NotFound("user"));
    }
    Ok(())
}

/// Number of users.
pub fn count_users(conn: &mut DbConnection) -> Result<i64, StoreError> {
    Ok(users::table.count().get_result(conn)?)
}

diesel::define_sql_function! {
    /// SQL `lower()`, the same on both backends.
    fn lower(x: diesel::sql_types::Text) -> diesel::sql_types::Text;
}

/// `%text%` for `LIKE ... ESCAPE '\'`, with `text`'s own wildcards escaped.
pub fn contains_pattern(text: &str) -> String {
    let mut p = String::with_capacity(text.len() + 2);
    p.push('%');
    for c in text.chars() {
        if matches!(c, '%' | '_' | '\\') {
            p.push('\\');
        }
        p.push(c);
    }
    p.push('%');
    p
}

/// Candidates found by the trigram index, at most this many: beyond it the ordered scan is as
/// fast (a frequent string matches early in e-mail order).
const SEARCH_CANDIDATES: usize = 5_000;

#[derive(diesel::QueryableByName)]
struct Candidate {
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    id: i64,
}

/// On SQLite, the ids of users whose e-mail or name contains `text` (3 or more characters), from
/// the FTS5 trigram index `users_search`, when there are at most [`SEARCH_CANDIDATES`]; `None`
/// means scan (PostgreSQL uses its trigram indexes by itself; a shorter or frequent string is
/// cheaper to scan in order).
fn search_candidates(conn: &mut DbConnection, text: &str) -> Result<Option<Vec<i64>>, StoreError> {
    let DbConnection::Sqlite(c) = conn else {
        return Ok(None);
    };
    if text.chars().count() < 3 {
        return Ok(None);
    }
    // An FTS5 string: the text in double quotes, its own quotes doubled (no query syntax).
    let phrase = format!("\"{}\"", text.replace('"', "\"\""));
    let found: Vec<Candidate> = diesel::sql_query(
        "SELECT rowid AS id FROM users_search WHERE users_search MATCH ? LIMIT ?",
    )
    .bind::<diesel::sql_types::Text, _>(phrase)
    .bind::<diesel::sql_types::BigInt, _>(SEARCH_CANDIDATES as i64 + 1)
    .load(c)?;
    Ok((found.len() <= SEARCH_CANDIDATES).then(|| found.into_iter().map(|c| c.id).collect()))
}

/// Filters of [`list_users`].
#[derive(Debug, Clone, Default)]
pub struct UserFilter {
    /// Substring of the e-mail address or (case-insensitively) the name.
    pub query: Option<String>,
    /// Only disabled (`true`) or only enabled (`false`) users.
    pub disabled: Option<bool>,
    /// Only global admins (`true`) or only non-admins (`false`).
    pub admin: Option<bool>,
}

/// Users by e-mail, after the e-mail `after`, at most `limit`.
pub fn list_users(
    conn: &mut DbConnection,
    filter: &UserFilter,
    after: Option<&str>,
    limit: i64,
) -> Result<Vec<User>, StoreError> {
    let mut q = users::table.select(User::as_select()).into_boxed();
    if let Some(text) = filter.query.as_deref().filter(|t| !t.is_empty()) {
        let pattern = contains_pattern(&text.to_lowercase());
        q = q.filter(
            users::email
                .like(pattern.clone())
                .escape('\\')
                .or(lower(users::name).like(pattern).escape('\\')),
        );
        // SQLite: the trigram index names the candidates when they are few; the LIKE above
        // still decides (the index only narrows).
        if let Some(ids) = search_candidates(conn, text)? {
            q = q.filter(users::id.eq_any(ids));
        }
    }
    if let Some(d) = filter.disabled {
        q = q.filter(users::disabled.eq(d));
    }
    if let Some(a) = filter.admin {
        q = q.filter(users::is_admin.eq(a));
    }
    if let Some(after) = after {
        q = q.filter(users::email.gt(after.to_owned()));
    }
    Ok(q.order(users::email.asc()).limit(limit).load(conn)?)
}

/// The user with this public id.
pub fn find_user_by_public_id(
    conn: &mut DbConnection,
    public_id: &str,
) -> Result<Option<User>, StoreError> {
    Ok(crate::on_backend!(conn, |c| users::table
        .filter(users::public_id.eq(public_id))
        .select(User::as_select())
        .first(c)
        .optional())?)
}

/// Grants or revokes global administration.
pub fn update_user_admin(conn: &mut DbConnection, id: i64, admin: bool) -> Result<(), StoreError> {
    diesel::update(users::table.find(id))
        .set(users::is_admin.eq(admin))
        .execute(conn)?;
    Ok(())
}

/// Changes the e-mail address, unverified; a taken one is [`StoreError::Conflict`].
pub fn update_user_email(conn: &mut DbConnection, id: i64, email: &str) -> Result<(), StoreError> {
    diesel::update(users::table.find(id))
        .set((users::email.eq(email), users::email_verified.eq(false)))
        .execute(conn)?;
    Ok(())
}

/// Marks the user's address verified, if it is still `email`; true when it was.
pub fn set_email_verified(
    conn: &mut DbConnection,
    id: i64,
    email: &str,
) -> Result<bool, StoreError> {
    Ok({
        let verified = diesel::update(users::table.find(id).filter(users::email.eq(email)))
            .set(users::email_verified.eq(true))
            .execute(conn)?
            == 1;
        if verified {
            use crate::schema::pending_signups;
            diesel::delete(pending_signups::table.filter(pending_signups::user_id.eq(id)))
                .execute(conn)?;
        }
        verified
    })
}

/// Changes the display name.
pub fn update_user_name(conn: &mut DbConnection, id: i64, name: &str) -> Result<(), StoreError> {
    diesel::update(users::table.find(id))
        .set(users::name.eq(name))
        .execute(conn)?;
    Ok(())
}

/// Replaces the password hash.
pub fn update_user_password(
    conn: &mut DbConnection,
    id: i64,
    password_hash: &str,
) -> Result<(), StoreError> {
    diesel::update(users::table.find(id))
        .set(users::password_hash.eq(password_hash))
        .execute(conn)?;
    Ok(())
}

/// Number of enabled global admins.
pub fn count_active_admins(conn: &mut DbConnection) -> Result<i64, StoreError> {
    Ok(users::table
        .filter(users::is_admin.eq(true))
        .filter(users::disabled.eq(false))
        .count()
        .get_result(conn)?)
}

/// Marks the new account `id` (made by sign-up while verification is required) for deletion
/// at `delete_after` unless its address is verified before.
pub fn mark_pending_signup(
    conn: &mut DbConnection,
    id: i64,
    delete_after: chrono::NaiveDateTime,
) -> Result<(), StoreError> {
    use crate::schema::pending_signups;
    diesel::insert_into(pending_signups::table)
        .values((
            pending_signups::user_id.eq(id),
            pending_signups::delete_after.eq(delete_after),
        ))
        .execute(conn)?;
    Ok(())
}

/// Deletes the accounts marked by [`mark_pending_signup`] whose time came before `now` and whose
/// address is still unverified, unless they gained an administrator flag, an organization, an
/// upstream identity, a second factor or an API key since. One statement, so a verification
/// committed meanwhile keeps its account. Returns how many (their rows cascade).
pub fn delete_unverified_signups(
    conn: &mut DbConnection,
    now: chrono::NaiveDateTime,
) -> Result<usize, StoreError> {
    use crate::schema::{
        api_keys, organization_members, pending_signups, upstream_identities, user_factors,
    };
    let due = pending_signups::table
        .filter(pending_signups::delete_after.lt(now))
        .select(pending_signups::user_id);
    Ok(diesel::delete(
        users::table
            .filter(users::id.eq_any(due))
            .filter(users::email_verified.eq(false))
            .filter(users::is_admin.eq(false))
            .filter(diesel::dsl::not(users::id.eq_any(
                organization_members::table.select(organization_members::user_id),
            )))
            .filter(diesel::dsl::not(users::id.eq_any(
                upstream_identities::table.select(upstream_identities::user_id),
            )))
            .filter(diesel::dsl::not(
                users::id.eq_any(user_factors::table.select(user_factors::user_id)),
            ))
            .filter(diesel::dsl::not(
                users::id.eq_any(api_keys::table.select(api_keys::user_id)),
            )),
    )
    .execute(conn)?)
}
