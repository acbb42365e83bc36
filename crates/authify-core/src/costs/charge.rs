//! What a notice or action is charged to: the budgets ([`Budget`]) and their keys, and the
//! country calling code an SMS is counted under.

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
    /// New sign-in flows per client a minute (`AUTHIFY_FLOWS_PER_ADDRESS_PER_MINUTE`, counted by
    /// the flow itself, not through a [`Charge`]).
    Flows,
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
            Budget::Flows => "flows",
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
            Budget::Flows => "Too many sign-in pages were opened from this network recently.",
        }
    }

    /// A ceiling for the whole deployment: hitting it is an operator's alert.
    pub fn is_global(self) -> bool {
        matches!(self, Budget::SmsGlobal | Budget::MailGlobal)
    }
}

/// What a notice or action is charged to. Build with the constructors, add who caused it.
#[derive(Debug, Clone, Default)]
pub struct Charge {
    pub(super) buckets: Vec<(Budget, String)>,
    pub(super) sms_to: Option<String>,
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

    /// A mail to `to` that anyone may ask for (a reset or sign-in link, a sign-up's link, an
    /// invitation): every kind shares the recipient's budget.
    pub fn mail(to: &str) -> Self {
        let mut c = Charge::default();
        c.add(Budget::MailRecipient, &to.trim().to_lowercase());
        c.add(Budget::MailGlobal, "all");
        c
    }

    /// A mail to `to` asked for by its owner, after a password or signed in (an e-mail code,
    /// a new verification link): the recipient's budget, in a bucket of its own, so requests
    /// anyone can make cannot use it up and lock the owner out.
    pub fn owner_mail(to: &str) -> Self {
        let mut c = Charge::default();
        c.add(
            Budget::MailRecipient,
            &format!("owner:{}", to.trim().to_lowercase()),
        );
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
        // SECURITY: an IPv6 client counts as its /64, or rotating addresses in it escapes.
        let Some(ip) = ip.map(crate::limits::client_key) else {
            return self;
        };
        let ip = ip.as_str();
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
            self.add(Budget::SignUps, &crate::limits::client_key(ip));
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
    } else if digits
        .get(..2)
        .is_some_and(|two| TWO.contains(&two) || two == "98")
    {
        2
    } else {
        3
    };
    let end = (len + number.len() - digits.len()).min(number.len());
    number.get(..end).unwrap_or(number)
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
