//! Upstream providers on loopback for the upstream sign-in tests: the real `oidc-provider` from
//! npm (`tests/interop/upstream-op.mjs`, an independent OpenID provider), a stand-in for GitHub's
//! OAuth and API endpoints (it checks PKCE and the client's secret), and the steps a browser
//! takes between them and Authify.

use std::collections::HashMap;
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};

use actix_web::{HttpRequest, HttpResponse, web};
use authify_testkit::{Browser, TestApp, location, repo_root, spawn_app_in};
use base64::Engine;
use sha2::Digest;

/// The client Authify is registered as at both providers.
pub const CLIENT_ID: &str = "authify-under-test";
/// Its secret.
pub const CLIENT_SECRET: &str = "loopback-provider-secret";

/// `oidc-provider` on a loopback port; stopped when dropped.
pub struct OpenIdProvider {
    /// Its issuer, `http://127.0.0.1:<port>`.
    pub issuer: String,
    child: Child,
}

impl OpenIdProvider {
    /// Starts it with Authify's redirect URI registered.
    pub fn start(redirect_uri: &str) -> Self {
        let script = repo_root().join("tests/interop/upstream-op.mjs");
        assert!(
            repo_root()
                .join("tests/interop/node_modules/oidc-provider")
                .exists(),
            "run `bash tests/setup.sh` first"
        );
        let mut child = Command::new("node")
            .arg(script)
            .env("OP_CLIENT_ID", CLIENT_ID)
            .env("OP_CLIENT_SECRET", CLIENT_SECRET)
            .env("OP_REDIRECT_URIS", redirect_uri)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("node runs");
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let issuer = line
            .trim()
            .strip_prefix("READY ")
            .unwrap_or_else(|| panic!("the provider did not start: {line:?}"))
            .to_owned();
        OpenIdProvider { issuer, child }
    }
}

impl Drop for OpenIdProvider {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A port nothing listens on right now (the server binds it next).
fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .unwrap()
        .port()
}

/// Authify with the loopback OpenID provider configured as `[[upstream]]` `op`, plus `vars`.
pub async fn app_with_openid(vars: &[(&str, &str)]) -> (TestApp, OpenIdProvider) {
    app_with_openid_as("op", vars).await
}

/// Authify with the loopback OpenID provider as `provider`: `google` through the original's
/// `GOOGLE_CLIENT_ID`/`GOOGLE_CLIENT_SECRET` and `AUTHIFY_GOOGLE_ISSUER` (discovery, as for
/// Google), any other name as an `[[upstream]]` table.
pub async fn app_with_openid_as(
    provider: &str,
    vars: &[(&str, &str)],
) -> (TestApp, OpenIdProvider) {
    let port = free_port();
    let public = format!("http://127.0.0.1:{port}");
    let op = OpenIdProvider::start(&format!("{public}/login/upstream/{provider}/callback"));
    let dir = tempfile::tempdir().unwrap();
    let table = if provider == "google" {
        String::new()
    } else {
        format!(
            "[[upstream]]\nname = \"{provider}\"\ndisplay_name = \"Loopback ID\"\nissuer = \"{}\"\n\
             client_id = \"{CLIENT_ID}\"\nclient_secret = \"{CLIENT_SECRET}\"\n",
            op.issuer
        )
    };
    std::fs::write(dir.path().join("authify.toml"), table).unwrap();
    let bind = format!("127.0.0.1:{port}");
    let mut all = vec![
        ("AUTHIFY_BIND", bind.as_str()),
        ("AUTHIFY_PUBLIC_URL", public.as_str()),
    ];
    if provider == "google" {
        all.extend([
            ("GOOGLE_CLIENT_ID", CLIENT_ID),
            ("GOOGLE_CLIENT_SECRET", CLIENT_SECRET),
            ("AUTHIFY_GOOGLE_ISSUER", op.issuer.as_str()),
        ]);
    }
    all.extend_from_slice(vars);
    (spawn_app_in(dir, &all).await, op)
}

