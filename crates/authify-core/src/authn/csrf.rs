//! Form tokens bound to the browser's session or sign-in flow.
//!
//! The token of a form is derived from the secret cookie that ties the browser to us: the
//! session token when signed in, otherwise the flow token. A value a third party plants in a
//! cookie (a sibling subdomain can set cookies for ours over http) no longer passes: the form
//! must carry the derivation of a session or flow the server issued and that is still live.
//! Signing in or out changes the session, so the token changes with it.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use sha2::{Digest as _, Sha256};
use subtle::ConstantTimeEq as _;

/// The form token for the browser holding `binding` (a session or flow token).
// SECURITY: a one-way function of a 256-bit secret with its own label: the token in the page
// reveals nothing usable about the cookie, and cannot be computed without it.
pub fn token_for(binding: &str) -> String {
    let mut h = Sha256::new();
    h.update(b"authify csrf v1\0");
    h.update(binding.as_bytes());
    URL_SAFE_NO_PAD.encode(h.finalize())
}

/// Whether `form_token` is the token of one of the browser's bindings (compared in constant
/// time). No binding, no match. The caller must still check that the binding is live: anyone
/// can compute the token of a value they chose ([`super::Authn::form_allowed`] does both).
pub fn matches(form_token: Option<&str>, bindings: &[Option<&str>]) -> bool {
    matching(form_token, bindings).is_some()
}

/// The index of the binding `form_token` belongs to.
pub(crate) fn matching(form_token: Option<&str>, bindings: &[Option<&str>]) -> Option<usize> {
    let form = form_token.filter(|t| t.len() == 43)?;
    bindings.iter().position(|binding| {
        binding.is_some_and(|b| {
            // SECURITY: constant-time, so the comparison leaks no prefix of the expected token.
            bool::from(token_for(b).as_bytes().ct_eq(form.as_bytes()))
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_token_matches_only_its_own_binding() {
        let t = token_for("session-a");
        assert_eq!(t.len(), 43);
        assert!(matches(Some(&t), &[Some("session-a")]));
        assert!(matches(Some(&t), &[None, Some("session-a")]));
        assert!(!matches(Some(&t), &[Some("session-b")]));
        assert!(!matches(Some(&t), &[None, None]));
        assert!(!matches(None, &[Some("session-a")]));
        assert!(!matches(Some("x"), &[Some("session-a")]));
    }
}
