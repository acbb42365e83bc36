//! Helpers for the management API tests: API tokens from real API keys, a JSON client, and a
//! fingerprint of everything a management action could change (to prove a refusal changed
//! nothing).

use authify_core::manage::{Actor, api_keys};
use authify_store::schema::{
    api_keys as keys_t, application_callbacks, applications, group_members, groups,
    organization_members, organizations, users,
};
use diesel::prelude::*;
use serde_json::Value;

use crate::TestApp;

/// An API call's outcome.
#[derive(Debug)]
pub struct ApiReply {
    /// HTTP status.
    pub status: u16,
    /// JSON body (`Null` when empty).
    pub body: Value,
}

impl TestApp {
    /// The acting user with this e-mail, as the API would see them.
    pub async fn actor(&self, email: &str) -> Actor {
        let email = email.to_owned();
        let user = self
            .state
            .db()
            .run_blocking(move |conn| authify_store::users::find_user_by_email(conn, &email))
            .unwrap()
            .expect("user exists");
        Actor {
            user: user.into(),
            read_only: false,
            ip: None,
        }
    }

    /// Creates an API key for `email` and returns `(access_key, secret_key)`.
    pub async fn api_key(&self, email: &str, read_only: bool) -> (String, String) {
        let actor = self.actor(email).await;
        let created = api_keys::create(
            self.state.db(),
            &actor,
            "test key",
            read_only,
            None,
            chrono::Utc::now(),
        )
        .await
        .unwrap();
        (created.key.access_key, created.secret_key)
    }

    /// An API token for `email` through a new API key and `POST /jwt/token`.
    pub async fn api_token(&self, email: &str, read_only: bool) -> String {
        let (access_key, secret_key) = self.api_key(email, read_only).await;
        let reply = self
            .call(
                None,
                "POST",
                "/jwt/token",
                Some(serde_json::json!({ "access_key": access_key, "secret_key": secret_key })),
            )
            .await;
        assert_eq!(reply.status, 200, "{:?}", reply.body);
        reply.body["jwt"].as_str().unwrap().to_owned()
    }

    /// Sends `method path` with an optional bearer token and JSON body.
    pub async fn call(
        &self,
        token: Option<&str>,
        method: &str,
        path: &str,
        body: Option<Value>,
    ) -> ApiReply {
        let method = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
        let mut req = self.http.request(method, format!("{}{path}", self.address));
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        if let Some(b) = body {
            req = req.json(&b);
        }
        // A pooled connection the server closed as the request went out ("IncompleteMessage":
        // the request was not read) is retried once on a fresh connection.
        let retry = req.try_clone().expect("a cloneable request");
        let res = match req.send().await {
            Err(e) if e.is_request() => retry.send().await.unwrap(),
            other => other.unwrap(),
        };
        let status = res.status().as_u16();
        let text = res.text().await.unwrap();
        let body = if text.is_empty() {
            Value::Null
        } else {
            serde_json::from_str(&text).unwrap_or(Value::String(text))
        };
        ApiReply { status, body }
    }

    /// Every row a management action could change, as text, plus the signing key count.
    pub async fn fingerprint(&self) -> String {
        let keys = std::fs::read_dir(&self.keys_dir).map_or(0, |d| d.count());
        let rows = self
            .state
            .db()
            .run_blocking(|conn| {
                let u: Vec<(String, String, bool, bool)> = users::table
                    .order(users::id)
                    .select((users::email, users::name, users::is_admin, users::disabled))
                    .load(conn)?;
                let o: Vec<(String, String)> = organizations::table
                    .order(organizations::id)
                    .select((organizations::public_id, organizations::name))
                    .load(conn)?;
                let m: Vec<(i64, i64, bool)> = organization_members::table
                    .order((
                        organization_members::organization_id,
                        organization_members::user_id,
                    ))
                    .select((
                        organization_members::organization_id,
                        organization_members::user_id,
                        organization_members::is_admin,
                    ))
                    .load(conn)?;
                let g: Vec<(String, String)> = groups::table
                    .order(groups::id)
                    .select((groups::public_id, groups::name))
                    .load(conn)?;
                let gm: Vec<(i64, i64)> = group_members::table
                    .order((group_members::group_id, group_members::user_id))
                    .select((group_members::group_id, group_members::user_id))
                    .load(conn)?;
                let a: Vec<(String, String, String)> = applications::table
                    .order(applications::id)
                    .select((
                        applications::app_id,
                        applications::name,
                        applications::secret_hash,
                    ))
                    .load(conn)?;
                let c: Vec<String> = application_callbacks::table
                    .order(application_callbacks::id)
                    .select(application_callbacks::url)
                    .load(conn)?;
                let k: Vec<(String, bool)> = keys_t::table
                    .order(keys_t::id)
                    .select((keys_t::access_key, keys_t::revoked_at.is_null()))
                    .load(conn)?;
                Ok::<_, authify_store::StoreError>(format!(
                    "{u:?}\n{o:?}\n{m:?}\n{g:?}\n{gm:?}\n{a:?}\n{c:?}\n{k:?}"
                ))
            })
            .unwrap();
        format!("{rows}\nsigning keys: {keys}")
    }
}
