//! Delivers the notices use cases queue (`authify_core::notify`): SMS through the SMS webhook,
//! push wake-ups through the push webhook, each POSTed (through [`crate::outbound`]) as JSON with `X-Authify-Timestamp: <unix
//! seconds>` and `X-Authify-Signature: sha256=<hex HMAC-SHA256 of "<timestamp>.<body>">` (a
//! receiver refuses old timestamps, so a captured delivery cannot be replayed later); mail over SMTP (`lettre`) or,
//! without SMTP, as `.eml` files (mode 0600) in the mail directory. Webhook outcomes are
//! recorded so the console can show one failing 3 times in a row. One notice at a time, off the
//! request path; a slow gateway delays notices, never sign-ins.

use std::path::PathBuf;
use std::sync::{Arc, Weak};
use std::time::Duration;

use authify_core::notify::Notice;
use authify_web::AppState;
use aws_lc_rs::hmac;
use lettre::message::Mailbox;
use lettre::{Message, SmtpTransport, Transport};
use tokio::sync::mpsc;

use crate::outbound::Outbound;
use crate::settings::{Settings, Webhook};
use authify_web::templates::MailTemplates;

/// Where mail goes.
enum Mail {
    Smtp(Box<SmtpTransport>),
    Files(PathBuf),
}

/// Everything the delivery task needs.
pub struct Delivery {
    /// The server's outbound client (its TLS set-up is made at the first webhook).
    outbound: Arc<Outbound>,
    push: Option<Webhook>,
    sms: Option<Webhook>,
    mail: Mail,
    from: Mailbox,
    /// Each mail's text and the HTML layout (`web/templates/mail/`).
    mails: MailTemplates,
}

impl std::fmt::Debug for Delivery {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Delivery").finish_non_exhaustive()
    }
}

/// The signature header value of `message` (`<timestamp>.<body>`) under `secret`.
pub fn signature(secret: &str, message: &[u8]) -> String {
    let key = hmac::Key::new(hmac::HMAC_SHA256, secret.as_bytes());
    let tag = hmac::sign(&key, message);
    let hex: String = tag.as_ref().iter().map(|b| format!("{b:02x}")).collect();
    format!("sha256={hex}")
}

impl Delivery {
    /// From the settings, webhooks sent through `outbound`; fails on an SMTP URL lettre cannot
    /// use or a bad From.
    pub fn new(settings: &Settings, outbound: Arc<Outbound>) -> Result<Self, String> {
        let mail = match &settings.smtp_url {
            Some(url) => Mail::Smtp(Box::new(
                SmtpTransport::from_url(&url.0)
                    .map_err(|e| format!("AUTHIFY_SMTP_URL: {e}"))?
                    .timeout(Some(Duration::from_secs(10)))
                    .build(),
            )),
            None => Mail::Files(settings.mail_dir.clone()),
        };
        let from = settings
            .mail_from
            .parse::<Mailbox>()
            .map_err(|e| format!("AUTHIFY_MAIL_FROM: {e}"))?;
        Ok(Delivery {
            outbound,
            push: settings.push_webhook.clone(),
            sms: settings.sms_webhook.clone(),
            mail,
            from,
            mails: MailTemplates::new().map_err(|e| format!("mail templates: {e}"))?,
        })
    }

    async fn post(&self, hook: &Webhook, body: &serde_json::Value, now: i64) -> Result<(), String> {
        let body = serde_json::to_vec(body).map_err(|e| e.to_string())?;
        let mut signed = format!("{now}.").into_bytes();
        signed.extend_from_slice(&body);
        let res = self
            .outbound
            .send(reqwest::Method::POST, &hook.url, |request| {
                request
                    .header("content-type", "application/json")
                    .header("x-authify-timestamp", now.to_string())
                    .header("x-authify-signature", signature(&hook.secret.0, &signed))
                    .body(body)
            })
            .await
            .map_err(|e| e.to_string())?;
        if res.status().is_success() {
            Ok(())
        } else {
            Err(format!("HTTP {}", res.status().as_u16()))
        }
    }

    /// Sends a mail: its text, and when `html` is given the same in HTML as an alternative.
    async fn mail(
        &self,
        to: &str,
        subject: &str,
        text: &str,
        html: Option<String>,
    ) -> Result<(), String> {
        let to = to.parse::<Mailbox>().map_err(|e| e.to_string())?;
        let builder = Message::builder()
            .from(self.from.clone())
            .to(to)
            .subject(subject);
        let message = match html {
            Some(html) => builder.multipart(lettre::message::MultiPart::alternative_plain_html(
                text.to_owned(),
                html,
            )),
            None => builder.body(text.to_owned()),
        }
        .map_err(|e| e.to_string())?;
        match &self.mail {
            Mail::Smtp(transport) => {
                let transport = transport.clone();
                tokio::task::spawn_blocking(move || transport.send(&message).map(|_| ()))
                    .await
                    .map_err(|e| e.to_string())?
                    .map_err(|e| e.to_string())
            }
            Mail::Files(dir) => write_eml(dir, &message.formatted()),
        }
    }
}

/// One piece of a mail paragraph: text, a link, or a line break.
#[derive(serde::Serialize)]
struct Piece<'a> {
    text: &'a str,
    href: Option<&'a str>,
    br: bool,
}

