//! A code from an authenticator app (RFC 6238): its page, and its check (each time step once).

use authify_store::factors as store;

use super::{CodeCheck, Prompt, SecondFactor};
use crate::authn::AuthnError;
use crate::mfa::totp::TotpSecret;

/// The authenticator-app factor.
pub(crate) struct Totp;

impl SecondFactor for Totp {
    fn prompt(&self, _destination: Option<&str>, _code_sent: bool) -> Prompt {
        Prompt::Code {
            label: "Code from your authenticator app",
            hint: "6 digits. A code works once.".to_owned(),
            recovery: false,
        }
    }

    fn check_code(&self, c: CodeCheck<'_>) -> Result<bool, AuthnError> {
        let Some(f) = c.factor else {
            return Ok(false);
        };
        let sealed = f.secret.as_deref().unwrap_or_default();
        let secret = TotpSecret::open(&c.mfa.master, sealed, c.user.id)
            .map_err(|e| AuthnError::Internal(e.to_string()))?;
        // SECURITY: a time step is accepted once per user (RFC 6238 §5.2): a replayed code, even
        // within its 30 seconds, is refused.
        Ok(match secret.check(c.code, c.now.timestamp()) {
            Some(step) => store::advance_step(c.conn, f.id, step)?,
            None => false,
        })
    }
}
