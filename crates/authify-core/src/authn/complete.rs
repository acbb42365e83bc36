//! The last step of every sign-in, and the single sign-on return: in one transaction, the
//! session (when one is created), the token for the return, the audit entries, and the end of
//! the flow. Nothing is half done: a failure anywhere leaves no session, no audit entry, no
//! token.

use authify_domain::CallbackUrl;
use authify_jwt::{Keyring, TokenIssuer};
use authify_store::models::{Session, User};
use authify_store::oauth::{self, NewCode};
use authify_store::sessions::NewSession;
use authify_store::{DbConnection, apps, flows, sessions};
use chrono::{DateTime, NaiveDateTime, Utc};

use crate::oidc::authorize::code_redirect;

use super::{AuthnError, Client, Completion, FlowState, Return, new_token};
use crate::manage::audit::Entry;
use crate::{db_time, random, tokens};

/// The session a return is sent from: what the codes and tokens issued in it carry.
#[derive(Debug, Clone)]
pub(crate) struct SessionRef {
    /// Row id (for `session_apps`).
    pub id: i64,
    /// OpenID `sid`.
    pub sid: String,
    /// When the user authenticated.
    pub auth_time: NaiveDateTime,
    /// How (RFC 8176), space-separated.
    pub amr: String,
    /// When it was last used to reach an application.
    pub last_seen: Option<NaiveDateTime>,
}

impl From<&Session> for SessionRef {
    fn from(s: &Session) -> Self {
        SessionRef {
            id: s.id,
            sid: crate::sessions::sid_of(&s.token_hash),
            auth_time: s.created_at,
            amr: s.amr.clone(),
            last_seen: s.last_seen_at,
        }
    }
}

/// "Last seen" is kept to the minute: single sign-on does not rewrite the session row each time.
const LAST_SEEN_STEP_SECS: i64 = 60;

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

/// Creates the session and sends the user on. Run inside a transaction. An OpenID request
/// that still needs the user's consent keeps its flow, now naming the user, for the consent page.
pub(crate) fn complete(
    conn: &mut DbConnection,
    issuer: &TokenIssuer,
    keys: &Keyring,
    oidc_issuer: &str,
    f: Finish<'_>,
) -> Result<Completion, AuthnError> {
    let when = db_time(f.now);
    // SECURITY: a fresh session id at every sign-in (no fixation); any previous one is revoked.
    if let Some(old) = f.old_session {
        crate::sessions::end_by_token(conn, old, when)?;
    }
    let (token, hash) = new_token()?;
    let amr = f.amr.join(" ");
    let id = sessions::insert_session(
        conn,
        &NewSession {
            token_hash: &hash,
            user_id: f.user.id,
            amr: &amr,
            ip: f.client.ip.as_deref(),
            user_agent: f.client.user_agent.as_deref(),
        },
        when,
        db_time(f.now + f.session_ttl),
    )?;
    let session = SessionRef {
        id,
        sid: crate::sessions::sid_of(&hash),
        auth_time: when,
        amr: amr.clone(),
        last_seen: None,
    };
    Entry::new(f.action, when)
        .by_user(f.user)
        .ip(f.client.ip.as_deref())
        .details(serde_json::json!({ "amr": f.amr }))
        .record(conn)?;
    let sent = prepare(
        conn,
        issuer,
        keys,
        oidc_issuer,
        f.user,
        &session,
        f.ret,
        f.now,
    )?;
    if let Some(flow) = f.flow_id {
        if sent.consent {
            super::state::set_state(conn, flow, f.user.id, f.amr, FlowState::Consent)?;
        } else if !flows::delete_flow(conn, flow)? {
            // SECURITY: a flow completes once: a concurrent request that finished it first
            // (the same code twice, a code and an approval) rolls this one back.
            return Err(AuthnError::NoFlow);
        }
    }
    record(conn, f.user, &session, &sent, f.client, f.now)?;
    Ok(Completion {
        session: token,
        max_age: f.session_ttl.num_seconds(),
        flow_kept: sent.consent && f.flow_id.is_some(),
        location: sent.location,
    })
}

/// A code to record with the response that carries it.
#[derive(Debug, Clone)]
pub(crate) struct PendingCode {
    hash: String,
    application_id: i64,
    redirect_uri: String,
    scope: String,
    nonce: Option<String>,
    code_challenge: Option<String>,
    legacy: bool,
    family: String,
}

/// A response to send: where to, and what to record when it is sent.
pub(crate) struct Sent {
    pub location: String,
    /// A legacy token went into the URL: audited as `token.issue`.
    issued_to: Option<(String, String)>,
    /// The application, for `session_apps`.
    app: Option<i64>,
    code: Option<PendingCode>,
    /// The user must consent first; `location` is the consent page.
    pub consent: bool,
}

