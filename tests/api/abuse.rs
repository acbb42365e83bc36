//! Abuse resistance (issue 32), each finding of the attack as the script that found it: SMS
//! pumping through `POST /account/phone`, sign-up as a mailer, an invitation loop, a flood of
//! anonymous flows, push prompts on demand, and a refresh refused for its scope. Every refusal is
//! a 429 with `Retry-After` (or a 400 for input past a limit), counted in the metrics.

use authify_testkit::{Browser, PASSWORD, TestApp, spawn_app_in};
use serde_json::json;

use crate::mfa_support::{SmsReceiver, SmtpReceiver};
use crate::oidc::{authorize_url, code_for, exchange, first_party, pkce, rp, token};

/// Fast hashes: these tests make many accounts.
const FAST_HASH: [(&str, &str); 2] = [
    ("AUTHIFY_ARGON2_MEMORY_KIB", "1024"),
    ("AUTHIFY_ARGON2_ITERATIONS", "1"),
];

async fn app_with(vars: &[(&str, &str)]) -> TestApp {
    let mut all = FAST_HASH.to_vec();
    all.extend_from_slice(vars);
    spawn_app_in(tempfile::tempdir().unwrap(), &all).await
}

fn retry_after(res: &reqwest::Response) -> u64 {
    res.headers()
        .get("retry-after")
        .expect("a Retry-After header")
        .to_str()
        .unwrap()
        .parse()
        .unwrap()
}

fn refusals_counted(budget: &str) -> bool {
    authify_core::metrics::metrics()
        .unwrap()
        .render(Default::default())
        .lines()
        .any(|l| {
            l.starts_with("authify_budget_refusals_total")
                && l.contains(&format!("budget=\"{budget}\""))
        })
}

/// A server with an SMS gateway (the receiver counts what it is sent).
async fn app_with_sms() -> (TestApp, SmsReceiver) {
    let sms = SmsReceiver::start("a-webhook-secret-of-some-length").await;
    let app = app_with(&[
        ("AUTHIFY_SMS_WEBHOOK_URL", &sms.url()),
        (
            "AUTHIFY_SMS_WEBHOOK_SECRET",
            "a-webhook-secret-of-some-length",
        ),
    ])
    .await;
    (app, sms)
}

async fn signed_in(app: &TestApp, email: &str) -> Browser {
    app.create_user(email, false).await;
    let b = app.browser();
    assert_eq!(b.sign_in("", email, PASSWORD).await.status(), 303);
    b
}

// Fails before issue 32: all 12 were sent (584 numbers in 60 s in the attack).
#[tokio::test]
async fn one_client_adding_phones_to_many_accounts_stops_at_the_sms_budget_of_its_address() {
    let (app, sms) = app_with_sms().await;
    let (mut sent, mut refused) = (0, 0);
    for account in 0..3 {
        let b = signed_in(&app, &format!("pump{account}@example.com")).await;
        for n in 0..4 {
            let number = format!("+4420794600{account}{n}");
            let res = b
                .submit(
                    "/account",
                    "/account/phone",
                    &[("phone", &number), ("current_password", PASSWORD)],
                )
                .await;
            match res.status().as_u16() {
                200 => sent += 1,
                429 => {
                    assert!(retry_after(&res) > 0);
                    let page = res.text().await.unwrap();
                    assert!(page.contains("text messages"), "{page}");
                    refused += 1;
                }
                other => panic!("unexpected {other}"),
            }
        }
    }
    assert_eq!(
        (sent, refused),
        (10, 2),
        "AUTHIFY_BUDGET_SMS_PER_ADDRESS is 10"
    );
    for _ in 0..sent {
        sms.next().await;
    }
    assert!(
        tokio::time::timeout(std::time::Duration::from_millis(500), sms.next_json())
            .await
            .is_err(),
        "a refused SMS is never delivered"
    );
    assert!(refusals_counted("sms_address"));
}

#[tokio::test]
async fn numbers_in_refused_ranges_are_refused_with_the_reason_and_nothing_is_sent() {
    let (app, _sms) = app_with_sms().await;
    let b = signed_in(&app, "sat@example.com").await;
    let res = b
        .submit(
            "/account",
            "/account/phone",
            &[
                ("phone", "+881 6 1234 5678"),
                ("current_password", PASSWORD),
            ],
        )
        .await;
    assert_eq!(res.status(), 400);
    assert!(res.text().await.unwrap().contains("+881"));
}

