//! The health of the outbound webhooks (SMS gateway, push): consecutive failures and the last
//! error, for the console. What a failure means belongs to `authify_core::notify`.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::models::WebhookHealth;
use crate::schema::webhook_health;
use crate::{DbConnection, StoreError};

/// Records a webhook delivery: success resets the count, failure adds one.
pub fn note_webhook(
    conn: &mut DbConnection,
    name: &str,
    error: Option<&str>,
    now: NaiveDateTime,
) -> Result<(), StoreError> {
    let current: Option<i32> = webhook_health::table
        .find(name)
        .select(webhook_health::failures)
        .first(conn)
        .optional()?;
    let failures = match error {
        Some(_) => current.unwrap_or(0).saturating_add(1),
        None => 0,
    };
    match current {
        Some(_) => {
            diesel::update(webhook_health::table.find(name))
                .set((
                    webhook_health::failures.eq(failures),
                    webhook_health::last_error.eq(error),
                    webhook_health::updated_at.eq(now),
                ))
                .execute(conn)?;
        }
        None => {
            diesel::insert_into(webhook_health::table)
                .values((
                    webhook_health::name.eq(name),
                    webhook_health::failures.eq(failures),
                    webhook_health::last_error.eq(error),
                    webhook_health::updated_at.eq(now),
                ))
                .execute(conn)?;
        }
    }
    Ok(())
}

/// Every webhook's health.
pub fn list_webhooks(conn: &mut DbConnection) -> Result<Vec<WebhookHealth>, StoreError> {
    Ok(webhook_health::table
        .order(webhook_health::name)
        .select(WebhookHealth::as_select())
        .load(conn)?)
}
