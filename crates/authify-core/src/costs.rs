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

/// Which budget refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Budget {
    /// [`CostLimits::sms_per_number`].
    SmsNumber,
    /// [`CostLimits::sms_per_account`].
    SmsAccount,
    /// [`CostLimits::sms_per_address`].
    SmsAddress,
    /// [`CostLimits::sms_per_country`].
    SmsCountry,
    /// [`CostLimits::sms_per_hour`].
    SmsGlobal,
    /// [`CostLimits::mail_per_recipient`].
    MailRecipient,
    /// [`CostLimits::mail_per_address`].
    MailAddress,
    /// [`CostLimits::mail_per_hour`].
    MailGlobal,
    /// [`CostLimits::invitations_per_admin`].
    Invitations,
    /// [`CostLimits::signups_per_address`].
    SignUps,
    /// [`CostLimits::push_per_user`].
    PushUser,
    /// [`CostLimits::push_per_address`].
    PushAddress,
}

impl Budget {
    /// The metrics label.
    pub fn name(self) -> &'static str {
        match self {
            Budget::SmsNumber => "sms_number",
            Budget::SmsAccount => "sms_account",
            Budget::SmsAddress => "sms_address",
            Budget::SmsCountry => "sms_country",
            Budget::SmsGlobal => "sms_global",
            Budget::MailRecipient => "mail_recipient",
            Budget::MailAddress => "mail_address",
            Budget::MailGlobal => "mail_global",
            Budget::Invitations => "invitations",
            Budget::SignUps => "signups",
            Budget::PushUser => "push_user",
            Budget::PushAddress => "push_address",
        }
    }

    /// What the person is told (a sentence without the wait, which the page adds).
    pub fn sentence(self) -> &'static str {
        match self {
            Budget::SmsNumber | Budget::SmsAccount => {
                "Too many text messages were sent to this phone or account recently."
            }
            Budget::SmsAddress | Budget::SmsCountry | Budget::SmsGlobal => {
                "Authify is not sending more text messages for now."
            }
            Budget::MailRecipient => "Too many e-mails were sent to this address recently.",
            Budget::MailAddress | Budget::MailGlobal => {
                "Authify is not sending more e-mails for now."
            }
            Budget::Invitations => "Too many invitations were sent recently.",
            Budget::SignUps => "Too many accounts were created from this network recently.",
            Budget::PushUser | Budget::PushAddress => {
                "Too many approval requests were sent recently."
            }
        }
    }

    /// A ceiling for the whole deployment: hitting it is an operator's alert.
    pub fn is_global(self) -> bool {
        matches!(self, Budget::SmsGlobal | Budget::MailGlobal)
    }
}

/// A notice or action that was not let through.
#[derive(Debug, thiserror::Error)]
pub enum CostError {
    /// A budget is spent; wait this long.
    #[error("{} Try again in {} minutes.", .budget.sentence(), minutes(*.wait))]
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

fn minutes(wait: Duration) -> u64 {
    wait.as_secs().div_ceil(60).max(1)
}

/// What a notice or action is charged to. Build with the constructors, add who caused it.
#[derive(Debug, Clone, Default)]
pub struct Charge {
    buckets: Vec<(Budget, String)>,
    sms_to: Option<String>,
}

impl Charge {
    /// An SMS to the E.164 number `to`, for `account`.
    pub fn sms(to: &str, account: i64) -> Self {
        let mut c = Charge {
            sms_to: Some(to.to_owned()),
            ..Charge::default()
        };
        c.add(Budget::SmsNumber, to);
        c.add(Budget::SmsAccount, &account.to_string());
        c.add(Budget::SmsCountry, country_code(to));
        c.add(Budget::SmsGlobal, "all");
        c
    }

    /// A mail to `to` (any kind: they share the recipient's budget).
    pub fn mail(to: &str) -> Self {
        let mut c = Charge::default();
        c.add(Budget::MailRecipient, &to.trim().to_lowercase());
        c.add(Budget::MailGlobal, "all");
        c
    }

    /// A mail to an account's owner about a change to their own account (a factor added, a
    /// password changed): only the global ceiling. Its own actions cause it, and an abuser who
    /// filled the recipient's budget with requests must not silence it.
    pub fn owner_notice() -> Self {
        let mut c = Charge::default();
        c.add(Budget::MailGlobal, "all");
        c
    }

    /// A push approval prompt to the account of `email` (the address typed, known or not).
    pub fn push(email: &str) -> Self {
        let mut c = Charge::default();
        c.add(Budget::PushUser, &email.trim().to_lowercase());
        c
    }

