//! Server-side sessions. The browser holds a random 256-bit token; the database holds only its
//! SHA-256, so a read of the sessions table yields no usable cookie. Ending a session deletes the
//! row: logout is real, and "log out everywhere" is one delete. Sessions are created only by the
//! last step of a sign-in ([`crate::authn`]).

use authify_store::models::{Session, User};
use authify_store::{DbConnection, StoreError, oauth, sessions};
use chrono::{DateTime, Utc};
use sha2::{Digest as _, Sha256};

use crate::{Db, db_time};

/// SHA-256 (hex) of a session token: what the database stores.
pub fn token_hash(token: &str) -> String {
    Sha256::digest(token.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// The session's `sid` (OpenID Connect): derived from the stored hash, so it is stable for the
/// session's life, names it in logout tokens, and reveals nothing of the cookie.
pub fn sid_of(token_hash: &str) -> String {
    let digest = Sha256::digest(format!("authify sid v1\0{token_hash}").as_bytes());
    digest[..16].iter().map(|b| format!("{b:02x}")).collect()
}

/// The unexpired session of `token` and its user, unless they were disabled since.
pub fn session_of(
    conn: &mut DbConnection,
    token: &str,
    now: DateTime<Utc>,
) -> Result<Option<(Session, User)>, StoreError> {
    if token.len() != 43 {
        return Ok(None);
    }
    let found = sessions::find_session(conn, &token_hash(token), db_time(now))?;
    Ok(found.filter(|(_, u)| !u.disabled))
}

/// Ends sessions: every application that received a token in one of them and listens for
/// back-channel logout gets a delivery queued (in the same transaction as the delete, so a crash
/// loses neither), then the rows go. Returns how many ended.
pub fn end(
    conn: &mut DbConnection,
    user: &impl crate::person::Who,
    ended: &[Session],
    now: chrono::NaiveDateTime,
) -> Result<usize, StoreError> {
    if ended.is_empty() {
        return Ok(0);
    }
    let ids: Vec<i64> = ended.iter().map(|s| s.id).collect();
    for (session_id, app) in oauth::apps_of_sessions(conn, &ids)? {
        if app.backchannel_logout_uri.is_none() {
            continue;
        }
        if let Some(session) = ended.iter().find(|s| s.id == session_id) {
            let sid = sid_of(&session.token_hash);
            oauth::enqueue_logout(conn, app.id, user.public_id(), &sid, now)?;
        }
    }
    sessions::delete_sessions(conn, &ids)
}

/// Ends the session of `token`, if it exists (expired or not).
pub fn end_by_token(
    conn: &mut DbConnection,
    token: &str,
    now: chrono::NaiveDateTime,
) -> Result<usize, StoreError> {
    let Some(session) = sessions::find_session_by_hash(conn, &token_hash(token))? else {
        return Ok(0);
    };
    let user = authify_store::users::get_user(conn, session.user_id)?;
    end(conn, &user, &[session], now)
}

/// Ends every session of `user` but the one whose hash is `keep`.
pub fn end_all(
    conn: &mut DbConnection,
    user: &impl crate::person::Who,
    keep: Option<&str>,
    now: chrono::NaiveDateTime,
) -> Result<usize, StoreError> {
    let ended: Vec<Session> = sessions::list_user_sessions(conn, user.id())?
        .into_iter()
        .filter(|s| Some(s.token_hash.as_str()) != keep)
        .collect();
    end(conn, user, &ended, now)
}

/// The user of an unexpired session, unless they were disabled since.
pub fn user_of(
    conn: &mut DbConnection,
    token: &str,
    now: DateTime<Utc>,
) -> Result<Option<User>, StoreError> {
    // A token of the wrong shape cannot be ours; skip the query.
    if token.len() != 43 {
        return Ok(None);
    }
    let found = sessions::find_session(conn, &token_hash(token), db_time(now))?;
    Ok(found.map(|(_, user)| user).filter(|u| !u.disabled))
}

/// [`user_of`] on the blocking pool.
pub async fn resolve(db: &Db, token: &str, now: DateTime<Utc>) -> Result<Option<User>, StoreError> {
    let token = token.to_owned();
    db.run(move |conn| user_of(conn, &token, now)).await
}

/// A session as its owner sees it on the account page.
#[derive(Debug, Clone, serde::Serialize)]
pub struct SessionInfo {
    /// The OpenID `sid`; names the session in the revoke form.
    pub sid: String,
    /// The browser that opened it, in short ("Firefox on Linux").
    pub user_agent: Option<String>,
    /// Its address then.
    pub ip: Option<String>,
    /// When it started (`YYYY-MM-DD HH:MM UTC`).
    pub started: String,
    /// Last sign-in to an application through it (same format).
    pub last_seen: Option<String>,
    /// The applications that received a token in it.
    pub apps: Vec<String>,
    /// The session of this request.
    pub current: bool,
}

/// A short name for a browser from its `User-Agent`: "Firefox on Linux", or the first 60
/// characters of what it sent when nothing is recognised.
pub fn device(user_agent: &str) -> String {
    let browser = [
        ("Edg/", "Edge"),
        ("OPR/", "Opera"),
        ("Firefox/", "Firefox"),
        ("Chrome/", "Chrome"),
        ("Safari/", "Safari"),
        ("curl/", "curl"),
    ]
    .into_iter()
    .find(|(marker, _)| user_agent.contains(marker))
    .map(|(_, name)| name);
    let os = [
        ("Windows", "Windows"),
        ("iPhone", "iOS"),
        ("iPad", "iPadOS"),
        ("Android", "Android"),
        ("Mac OS X", "macOS"),
        ("CrOS", "ChromeOS"),
        ("Linux", "Linux"),
    ]
    .into_iter()
    .find(|(marker, _)| user_agent.contains(marker))
    .map(|(_, name)| name);
    match (browser, os) {
        (Some(b), Some(o)) => format!("{b} on {o}"),
        (Some(b), None) => b.to_owned(),
        (None, Some(o)) => format!("A browser on {o}"),
        (None, None) => user_agent.chars().take(60).collect(),
    }
}

/// The live sessions of `user`, newest first, with the apps each signed in to.
pub async fn list_for(
    db: &Db,
    user: &crate::Person,
    current: Option<&str>,
    now: DateTime<Utc>,
) -> Result<Vec<SessionInfo>, StoreError> {
    let current = current.map(token_hash);
    let user_id = user.id;
    let rfc = |t: chrono::NaiveDateTime| t.format("%Y-%m-%d %H:%M UTC").to_string();
    db.run(move |conn| {
        let live: Vec<Session> = sessions::list_user_sessions(conn, user_id)?
            .into_iter()
            .filter(|s| s.expires_at > db_time(now))
            .collect();
        let ids: Vec<i64> = live.iter().map(|s| s.id).collect();
        let apps = oauth::apps_of_sessions(conn, &ids)?;
        Ok(live
            .into_iter()
            .map(|s| SessionInfo {
                sid: sid_of(&s.token_hash),
                current: current.as_deref() == Some(s.token_hash.as_str()),
                user_agent: s.user_agent.as_deref().map(device),
                ip: s.ip.clone(),
                started: rfc(s.created_at),
                last_seen: s.last_seen_at.map(rfc),
                apps: apps
                    .iter()
                    .filter(|(id, _)| *id == s.id)
                    .map(|(_, a)| a.name.clone())
                    .collect(),
            })
            .collect())
    })
    .await
}

/// Ends the session of `user` named by `sid` (or, with `None`, every session: "log out
/// everywhere"); each app it signed in to is told by back-channel. Returns how many ended.
pub async fn revoke_for(
    db: &Db,
    user: &crate::Person,
    sid: Option<String>,
    now: DateTime<Utc>,
) -> Result<usize, StoreError> {
    let user = user.clone();
    db.run(move |conn| {
        authify_store::transaction(conn, |conn| {
            let ended: Vec<Session> = sessions::list_user_sessions(conn, user.id)?
                .into_iter()
                .filter(|s| sid.as_deref().is_none_or(|w| sid_of(&s.token_hash) == w))
                .collect();
            crate::manage::audit::Entry::new("session.revoke", db_time(now))
                .by_user(&user)
                .details(serde_json::json!({ "sid": sid, "count": ended.len() }))
                .record(conn)?;
            end(conn, &user, &ended, db_time(now))
        })
    })
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_user_agent_is_shown_as_browser_and_system() {
        let firefox = "Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0";
        assert_eq!(device(firefox), "Firefox on Linux");
        let chrome = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36";
        assert_eq!(device(chrome), "Chrome on Windows");
        let iphone = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.0 Mobile/15E148 Safari/604.1";
        assert_eq!(device(iphone), "Safari on iOS");
        assert_eq!(device("my-script/1.0"), "my-script/1.0");
    }

    #[test]
    fn a_sid_is_stable_and_reveals_nothing_of_the_hash() {
        let h = token_hash("some-session-token");
        assert_eq!(sid_of(&h), sid_of(&h));
        assert_eq!(sid_of(&h).len(), 32);
        assert!(!h.contains(&sid_of(&h)));
    }
}
