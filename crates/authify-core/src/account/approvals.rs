//! Approver devices (a browser with a device cookie, or a phone app with its token) and their
//! answers to push approval requests: the device must be the user's own, the number picked must
//! be the one the requesting browser shows, and a request is answered once.

use authify_store::factors::{self as store, NewFactor};
use authify_store::models::ApprovalRequest;
use authify_store::transaction;
use chrono::{DateTime, Utc};
use serde::Serialize;

use super::Account;
use super::factors::activate;
use crate::authn::Client;
use crate::error::AdminError;
use crate::manage::Actor;
use crate::{db_time, random};

/// A pending approval request, for the approver.
#[derive(Debug, Clone, Serialize)]
pub struct ApprovalView {
    /// Id in URLs.
    pub id: String,
    /// The application being signed in to.
    pub app: Option<String>,
    /// The requesting browser's address.
    pub ip: Option<String>,
    /// The requesting browser's user agent.
    pub user_agent: Option<String>,
    /// When (UTC, `YYYY-MM-DD HH:MM:SS`).
    pub created: String,
    /// Unix time it expires.
    pub expires_at: i64,
    /// The three numbers to choose from.
    pub choices: Vec<i32>,
}

/// What became of an answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Decision {
    /// Approved with the right number.
    Approved,
    /// Denied, or approved with a wrong number (which denies).
    Denied,
}

impl Account {
    /// Makes this browser (or a phone app) an approver device; returns its token (kept in a
    /// cookie or by the app) and the recovery codes when it is the first factor.
    pub async fn register_device(
        &self,
        actor: &Actor,
        label: &str,
        password: &str,
        client: Client,
        now: DateTime<Utc>,
    ) -> Result<(String, Vec<String>), AdminError> {
        Self::own(actor)?;
        // SECURITY: a device is a second factor: a stolen session or API key alone must not add
        // one (it would satisfy step-up and later sign-ins).
        self.reconfirm(actor, password, now).await?;
        let token = random::token::<32>()?;
        let hash = crate::sessions::token_hash(&token);
        let label: String = label
            .chars()
            .filter(|c| !c.is_control())
            .take(120)
            .collect();
        let label = if label.trim().is_empty() {
            "Device".to_owned()
        } else {
            label
        };
        let (mfa, user) = (self.inner.mfa.clone(), actor.user.clone());
        self.db
            .run(move |conn| {
                transaction(conn, |conn| {
                    let id = store::insert_factor(
                        conn,
                        &NewFactor {
                            user_id: user.id,
                            kind: "approver",
                            label: &label,
                            secret: None,
                            phone: None,
                            device_hash: Some(&hash),
                            pending_for: None,
                            confirmed: false,
                            created_at: db_time(now),
                        },
                    )?;
                    let factor = store::find_factor(conn, user.id, id)?
                        .ok_or_else(|| AdminError::Internal("factor vanished".into()))?;
                    let codes = activate(conn, &user, &factor, &client, &mfa, now)?;
                    Ok((token, codes))
                })
            })
            .await
    }

    /// The user's pending approval requests.
    pub async fn approvals(
        &self,
        user: &crate::Person,
        now: DateTime<Utc>,
    ) -> Result<Vec<ApprovalView>, AdminError> {
        let id = user.id;
        self.db
            .run_quick(move |conn| {
                Ok(store::list_pending_approvals(conn, id, db_time(now))?
                    .into_iter()
                    .map(view_of)
                    .collect())
            })
            .await
    }

    /// Answers an approval request from an approver device. The device must be the user's own
    /// and the request theirs; approving with a number other than the one the requesting
    /// browser shows denies it. Single use: a request answered, expired or spent is not found.
    #[allow(clippy::too_many_arguments)]
    pub async fn decide(
        &self,
        actor: &Actor,
        device: Option<String>,
        request_id: &str,
        approve: bool,
        number: Option<i32>,
        client: Client,
        now: DateTime<Utc>,
    ) -> Result<Decision, AdminError> {
        Self::own(actor)?;
        let device = device.map(|d| crate::sessions::token_hash(&d));
        let (user, request_id) = (actor.user.clone(), request_id.to_owned());
        self.db
            .run(move |conn| {
                transaction(conn, |conn| {
                    // SECURITY: only a registered device of this very user may answer.
                    let device = match device {
                        Some(h) => store::find_device(conn, &h)?,
                        None => None,
                    }
                    .filter(|d| d.user_id == user.id)
                    .ok_or_else(|| {
                        AdminError::Forbidden(
                            "this browser or app is not one of your approver devices".into(),
                        )
                    })?;
                    let request = store::find_approval(conn, &request_id)?
                        .filter(|r| r.user_id == user.id)
                        .ok_or_else(|| {
                            AdminError::NotFound("no such approval request is waiting".into())
                        })?;
                    // SECURITY: number matching: approving without reading the requesting
                    // screen (push fatigue) fails.
                    let decision = if approve && number == Some(request.number) {
                        Decision::Approved
                    } else {
                        Decision::Denied
                    };
                    let to = match decision {
                        Decision::Approved => "approved",
                        Decision::Denied => "denied",
                    };
                    if !store::move_approval(
                        conn,
                        request.id,
                        "pending",
                        to,
                        Some(device.id),
                        db_time(now),
                    )? {
                        return Err(AdminError::NotFound(
                            "no such approval request is waiting".into(),
                        ));
                    }
                    let entry = crate::manage::audit::Entry::new("signin.approval", db_time(now))
                        .by_user(&user)
                        .ip(client.ip.as_deref())
                        .details(serde_json::json!({
                            "request": request.public_id,
                            "decision": to,
                            "wrong_number": approve && decision == Decision::Denied,
                            "device": device.label,
                        }));
                    let entry = if decision == Decision::Denied {
                        entry.failed()
                    } else {
                        entry
                    };
                    entry.record(conn)?;
                    Ok(decision)
                })
            })
            .await
    }
}

fn view_of(r: ApprovalRequest) -> ApprovalView {
    ApprovalView {
        id: r.public_id,
        app: r.app_name,
        ip: r.ip,
        user_agent: r.user_agent,
        created: r.created_at.format("%Y-%m-%d %H:%M:%S").to_string(),
        expires_at: r.expires_at.and_utc().timestamp(),
        choices: r
            .choices
            .split_whitespace()
            .filter_map(|c| c.parse().ok())
            .collect(),
    }
}
