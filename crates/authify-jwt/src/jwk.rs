//! JSON Web Keys (RFC 7517) for EC public keys (RFC 7518 §6.2), and key sets.

use authify_domain::Algorithm;
use serde::{Deserialize, Serialize};

use crate::keys::{KeyError, PublicKey};

/// One JWK. Only EC public keys are produced; foreign members are tolerated when reading.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Jwk {
    /// Key type, `EC` for ours (RFC 7517 §4.1).
    pub kty: String,
    /// Curve (RFC 7518 §6.2.1.1).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub crv: Option<String>,
    /// X coordinate, fixed size, base64url.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub x: Option<String>,
    /// Y coordinate, fixed size, base64url.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub y: Option<String>,
    /// Key id (RFC 7517 §4.5).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kid: Option<String>,
    /// The algorithm the key is for (RFC 7517 §4.4).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub alg: Option<String>,
    /// `sig` for signing keys (RFC 7517 §4.2).
    #[serde(default, rename = "use", skip_serializing_if = "Option::is_none")]
    pub use_: Option<String>,
}

/// A JWK Set (RFC 7517 §5).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct JwkSet {
    /// The keys.
    pub keys: Vec<Jwk>,
}

impl Jwk {
    /// The published form of a signing key: `kty`, `crv`, `x`, `y`, `kid`, `alg`, `use: sig`.
    pub fn from_public_key(key: &PublicKey, kid: &str) -> Self {
        let alg = key.algorithm();
        let (x, y) = key.coordinates();
        Jwk {
            kty: "EC".into(),
            crv: Some(alg.curve().into()),
            x: Some(crate::b64(x)),
            y: Some(crate::b64(y)),
            kid: Some(kid.into()),
            alg: Some(alg.as_str().into()),
            use_: Some("sig".into()),
        }
    }

    /// The public key this JWK describes. The curve decides the algorithm; an `alg` member
    /// that disagrees with it is an error, so a key can never verify under another algorithm.
    pub fn to_public_key(&self) -> Result<PublicKey, KeyError> {
        if self.kty != "EC" {
            return Err(KeyError::InvalidJwk(format!(
                "kty {:?} is not EC",
                self.kty
            )));
        }
        let field = |v: &Option<String>, name: &str| {
            v.clone()
                .ok_or_else(|| KeyError::InvalidJwk(format!("missing {name}")))
        };
        let crv = field(&self.crv, "crv")?;
        let alg = Algorithm::from_curve(&crv)
            .ok_or_else(|| KeyError::InvalidJwk(format!("unsupported curve {crv:?}")))?;
        if let Some(declared) = &self.alg
            && declared != alg.as_str()
        {
            return Err(KeyError::InvalidJwk(format!(
                "alg {declared:?} does not match curve {crv}"
            )));
        }
        if let Some(use_) = &self.use_
            && use_ != "sig"
        {
            return Err(KeyError::InvalidJwk(format!("use {use_:?} is not sig")));
        }
        let decode = |v: String, name: &str| {
            crate::unb64(&v).ok_or_else(|| KeyError::InvalidJwk(format!("{name} is not base64url")))
        };
        let x = decode(field(&self.x, "x")?, "x")?;
        let y = decode(field(&self.y, "y")?, "y")?;
        PublicKey::from_coordinates(alg, &x, &y)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::keys::PrivateKey;

    #[test]
    fn every_published_jwk_reads_back_as_the_same_key() {
        for alg in Algorithm::ALL {
            let key = PrivateKey::generate(alg).unwrap().public_key();
            let jwk = Jwk::from_public_key(&key, "k1");
            let json = serde_json::to_value(&jwk).unwrap();
            assert_eq!(json["use"], "sig");
            assert_eq!(json["alg"], alg.as_str());
            let x = crate::unb64(json["x"].as_str().unwrap()).unwrap();
            assert_eq!(x.len(), alg.coordinate_len(), "x must be fixed-size");
            let back: Jwk = serde_json::from_value(json).unwrap();
            assert_eq!(back.to_public_key().unwrap(), key);
        }
    }

    #[test]
    fn a_jwk_whose_alg_disagrees_with_its_curve_is_refused() {
        let key = PrivateKey::generate(Algorithm::ES256).unwrap().public_key();
        let mut jwk = Jwk::from_public_key(&key, "k1");
        jwk.alg = Some("ES512".into());
        assert!(jwk.to_public_key().is_err());
        jwk.alg = Some("HS256".into());
        assert!(jwk.to_public_key().is_err());
        let mut short = Jwk::from_public_key(&key, "k1");
        short.x = Some(crate::b64([1u8; 31]));
        assert!(short.to_public_key().is_err());
    }
}