// Fails before issue 32: 575 sign-ups in 60 s from one client, each mailing its address.
#[tokio::test]
async fn sign_ups_from_one_client_stop_at_their_budget_and_mail_nobody_past_it() {
    let app = app_with(&[("AUTHIFY_BUDGET_SIGNUPS_PER_ADDRESS", "5")]).await;
    let mut codes = Vec::new();
    for i in 0..7 {
        let b = app.browser();
        let res = b
            .sign_up("", "Mailer", &format!("victim{i}@example.com"))
            .await;
        if res.status() == 429 {
            assert!(retry_after(&res) > 0);
        }
        codes.push(res.status().as_u16());
    }
    assert_eq!(codes.iter().filter(|c| **c == 429).count(), 2, "{codes:?}");
    let accounts = app
        .state
        .db()
        .run_blocking(|conn| {
            let mut n = 0;
            for i in 0..7 {
                let email = format!("victim{i}@example.com");
                n += usize::from(authify_store::users::find_user_by_email(conn, &email)?.is_some());
            }
            Ok::<_, authify_core::StoreError>(n)
        })
        .unwrap();
    assert_eq!(accounts, 5, "no account past the budget");
    let mails = || {
        std::fs::read_dir(app.dir.path().join("mail"))
            .map(|d| d.count())
            .unwrap_or(0)
    };
    for _ in 0..50 {
        if mails() >= 5 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    assert_eq!(
        mails(),
        5,
        "one verification mail per account made, none more"
    );
    assert!(refusals_counted("signups"));
}

// Fails before issue 32: 1,656 invitations in 20 s from one admin's API key, all 201.
#[tokio::test]
async fn an_organization_admin_cannot_send_invitations_past_the_hourly_budget() {
    let smtp = SmtpReceiver::start().await;
    let app = app_with(&[
        ("AUTHIFY_SMTP_URL", &smtp.url()),
        ("AUTHIFY_BUDGET_INVITATIONS_PER_ADMIN", "4"),
    ])
    .await;
    app.create_user("boss@example.com", false).await;
    let org = authify_testkit::setup::create_org(app.state.db(), "Acme", app.clock_now())
        .await
        .unwrap();
    authify_testkit::setup::add_org_member(
        app.state.db(),
        "Acme",
        "boss@example.com",
        true,
        app.clock_now(),
    )
    .await
    .unwrap();
    let token = app.api_token("boss@example.com", false).await;
    let mut statuses = Vec::new();
    for i in 0..6 {
        let r = app
            .call(
                Some(&token),
                "POST",
                &format!("/api/v1/organizations/{}/invitations", org.public_id),
                Some(json!({ "email": format!("new{i}@example.com") })),
            )
            .await;
        if r.status == 429 {
            assert_eq!(r.body["error"], "too_many_requests", "{}", r.body);
            assert!(r.body["message"].as_str().unwrap().contains("invitations"));
        }
        statuses.push(r.status);
    }
    assert_eq!(statuses, [201, 201, 201, 201, 429, 429]);
    for _ in 0..4 {
        smtp.next().await;
    }
    assert!(refusals_counted("invitations"));
}

// Fails before issue 32: every anonymous GET stored a flow (110,877 rows and 906 MB in 30 s of
// the load script), and a 4,000-character state was kept.
#[tokio::test]
async fn a_flood_of_anonymous_authorize_requests_keeps_the_flows_of_its_address_bounded() {
    let app = app_with(&[
        ("AUTHIFY_FLOWS_PER_ADDRESS", "20"),
        ("AUTHIFY_FLOWS_PER_ADDRESS_PER_MINUTE", "0"),
    ])
    .await;
    let rp = rp(&app, first_party()).await;
    let state = "s".repeat(1000);
    for _ in 0..60 {
        let res = app
            .get(&authorize_url(&rp.id, &[("state", &state)]).replace("state=st-1&", ""))
            .await;
        assert_eq!(res.status(), 200);
    }
    let (flows, stored) = app
        .state
        .db()
        .run_blocking(|conn| {
            Ok::<_, authify_core::StoreError>((
                authify_store::flows::count_client_flows(conn, "127.0.0.1")?,
                authify_store::flows::count_flows(conn)?,
            ))
        })
        .unwrap();
    assert_eq!(flows, 20, "the newest 20 of this address are kept");
    assert_eq!(stored, 20);
    // Past the limit: a 400 naming the parameter, and nothing stored.
    let long = "n".repeat(5000);
    let res = app.get(&authorize_url(&rp.id, &[("nonce", &long)])).await;
    assert_eq!(res.status(), 400);
    assert!(res.text().await.unwrap().contains("nonce"));
}

#[tokio::test]
async fn new_flows_per_address_and_minute_are_refused_past_the_budget_with_retry_after() {
    let app = app_with(&[("AUTHIFY_FLOWS_PER_ADDRESS_PER_MINUTE", "5")]).await;
    let mut statuses = Vec::new();
    for _ in 0..7 {
        let res = app.get("/login").await;
        if res.status() == 429 {
            assert!(retry_after(&res) > 0);
        }
        statuses.push(res.status().as_u16());
    }
    assert_eq!(statuses, [200, 200, 200, 200, 200, 429, 429]);
    // A browser coming back to its flow is not a new flow.
    let b = app.browser();
    app.clock.advance(chrono::Duration::minutes(1));
    assert_eq!(b.get("/login").await.status(), 200);
    for _ in 0..6 {
        assert_eq!(b.get("/login").await.status(), 200);
    }
}

// Fails before issue 32: ten prompts a minute per address, known or not.
#[tokio::test]
async fn passwordless_prompts_stop_at_the_per_account_budget_for_known_and_unknown_addresses() {
    let app = app_with(&[("AUTHIFY_BUDGET_PUSH_PER_USER", "3")]).await;
    app.create_user("ann@example.com", false).await;
    for email in ["ann@example.com", "nobody@example.com"] {
        let mut statuses = Vec::new();
        for _ in 0..4 {
            let b = app.browser();
            let res = b
                .submit("/login/phone", "/login/phone", &[("email", email)])
                .await;
            statuses.push(res.status().as_u16());
        }
        assert_eq!(statuses[3], 429, "{email}: {statuses:?}");
        assert!(statuses[..3].iter().all(|s| *s != 429), "{statuses:?}");
    }
}

// Fails before issue 32: the refused refresh spent the token (then `invalid_grant`).
#[tokio::test]
async fn a_refresh_refused_for_a_wider_scope_does_not_spend_the_refresh_token() {
    let app = app_with(&[]).await;
    let rp = rp(&app, first_party()).await;
    app.create_user("ann@example.com", false).await;
    let browser = app.browser();
    assert_eq!(
        browser
            .sign_in("", "ann@example.com", PASSWORD)
            .await
            .status(),
        303
    );
    let (verifier, challenge) = pkce();
    let url = authorize_url(
        &rp.id,
        &[
            ("code_challenge", &challenge),
            ("code_challenge_method", "S256"),
        ],
    )
    .replace("offline_access+organizations", "offline_access");
    let code = code_for(&browser, &url).await;
    let (_, first) = exchange(&app, &rp, &code, &verifier).await;
    let refresh = first["refresh_token"].as_str().unwrap().to_owned();
    let (status, body) = token(
        &app,
        &rp,
        &[
            ("grant_type", "refresh_token"),
            ("refresh_token", &refresh),
            ("scope", "openid organizations"),
        ],
    )
    .await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("invalid_scope"))
    );
    let (status, body) = token(
        &app,
        &rp,
        &[("grant_type", "refresh_token"), ("refresh_token", &refresh)],
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert!(body["refresh_token"].is_string());
}

