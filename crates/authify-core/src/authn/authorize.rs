//! The OpenID Connect authorization request as a return of the sign-in flow, and consent.
//!
//! `/oauth/authorize` is checked by [`crate::oidc::authorize::check`]; a valid request becomes
//! [`Return::Authorize`]. A signed-in user whose session satisfies `prompt` and `max_age` goes
//! straight back with a code (single sign-on); anyone else gets the sign-in form of a flow
//! carrying the request, and the flow's last step issues the code. An app that is not
//! first-party and has no grant covering the scopes leaves the flow waiting at the consent page,
//! naming the user; the user's answer issues the code or sends `access_denied`.

use std::sync::Arc;

use authify_jwt::Keyring;
use authify_store::{DbConnection, flows, oauth, transaction};
use chrono::{DateTime, Utc};

use super::complete::{SessionRef, prepare, record};
use super::flow::Flow;
use super::steps::{flow_for, form, signed_in_flow};
use super::{Authn, AuthnError, Client, Cookies, FlowState, Return};
use crate::db_time;
use crate::oidc::authorize::{Authorized, ConsentView, check, error_redirect};
use crate::oidc::{AuthorizeRequest, AuthorizeReturn, OAuthError};

/// The flow of this browser waiting for consent, with its request, user and session.
fn waiting_consent(
    conn: &mut DbConnection,
    cookies: &Cookies,
    now: DateTime<Utc>,
) -> Result<
    (
        Flow,
        AuthorizeReturn,
        authify_store::models::User,
        authify_store::models::Session,
    ),
    AuthnError,
> {
    let token = cookies.flow.as_deref().ok_or(AuthnError::NoConsent)?;
    let row = flows::find_flow(conn, &crate::sessions::token_hash(token), db_time(now))?
        .ok_or(AuthnError::NoConsent)?;
    let flow = Flow::try_from(row)?;
    let Return::Authorize(req) = flow.ret.clone() else {
        return Err(AuthnError::NoConsent);
    };
    if flow.state != FlowState::Consent {
        return Err(AuthnError::NoConsent);
    }
    let session = cookies.session.as_deref().unwrap_or_default();
    // SECURITY: consent is given by the signed-in user the flow names, nobody else.
    let (session, user) = crate::sessions::session_of(conn, session, now)?
        .filter(|(_, u)| Some(u.id) == flow.user_id)
        .ok_or(AuthnError::NoConsent)?;
    Ok((flow, *req, user, session))
}

impl Authn {
    /// `/oauth/authorize`. One database task.
    pub async fn authorize(
        &self,
        cookies: Cookies,
        request: AuthorizeRequest,
        keys: Arc<Keyring>,
        client: Client,
        now: DateTime<Utc>,
    ) -> Result<Authorized, AuthnError> {
        let authn = self.clone();
        self.db
            .run_quick(move |conn| {
                let issuer = authn.inner.settings.public_url.clone();
                let checked = match check(conn, &request, &issuer)? {
                    Ok(c) => c,
                    Err(location) => return Ok(Authorized::Redirect(location)),
                };
                let ret = Return::Authorize(Box::new(checked.ret.clone()));
                let back = |e: OAuthError| {
                    error_redirect(
                        &checked.ret.redirect_uri,
                        checked.ret.state.as_deref(),
                        &issuer,
                        &e,
                    )
                    .map(Authorized::Redirect)
                };
                let session = cookies.session.as_deref().unwrap_or_default();
                let current = crate::sessions::session_of(conn, session, now)?;
                let fresh = current.filter(|(s, _)| {
                    !checked.prompt_login
                        && checked
                            .max_age
                            .is_none_or(|max| (db_time(now) - s.created_at).num_seconds() <= max)
                });
                if let Some((session, user)) = fresh {
                    let mode = authn.inner.mfa.mode;
                    let device = cookies.device.as_deref();
                    if let Some(state) =
                        super::policy::step_up(conn, &user, &session.amr, &ret, mode, device)?
                    {
                        if checked.prompt_none {
                            return back(OAuthError::new(
                                "interaction_required",
                                "the application requires a second factor this session lacks",
                            ));
                        }
                        let cookie =
                            signed_in_flow(conn, &authn, user.id, &session.amr, &ret, state, now)?;
                        return Ok(Authorized::StepUp {
                            flow: cookie,
                            state,
                        });
                    }
                    let session = SessionRef::from(&session);
                    let sent = prepare(
                        conn,
                        &authn.inner.issuer,
                        &keys,
                        &issuer,
                        &user,
                        &session,
                        &ret,
                        now,
                    )?;
                    if sent.consent {
                        if checked.prompt_none {
                            return back(OAuthError::new(
                                "consent_required",
                                "the user has not granted these scopes to the application",
                            ));
                        }
                        let cookie = signed_in_flow(
                            conn,
                            &authn,
                            user.id,
                            &session.amr,
                            &ret,
                            FlowState::Consent,
                            now,
                        )?;
                        return Ok(Authorized::Consent { flow: cookie });
                    }
                    transaction(conn, |conn| {
                        record(conn, &user, &session, &sent, &client, now)
                    })?;
                    return Ok(Authorized::Redirect(sent.location));
                }
                if checked.prompt_none {
                    return back(OAuthError::new(
                        "login_required",
                        "the user is not signed in (or must sign in again)",
                    ));
                }
                let (flow, cookie) = transaction(conn, |conn| {
                    flow_for(
                        conn,
                        cookies.flow.as_deref(),
                        Some(&ret),
                        &authn,
                        client.ip.as_deref(),
                        true,
                        now,
                    )
                })?;
                Ok(Authorized::SignIn {
                    form: form(&flow, cookie),
                    login_hint: checked.login_hint,
                })
            })
            .await
    }

