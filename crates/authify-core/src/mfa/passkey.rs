//! Passkeys (WebAuthn, through `webauthn-rs`): the relying party built from the public URL, the
//! ceremony state a sign-in keeps server-side, and the `amr` a passkey gives. The steps that use
//! them are `authn::passkeys` (sign-in) and `authn::passkey_account` (registration).

use std::sync::Arc;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::{Deserialize, Serialize};
use webauthn_rs::prelude::{
    AuthenticationResult, DiscoverableAuthentication, PasskeyAuthentication, Url, Webauthn,
    WebauthnBuilder,
};

/// RFC 8176 `amr` of a hardware-bound key (a security key, a device-bound credential).
pub const AMR_HWK: &str = "hwk";
/// RFC 8176 `amr` when the authenticator verified the user (PIN or biometrics).
pub const AMR_USER: &str = "user";

/// How long a WebAuthn challenge may be answered (the browser's own timeout is 5 minutes).
pub const CEREMONY_TTL_SECS: i64 = 300;

/// The relying party: the WebAuthn id and origin sign-ins are bound to. Cheap to clone.
#[derive(Clone)]
pub struct PasskeyRp {
    webauthn: Arc<Webauthn>,
    rp_id: String,
}

impl std::fmt::Debug for PasskeyRp {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PasskeyRp")
            .field("rp_id", &self.rp_id)
            .finish_non_exhaustive()
    }
}

impl PasskeyRp {
    /// The relying party of `public_url` (its origin), with the id `rp_id` or else the URL's
    /// host. WebAuthn needs a domain name (not an IP address) and a secure context (https, or
    /// http on `localhost`): anything else is an error saying so.
    pub fn new(public_url: &str, rp_id: Option<&str>) -> Result<PasskeyRp, String> {
        let origin = Url::parse(public_url).map_err(|e| format!("public URL: {e}"))?;
        let host = origin
            .host_str()
            .ok_or_else(|| format!("the public URL has no host ({public_url})"))?;
        if host.starts_with('[') || host.parse::<std::net::IpAddr>().is_ok() {
            return Err(format!(
                "passkeys need a domain name, not an IP address, in the public URL ({public_url})"
            ));
        }
        let host = host.to_owned();
        let rp_id = rp_id.map_or(host, str::to_owned);
        let webauthn = WebauthnBuilder::new(&rp_id, &origin)
            .and_then(|b| b.rp_name("Authify").build())
            .map_err(|e| {
                format!("relying party {rp_id} for {origin}: {e} (the id must be the host of the public URL or a parent domain of it)")
            })?;
        Ok(PasskeyRp {
            webauthn: Arc::new(webauthn),
            rp_id,
        })
    }

    /// The WebAuthn relying-party id.
    pub fn rp_id(&self) -> &str {
        &self.rp_id
    }

    pub(crate) fn webauthn(&self) -> &Webauthn {
        &self.webauthn
    }
}

/// The ceremony a sign-in has in progress, stored on its flow (never in a cookie). A challenge
/// is taken when answered: it works once.
#[derive(Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub(crate) enum Ceremony {
    /// "Sign in with a passkey": any discoverable credential of any user.
    PasskeySignIn {
        /// webauthn-rs's state.
        state: DiscoverableAuthentication,
        /// Unix time.
        expires: i64,
    },
    /// A passkey as the second factor: one of the identified user's.
    PasskeyFactor {
        /// webauthn-rs's state.
        state: PasskeyAuthentication,
        /// Unix time.
        expires: i64,
    },
    /// A passwordless request for an address with no approver device (or no account): the
    /// requesting browser sees a number and waits like any other, until it expires.
    Decoy {
        /// The number shown.
        number: i32,
        /// Unix time.
        expires: i64,
    },
}

impl Ceremony {
    pub(crate) fn to_json(&self) -> Result<String, String> {
        serde_json::to_string(self).map_err(|e| format!("ceremony: {e}"))
    }

    pub(crate) fn from_json(s: &str) -> Result<Ceremony, String> {
        serde_json::from_str(s).map_err(|e| format!("ceremony: {e}"))
    }
}

/// The `amr` a passkey assertion gives: `swk` for a credential that may be synced (backup
/// eligible), `hwk` for one bound to its device, then `user` and `mfa` when the authenticator
/// verified the user (something held and something known or been).
pub fn amr_of(result: &AuthenticationResult) -> Vec<String> {
    let key = if result.backup_eligible() {
        super::AMR_SWK
    } else {
        AMR_HWK
    };
    let mut amr = vec![key.to_owned()];
    if result.user_verified() {
        amr.push(AMR_USER.to_owned());
        amr.push(super::AMR_MFA.to_owned());
    }
    amr
}

/// A credential id as stored: base64url without padding.
pub fn credential_id_text(id: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(id)
}

/// Registration options as sent to the browser, asking for a discoverable credential (a
/// passkey that signs in without an e-mail address first). webauthn-rs's passkey registration
/// leaves the resident key to the authenticator; its verification does not depend on it.
pub fn with_resident_key(mut options: serde_json::Value) -> serde_json::Value {
    if let Some(pk) = options.get_mut("publicKey").and_then(|v| v.as_object_mut()) {
        let sel = pk
            .entry("authenticatorSelection")
            .or_insert_with(|| serde_json::json!({}));
        if let Some(sel) = sel.as_object_mut() {
            sel.insert("residentKey".into(), "required".into());
            sel.insert("requireResidentKey".into(), true.into());
            sel.insert("userVerification".into(), "required".into());
        }
    }
    options
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_relying_party_is_the_public_urls_host_unless_set() {
        assert_eq!(
            PasskeyRp::new("https://id.example.com", None)
                .unwrap()
                .rp_id(),
            "id.example.com"
        );
        assert_eq!(
            PasskeyRp::new("https://id.example.com", Some("example.com"))
                .unwrap()
                .rp_id(),
            "example.com"
        );
        assert!(PasskeyRp::new("http://localhost:3000", None).is_ok());
    }

    #[test]
    fn an_ip_address_or_a_foreign_rp_id_is_refused_with_a_reason() {
        let ip = PasskeyRp::new("http://127.0.0.1:3000", None).unwrap_err();
        assert!(ip.contains("IP address"), "{ip}");
        let foreign = PasskeyRp::new("https://id.example.com", Some("other.test")).unwrap_err();
        assert!(foreign.contains("other.test"), "{foreign}");
    }

    #[test]
    fn registration_options_ask_for_a_discoverable_credential() {
        let rp = PasskeyRp::new("https://id.example.com", None).unwrap();
        let (ccr, _) = rp
            .webauthn()
            .start_passkey_registration(
                webauthn_rs::prelude::Uuid::nil(),
                "ann@example.com",
                "Ann",
                None,
            )
            .unwrap();
        let v = with_resident_key(serde_json::to_value(ccr).unwrap());
        let sel = &v["publicKey"]["authenticatorSelection"];
        assert_eq!(sel["residentKey"], "required");
        assert_eq!(sel["requireResidentKey"], true);
        assert_eq!(v["publicKey"]["rp"]["id"], "id.example.com");
    }

    #[test]
    fn a_ceremony_survives_its_json_form() {
        let c = Ceremony::Decoy {
            number: 42,
            expires: 7,
        };
        match Ceremony::from_json(&c.to_json().unwrap()).unwrap() {
            Ceremony::Decoy { number, expires } => assert_eq!((number, expires), (42, 7)),
            _ => panic!("another ceremony"),
        }
        assert!(Ceremony::from_json("{\"kind\":\"nope\"}").is_err());
    }
}
