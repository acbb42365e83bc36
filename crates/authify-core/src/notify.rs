//! What Authify tells people and devices outside the request: SMS codes, mails and push wake-ups.
//! Use cases queue a [`Notice`]; the server's delivery task sends it (webhooks, SMTP or `.eml`
//! files) and records the webhooks' health. Queueing never blocks a request; a full queue drops
//! the notice with a warning (the user asks for a new code).

use tokio::sync::mpsc;

/// Something to deliver. `Debug` leaves out the content: it carries one-time codes.
#[derive(Clone)]
pub enum Notice {
    /// A text message through the SMS webhook.
    Sms {
        /// E.164 number.
        to: String,
        /// The text.
        message: String,
    },
    /// A mail, written by its template `web/templates/mail/<template>.hbs` (subject and text;
    /// the HTML part is that text in the mail layout) from `values`.
    Mail {
        /// Address.
        to: String,
        /// Template name (`verify`, `password_reset`, ...).
        template: &'static str,
        /// What the template reads.
        values: serde_json::Value,
    },
    /// A new approval request, for the push webhook (wakes the approver's phone).
    Push {
        /// The JSON body.
        body: serde_json::Value,
    },
}

impl std::fmt::Debug for Notice {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Notice::Sms { .. } => "Notice::Sms(..)",
            Notice::Mail { .. } => "Notice::Mail(..)",
            Notice::Push { .. } => "Notice::Push(..)",
        })
    }
}

/// Queue of notices. Cheap to clone. Without a receiver (command line, unit tests) notices are
/// dropped.
#[derive(Debug, Clone, Default)]
pub struct Notifier {
    tx: Option<mpsc::Sender<Notice>>,
}

/// Notices waiting at most; beyond that new ones are dropped.
pub const QUEUE: usize = 1024;

impl Notifier {
    /// A notifier and the receiving end the delivery task reads.
    pub fn channel() -> (Self, mpsc::Receiver<Notice>) {
        let (tx, rx) = mpsc::channel(QUEUE);
        (Notifier { tx: Some(tx) }, rx)
    }

    /// A notifier that delivers nothing.
    pub fn none() -> Self {
        Notifier { tx: None }
    }

    /// Queues `notice`; never waits. Only [`crate::costs::Paid::send`] calls it: every notice
    /// passes the operator's budgets first.
    pub(crate) fn send(&self, notice: Notice) {
        match &self.tx {
            Some(tx) => {
                if tx.try_send(notice).is_err() {
                    tracing::warn!("notice queue full or closed: a notice was dropped");
                }
            }
            None => tracing::debug!(?notice, "no delivery configured: notice dropped"),
        }
    }
}

/// Records a webhook delivery (`push` or `sms`): success resets its failure count.
pub async fn note_delivery(
    db: &crate::Db,
    name: &'static str,
    error: Option<String>,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<(), authify_store::StoreError> {
    let when = crate::db_time(now);
    db.run(move |conn| authify_store::webhooks::note_webhook(conn, name, error.as_deref(), when))
        .await
}

/// Consecutive failures after which a webhook shows as failing in the console.
pub const FAILING_AFTER: i32 = 3;

/// Webhooks failing [`FAILING_AFTER`] times or more in a row, with their last error.
pub async fn failing_webhooks(
    db: &crate::Db,
) -> Result<Vec<authify_store::models::WebhookHealth>, authify_store::StoreError> {
    db.run(|conn| {
        Ok(authify_store::webhooks::list_webhooks(conn)?
            .into_iter()
            .filter(|w| w.failures >= FAILING_AFTER)
            .collect())
    })
    .await
}
