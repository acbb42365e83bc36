//! The last step of every sign-in, and the single sign-on return: in one transaction, the
//! session (when one is created), the token for the return, the audit entries, and the end of
//! the flow. Nothing is half done: a failure anywhere leaves no session, no audit entry, no
//! token.

use authify_domain::CallbackUrl;
use authify_jwt::{Keyring, TokenIssuer};
use authify_store::models::User;
use authify_store::{DbConnection, flows, sessions};
use chrono::{DateTime, Utc};

use super::{AuthnError, Client, Completion, Return, new_token};
use crate::manage::audit::Entry;
use crate::{db_time, random, tokens};

/// Everything the final transaction needs, owned so it can move to the blocking pool.
pub(crate) struct Finish<'a> {
    pub user: &'a User,
    pub amr: &'a [String],
    pub ret: &'a Return,
    /// The audit action of the step that finished (`signin`, `signup`).
    pub action: &'static str,
    /// A session the browser held before: revoked (no fixation).
    pub old_session: Option<&'a str>,
    pub flow_id: Option<i64>,
    pub client: &'a Client,
    pub session_ttl: chrono::Duration,
    pub now: DateTime<Utc>,
}

/// Creates the session and sends the user on. Run inside a transaction.
pub(crate) fn complete(
    conn: &mut DbConnection,
    issuer: &TokenIssuer,
    keys: &Keyring,
    f: Finish<'_>,
) -> Result<Completion, AuthnError> {
    let when = db_time(f.now);
    // SECURITY: a fresh session id at every sign-in (no fixation); any previous one is revoked.
    if let Some(old) = f.old_session {
        sessions::delete_session(conn, &crate::sessions::token_hash(old))?;
    }
    let (token, hash) = new_token()?;
    let amr = f.amr.join(" ");
    sessions::insert_session(
        conn,
        &hash,
        f.user.id,
        &amr,
        when,
        db_time(f.now + f.session_ttl),
    )?;
    Entry::new(f.action, when)
        .by_user(f.user)
        .ip(f.client.ip.as_deref())
        .details(serde_json::json!({ "amr": f.amr }))
        .record(conn)?;
    if let Some(id) = f.flow_id {
        flows::delete_flow(conn, id)?;
    }
    let location = send_on(conn, issuer, keys, f.user, f.ret, f.client, f.now)?;
    Ok(Completion {
        session: token,
        max_age: f.session_ttl.num_seconds(),
        location,
    })
}

/// Where a signed-in user goes for `ret`: for an application, a fresh token in its callback
/// (audited as `token.issue`). Used at the end of a sign-in.
pub(crate) fn send_on(
    conn: &mut DbConnection,
    issuer: &TokenIssuer,
    keys: &Keyring,
    user: &User,
    ret: &Return,
    client: &Client,
    now: DateTime<Utc>,
) -> Result<String, AuthnError> {
    let sent = prepare(conn, issuer, keys, user, ret, now)?;
    record(conn, user, &sent, client, now)?;
    Ok(sent.location)
}

/// A response to send: where to, and the application that got a token, if any.
pub(crate) struct Sent {
    pub location: String,
    issued_to: Option<(String, String)>,
}

/// Reads the claims and signs the token for `ret`; writes nothing. Single sign-on signs here,
/// outside the write transaction, so the database is held only for the audit entry. A token is
/// sent only after [`record`] committed.
pub(crate) fn prepare(
    conn: &mut DbConnection,
    issuer: &TokenIssuer,
    keys: &Keyring,
    user: &User,
    ret: &Return,
    now: DateTime<Utc>,
) -> Result<Sent, AuthnError> {
    match ret {
        Return::Account => Ok(Sent {
            location: "/account".to_owned(),
            issued_to: None,
        }),
        Return::Legacy {
            app_id,
            app_name,
            callback,
            state,
        } => {
            let callback = CallbackUrl::parse(callback).map_err(AuthnError::Callback)?;
            let subject = tokens::subject(conn, user)?;
            let jti = random::bytes::<16>()?;
            let (jwt, _) = issuer
                .issue(keys.signer(), subject, app_id, now.timestamp(), jti)
                .map_err(|e| AuthnError::Internal(format!("signing: {e}")))?;
            let mut params = vec![("jwt", jwt.as_str())];
            if let Some(s) = state.as_deref() {
                params.push(("state", s));
            }
            Ok(Sent {
                location: callback.with_params(&params),
                issued_to: Some((app_id.clone(), app_name.clone())),
            })
        }
    }
}

/// The audit entry of a token sent to an application.
pub(crate) fn record(
    conn: &mut DbConnection,
    user: &User,
    sent: &Sent,
    client: &Client,
    now: DateTime<Utc>,
) -> Result<(), AuthnError> {
    if let Some((app_id, app_name)) = &sent.issued_to {
        Entry::new("token.issue", db_time(now))
            .by_user(user)
            .ip(client.ip.as_deref())
            .target("application", app_id, app_name)
            .record(conn)?;
    }
    Ok(())
}