#[tokio::test]
async fn sign_ups_never_verified_are_deleted_after_the_setting_and_nothing_else_is() {
    let app = app_with(&[
        ("AUTHIFY_EMAIL_VERIFICATION", "required"),
        ("AUTHIFY_UNVERIFIED_ACCOUNT_DAYS", "7"),
    ])
    .await;
    let res = app
        .browser()
        .sign_up("", "Drive-by", "driveby@example.com")
        .await;
    assert_eq!(res.status(), 202, "signed up, waiting for the address");
    app.create_user("made-by-admin@example.com", false).await;
    let account = app.state.account();
    app.clock.advance(chrono::Duration::days(6));
    assert_eq!(account.delete_unverified(app.clock_now()).await.unwrap(), 0);
    app.clock.advance(chrono::Duration::days(2));
    assert_eq!(account.delete_unverified(app.clock_now()).await.unwrap(), 1);
    let left = app
        .state
        .db()
        .run_blocking(|conn| {
            Ok::<_, authify_core::StoreError>((
                authify_store::users::find_user_by_email(conn, "driveby@example.com")?.is_some(),
                authify_store::users::find_user_by_email(conn, "made-by-admin@example.com")?
                    .is_some(),
            ))
        })
        .unwrap();
    assert_eq!(left, (false, true));
}

