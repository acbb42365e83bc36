//! User search through its index (an FTS5 trigram table on SQLite kept in step by triggers,
//! trigram GIN indexes on PostgreSQL): the same answers as a plain substring search, through
//! renames and deletions, for any characters.

use authify_testkit::spawn_app;

async fn emails(app: &authify_testkit::TestApp, token: &str, q: &str) -> Vec<String> {
    let q: String = url::form_urlencoded::byte_serialize(q.as_bytes()).collect();
    let reply = app
        .call(Some(token), "GET", &format!("/api/v1/users?q={q}"), None)
        .await;
    assert_eq!(reply.status, 200, "{:?}", reply.body);
    reply.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["email"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn search_finds_substrings_of_e_mail_and_name_and_follows_every_change() {
    let app = spawn_app().await;
    app.create_user("root@example.com", true).await;
    let token = app.api_token("root@example.com", false).await;
    let ann = app.create_user("ann.lee@example.com", false).await;
    app.create_user("bob@example.org", false).await;
    // The name (given by the test kit: the e-mail's local part) and the e-mail, in any case.
    assert_eq!(emails(&app, &token, "NN.LE").await, ["ann.lee@example.com"]);
    assert_eq!(
        emails(&app, &token, "example.org").await,
        ["bob@example.org"]
    );
    assert_eq!(
        emails(&app, &token, "ex").await.len(),
        3,
        "short strings scan"
    );
    // Characters of the index's own query language, and LIKE's wildcards, are plain text.
    for q in ["\"", "a\"b", "x%y", "_", "ann OR bob", "NEAR(", "*"] {
        assert!(emails(&app, &token, q).await.is_empty(), "{q}");
    }
    // A new address is found under it, and no longer under the old one.
    let id = ann.id;
    app.state
        .db()
        .run_blocking(|conn| {
            authify_store::users::update_user_email(conn, id, "ann.kim@example.net")
        })
        .unwrap();
    assert!(emails(&app, &token, "ann.lee@").await.is_empty());
    assert_eq!(
        emails(&app, &token, "kim@example.n").await,
        ["ann.kim@example.net"]
    );
}