/// Reads the claims and signs the token for `ret`, or draws its code; writes nothing. Single
/// sign-on signs here, outside the write transaction, so the database is held only for
/// [`record`]. Nothing is sent before [`record`] committed.
#[allow(clippy::too_many_arguments)]
pub(crate) fn prepare(
    conn: &mut DbConnection,
    issuer: &TokenIssuer,
    keys: &Keyring,
    oidc_issuer: &str,
    user: &User,
    session: &SessionRef,
    ret: &Return,
    now: DateTime<Utc>,
) -> Result<Sent, AuthnError> {
    match ret {
        Return::Account => Ok(Sent {
            location: "/account".to_owned(),
            issued_to: None,
            app: None,
            code: None,
            consent: false,
        }),
        Return::Legacy {
            app_id,
            app_name,
            callback,
            state,
            code,
        } => {
            let app = apps::find_application(conn, app_id)?.ok_or_else(|| {
                AuthnError::Callback(authify_domain::CallbackError::NotRegistered)
            })?;
            if *code {
                let (value, pending) = draw_code(app.id, callback, "openid", None, None, true)?;
                let location = code_redirect(callback, &value, state.as_deref(), None)?;
                return Ok(Sent {
                    location,
                    issued_to: None,
                    app: Some(app.id),
                    code: Some(pending),
                    consent: false,
                });
            }
            let callback = CallbackUrl::parse(callback).map_err(AuthnError::Callback)?;
            let subject = tokens::subject(conn, user)?;
            let mut claims =
                issuer.claims(subject, app_id, now.timestamp(), random::bytes::<16>()?);
            claims.sid = Some(session.sid.clone());
            claims.amr = Some(session.amr.split_whitespace().map(str::to_owned).collect());
            let jwt = keys
                .signer()
                .sign(&claims)
                .map_err(|e| AuthnError::Internal(format!("signing: {e}")))?;
            let mut params = vec![("jwt", jwt.as_str())];
            if let Some(s) = state.as_deref() {
                params.push(("state", s));
            }
            Ok(Sent {
                location: callback.with_params(&params),
                issued_to: Some((app_id.clone(), app_name.clone())),
                app: Some(app.id),
                code: None,
                consent: false,
            })
        }
        Return::Authorize(req) => {
            let app = apps::find_application(conn, &req.app_id)?
                .ok_or_else(|| AuthnError::BadRequest("The application was removed.".into()))?;
            let granted = if req.first_party {
                true
            } else if req.force_consent {
                false
            } else {
                oauth::find_grant(conn, user.id, app.id)?
                    .is_some_and(|g| crate::oidc::covers(&g, &req.scope))
            };
            if !granted {
                return Ok(Sent {
                    location: "/oauth/consent".to_owned(),
                    issued_to: None,
                    app: None,
                    code: None,
                    consent: true,
                });
            }
            let (value, pending) = draw_code(
                app.id,
                &req.redirect_uri,
                &req.scope,
                req.nonce.clone(),
                req.code_challenge.clone(),
                false,
            )?;
            let location = code_redirect(
                &req.redirect_uri,
                &value,
                req.state.as_deref(),
                Some(oidc_issuer),
            )?;
            Ok(Sent {
                location,
                issued_to: None,
                app: Some(app.id),
                code: Some(pending),
                consent: false,
            })
        }
    }
}

fn draw_code(
    application_id: i64,
    redirect_uri: &str,
    scope: &str,
    nonce: Option<String>,
    code_challenge: Option<String>,
    legacy: bool,
) -> Result<(String, PendingCode), AuthnError> {
    let (value, hash) = new_token()?;
    let family = crate::oidc::token::family()?;
    Ok((
        value,
        PendingCode {
            hash,
            application_id,
            redirect_uri: redirect_uri.to_owned(),
            scope: scope.to_owned(),
            nonce,
            code_challenge,
            legacy,
            family,
        },
    ))
}

/// Writes what a response sends: its code, the app in the session's list, and the audit entry
/// of a token put in a URL.
pub(crate) fn record(
    conn: &mut DbConnection,
    user: &User,
    session: &SessionRef,
    sent: &Sent,
    client: &Client,
    now: DateTime<Utc>,
) -> Result<(), AuthnError> {
    let when = db_time(now);
    if let Some(c) = &sent.code {
        oauth::insert_code(
            conn,
            &NewCode {
                code_hash: &c.hash,
                application_id: c.application_id,
                user_id: user.id,
                sid: &session.sid,
                redirect_uri: &c.redirect_uri,
                scope: &c.scope,
                nonce: c.nonce.as_deref(),
                code_challenge: c.code_challenge.as_deref(),
                auth_time: session.auth_time,
                amr: &session.amr,
                legacy: c.legacy,
                family: &c.family,
                created_at: when,
                expires_at: db_time(now + chrono::Duration::seconds(crate::oidc::CODE_TTL_SECS)),
            },
        )?;
    }
    if let Some(app) = sent.app {
        let stale = session
            .last_seen
            .is_none_or(|t| (when - t).num_seconds() >= LAST_SEEN_STEP_SECS);
        oauth::note_session_app(conn, session.id, app, when, stale)?;
    }
    if let Some((app_id, app_name)) = &sent.issued_to {
        Entry::new("token.issue", when)
            .by_user(user)
            .ip(client.ip.as_deref())
            .target("application", app_id, app_name)
            .record(conn)?;
    }
    Ok(())
}
