//! The steps of a sign-in: opening the form, the password, sign-up, and signing out. Each is one
//! call per request: at most one database task before the (bounded) argon2 work and one after.

use std::sync::Arc;

use authify_domain::{Email, Name, Password};
use authify_jwt::Keyring;
use authify_store::models::{NewUser, User};
use authify_store::{StoreError, transaction, users};
use chrono::{DateTime, Utc};

use super::advance::{Action, Proof, StepContext};
use super::complete::{SessionRef, prepare, record};
use super::flow::Flow;
pub(super) use super::flow_rows::{flow_for, form, posted_flow, signed_in_flow};
use super::{
    Authn, AuthnError, Client, Cookies, FlowCookie, Opened, Progress, Refusal, Return,
    ReturnRequest,
};
use crate::account::verify::EmailVerification;
use crate::costs::Charge;
use crate::manage::audit::Entry;
use crate::{db_time, random};

/// The `amr` value of a password (RFC 8176 §2).
pub const AMR_PASSWORD: &str = "pwd";

/// The sign-up form, unparsed. No `Debug`: it holds a password.
pub struct SignUpForm {
    /// Display name.
    pub name: String,
    /// E-mail address.
    pub email: String,
    /// Chosen password.
    pub password: String,
    /// The proof of work (`<challenge>:<nonce>`), when `AUTHIFY_SIGNUP_WORK_BITS` asks for one.
    pub work: Option<String>,
}

impl Authn {
    /// Opens `/login` or `/signup`: a signed-in user is sent straight on (single sign-on, a
    /// fresh token for the app); anyone else gets the form of their flow. One database task.
    pub async fn open(
        &self,
        cookies: Cookies,
        request: ReturnRequest,
        keys: Arc<Keyring>,
        client: Client,
        now: DateTime<Utc>,
    ) -> Result<Opened, AuthnError> {
        let authn = self.clone();
        self.db
            .run_quick(move |conn| {
                // A request that names no app keeps the flow's return (an OpenID request that
                // sent the user here, say).
                let ret = request.resolve_named(conn)?;
                let session = cookies.session.as_deref().unwrap_or_default();
                if let Some((session, user)) = crate::sessions::session_of(conn, session, now)? {
                    let ret = ret.unwrap_or(Return::Account);
                    let mode = authn.inner.mfa.mode;
                    let device = cookies.device.as_deref();
                    if let Some(state) =
                        super::policy::step_up(conn, &user, &session.amr, &ret, mode, device)?
                    {
                        let cookie =
                            signed_in_flow(conn, &authn, user.id, &session.amr, &ret, state, now)?;
                        return Ok(Opened::StepUp {
                            flow: cookie,
                            state,
                        });
                    }
                    let session = SessionRef::from(&session);
                    let sent = prepare(
                        conn,
                        &authn.inner.issuer,
                        &keys,
                        &authn.inner.settings.public_url,
                        &user,
                        &session,
                        &ret,
                        now,
                    )?;
                    transaction(conn, |conn| {
                        record(conn, &user, &session, &sent, &client, now)
                    })?;
                    return Ok(Opened::Returned {
                        location: sent.location,
                    });
                }
                let (flow, cookie) = transaction(conn, |conn| {
                    flow_for(
                        conn,
                        cookies.flow.as_deref(),
                        ret.as_ref(),
                        &authn,
                        client.ip.as_deref(),
                        true,
                        now,
                    )
                })?;
                Ok(Opened::Form(form(&flow, cookie)))
            })
            .await
    }

