//! Codes we send, by SMS or e-mail: their page, their message, and their check (5 minutes, 5
//! tries, each code once). Sending is `Authn::send_code` (the resend rule and the budget).

use authify_store::factors as store;

use super::{CodeCheck, Prompt, SecondFactor};
use crate::authn::AuthnError;
use crate::costs::Charge;
use crate::db_time;
use crate::mfa::Method;
use crate::mfa::codes::{self, CODE_TRIES};
use crate::notify::Notice;

/// A code by SMS (`Sent(Method::Sms)`) or by e-mail (`Sent(Method::Email)`).
pub(crate) struct Sent(pub Method);

impl SecondFactor for Sent {
    fn prompt(&self, destination: Option<&str>, code_sent: bool) -> Prompt {
        Prompt::Sent {
            to: destination.unwrap_or_default().to_owned(),
            sent: code_sent,
        }
    }

    fn check_code(&self, c: CodeCheck<'_>) -> Result<bool, AuthnError> {
        let Some(f) = c.factor else {
            return Ok(false);
        };
        let Some(challenge) =
            store::find_challenge(c.conn, Some(c.flow.id), Some(f.id), db_time(c.now))?
        else {
            return Ok(false);
        };
        if codes::matches(
            &c.mfa.master,
            &flow_binding(c.flow.id),
            c.code,
            &challenge.code_hash,
        ) {
            // Spent once: a concurrent request with the same code finds it gone.
            return Ok(store::delete_challenge(c.conn, challenge.id)?);
        }
        if store::count_challenge_try(c.conn, challenge.id)? >= CODE_TRIES {
            store::delete_challenge(c.conn, challenge.id)?;
        }
        Ok(false)
    }
}

impl Sent {
    /// The budgets a code to `to` for `account` counts against.
    pub(crate) fn charge(&self, to: &str, account: i64) -> Charge {
        match self.0 {
            Method::Sms => Charge::sms(to, account),
            _ => Charge::owner_mail(to),
        }
    }

    /// The message carrying `code` to `to`.
    pub(crate) fn notice(&self, to: &str, code: &str) -> Notice {
        let text = format!(
            "Your Authify sign-in code is {code}. It expires in 5 minutes. If you did not try to sign in, change your password."
        );
        match self.0 {
            Method::Sms => Notice::Sms {
                to: to.to_owned(),
                message: text,
            },
            _ => Notice::Mail {
                to: to.to_owned(),
                template: "sign_in_code",
                values: serde_json::json!({ "code": code }),
            },
        }
    }
}

/// What a sent code is bound to: its flow.
pub(crate) fn flow_binding(flow_id: i64) -> String {
    format!("flow:{flow_id}")
}