/// A person at the OpenID provider: a cookie-keeping client that does not follow redirects.
pub fn person() -> reqwest::Client {
    reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

/// Follows the provider from `authorize` (signing in as `email` when it asks) until it sends
/// the browser back to `redirect_prefix`; returns that URL.
pub async fn at_provider(
    who: &reqwest::Client,
    authorize: &str,
    email: &str,
    redirect_prefix: &str,
) -> String {
    let origin = {
        let u = url::Url::parse(authorize).unwrap();
        format!("{}://{}", u.scheme(), u.host_str().unwrap())
            + &u.port().map(|p| format!(":{p}")).unwrap_or_default()
    };
    let absolute = |l: &str| {
        if l.starts_with("http") {
            l.to_owned()
        } else {
            format!("{origin}{l}")
        }
    };
    let mut url = authorize.to_owned();
    for _ in 0..10 {
        if url.starts_with(redirect_prefix) {
            return url;
        }
        let res = who.get(&url).send().await.unwrap();
        if res.status().is_redirection() {
            url = absolute(&location(&res));
            continue;
        }
        let page = res.text().await.unwrap();
        let action = page
            .split("action=\"")
            .nth(1)
            .and_then(|s| s.split('"').next())
            .unwrap_or_else(|| panic!("no sign-in form at the provider: {page}"));
        let res = who
            .post(absolute(action))
            .form(&[("email", email)])
            .send()
            .await
            .unwrap();
        assert!(res.status().is_redirection(), "{}", res.status());
        url = absolute(&location(&res));
    }
    panic!("the provider never sent the browser back (last: {url})");
}

/// Presses "Sign in with <provider>" on `/login{query}`; returns where Authify sends the browser.
pub async fn start_at_login(b: &Browser, query: &str, provider: &str) -> String {
    let res = b
        .submit(
            &format!("/login{query}"),
            &format!("/login/upstream/{provider}"),
            &[],
        )
        .await;
    assert_eq!(res.status(), 303, "{}", res.text().await.unwrap());
    location(&res)
}

/// Whether the browser holds a live session.
pub async fn has_session(b: &Browser) -> bool {
    b.get("/account").await.status() == 200
}

/// What GitHub's stand-in knows: the signed-in person and the codes it gave out.
#[derive(Default)]
pub struct GitHubState {
    /// `/user`'s `id`, `login`, `name`.
    pub user: (u64, String, String),
    /// `/user/emails`: address, primary, verified.
    pub emails: Vec<(String, bool, bool)>,
    codes: HashMap<String, (String, String)>,
    /// Token requests refused (bad secret, code, verifier or redirect URI).
    pub refused: usize,
}

/// GitHub's endpoints on loopback: `/login/oauth/authorize` (approves at once, as a signed-in
/// person who authorized the app before), `/login/oauth/access_token` (checks the secret, the
/// code, the redirect URI and the PKCE verifier), `/api/user` and `/api/user/emails`.
pub struct GitHub {
    /// `http://127.0.0.1:<port>`.
    pub url: String,
    /// Who is signed in at it, and what it saw.
    pub state: Arc<Mutex<GitHubState>>,
    server: actix_web::dev::ServerHandle,
}

impl GitHub {
    /// Starts it with `id`, `login` and `emails` as the signed-in person.
    pub async fn start(id: u64, login: &str, emails: &[(&str, bool, bool)]) -> Self {
        let state = Arc::new(Mutex::new(GitHubState::default()));
        let github = GitHub::serve(state).await;
        github.sign_in_as(id, login, emails);
        github
    }

    /// Another person signs in at GitHub.
    pub fn sign_in_as(&self, id: u64, login: &str, emails: &[(&str, bool, bool)]) {
        let mut s = self.state.lock().unwrap();
        s.user = (id, login.to_owned(), format!("{login} at GitHub"));
        s.emails = emails
            .iter()
            .map(|(e, p, v)| ((*e).to_owned(), *p, *v))
            .collect();
    }

    async fn serve(state: Arc<Mutex<GitHubState>>) -> Self {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let data = web::Data::new(state.clone());
        let server = actix_web::HttpServer::new(move || {
            actix_web::App::new()
                .app_data(data.clone())
                .route("/login/oauth/authorize", web::get().to(gh_authorize))
                .route("/login/oauth/access_token", web::post().to(gh_token))
                .route("/api/user", web::get().to(gh_user))
                .route("/api/user/emails", web::get().to(gh_emails))
        })
        .workers(1)
        .listen(listener)
        .unwrap()
        .run();
        let handle = server.handle();
        tokio::spawn(server);
        GitHub {
            url,
            state,
            server: handle,
        }
    }

    /// Authify's settings for it.
    pub fn settings(&self) -> Vec<(&'static str, String)> {
        vec![
            ("GITHUB_KEY", CLIENT_ID.to_owned()),
            ("GITHUB_SECRET", CLIENT_SECRET.to_owned()),
            ("AUTHIFY_GITHUB_URL", self.url.clone()),
            ("AUTHIFY_GITHUB_API_URL", format!("{}/api", self.url)),
        ]
    }
}

impl Drop for GitHub {
    fn drop(&mut self) {
        drop(self.server.stop(false));
    }
}

const TOKEN: &str = "gho_loopback-access-token";

type Shared = web::Data<Arc<Mutex<GitHubState>>>;

async fn gh_authorize(state: Shared, q: web::Query<HashMap<String, String>>) -> HttpResponse {
    let q = q.into_inner();
    if q.get("client_id").map(String::as_str) != Some(CLIENT_ID)
        || q.get("code_challenge_method").map(String::as_str) != Some("S256")
    {
        return HttpResponse::BadRequest().body("bad client or no PKCE");
    }
    let code = format!("code-{}", state.lock().unwrap().codes.len() + 1);
    let redirect = q["redirect_uri"].clone();
    state.lock().unwrap().codes.insert(
        code.clone(),
        (q["code_challenge"].clone(), redirect.clone()),
    );
    let mut target = url::Url::parse(&redirect).unwrap();
    target
        .query_pairs_mut()
        .append_pair("code", &code)
        .append_pair("state", q.get("state").map_or("", String::as_str));
    HttpResponse::Found()
        .insert_header(("Location", target.to_string()))
        .finish()
}

async fn gh_token(state: Shared, form: web::Form<HashMap<String, String>>) -> HttpResponse {
    let f = form.into_inner();
    let mut s = state.lock().unwrap();
    let issued = f.get("code").and_then(|c| s.codes.remove(c));
    let ok = match (&issued, f.get("code_verifier")) {
        (Some((challenge, redirect)), Some(verifier)) => {
            let computed = base64::engine::general_purpose::URL_SAFE_NO_PAD
                .encode(sha2::Sha256::digest(verifier.as_bytes()));
            &computed == challenge
                && f.get("redirect_uri") == Some(redirect)
                && f.get("client_id").map(String::as_str) == Some(CLIENT_ID)
                && f.get("client_secret").map(String::as_str) == Some(CLIENT_SECRET)
        }
        _ => false,
    };
    if !ok {
        s.refused += 1;
        // As GitHub does: 200 with an error object.
        return HttpResponse::Ok().json(serde_json::json!({ "error": "bad_verification_code" }));
    }
    HttpResponse::Ok().json(serde_json::json!({
        "access_token": TOKEN, "token_type": "bearer", "scope": "read:user,user:email"
    }))
}

fn authorized(req: &HttpRequest) -> bool {
    req.headers()
        .get("Authorization")
        .and_then(|v| v.to_str().ok())
        == Some(&format!("Bearer {TOKEN}"))
}

async fn gh_user(state: Shared, req: HttpRequest) -> HttpResponse {
    if !authorized(&req) {
        return HttpResponse::Unauthorized().finish();
    }
    let s = state.lock().unwrap();
    // The public profile address is whatever the person chose to show: never trusted.
    HttpResponse::Ok().json(serde_json::json!({
        "id": s.user.0, "login": s.user.1, "name": s.user.2, "email": "shown@example.org"
    }))
}

async fn gh_emails(state: Shared, req: HttpRequest) -> HttpResponse {
    if !authorized(&req) {
        return HttpResponse::Unauthorized().finish();
    }
    let s = state.lock().unwrap();
    let list: Vec<_> = s
        .emails
        .iter()
        .map(|(e, p, v)| serde_json::json!({ "email": e, "primary": p, "verified": v }))
        .collect();
    HttpResponse::Ok().json(list)
}

/// Signs in at GitHub's stand-in from `/login{query}`; returns Authify's answer to the return.
pub async fn github_round_trip(b: &Browser, query: &str) -> reqwest::Response {
    let to_github = start_at_login(b, query, "github").await;
    github_return(b, &to_github).await
}

/// From the GitHub URL Authify sent the browser to, back to Authify's callback.
pub async fn github_return(b: &Browser, to_github: &str) -> reqwest::Response {
    let res = b.http.get(to_github).send().await.unwrap();
    assert_eq!(res.status(), 302, "{}", res.text().await.unwrap());
    b.get(&location(&res)).await
}