    /// A new account by sign-up (with its verification mail, when `mail_to` is given).
    pub fn sign_up(mail_to: Option<&str>) -> Self {
        mail_to.map(Charge::mail).unwrap_or_default()
    }

    /// An invitation mailed to `to` by the administrator `admin` (a user id or an API key id).
    pub fn invitation(to: &str, admin: &str) -> Self {
        let mut c = Charge::mail(to);
        c.add(Budget::Invitations, admin);
        c
    }

    /// Also charged to the client address `ip` (none known: not counted), in the budget that
    /// fits what is charged.
    pub fn from_address(mut self, ip: Option<&str>) -> Self {
        let Some(ip) = ip else { return self };
        let kinds: Vec<Budget> = self.buckets.iter().map(|(b, _)| *b).collect();
        if kinds.contains(&Budget::SmsGlobal) {
            self.add(Budget::SmsAddress, ip);
        }
        if kinds.contains(&Budget::MailGlobal) && !kinds.contains(&Budget::Invitations) {
            self.add(Budget::MailAddress, ip);
        }
        if kinds.contains(&Budget::PushUser) {
            self.add(Budget::PushAddress, ip);
        }
        self
    }

    /// Also a sign-up from `ip` (its own budget, apart from password checks).
    pub fn signing_up_from(mut self, ip: Option<&str>) -> Self {
        if let Some(ip) = ip {
            self.add(Budget::SignUps, ip);
        }
        self
    }

    fn add(&mut self, budget: Budget, key: &str) {
        // Keys are bounded: an address is at most 254 characters.
        self.buckets
            .push((budget, key.chars().take(254).collect::<String>()));
    }
}

/// The country calling code of an E.164 number (`+44…` → `+44`). Codes are prefix-free: `+1` and
/// `+7` have one digit, the two-digit ones are listed, all others have three (ITU-T E.164).
pub fn country_code(number: &str) -> &str {
    let digits = number.strip_prefix('+').unwrap_or(number);
    const TWO: [&str; 43] = [
        "20", "27", "30", "31", "32", "33", "34", "36", "39", "40", "41", "43", "44", "45", "46",
        "47", "48", "49", "51", "52", "53", "54", "55", "56", "57", "58", "60", "61", "62", "63",
        "64", "65", "66", "81", "82", "84", "86", "90", "91", "92", "93", "94", "95",
    ];
    let len = if digits.starts_with('1') || digits.starts_with('7') {
        1
    } else if digits.len() >= 2 && (TWO.contains(&&digits[..2]) || &digits[..2] == "98") {
        2
    } else {
        3
    };
    let end = (len + number.len() - digits.len()).min(number.len());
    number.get(..end).unwrap_or(number)
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

    /// The limits in force.
    pub fn limits(&self) -> &CostLimits {
        &self.limits
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
                    (budget, name, 3_600_000 / i64::from(per_hour))
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
        for (budget, key, interval) in cells {
            let burst = 3_600_000 / interval;
            let (allowed, tat) =
                instances::spend_attempt(conn, key, now_ms, *interval, burst * interval)?;
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
    fn country_codes_are_read_by_the_e164_prefix_rule() {
        assert_eq!(country_code("+14155550100"), "+1");
        assert_eq!(country_code("+79161234567"), "+7");
        assert_eq!(country_code("+447700900123"), "+44");
        assert_eq!(country_code("+981234567"), "+98");
        assert_eq!(country_code("+3531234567"), "+353");
        assert_eq!(country_code("+88112345678"), "+881");
        assert_eq!(country_code("+2"), "+2");
    }

    #[test]
    fn refused_ranges_are_refused_before_any_budget() {
        let costs = Costs::none();
        assert!(matches!(
            costs.check_number("+88112345678"),
            Err(CostError::RefusedNumber(p)) if p == "+881"
        ));
        assert!(costs.check_number("+447700900123").is_ok());
    }

    #[test]
    fn a_charge_from_an_address_counts_in_the_budget_of_its_kind() {
        let sms = Charge::sms("+447700900123", 7).from_address(Some("198.51.100.7"));
        assert!(
            sms.buckets
                .contains(&(Budget::SmsAddress, "198.51.100.7".into()))
        );
        assert!(!sms.buckets.iter().any(|(b, _)| *b == Budget::MailAddress));
        let invite = Charge::invitation("a@example.com", "user:3").from_address(Some("1.2.3.4"));
        assert!(
            !invite
                .buckets
                .iter()
                .any(|(b, _)| *b == Budget::MailAddress)
        );
        assert!(
            invite
                .buckets
                .contains(&(Budget::Invitations, "user:3".into()))
        );
    }
}