/// `<challenge>:<nonce>` with SHA-256 starting with `bits` zero bits, found as a browser would.
fn work_for(challenge: &str, bits: u32) -> String {
    use sha2::Digest;
    (0u64..)
        .map(|n| format!("{challenge}:{n}"))
        .find(|w| authify_core::authn::work::zero_bits(&sha2::Sha256::digest(w.as_bytes())) >= bits)
        .unwrap()
}

#[tokio::test]
async fn with_the_proof_of_work_on_a_sign_up_needs_a_fresh_solved_challenge() {
    let app = app_with(&[("AUTHIFY_SIGNUP_WORK_BITS", "10")]).await;
    let b = app.browser();
    let html = b.get("/signup").await.text().await.unwrap();
    let challenge = html
        .split("data-work-challenge=\"")
        .nth(1)
        .and_then(|s| s.split('"').next())
        .expect("the form carries a challenge")
        .to_owned();
    assert!(html.contains("data-work-bits=\"10\""));
    let csrf = authify_testkit::hidden_value(&html, "csrf_token").unwrap();
    let post = |work: Option<String>, email: &'static str| {
        let (b, csrf) = (&b, csrf.clone());
        async move {
            let mut fields = vec![
                ("csrf_token", csrf),
                ("name", "Worker".to_owned()),
                ("email", email.to_owned()),
                ("password", PASSWORD.to_owned()),
            ];
            if let Some(w) = work {
                fields.push(("work", w));
            }
            let fields: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (*k, v.as_str())).collect();
            b.post("/signup", &fields).await.status().as_u16()
        }
    };
    assert_eq!(post(None, "a@example.com").await, 400, "no work");
    let forged = format!("{}x:1", &challenge[..challenge.len() - 1]);
    assert_eq!(
        post(Some(forged), "a@example.com").await,
        400,
        "not our signature"
    );
    let unsolved = (0u64..)
        .map(|n| format!("{challenge}:{n}"))
        .find(|w| {
            use sha2::Digest;
            authify_core::authn::work::zero_bits(&sha2::Sha256::digest(w.as_bytes())) < 10
        })
        .unwrap();
    assert_eq!(
        post(Some(unsolved), "a@example.com").await,
        400,
        "too few bits"
    );
    let solved = work_for(&challenge, 10);
    assert_eq!(post(Some(solved.clone()), "a@example.com").await, 303);
    let b2 = app.browser();
    let html = b2.get("/signup").await.text().await.unwrap();
    let csrf2 = authify_testkit::hidden_value(&html, "csrf_token").unwrap();
    let again = b2
        .post(
            "/signup",
            &[
                ("csrf_token", &csrf2),
                ("name", "Again"),
                ("email", "b@example.com"),
                ("password", PASSWORD),
                ("work", &solved),
            ],
        )
        .await;
    assert_eq!(again.status(), 400, "a challenge pays for one sign-up");
    app.clock.advance(chrono::Duration::minutes(11));
    let html = b2.get("/signup").await.text().await.unwrap();
    assert!(!html.contains(&challenge), "a new challenge each time");
}

#[tokio::test]
async fn a_person_signs_up_in_chromium_while_the_page_does_the_proof_of_work() {
    let app = app_with(&[("AUTHIFY_SIGNUP_WORK_BITS", "14")]).await;
    let callback = format!("{}/app/callback", app.address);
    app.create_app("Team Wiki", &[&callback]).await;
    let root = authify_testkit::repo_root();
    let script = root.join("tests/browser/signup-work.mjs");
    let (address, cb) = (app.address.clone(), authify_testkit::b64(&callback));
    let out = tokio::task::spawn_blocking(move || {
        std::process::Command::new("node")
            .arg(script)
            .args([&address, &cb])
            .output()
            .unwrap()
    })
    .await
    .unwrap();
    assert!(
        out.status.success(),
        "browser flow failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let result: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(
        result["final_url"].as_str().unwrap().contains("jwt="),
        "{result}"
    );
    let work = result["work"].as_str().expect("the form posted its work");
    use sha2::Digest;
    assert!(authify_core::authn::work::zero_bits(&sha2::Sha256::digest(work.as_bytes())) >= 14);
}