    /// The password step. The return comes from the form when it names an application (the
    /// legacy form repeats `callback` and `state`), else from the flow. Throttled per account,
    /// known or not; unknown users cost the same argon2 work as wrong passwords.
    #[allow(clippy::too_many_arguments)]
    pub async fn password(
        &self,
        cookies: Cookies,
        request: ReturnRequest,
        email: &str,
        password: Password,
        keys: Arc<Keyring>,
        client: Client,
        now: DateTime<Utc>,
    ) -> Result<Progress, AuthnError> {
        let parsed = Email::parse(email).ok();
        let lookup = parsed.clone();
        let authn = self.clone();
        let flow_cookie = cookies.flow.clone();
        let ip = client.ip.clone();
        let (flow, cookie, user) = self
            .db
            .run(move |conn| {
                let (flow, cookie) = transaction(conn, |conn| {
                    posted_flow(
                        conn,
                        flow_cookie.as_deref(),
                        &request,
                        &authn,
                        ip.as_deref(),
                        now,
                    )
                })?;
                let user = match lookup {
                    Some(e) => users::find_user_by_email(conn, e.as_str())?,
                    None => None,
                };
                Ok::<_, AuthnError>((flow, cookie, user))
            })
            .await?;
        // SECURITY: throttled per account, known or not (W-13), and per client address, before
        // any password is checked (after the callback check: a bad link is a 400 whatever the
        // count); the address budget keeps one client from filling the shared hash queue.
        self.throttle()
            .address_attempt(client.ip.as_deref())
            .await?;
        self.throttle().attempt(email).await?;
        // SECURITY: same work and same answer for unknown users (dummy hash) and wrong passwords;
        // an account without a password (made through a provider) costs the same too.
        let matched = self
            .hasher
            .verify(
                password.expose().to_owned(),
                user.as_ref()
                    .map(|u| u.password_hash.clone())
                    .filter(|h| !h.is_empty()),
            )
            .await?;
        let required = self.inner.settings.email_verification == EmailVerification::Required;
        let refusal = match &user {
            Some(u) if matched && u.disabled => Some(Refusal::Disabled),
            Some(u) if matched && required && !u.email_verified => Some(Refusal::Unverified),
            Some(_) if matched => None,
            _ => Some(Refusal::InvalidCredentials),
        };
        crate::metrics::signin("password", refusal.is_none());
        match (refusal, user) {
            (None, Some(user)) => {
                self.identified(
                    user,
                    vec![AMR_PASSWORD.to_owned()],
                    flow,
                    cookie,
                    cookies,
                    keys,
                    client,
                    "signin",
                    now,
                )
                .await
            }
            (reason, user) => {
                let reason = reason.unwrap_or(Refusal::InvalidCredentials);
                // The refusal mails a new link; over the mail budgets the page still says why
                // the sign-in was refused (the refusal is logged and counted).
                if let (Refusal::Unverified, Some(u)) = (&reason, &user)
                    && let Err(e) = self
                        .account()
                        .verification_send(u.id, client.ip.as_deref(), now)
                        .await
                {
                    match e {
                        AuthnError::Cost(e) => {
                            tracing::info!(error = %e, "verification link not mailed at sign-in");
                        }
                        other => return Err(other),
                    }
                }
                // SECURITY: what was typed into the e-mail field is kept only when it is an
                // e-mail address: a password typed there must not end up in the audit log.
                let entry = Entry::new("signin", db_time(now))
                    .failed()
                    .ip(client.ip.as_deref());
                let entry = match (&user, &parsed) {
                    (Some(u), _) => entry.by_user(u),
                    (None, Some(e)) => entry.by_email(e.as_str()),
                    (None, None) => entry.by_email("(not an e-mail address)"),
                };
                entry.save(&self.db).await;
                Ok(Progress::Refused {
                    reason,
                    form: form(&flow, cookie),
                })
            }
        }
    }

    /// A user was identified by a first factor (password, upstream provider): the flow moves
    /// on as [`Authn::advance`] decides.
    #[allow(clippy::too_many_arguments)]
    pub(super) async fn identified(
        &self,
        user: User,
        amr: Vec<String>,
        flow: Flow,
        cookie: FlowCookie,
        cookies: Cookies,
        keys: Arc<Keyring>,
        client: Client,
        action: &'static str,
        now: DateTime<Utc>,
    ) -> Result<Progress, AuthnError> {
        let authn = self.clone();
        self.db
            .run(move |conn| {
                transaction(conn, |conn| {
                    let cx = StepContext {
                        cookies: &cookies,
                        flow_cookie: Some(&cookie),
                        keys: &keys,
                        client: &client,
                        now,
                    };
                    let action = Action::of_provider(action);
                    authn.advance(conn, &flow, &user, Proof::Identity(amr), action, cx)
                })
            })
            .await
    }