    /// What the consent page shows.
    pub async fn consent_page(
        &self,
        cookies: Cookies,
        now: DateTime<Utc>,
    ) -> Result<ConsentView, AuthnError> {
        let csrf_binding = cookies.flow.clone().unwrap_or_default();
        self.db
            .run(move |conn| {
                let (_, req, _, _) = waiting_consent(conn, &cookies, now)?;
                Ok(ConsentView {
                    app_name: req.app_name,
                    scopes: req.scope.split_whitespace().map(str::to_owned).collect(),
                    csrf: super::csrf::token_for(&csrf_binding),
                })
            })
            .await
    }

    /// The user's answer: `allow` remembers the grant and issues the code; otherwise the client
    /// gets `access_denied`. Either way the flow ends. Returns where to send the browser.
    pub async fn consent(
        &self,
        cookies: Cookies,
        allow: bool,
        keys: Arc<Keyring>,
        client: Client,
        now: DateTime<Utc>,
    ) -> Result<String, AuthnError> {
        let authn = self.clone();
        self.db
            .run(move |conn| {
                transaction(conn, |conn| {
                    let (flow, mut req, user, session) = waiting_consent(conn, &cookies, now)?;
                    let issuer = authn.inner.settings.public_url.clone();
                    flows::delete_flow(conn, flow.id)?;
                    let app = authify_store::apps::find_application(conn, &req.app_id)?
                        .ok_or(AuthnError::NoConsent)?;
                    let entry = crate::manage::audit::Entry::new("consent", db_time(now))
                        .by_user(&user)
                        .ip(client.ip.as_deref())
                        .target("application", &app.app_id, &app.name)
                        .details(serde_json::json!({ "scope": req.scope, "allow": allow }));
                    if !allow {
                        entry.failed().record(conn)?;
                        let e = OAuthError::new("access_denied", "the user declined");
                        return error_redirect(
                            &req.redirect_uri,
                            req.state.as_deref(),
                            &issuer,
                            &e,
                        );
                    }
                    entry.record(conn)?;
                    oauth::save_grant(conn, user.id, app.id, &req.scope, db_time(now))?;
                    req.force_consent = false;
                    let ret = Return::Authorize(Box::new(req));
                    let session = SessionRef::from(&session);
                    let sent = prepare(
                        conn,
                        &authn.inner.issuer,
                        &keys,
                        &issuer,
                        &user,
                        &session,
                        &ret,
                        now,
                    )?;
                    record(conn, &user, &session, &sent, &client, now)?;
                    Ok(sent.location)
                })
            })
            .await
    }
}
