//! Budgets for everything that costs the operator: SMS (paid per message, and the target of
//! SMS pumping), mail (our sending domain's reputation), push prompts (a user's attention),
//! sign-ups and invitations (rows, and the mail each one sends). Nothing is queued for delivery
//! without passing here: [`Costs::charge`] spends every budget a notice counts against, in one
//! transaction (all or none), and only then hands back a [`Paid`] that can queue it.
//!
//! Budgets are cell-rate buckets in the database (`throttle_buckets`, the same rows as the
//! sign-in throttle), so every instance sharing the database shares them. Each is "N per hour",
//! allowed as a burst and refilling evenly; 0 switches one off. A refusal says how long to wait
//! (the web layer turns it into 429 with `Retry-After`) and is counted in `/metrics` as
//! `authify_budget_refusals_total{budget}`; a global ceiling also logs an error line.
//! docs/SECURITY.md ("Budgets") lists the defaults and why.

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::Duration;

use authify_store::{StoreError, instances};

use crate::notify::{Notice, Notifier};
use crate::{Clock, Db};

mod charge;
pub use charge::{Budget, Charge, country_code};

/// Hourly budgets and refused number ranges (`AUTHIFY_BUDGET_*`). 0 switches a budget off.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CostLimits {
    /// SMS to one phone number.
    pub sms_per_number: u32,
    /// SMS for one account.
    pub sms_per_account: u32,
    /// SMS asked for from one client address.
    pub sms_per_address: u32,
    /// SMS to one country calling code.
    pub sms_per_country: u32,
    /// SMS in all (the alert ceiling).
    pub sms_per_hour: u32,
    /// E.164 prefixes that never get an SMS (`+881`: satellite, premium ranges).
    pub sms_refused_prefixes: Vec<String>,
    /// Mails to one address, all kinds together.
    pub mail_per_recipient: u32,
    /// Mails caused by one client address.
    pub mail_per_address: u32,
    /// Mails in all (the alert ceiling).
    pub mail_per_hour: u32,
    /// Invitations sent by one administrator.
    pub invitations_per_admin: u32,
    /// Accounts made by sign-up from one client address.
    pub signups_per_address: u32,
    /// Push approval prompts to one user.
    pub push_per_user: u32,
    /// Push approval prompts asked for from one client address.
    pub push_per_address: u32,
}

impl Default for CostLimits {
    fn default() -> Self {
        CostLimits {
            sms_per_number: 5,
            sms_per_account: 10,
            sms_per_address: 10,
            sms_per_country: 200,
            sms_per_hour: 1000,
            sms_refused_prefixes: DEFAULT_REFUSED_PREFIXES
                .iter()
                .map(|p| (*p).to_owned())
                .collect(),
            mail_per_recipient: 10,
            mail_per_address: 30,
            mail_per_hour: 2000,
            invitations_per_admin: 100,
            signups_per_address: 20,
            push_per_user: 10,
            push_per_address: 30,
        }
    }
}

/// Ranges refused by default: satellite and international networks (+870 Inmarsat, +881 GMSS,
/// +882/+883 international networks), shared-cost (+808) and international premium rate (+979):
/// rarely a person's phone, often the destination of SMS pumping (docs/SECURITY.md).
pub const DEFAULT_REFUSED_PREFIXES: [&str; 6] = ["+870", "+881", "+882", "+883", "+808", "+979"];

/// A notice or action that was not let through.
#[derive(Debug, thiserror::Error)]
pub enum CostError {
    /// A budget is spent; wait this long.
    #[error("{} Try again in {}.", .budget.sentence(), in_words(*.wait))]
    OverBudget {
        /// Which one.
        budget: Budget,
        /// Until one more fits.
        wait: Duration,
    },
    /// The number is in a range this Authify never texts.
    #[error(
        "Authify does not send text messages to numbers starting with {0}; use an authenticator app instead."
    )]
    RefusedNumber(String),
    /// The budgets could not be read (the database).
    #[error("{0}")]
    Store(#[from] StoreError),
}

/// A wait as a person reads it: seconds under two minutes, else whole minutes (rounded up).
fn in_words(wait: Duration) -> String {
    let secs = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
    match secs {
        0..=1 => "a second".to_owned(),
        2..=119 => format!("{secs} seconds"),
        _ => format!("{} minutes", secs.div_ceil(60)),
    }
}