/// The HTML part of a mail: its text in the app's look (`web/templates/mail/layout.hbs`),
/// paragraphs kept, `http(s)://` words made links. Every piece is escaped by the template.
pub fn mail_html(templates: &MailTemplates, subject: &str, text: &str) -> Result<String, String> {
    let paragraphs: Vec<Vec<Piece<'_>>> = text
        .split("\n\n")
        .filter(|p| !p.trim().is_empty())
        .map(|p| {
            let mut pieces = Vec::new();
            for (i, line) in p.trim().lines().enumerate() {
                if i > 0 {
                    pieces.push(Piece {
                        text: "",
                        href: None,
                        br: true,
                    });
                }
                for (j, word) in line.split(' ').enumerate() {
                    let sep = if j > 0 { " " } else { "" };
                    if !sep.is_empty() {
                        pieces.push(Piece {
                            text: sep,
                            href: None,
                            br: false,
                        });
                    }
                    let link = word.starts_with("https://") || word.starts_with("http://");
                    pieces.push(Piece {
                        text: word,
                        href: link.then_some(word),
                        br: false,
                    });
                }
            }
            pieces
        })
        .collect();
    templates.render_html(&serde_json::json!({ "subject": subject, "paragraphs": paragraphs }))
}

/// Writes a mail as `<random>.eml`, readable by the owner only (it holds codes).
fn write_eml(dir: &std::path::Path, bytes: &[u8]) -> Result<(), String> {
    use std::io::Write as _;
    std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    // A random name: no clock here, and the file's own time says when it was written.
    let name = format!(
        "{}.eml",
        authify_core::random::token::<12>().map_err(|e| e.to_string())?
    );
    let path = dir.join(name);
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options
        .open(&path)
        .map_err(|e| format!("{}: {e}", path.display()))?;
    file.write_all(bytes)
        .map_err(|e| format!("{}: {e}", path.display()))
}

/// Delivers notices until every sender is gone (the server stopped, or a command finished).
pub async fn run(
    mut rx: mpsc::Receiver<Notice>,
    delivery: Delivery,
    state: Weak<AppState>,
    clock: std::sync::Arc<dyn authify_core::Clock>,
) {
    while let Some(notice) = rx.recv().await {
        let now = clock.now().timestamp();
        let (name, result) = match &notice {
            Notice::Sms { to, message } => match &delivery.sms {
                Some(hook) => (
                    Some("sms"),
                    delivery
                        .post(
                            hook,
                            &serde_json::json!({ "to": to, "message": message }),
                            now,
                        )
                        .await,
                ),
                None => (None, Err("no SMS gateway configured".to_owned())),
            },
            Notice::Push { body } => match &delivery.push {
                Some(hook) => (Some("push"), delivery.post(hook, body, now).await),
                None => continue,
            },
            Notice::Mail {
                to,
                template,
                values,
            } => {
                let result = match delivery.mails.render_mail(template, values) {
                    Ok(mail) => {
                        let html = mail_html(&delivery.mails, &mail.subject, &mail.text)
                            .map_err(
                                |e| tracing::warn!(error = %e, "mail HTML part: sent as text only"),
                            )
                            .ok();
                        delivery.mail(to, &mail.subject, &mail.text, html).await
                    }
                    Err(e) => Err(format!("mail template {template}: {e}")),
                };
                (None, result)
            }
        };
        if let Err(e) = &result {
            // SECURITY: the notice itself (a code) is never logged, only where it failed.
            tracing::warn!(kind = ?notice, error = %e, "delivery failed");
        }
        if let (Some(name), Some(state)) = (name, state.upgrade()) {
            let now = state.now();
            if let Err(e) =
                authify_core::notify::note_delivery(state.db(), name, result.err(), now).await
            {
                tracing::warn!(error = %e, "could not record a webhook's health");
            }
        }
    }
}

/// Every second: POSTs the due back-channel logout tokens (OpenID Back-Channel Logout 1.0 §2.5)
/// through `outbound` and records each outcome; failures are retried with backoff by the outbox,
/// across restarts.
pub async fn backchannel_logout(state: std::sync::Weak<AppState>, outbound: Arc<Outbound>) {
    let mut every_second = tokio::time::interval(std::time::Duration::from_secs(1));
    loop {
        every_second.tick().await;
        let Some(state) = state.upgrade() else {
            return;
        };
        let provider = state.provider();
        let due = match provider
            .due_logouts(state.keys().keyring.clone(), 20, state.now())
            .await
        {
            Ok(d) => d,
            Err(e) => {
                tracing::warn!(error = %e, "reading the back-channel logout outbox failed");
                continue;
            }
        };
        if due.is_empty() {
            continue;
        }
        for delivery in due {
            let token = [("logout_token", delivery.logout_token.as_str())];
            let sent = outbound
                .send(reqwest::Method::POST, &delivery.uri, |r| r.form(&token))
                .await;
            let outcome = match sent {
                Ok(r) if r.status().is_success() => Ok(()),
                Ok(r) => Err(format!("HTTP {}", r.status().as_u16())),
                Err(e @ crate::outbound::OutboundError::Refused { .. }) => Err(e.to_string()),
                Err(e) => Err(format!("unreachable: {e}")),
            };
            if let Err(e) = &outcome {
                tracing::info!(uri = %delivery.uri, attempts = delivery.attempts + 1, error = %e, "back-channel logout failed; will retry");
            }
            if let Err(e) = provider
                .logout_outcome(&delivery, outcome, state.now())
                .await
            {
                tracing::warn!(error = %e, "recording a back-channel logout outcome failed");
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_signature_is_the_rfc_4231_hmac_sha256_in_hex() {
        // RFC 4231 test case 2.
        assert_eq!(
            signature("Jefe", b"what do ya want for nothing?"),
            "sha256=5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
    }
}
