//! Second factors behind one interface. Each is a module here implementing [`SecondFactor`]:
//! what its page asks ([`Prompt`], rendered by its template partial under
//! `web/templates/factors/`) and how a typed answer is checked; what it offers and its `amr`
//! are its [`Method`]'s. [`of`] finds a method's factor. One entry takes every answer given on
//! the page ([`Authn::factor_answer`]); the web crate parses the form into a [`FactorAnswer`],
//! makes that one call and renders the [`FactorOutcome`], with no branch per method.
//!
//! - [`totp`]: an authenticator app; [`sent`]: codes by SMS or e-mail; [`recovery`]: recovery
//!   codes; [`device`]: approval on a device and passkeys (their ceremonies live in
//!   `second_push` and `passkeys`).

pub(crate) mod device;
pub(crate) mod recovery;
pub(crate) mod sent;
pub(crate) mod totp;

use std::sync::Arc;

use authify_jwt::Keyring;
use authify_store::DbConnection;
use authify_store::models::{Factor, User};
use chrono::{DateTime, Utc};

use super::flow::Flow;
use super::{Authn, AuthnError, Client, Completion, Cookies, FactorStep, StepResult};
use crate::mfa::{Method, MfaConfig};

/// What a typed answer is checked against, inside the step's transaction.
pub(crate) struct CodeCheck<'a> {
    pub conn: &'a mut DbConnection,
    pub mfa: &'a MfaConfig,
    pub flow: &'a Flow,
    pub user: &'a User,
    /// The user's confirmed factor of this method, if any.
    pub factor: Option<&'a Factor>,
    pub code: &'a str,
    pub now: DateTime<Utc>,
}

/// A second factor.
pub(crate) trait SecondFactor: Sync {
    /// What its page asks, given where a code goes and whether one is live.
    fn prompt(&self, destination: Option<&str>, code_sent: bool) -> Prompt;

    /// Whether a typed code is right; spends what it used. A factor not answered by a code
    /// (approval, passkey) says no.
    fn check_code(&self, _check: CodeCheck<'_>) -> Result<bool, AuthnError> {
        Ok(false)
    }
}

/// The factor of `method`.
pub(crate) fn of(method: Method) -> &'static dyn SecondFactor {
    static SMS: sent::Sent = sent::Sent(Method::Sms);
    static EMAIL: sent::Sent = sent::Sent(Method::Email);
    match method {
        Method::Push => &device::Approve,
        Method::Passkey => &device::Passkey,
        Method::Totp => &totp::Totp,
        Method::Sms => &SMS,
        Method::Email => &EMAIL,
        Method::Recovery => &recovery::Recovery,
    }
}

/// What a second factor's page asks of the user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Prompt {
    /// Ask the approver device (a button); the browser then waits on the approval page.
    Approve,
    /// The browser's passkey prompt (a script; without one, another way).
    Passkey,
    /// A code to type from an app or a recovery sheet.
    Code {
        /// The field's label.
        label: &'static str,
        /// The hint under it.
        hint: String,
        /// A recovery code (letters too), not a numeric one-time code.
        recovery: bool,
    },
    /// A code we send by SMS or e-mail: the button to send it, then (once sent) the field and
    /// a button to send a new one.
    Sent {
        /// Where it goes (a masked phone number, or the address).
        to: String,
        /// A code was sent and is live.
        sent: bool,
    },
}

impl Prompt {
    /// The page of `method`, given where a code goes and whether one is live.
    pub fn of(method: Method, destination: Option<&str>, code_sent: bool) -> Prompt {
        of(method).prompt(destination, code_sent)
    }
}

/// An answer given on the second-factor page.
#[derive(Clone)]
pub enum FactorAnswer {
    /// A code (any method that takes one; a recovery code works in every code field).
    Code(String),
    /// Send a code now (SMS, e-mail).
    Send,
    /// Ask the approver device.
    Approve,
}

// SECURITY: the answer may hold a code; it never reaches logs.
impl std::fmt::Debug for FactorAnswer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            FactorAnswer::Code(_) => "Code(..)",
            FactorAnswer::Send => "Send",
            FactorAnswer::Approve => "Approve",
        })
    }
}

/// Where an answer left the sign-in.
#[derive(Debug)]
pub enum FactorOutcome {
    /// Signed in.
    Done(Completion),
    /// The page again (a code was sent).
    Page(FactorStep),
    /// The code was wrong or expired: the page again, with why.
    Wrong(FactorStep, String),
    /// The request is on its way to the device: wait on the approval page.
    Approval,
    /// Too many wrong codes: the attempt is over.
    Ended,
}

impl Authn {
    /// Takes `answer` for `method` on the waiting sign-in of this browser.
    pub async fn factor_answer(
        &self,
        cookies: Cookies,
        method: Method,
        answer: FactorAnswer,
        keys: Arc<Keyring>,
        client: Client,
        now: DateTime<Utc>,
    ) -> Result<FactorOutcome, AuthnError> {
        match answer {
            FactorAnswer::Approve => {
                self.start_push(cookies, client, now).await?;
                Ok(FactorOutcome::Approval)
            }
            FactorAnswer::Send if method.sends_code() => self
                .send_code(cookies, method, &client, now)
                .await
                .map(FactorOutcome::Page),
            FactorAnswer::Send => Err(AuthnError::BadRequest(
                "only codes by text message or e-mail are sent".into(),
            )),
            FactorAnswer::Code(code) => Ok(
                match self
                    .verify_code(cookies, method, code, keys, client, now)
                    .await?
                {
                    StepResult::Done(done) => FactorOutcome::Done(done),
                    StepResult::Wrong(step, why) => FactorOutcome::Wrong(step, why),
                    StepResult::Ended => FactorOutcome::Ended,
                },
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_method_has_its_page() {
        assert_eq!(Prompt::of(Method::Push, None, false), Prompt::Approve);
        assert_eq!(Prompt::of(Method::Passkey, None, false), Prompt::Passkey);
        assert!(matches!(
            Prompt::of(Method::Recovery, None, false),
            Prompt::Code { recovery: true, .. }
        ));
        assert!(matches!(
            Prompt::of(Method::Totp, None, false),
            Prompt::Code {
                recovery: false,
                ..
            }
        ));
        assert_eq!(
            Prompt::of(Method::Sms, Some("+44 •••• 123"), true),
            Prompt::Sent {
                to: "+44 •••• 123".into(),
                sent: true
            }
        );
    }

    #[test]
    fn an_answer_with_a_code_does_not_show_it_in_debug() {
        let shown = format!("{:?}", FactorAnswer::Code("123456".into()));
        assert!(!shown.contains("123456"), "{shown}");
    }
}