/// A sign-up from `ip` (sent as X-Forwarded-For through the trusted loopback proxy).
async fn sign_up_from(app: &TestApp, ip: &str, email: &str) -> u16 {
    let b = app.browser();
    let page = b
        .http
        .get(format!("{}/signup", b.base))
        .header("x-forwarded-for", ip)
        .send()
        .await
        .unwrap();
    let html = page.text().await.unwrap();
    let csrf = authify_testkit::hidden_value(&html, "csrf_token").unwrap();
    b.http
        .post(format!("{}/signup", b.base))
        .header("x-forwarded-for", ip)
        .form(&[
            ("csrf_token", csrf.as_str()),
            ("name", "Rotator"),
            ("email", email),
            ("password", PASSWORD),
        ])
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

#[tokio::test]
async fn an_ipv6_client_rotating_addresses_in_its_64_shares_one_sign_up_budget() {
    let app = app_with(&[
        ("AUTHIFY_TRUSTED_PROXIES", "127.0.0.1/32"),
        ("AUTHIFY_BUDGET_SIGNUPS_PER_ADDRESS", "2"),
    ])
    .await;
    let mut statuses = Vec::new();
    for i in 1..=4 {
        statuses.push(
            sign_up_from(
                &app,
                &format!("2001:db8:1:2::{i:x}"),
                &format!("r{i}@example.com"),
            )
            .await,
        );
    }
    assert_eq!(statuses, [303, 303, 429, 429]);
    // Another /64 has its own budget.
    assert_eq!(
        sign_up_from(&app, "2001:db8:1:3::1", "other@example.com").await,
        303
    );
}

#[tokio::test]
async fn requests_anyone_can_make_do_not_use_up_the_mails_an_owner_asks_for() {
    let app = app_with(&[("AUTHIFY_BUDGET_MAIL_PER_RECIPIENT", "2")]).await;
    let ann = signed_in(&app, "ann@example.com").await;
    // An abuser asks for reset links to Ann's address until her budget is spent (the page is
    // the same either way).
    for _ in 0..3 {
        let res = app
            .browser()
            .submit(
                "/password/forgot",
                "/password/forgot",
                &[("email", "ann@example.com")],
            )
            .await;
        assert!(res.status().is_success() || res.status().is_redirection());
    }
    // Ann, signed in, still gets her verification link.
    let res = ann.submit("/account", "/account/email/verify", &[]).await;
    assert_eq!(
        authify_testkit::location(&res),
        "/account?done=verification_sent"
    );
}

#[tokio::test]
async fn an_invitation_the_actor_may_not_send_spends_nothing_of_their_budget() {
    let app = app_with(&[("AUTHIFY_BUDGET_INVITATIONS_PER_ADMIN", "1")]).await;
    app.create_user("boss@example.com", false).await;
    let now = app.clock_now();
    let db = app.state.db();
    let own = authify_testkit::setup::create_org(db, "Acme", now)
        .await
        .unwrap();
    let other = authify_testkit::setup::create_org(db, "Other", now)
        .await
        .unwrap();
    authify_testkit::setup::add_org_member(db, "Acme", "boss@example.com", true, now)
        .await
        .unwrap();
    let token = app.api_token("boss@example.com", false).await;
    let invite = |oid: String, email: &'static str| {
        let (app, token) = (&app, token.clone());
        async move {
            app.call(
                Some(&token),
                "POST",
                &format!("/api/v1/organizations/{oid}/invitations"),
                Some(json!({ "email": email })),
            )
            .await
            .status
        }
    };
    let refused = invite(other.public_id.clone(), "x@example.com").await;
    assert!(refused == 403 || refused == 404, "{refused}");
    assert_eq!(invite(own.public_id.clone(), "y@example.com").await, 201);
    assert_eq!(invite(own.public_id.clone(), "z@example.com").await, 429);
}
