//! `/account`: who you are, your organizations and groups, and what you manage yourself: your
//! e-mail address and password (each change confirmed with the current password), your API
//! keys, leaving an organization, creating one (when allowed), and the way into the console.

use actix_web::{HttpRequest, HttpResponse, web};
use authify_core::account::verify::EmailVerification;
use authify_core::manage::users::{self, CredentialChange};
use authify_core::manage::{self, Actor, OrgCreation, api_keys, orgs};
use authify_core::tokens;
use serde::Deserialize;

use crate::console::page::{ActionForm, Confirm, Field, Frame, Secret, notice};
use crate::error::WebError;
use crate::extract::{Checked, SignedIn};
use crate::pages::see_other;
use crate::state::AppState;
use crate::views::{AccountGroup, AccountOrganization, AccountUser, AccountView};

/// Query of `/account`.
#[derive(Debug, Default, Deserialize)]
pub struct AccountQuery {
    done: Option<String>,
}

/// `GET /account`; without a session, to the sign-in page.
pub async fn get_account(
    state: web::Data<AppState>,
    req: HttpRequest,
    query: web::Query<AccountQuery>,
    SignedIn(actor): SignedIn,
) -> Result<HttpResponse, WebError> {
    let (state, req, q) = (state.get_ref(), &req, query.into_inner());
    let subject = tokens::subject_for(state.db(), &actor.user).await?;
    let console = manage::console::may_enter(state.db(), &actor).await?;
    let api_keys = api_keys::list(state.db(), &actor, state.now()).await?;
    let cookies = state.cookies().read(req);
    let sessions = authify_core::sessions::list_for(
        state.db(),
        &actor.user,
        cookies.session.as_deref(),
        state.now(),
    )
    .await?;
    let grants = authify_core::oidc::grants::list(state.db(), &actor.user).await?;
    let mfa = state
        .account()
        .factors(&actor.user, cookies.device.clone())
        .await?;
    let providers = state.account().upstream_accounts(&actor.user).await?;
    let user = &actor.user;
    let view = AccountView {
        providers,
        mfa,
        sessions,
        grants,
        console,
        can_create_org: user.is_admin || state.config().org_creation == OrgCreation::Users,
        api_keys,
        user: AccountUser {
            email: user.email.clone(),
            name: user.name.clone(),
            uid: user.public_id.clone(),
            admin: user.is_admin,
            created: user.created_at.format("%Y-%m-%d").to_string(),
            email_verified: user.email_verified,
            verification: state.config().email_verification != EmailVerification::Off,
            password: user.has_password,
        },
        organizations: subject
            .user
            .organizations
            .into_iter()
            .map(|o| AccountOrganization {
                name: o.name,
                oid: o.oid,
                admin: o.admin,
                groups: o
                    .memberships
                    .into_iter()
                    .map(|g| AccountGroup {
                        name: g.name,
                        gid: g.gid,
                    })
                    .collect(),
            })
            .collect(),
    };
    Frame::new(state, req, None)?.render(
        state,
        "pages/account",
        "Your account",
        notice(q.done.as_deref()),
        &view,
    )
}

/// `POST /account/email`: a new e-mail address, confirmed with the current password.
pub async fn post_email(
    state: web::Data<AppState>,
    req: HttpRequest,
    Checked(form): Checked<ActionForm>,
    SignedIn(actor): SignedIn,
) -> Result<HttpResponse, WebError> {
    let (state, req) = (state.get_ref(), &req);
    let keep = state.cookies().read(req).session;
    let change = CredentialChange {
        current_password: form.current_password.unwrap_or_default(),
        email: Some(form.email.unwrap_or_default()),
        password: None,
    };
    users::change_credentials(
        state.db(),
        state.authn(),
        &actor,
        change,
        keep.as_deref(),
        state.now(),
    )
    .await?;
    Ok(see_other("/account?done=email_changed"))
}

/// `POST /account/password`: a new password, confirmed with the current one. This session
/// stays signed in; every other one ends.
pub async fn post_password(
    state: web::Data<AppState>,
    req: HttpRequest,
    Checked(form): Checked<ActionForm>,
    SignedIn(actor): SignedIn,
) -> Result<HttpResponse, WebError> {
    let (state, req) = (state.get_ref(), &req);
    let change = CredentialChange {
        current_password: form.current_password.unwrap_or_default(),
        email: None,
        password: Some(form.password.unwrap_or_default()),
    };
    let keep = state.cookies().read(req).session;
    users::change_credentials(
        state.db(),
        state.authn(),
        &actor,
        change,
        keep.as_deref(),
        state.now(),
    )
    .await?;
    Ok(see_other("/account?done=password_changed"))
}

fn expiry_days(raw: &str) -> Result<Option<u32>, WebError> {
    let raw = raw.trim();
    if raw.is_empty() {
        return Ok(None);
    }
    raw.parse().map(Some).map_err(|_| WebError::BadRequest {
        heading: "That did not work",
        message: format!(
            "The expiry is a number of days from 1 to {}, or empty for a key that does not expire.",
            api_keys::MAX_DAYS
        ),
    })
}

