//! Second factors as the sign-in page sees them: what each method's page asks of the user
//! ([`Prompt::of`]), and one entry for every answer given there
//! ([`Authn::factor_answer`]). The web crate parses the form into a [`FactorAnswer`], makes this
//! one call and renders the [`FactorOutcome`]; it has no branch per method.

use std::sync::Arc;

use authify_jwt::Keyring;
use chrono::{DateTime, Utc};

use super::{Authn, AuthnError, Client, Completion, Cookies, FactorStep, StepResult};
use crate::mfa::Method;

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
        match method {
            Method::Push => Prompt::Approve,
            Method::Passkey => Prompt::Passkey,
            Method::Totp => Prompt::Code {
                label: "Code from your authenticator app",
                hint: "6 digits. A code works once.".to_owned(),
                recovery: false,
            },
            Method::Recovery => Prompt::Code {
                label: "Recovery code",
                hint: "One of the codes you saved when you set up two-step verification. Each works once."
                    .to_owned(),
                recovery: true,
            },
            Method::Sms | Method::Email => Prompt::Sent {
                to: destination.unwrap_or_default().to_owned(),
                sent: code_sent,
            },
        }
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
                .send_code(cookies, method, now)
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
