//! Where a sign-in flow stands: one typed state, stored as one word in `auth_flows.pending`.
//!
//! Only [`super::advance`] (and the steps that open a flow for a signed-in user: step-up and
//! consent) move a flow from one state to another; a step that finds the flow in a state it does
//! not serve answers "no sign-in is waiting". A stored word that is not one of these is a
//! damaged row: an error, never a guess.

use authify_store::{DbConnection, flows};

use super::AuthnError;

/// Where a flow stands. "Done" is not a state: a finished flow is deleted in the transaction
/// that made its session (or waits in [`FlowState::Consent`] for the user's answer).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FlowState {
    /// Nobody identified yet: waiting for a first factor (password, sign-up, passkey, mailed
    /// link, upstream provider).
    FirstFactor,
    /// The browser went to an upstream provider; the round trip's secrets wait in the flow's
    /// `upstream` column until the provider sends it back (then `FirstFactor` again, and the
    /// answer is a first factor). Another first factor may still be given meanwhile.
    Upstream,
    /// The user is identified and must give a second factor, among the methods they have.
    SecondFactor,
    /// Policy requires a second factor the user does not have: enrol one inside the flow.
    Enrol,
    /// A factor was enrolled; the recovery codes are shown before the sign-in completes.
    RecoveryCodes,
    /// A passwordless sign-in waits for the approval from one of the user's devices.
    Approval,
    /// Signed in; an OpenID request waits for the user's consent.
    Consent,
}

impl FlowState {
    /// Every state.
    pub const ALL: [FlowState; 7] = [
        FlowState::FirstFactor,
        FlowState::Upstream,
        FlowState::SecondFactor,
        FlowState::Enrol,
        FlowState::RecoveryCodes,
        FlowState::Approval,
        FlowState::Consent,
    ];

    /// The stored word. The words are the ones rows written before this type existed carry, so a
    /// flow in progress during an upgrade reads back.
    pub fn as_str(self) -> &'static str {
        match self {
            FlowState::FirstFactor => "",
            FlowState::Upstream => "upstream",
            FlowState::SecondFactor => "mfa",
            FlowState::Enrol => "enrol",
            FlowState::RecoveryCodes => "continue",
            FlowState::Approval => "approve",
            FlowState::Consent => "consent",
        }
    }

    /// Reads the stored word; anything else is a damaged row.
    pub fn parse(stored: &str) -> Result<FlowState, AuthnError> {
        let word = stored.trim();
        FlowState::ALL
            .into_iter()
            .find(|s| s.as_str() == word)
            .ok_or_else(|| AuthnError::Internal(format!("flow state {word:?} is not known")))
    }
}

/// Moves flow `id`, which names nobody yet, to `state` (`FirstFactor` or `Upstream`).
pub(crate) fn set_anonymous_state(
    conn: &mut DbConnection,
    id: i64,
    state: FlowState,
) -> Result<(), AuthnError> {
    authify_store::passkeys::set_waiting(conn, id, None, state.as_str())?;
    Ok(())
}

/// Records that flow `id` identified `user_id`, with the factors `amr` so far, and stands at
/// `state` now.
pub(crate) fn set_state(
    conn: &mut DbConnection,
    id: i64,
    user_id: i64,
    amr: &[String],
    state: FlowState,
) -> Result<(), AuthnError> {
    flows::update_flow_progress(conn, id, user_id, &amr.join(" "), state.as_str())?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_state_reads_back_from_its_stored_word() {
        for s in FlowState::ALL {
            assert_eq!(FlowState::parse(s.as_str()).unwrap(), s);
        }
    }

    #[test]
    fn an_unknown_stored_word_is_an_error_not_a_guess() {
        for word in [
            "mfa enrol",
            "MFA",
            "pending",
            "done",
            "approve?",
            "upstream mfa",
        ] {
            assert!(
                matches!(FlowState::parse(word), Err(AuthnError::Internal(_))),
                "{word}"
            );
        }
    }
}