/// Budgets spent: the notice may be queued. Only [`Costs::charge`] makes one.
#[must_use = "a paid notice is sent with Paid::send"]
pub struct Paid {
    notifier: Notifier,
}

impl Paid {
    /// Queues `notice` for delivery.
    pub fn send(self, notice: Notice) {
        self.notifier.send(notice);
    }
}

impl std::fmt::Debug for Paid {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Paid")
    }
}

/// The budgets, the database holding them, and the delivery queue behind them. Cheap to clone.
#[derive(Clone)]
pub struct Costs {
    db: Option<Db>,
    clock: Arc<dyn Clock>,
    limits: Arc<CostLimits>,
    notifier: Notifier,
    last_alert_ms: Arc<AtomicI64>,
}

impl std::fmt::Debug for Costs {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Costs")
            .field("limits", &self.limits)
            .finish_non_exhaustive()
    }
}

impl Costs {
    /// Budgets `limits` counted in `db`, in front of `notifier`.
    pub fn new(db: Db, clock: Arc<dyn Clock>, limits: CostLimits, notifier: Notifier) -> Self {
        Costs {
            db: Some(db),
            clock,
            limits: Arc::new(limits),
            notifier,
            last_alert_ms: Arc::new(AtomicI64::new(i64::MIN)),
        }
    }

    /// No budgets and no delivery (unit tests that send nothing).
    pub fn none() -> Self {
        Costs {
            db: None,
            clock: Arc::new(crate::SystemClock),
            limits: Arc::new(CostLimits::default()),
            notifier: Notifier::none(),
            last_alert_ms: Arc::new(AtomicI64::new(i64::MIN)),
        }
    }

    /// Refuses a number in a refused range (before anything is stored for it).
    pub fn check_number(&self, number: &str) -> Result<(), CostError> {
        match self
            .limits
            .sms_refused_prefixes
            .iter()
            .find(|p| number.starts_with(p.as_str()))
        {
            Some(prefix) => {
                crate::metrics::over_budget("sms_refused_prefix");
                Err(CostError::RefusedNumber(prefix.clone()))
            }
            None => Ok(()),
        }
    }

    /// Spends every budget of `charge`, all or none. `Err` names the first spent one.
    pub async fn charge(&self, charge: Charge) -> Result<Paid, CostError> {
        let Some(db) = &self.db else {
            return self.charge_with(None, charge);
        };
        let costs = self.clone();
        db.run(move |conn| costs.charge_with(Some(conn), charge))
            .await
    }

    /// [`Costs::charge`] on a connection the caller holds (inside its transaction).
    pub fn charge_in(
        &self,
        conn: &mut authify_store::DbConnection,
        charge: Charge,
    ) -> Result<Paid, CostError> {
        self.charge_with(Some(conn), charge)
    }

    fn charge_with(
        &self,
        conn: Option<&mut authify_store::DbConnection>,
        charge: Charge,
    ) -> Result<Paid, CostError> {
        if let Some(to) = &charge.sms_to {
            self.check_number(to)?;
        }
        let paid = Paid {
            notifier: self.notifier.clone(),
        };
        let Some(conn) = conn.filter(|_| self.db.is_some()) else {
            return Ok(paid);
        };
        let cells: Vec<(Budget, String, i64)> = charge
            .buckets
            .into_iter()
            .filter_map(|(budget, key)| {
                let per_hour = self.per_hour(budget);
                (per_hour > 0).then(|| {
                    let name = format!("cost:{}:{key}", budget.name());
                    (budget, name, i64::from(per_hour))
                })
            })
            .collect();
        if cells.is_empty() {
            return Ok(paid);
        }
        let now_ms = self.clock.now().timestamp_millis();
        match spend_all(conn, &cells, now_ms)? {
            None => Ok(paid),
            Some((budget, wait)) => {
                crate::metrics::over_budget(budget.name());
                if budget.is_global() {
                    self.alert(budget, now_ms);
                }
                Err(CostError::OverBudget { budget, wait })
            }
        }
    }

