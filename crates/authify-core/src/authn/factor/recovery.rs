//! Recovery codes: their page, their shape (the code field of every method takes one), and their
//! check (each code once).

use authify_store::factors as store;

use super::{CodeCheck, Prompt, SecondFactor};
use crate::authn::AuthnError;
use crate::db_time;
use crate::mfa::codes;

/// The recovery-code factor.
pub(crate) struct Recovery;

impl SecondFactor for Recovery {
    fn prompt(&self, _destination: Option<&str>, _code_sent: bool) -> Prompt {
        Prompt::Code {
            label: "Recovery code",
            hint:
                "One of the codes you saved when you set up two-step verification. Each works once."
                    .to_owned(),
            recovery: true,
        }
    }

    fn check_code(&self, c: CodeCheck<'_>) -> Result<bool, AuthnError> {
        let hash = codes::hash(&c.mfa.master, &codes::recovery_binding(c.user.id), c.code);
        Ok(store::use_recovery_code(
            c.conn,
            c.user.id,
            &hash,
            db_time(c.now),
        )?)
    }
}

/// Whether `code` has the shape of a recovery code (ten characters of its alphabet, letters
/// among them), not of a six-digit code.
pub(crate) fn looks_like_recovery(code: &str) -> bool {
    let c = codes::normalize(code);
    c.len() == 10 && c.bytes().any(|b| b.is_ascii_alphabetic())
}