/// `POST /account/api-keys`: creates a key and shows its secret once.
pub async fn post_api_key(
    state: web::Data<AppState>,
    req: HttpRequest,
    Checked(form): Checked<ActionForm>,
    SignedIn(actor): SignedIn,
) -> Result<HttpResponse, WebError> {
    let (state, req) = (state.get_ref(), &req);
    let days = expiry_days(ActionForm::text(&form.expires_in_days))?;
    let read_only = ActionForm::yes(&form.read_only);
    let name = ActionForm::text(&form.name);
    let created = api_keys::create(state.db(), &actor, name, read_only, days, state.now()).await?;
    Frame::new(state, req, None)?.secret(
        state,
        &Secret {
            heading: format!("API key {} created", created.key.name),
            message: "Copy the secret key now: Authify stores only a hash of it and will not show it again. Exchange the pair for a token at POST /jwt/token.",
            back_url: "/account".into(),
            values: vec![
                Field::shown("access_key", "Access key", created.key.access_key),
                Field::shown("secret_key", "Secret key", created.secret_key),
            ],
        },
    )
}

/// `POST /account/api-keys/revoke` (confirmed).
pub async fn post_api_key_revoke(
    state: web::Data<AppState>,
    req: HttpRequest,
    Checked(form): Checked<ActionForm>,
    SignedIn(actor): SignedIn,
) -> Result<HttpResponse, WebError> {
    let (state, req) = (state.get_ref(), &req);
    let access_key = ActionForm::text(&form.access_key);
    if !form.confirmed() {
        return Frame::new(state, req, None)?.confirm(
            state,
            &Confirm {
                heading: format!("Revoke the API key {access_key}?"),
                message:
                    "It can no longer be exchanged, and tokens already issued from it stop working."
                        .into(),
                action: "/account/api-keys/revoke".into(),
                fields: vec![Field::hidden("access_key", access_key)],
                button: "Revoke key",
                cancel_url: "/account".into(),
            },
        );
    }
    api_keys::revoke(state.db(), &actor, access_key, state.now()).await?;
    Ok(see_other("/account?done=api_key_revoked"))
}

/// `POST /account/orgs/leave` (confirmed): leaves organization `oid`.
pub async fn post_org_leave(
    state: web::Data<AppState>,
    req: HttpRequest,
    Checked(form): Checked<ActionForm>,
    SignedIn(actor): SignedIn,
) -> Result<HttpResponse, WebError> {
    let (state, req) = (state.get_ref(), &req);
    let oid = ActionForm::text(&form.oid);
    if !form.confirmed() {
        let org = orgs::get(state.db(), &actor, oid).await?;
        return Frame::new(state, req, None)?.confirm(
            state,
            &Confirm {
                heading: format!("Leave {}?", org.name),
                message: "You leave the organization and its groups; an admin must add you again to undo this.".into(),
                action: "/account/orgs/leave".into(),
                fields: vec![Field::hidden("oid", oid)],
                button: "Leave organization",
                cancel_url: "/account".into(),
            },
        );
    }
    let uid = actor.user.public_id.clone();
    orgs::remove_member(state.db(), &actor, oid, &uid, state.now()).await?;
    Ok(see_other("/account?done=org_left"))
}

/// `POST /account/orgs`: creates an organization (the creator becomes its admin).
pub async fn post_org(
    state: web::Data<AppState>,
    req: HttpRequest,
    Checked(form): Checked<ActionForm>,
    SignedIn(actor): SignedIn,
) -> Result<HttpResponse, WebError> {
    create_org(&state, &req, form, actor).await
}

async fn create_org(
    state: &AppState,
    _req: &HttpRequest,
    form: ActionForm,
    actor: Actor,
) -> Result<HttpResponse, WebError> {
    let name = ActionForm::text(&form.name);
    let policy = state.config().org_creation;
    let org = orgs::create(state.db(), &actor, name, policy, state.now()).await?;
    Ok(see_other(&format!(
        "/admin/orgs/{}?done=org_created",
        crate::console::page::enc(&org.oid)
    )))
}

/// `POST /account/email/verify`: mails a new link to confirm the account's address.
pub async fn post_send_verification(
    state: web::Data<AppState>,
    req: HttpRequest,
    Checked(_form): Checked<ActionForm>,
    SignedIn(actor): SignedIn,
) -> Result<HttpResponse, WebError> {
    let client = state.client(&req);
    state
        .account()
        .verification_send(actor.user.id, client.ip.as_deref(), state.now())
        .await?;
    Ok(see_other("/account?done=verification_sent"))
}

#[cfg(test)]
mod tests {
    use super::expiry_days;

    #[test]
    fn an_empty_expiry_means_never_and_garbage_is_refused() {
        assert_eq!(expiry_days(" ").ok(), Some(None));
        assert_eq!(expiry_days("30").ok(), Some(Some(30)));
        assert!(expiry_days("soon").is_err());
        assert!(expiry_days("-1").is_err());
    }
}