    /// Charges `charge` and queues `notice` when every budget allows it.
    pub async fn send(&self, charge: Charge, notice: Notice) -> Result<(), CostError> {
        self.charge(charge).await?.send(notice);
        Ok(())
    }

    /// Queues a mail to an account's owner about their account ([`Charge::owner_notice`]):
    /// the change is made already, so a refusal (the global ceiling) is logged and counted, not
    /// returned.
    pub async fn notify_owner(&self, notice: Notice) {
        if let Err(e) = self.send(Charge::owner_notice(), notice).await {
            tracing::warn!(error = %e, "a notice to an account's owner was not sent");
        }
    }

    /// [`Costs::notify_owner`] inside the caller's transaction.
    pub fn notify_owner_in(&self, conn: &mut authify_store::DbConnection, notice: Notice) {
        match self.charge_in(conn, Charge::owner_notice()) {
            Ok(paid) => paid.send(notice),
            Err(e) => tracing::warn!(error = %e, "a notice to an account's owner was not sent"),
        }
    }

    fn per_hour(&self, budget: Budget) -> u32 {
        let l = &self.limits;
        match budget {
            Budget::SmsNumber => l.sms_per_number,
            Budget::SmsAccount => l.sms_per_account,
            Budget::SmsAddress => l.sms_per_address,
            Budget::SmsCountry => l.sms_per_country,
            Budget::SmsGlobal => l.sms_per_hour,
            Budget::MailRecipient => l.mail_per_recipient,
            Budget::MailAddress => l.mail_per_address,
            Budget::MailGlobal => l.mail_per_hour,
            Budget::Invitations => l.invitations_per_admin,
            Budget::SignUps => l.signups_per_address,
            Budget::PushUser => l.push_per_user,
            Budget::PushAddress => l.push_per_address,
            // Counted per minute by the flows themselves (`authn::flow_rows`), never charged.
            Budget::Flows => 0,
        }
    }

    /// One error line a minute at most while a global ceiling refuses.
    fn alert(&self, budget: Budget, now_ms: i64) {
        let last = self.last_alert_ms.load(Ordering::Relaxed);
        if now_ms.saturating_sub(last) >= 60_000
            && self
                .last_alert_ms
                .compare_exchange(last, now_ms, Ordering::Relaxed, Ordering::Relaxed)
                .is_ok()
        {
            tracing::error!(
                budget = budget.name(),
                per_hour = self.per_hour(budget),
                "the global hourly ceiling was reached: further notices of this kind are refused until it refills (AUTHIFY_BUDGET_*)"
            );
        }
    }
}

/// A refusal inside the transaction: rolls back the budgets spent before it.
enum Spend {
    Refused(Budget, Duration),
    Store(StoreError),
}

impl From<StoreError> for Spend {
    fn from(e: StoreError) -> Self {
        Spend::Store(e)
    }
}

fn spend_all(
    conn: &mut authify_store::DbConnection,
    cells: &[(Budget, String, i64)],
    now_ms: i64,
) -> Result<Option<(Budget, Duration)>, StoreError> {
    let outcome = authify_store::transaction(conn, |conn| {
        for (budget, key, per_hour) in cells {
            // `per_hour` at once, one more every hour / `per_hour` (settings cap it at one a
            // millisecond, so the interval is never 0).
            let burst = (*per_hour).max(1);
            let interval = (3_600_000 / burst).max(1);
            let (allowed, tat) =
                instances::spend_attempt(conn, key, now_ms, interval, burst * interval)?;
            if !allowed {
                let wait = tat - now_ms - (burst - 1) * interval;
                return Err(Spend::Refused(
                    *budget,
                    Duration::from_millis(u64::try_from(wait).unwrap_or(0).max(1)),
                ));
            }
        }
        Ok(())
    });
    match outcome {
        Ok(()) => Ok(None),
        Err(Spend::Refused(budget, wait)) => Ok(Some((budget, wait))),
        Err(Spend::Store(e)) => Err(e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refused_ranges_are_refused_before_any_budget() {
        let costs = Costs::none();
        assert!(matches!(
            costs.check_number("+88112345678"),
            Err(CostError::RefusedNumber(p)) if p == "+881"
        ));
        assert!(costs.check_number("+447700900123").is_ok());
    }
}
