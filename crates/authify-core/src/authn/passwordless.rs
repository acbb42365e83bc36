//! "Sign in with my phone" (Clef's passwordless sign-in): the user gives only an e-mail address
//! and approves on one of their approver devices, picking the number the requesting browser
//! shows (number matching, as for the second factor, `second_push`). The request names the
//! requesting browser's address and user agent, lives 2 minutes, works once, and counts toward
//! the account's attempts.
//!
//! An unknown address, a disabled account and an account without an approver device get the
//! same page, the same number and the same wait, then the same expiry: a stand-in ceremony on
//! the flow ([`Ceremony::Decoy`]) that nobody can approve.

use authify_domain::Email;
use authify_store::factors::{self as factors_store, NewApproval};
use authify_store::passkeys as store;
use authify_store::{transaction, users};
use chrono::{DateTime, Utc};

use super::FlowState;
use super::steps::posted_flow;
use super::{Authn, AuthnError, Client, FlowCookie, ReturnRequest};
use crate::costs::Charge;
use crate::manage::audit::Entry;
use crate::mfa::Method;
use crate::mfa::codes::{self, APPROVAL_TTL_SECS};
use crate::mfa::passkey::Ceremony;
use crate::notify::Notice;
use crate::{db_time, random};

impl Authn {
    /// Starts a passwordless sign-in for `email` in this browser's flow; the browser then waits
    /// on the approval page. Returns the flow cookie (new when the browser had none).
    pub async fn passwordless_start(
        &self,
        flow_cookie: Option<String>,
        request: ReturnRequest,
        email: &str,
        client: Client,
        now: DateTime<Utc>,
    ) -> Result<FlowCookie, AuthnError> {
        let parsed = Email::parse(email).map_err(|_| {
            AuthnError::BadRequest("enter the e-mail address of your account".into())
        })?;
        // SECURITY: every request counts toward the account's attempts, known or not: nobody
        // can flood a user's phone, and an unknown address is throttled the same way.
        self.throttle().attempt(parsed.as_str()).await?;
        // SECURITY: push prompts per address typed (known or not, so a refusal reveals no
        // account) and per client, within the operator's budgets.
        let paid = self
            .inner
            .mfa
            .costs
            .charge(
                Charge::push(&format!("request:{}", parsed.as_str()))
                    .from_address(client.ip.as_deref()),
            )
            .await?;
        let (number, choices) = codes::approval_numbers()?;
        let public_id = random::token::<16>()?;
        let authn = self.clone();
        self.db
            .run(move |conn| {
                transaction(conn, |conn| {
                    let (flow, cookie) = posted_flow(
                        conn,
                        flow_cookie.as_deref(),
                        &request,
                        &authn,
                        client.ip.as_deref(),
                        now,
                    )?;
                    let expires = now + chrono::Duration::seconds(APPROVAL_TTL_SECS);
                    let user =
                        users::find_user_by_email(conn, parsed.as_str())?.filter(|u| !u.disabled);
                    let approver = match user {
                        Some(u) => {
                            let has = factors_store::list_factors(conn, u.id)?
                                .iter()
                                .any(|f| f.confirmed && f.kind == Method::Push.kind());
                            has.then_some(u)
                        }
                        None => None,
                    };
                    let entry = Entry::new("signin.passwordless", db_time(now))
                        .ip(client.ip.as_deref())
                        .by_email(parsed.as_str());
                    let Some(user) = approver else {
                        store::set_waiting(conn, flow.id, None, FlowState::Approval.as_str())?;
                        let decoy = Ceremony::Decoy {
                            number,
                            expires: expires.timestamp(),
                        };
                        let text = decoy.to_json().map_err(AuthnError::Internal)?;
                        store::set_ceremony(conn, flow.id, Some(&text))?;
                        entry
                            .failed()
                            .details(serde_json::json!({ "reason": "no approver device" }))
                            .record(conn)?;
                        return Ok(cookie);
                    };
                    store::set_waiting(conn, flow.id, Some(user.id), FlowState::Approval.as_str())?;
                    store::set_ceremony(conn, flow.id, None)?;
                    let app = flow.ret.app_name().map(str::to_owned);
                    factors_store::insert_approval(
                        conn,
                        &NewApproval {
                            public_id: &public_id,
                            flow_id: Some(flow.id),
                            user_id: user.id,
                            app_name: app.as_deref(),
                            ip: client.ip.as_deref(),
                            user_agent: client.user_agent.as_deref(),
                            number,
                            choices: &choices.map(|c| c.to_string()).join(" "),
                            status: "pending",
                            created_at: db_time(now),
                            expires_at: db_time(expires),
                        },
                    )?;
                    entry.by_user(&user).record(conn)?;
                    // The number is not sent: the approver must read it off the requesting screen.
                    paid.send(Notice::Push {
                        body: serde_json::json!({
                            "type": "approval_request",
                            "passwordless": true,
                            "id": public_id,
                            "user": user.public_id,
                            "app": app,
                            "from": { "ip": client.ip, "user_agent": client.user_agent },
                            "ip": client.ip,
                            "user_agent": client.user_agent,
                            "created_at": now.timestamp(),
                            "expires_at": expires.timestamp(),
                        }),
                    });
                    Ok(cookie)
                })
            })
            .await
    }
}
