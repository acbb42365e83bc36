//! A synthetic population for benchmarks and scale tests (`authify seed`): users, organizations
//! with members and one group each. Every seeded user shares one password hash (hashing 100,000
//! passwords would measure argon2, not the console). Idempotent per prefix: rerunning fails on
//! the first duplicate e-mail and writes nothing.

use authify_store::models::NewUser;
use authify_store::{DbConnection, orgs, transaction, users};
use chrono::NaiveDateTime;

use crate::{AdminError, random};

/// What to create.
#[derive(Debug, Clone, Copy)]
pub struct SeedPlan {
    /// Users `seed-<n>@example.com`.
    pub users: u32,
    /// Organizations `Seed organization <n>`, each with up to `members_per_org` members (the
    /// first is its admin) and a group holding the first three.
    pub orgs: u32,
    /// Members per organization.
    pub members_per_org: u32,
}

const FIRST: [&str; 8] = [
    "Ann", "Max", "Olivia", "Liam", "Sofia", "Noah", "Mia", "Ravi",
];
const LAST: [&str; 8] = [
    "Lee", "Novak", "Garcia", "Smith", "Okafor", "Tanaka", "Berg", "Shah",
];

/// Inserts the population in transactions of 1,000 rows; returns (users, organizations).
pub fn seed(
    conn: &mut DbConnection,
    plan: SeedPlan,
    password_hash: &str,
    now: NaiveDateTime,
) -> Result<(u32, u32), AdminError> {
    let mut ids = Vec::with_capacity(plan.users as usize);
    for chunk_start in (0..plan.users).step_by(1000) {
        let end = (chunk_start + 1000).min(plan.users);
        let chunk = transaction(conn, |conn| {
            let mut out = Vec::new();
            for n in chunk_start..end {
                let i = n as usize;
                let email = format!("seed-{n:06}@example.com");
                let name = format!("{} {} {n}", FIRST[i % 8], LAST[(i / 8) % 8]);
                let public_id = random::public_id()?;
                let user = users::insert_user(
                    conn,
                    &NewUser {
                        public_id: &public_id,
                        email: &email,
                        name: &name,
                        password_hash,
                        is_admin: false,
                        disabled: false,
                        created_at: now,
                    },
                )
                .map_err(|e| match e {
                    authify_store::StoreError::Conflict(_) => AdminError::Conflict(format!(
                        "{email} already exists; seed an empty database"
                    )),
                    other => other.into(),
                })?;
                out.push(user.id);
            }
            Ok::<_, AdminError>(out)
        })?;
        ids.extend(chunk);
    }
    let per = plan.members_per_org.max(1) as usize;
    for chunk_start in (0..plan.orgs).step_by(100) {
        let end = (chunk_start + 100).min(plan.orgs);
        transaction(conn, |conn| {
            for n in chunk_start..end {
                let org = orgs::insert_organization(
                    conn,
                    &random::public_id()?,
                    &format!("Seed organization {n:05}"),
                    now,
                )?;
                let start = (n as usize * per) % ids.len().max(1);
                let members: Vec<i64> = ids
                    .iter()
                    .cycle()
                    .skip(start)
                    .take(per.min(ids.len()))
                    .copied()
                    .collect();
                for (k, uid) in members.iter().enumerate() {
                    orgs::insert_organization_member(conn, org.id, *uid, k == 0, now)?;
                }
                let group = orgs::insert_group(conn, org.id, &random::public_id()?, "staff", now)?;
                for uid in members.iter().take(3) {
                    orgs::insert_group_member(conn, group.id, *uid, now)?;
                }
            }
            Ok::<_, AdminError>(())
        })?;
    }
    Ok((plan.users, plan.orgs))
}
