//! The factors answered on a device rather than typed: approval from an approver device
//! (`second_push`) and a passkey (`passkeys`). Here: their pages; their checks live with their
//! ceremonies.

use super::{Prompt, SecondFactor};

/// Approval from a registered device (push, number matching).
pub(crate) struct Approve;

impl SecondFactor for Approve {
    fn prompt(&self, _destination: Option<&str>, _code_sent: bool) -> Prompt {
        Prompt::Approve
    }
}

/// A passkey (WebAuthn, user verification required).
pub(crate) struct Passkey;

impl SecondFactor for Passkey {
    fn prompt(&self, _destination: Option<&str>, _code_sent: bool) -> Prompt {
        Prompt::Passkey
    }
}