    /// Sign-up as a first step: creates the account and signs in, in one transaction. The
    /// password is hashed before the e-mail is checked, so a taken address costs the same time.
    pub async fn sign_up(
        &self,
        cookies: Cookies,
        request: ReturnRequest,
        input: SignUpForm,
        keys: Arc<Keyring>,
        client: Client,
        now: DateTime<Utc>,
    ) -> Result<Progress, AuthnError> {
        if !self.inner.settings.signup_enabled {
            return Err(AuthnError::SignupDisabled);
        }
        let parsed = (|| {
            Ok::<_, authify_domain::InputError>((
                Name::parse(&input.name, "the name")?,
                Email::parse(&input.email)?,
                Password::new(&input.password)?,
            ))
        })();
        let authn = self.clone();
        let (name, email, password) = match parsed {
            Ok(p) => p,
            Err(e) => {
                let flow_cookie = cookies.flow.clone();
                let (flow, cookie) = self
                    .db
                    .run(move |conn| {
                        transaction(conn, |conn| {
                            posted_flow(
                                conn,
                                flow_cookie.as_deref(),
                                &request,
                                &authn,
                                client.ip.as_deref(),
                                now,
                            )
                        })
                    })
                    .await?;
                return Ok(Progress::Refused {
                    reason: Refusal::Invalid(e.to_string()),
                    form: form(&flow, cookie),
                });
            }
        };
        // SECURITY: the proof of work first, when asked for: before any budget or hash.
        if self.inner.settings.signup_work_bits > 0 {
            let (authn, work) = (self.clone(), input.work.clone());
            self.db
                .run(move |conn| super::work::check(&authn, conn, work.as_deref(), now))
                .await?;
        }
        // SECURITY: a sign-up costs a hash too: the same per-address budget as a password check.
        self.throttle()
            .address_attempt(client.ip.as_deref())
            .await?;
        // SECURITY: and it makes an account and mails an address the client chose: its own
        // budget per client address, and the mail budgets, paid before anything is made.
        let mails = self.inner.settings.email_verification != EmailVerification::Off;
        let paid = self
            .inner
            .mfa
            .costs
            .charge(
                Charge::sign_up(mails.then_some(email.as_str()))
                    .signing_up_from(client.ip.as_deref())
                    .from_address(client.ip.as_deref()),
            )
            .await?;
        let hash = self.hasher.hash(password.expose().to_owned()).await?;
        let public_id = random::public_id()?;
        let (address, verification) = (
            email.as_str().to_owned(),
            self.inner.settings.email_verification,
        );
        let pending_days = self.inner.settings.unverified_account_days;
        let progress = self
            .db
            .run(move |conn| {
                transaction(conn, |conn| {
                    let (flow, cookie) = posted_flow(
                        conn,
                        cookies.flow.as_deref(),
                        &request,
                        &authn,
                        client.ip.as_deref(),
                        now,
                    )?;
                    let new = NewUser {
                        public_id: &public_id,
                        email: email.as_str(),
                        name: name.as_str(),
                        password_hash: &hash,
                        is_admin: false,
                        disabled: false,
                        created_at: db_time(now),
                    };
                    // A savepoint: on PostgreSQL a failed insert aborts the transaction it runs
                    // in, and the flow written above must survive a taken address.
                    let id = match transaction(conn, |conn| users::insert_user(conn, &new)) {
                        Ok(user) => user.id,
                        Err(StoreError::Conflict(_)) => {
                            return Ok(Progress::Refused {
                                reason: Refusal::EmailTaken,
                                form: form(&flow, cookie),
                            });
                        }
                        Err(e) => return Err(e.into()),
                    };
                    let user = users::get_user(conn, id)?;
                    if verification == EmailVerification::Required {
                        // Signed in only once the address is verified: the link is mailed below;
                        // unverified, the account goes after AUTHIFY_UNVERIFIED_ACCOUNT_DAYS.
                        if pending_days > 0 {
                            users::mark_pending_signup(
                                conn,
                                user.id,
                                db_time(now + chrono::Duration::days(i64::from(pending_days))),
                            )?;
                        }
                        Entry::new("signup", db_time(now))
                            .by_user(&user)
                            .ip(client.ip.as_deref())
                            .details(serde_json::json!({ "pending": ["email_verification"] }))
                            .record(conn)?;
                        return Ok(Progress::Refused {
                            reason: Refusal::SignedUpUnverified,
                            form: form(&flow, cookie),
                        });
                    }
                    // A new account has no factor: where policy requires one, it enrols first.
                    let cx = StepContext {
                        cookies: &cookies,
                        flow_cookie: Some(&cookie),
                        keys: &keys,
                        client: &client,
                        now,
                    };
                    let proof = Proof::Identity(vec![AMR_PASSWORD.to_owned()]);
                    authn.advance(conn, &flow, &user, proof, Action::SignUp, cx)
                })
            })
            .await?;
        // A new account (not a taken address or bad input): its address gets a link.
        if !matches!(
            progress,
            Progress::Refused {
                reason: Refusal::EmailTaken | Refusal::Invalid(_),
                ..
            }
        ) {
            self.account()
                .verification_after_sign_up(&address, paid, now)
                .await?;
        }
        Ok(progress)
    }

    /// Ends the browser's session (and audits it). Signing out without a session is not an error.
    pub async fn sign_out(
        &self,
        session: Option<String>,
        client: Client,
        now: DateTime<Utc>,
    ) -> Result<(), AuthnError> {
        let Some(token) = session else {
            return Ok(());
        };
        self.db
            .run(move |conn| {
                transaction(conn, |conn| {
                    if let Some(user) = crate::sessions::user_of(conn, &token, now)? {
                        Entry::new("logout", db_time(now))
                            .by_user(&user)
                            .ip(client.ip.as_deref())
                            .record(conn)?;
                    }
                    crate::sessions::end_by_token(conn, &token, db_time(now))?;
                    Ok::<_, StoreError>(())
                })
            })
            .await
            .map_err(AuthnError::Store)
    }
}
