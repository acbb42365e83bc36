//! The JWS algorithms Authify signs with (RFC 7518 §3.4): ECDSA on P-256, P-384 and P-521.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// A JWS signing algorithm Authify supports. `none`, HMAC and RSA are deliberately absent:
/// a header naming them can never parse into this type.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Algorithm {
    /// ECDSA using P-256 and SHA-256.
    ES256,
    /// ECDSA using P-384 and SHA-384.
    ES384,
    /// ECDSA using P-521 and SHA-512 (the original Authify's default).
    ES512,
}

/// A string that names no algorithm Authify supports.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unsupported algorithm {0:?}: allowed are ES256, ES384, ES512")]
pub struct UnknownAlgorithm(pub String);

impl Algorithm {
    /// Every supported algorithm, weakest curve first.
    pub const ALL: [Algorithm; 3] = [Algorithm::ES256, Algorithm::ES384, Algorithm::ES512];

    /// The JOSE name (`alg` header value), RFC 7518 §3.1.
    pub fn as_str(self) -> &'static str {
        match self {
            Algorithm::ES256 => "ES256",
            Algorithm::ES384 => "ES384",
            Algorithm::ES512 => "ES512",
        }
    }

    /// The JWK curve name (`crv`), RFC 7518 §6.2.1.1.
    pub fn curve(self) -> &'static str {
        match self {
            Algorithm::ES256 => "P-256",
            Algorithm::ES384 => "P-384",
            Algorithm::ES512 => "P-521",
        }
    }

    /// Octets in one coordinate and in each half of the fixed-size `r || s` signature
    /// (RFC 7518 §3.4, §6.2.1.2): 32, 48 and 66.
    pub fn coordinate_len(self) -> usize {
        match self {
            Algorithm::ES256 => 32,
            Algorithm::ES384 => 48,
            Algorithm::ES512 => 66,
        }
    }

    /// The algorithm whose JWK curve is `crv`.
    pub fn from_curve(crv: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|a| a.curve() == crv)
    }

    /// Lower-case name, used in key ids and file names.
    pub fn slug(self) -> &'static str {
        match self {
            Algorithm::ES256 => "es256",
            Algorithm::ES384 => "es384",
            Algorithm::ES512 => "es512",
        }
    }
}

impl fmt::Display for Algorithm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(self.as_str())
    }
}

impl FromStr for Algorithm {
    type Err = UnknownAlgorithm;

    /// Exact JOSE names only: token headers are case-sensitive (RFC 7515 §4.1.1).
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|a| a.as_str() == s)
            .ok_or_else(|| UnknownAlgorithm(s.to_owned()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_everything_else_is_refused() {
        for alg in Algorithm::ALL {
            assert_eq!(alg.as_str().parse::<Algorithm>(), Ok(alg));
            assert_eq!(Algorithm::from_curve(alg.curve()), Some(alg));
        }
        for bad in [
            "none", "HS256", "RS256", "es256", "ES256 ", "", "EdDSA", "ES521",
        ] {
            assert!(bad.parse::<Algorithm>().is_err(), "{bad} parsed");
        }
    }

    #[test]
    fn serde_uses_the_jose_names() {
        let json = serde_json::to_string(&Algorithm::ES512).unwrap();
        assert_eq!(json, "\"ES512\"");
        assert!(serde_json::from_str::<Algorithm>("\"none\"").is_err());
    }
}

#[cfg(test)]
mod props {
    //! Properties of [`Algorithm`]'s parsers: each name round-trips, and nothing but the three
    //! exact JOSE names parses, through `FromStr` or serde alike. Case counts: proptest's default
    //! (256), or `PROPTEST_CASES` (`tests/props/long-run.sh`).

    use proptest::prelude::*;
    use proptest::sample::Index;

    use super::*;

    /// One edit of a valid name: the strings most likely to be wrongly accepted.
    fn near_miss() -> impl Strategy<Value = String> {
        (
            prop::sample::select(Algorithm::ALL.to_vec()),
            prop::bool::ANY,
            0..5u8,
            any::<Index>(),
            prop_oneof![
                prop::sample::select("ESPRH0123456789 \t\0\u{a0}-_es".chars().collect::<Vec<_>>()),
                any::<char>(),
            ],
        )
            .prop_map(|(alg, use_curve, edit, at, c)| {
                let mut s: Vec<char> = if use_curve { alg.curve() } else { alg.as_str() }
                    .chars()
                    .collect();
                let i = at.index(s.len());
                match edit {
                    0 => s.insert(at.index(s.len() + 1), c),
                    1 => s[i] = c,
                    2 => {
                        s.remove(i);
                    }
                    3 => s[i] = s[i].to_ascii_lowercase(),
                    _ => s.push(c),
                }
                String::from_iter(s)
            })
    }

    fn candidate() -> impl Strategy<Value = String> {
        prop_oneof![
            near_miss(),
            prop::collection::vec(any::<char>(), 0..8).prop_map(String::from_iter),
            "(ES|es|HS|RS|PS|Ed)[0-9]{0,4}",
        ]
    }

    proptest! {
        #[test]
        fn every_algorithm_round_trips_through_its_names(
            alg in prop::sample::select(Algorithm::ALL.to_vec()),
        ) {
            prop_assert_eq!(Algorithm::from_str(alg.as_str()), Ok(alg));
            prop_assert_eq!(alg.to_string(), alg.as_str());
            prop_assert_eq!(Algorithm::from_curve(alg.curve()), Some(alg));
            let json = serde_json::to_string(&alg).map_err(|e| TestCaseError::fail(e.to_string()))?;
            prop_assert_eq!(serde_json::from_str::<Algorithm>(&json).ok(), Some(alg));
            // The slug names files and key ids; it is not a JOSE name.
            prop_assert_eq!(alg.slug(), alg.as_str().to_lowercase());
            prop_assert!(alg.slug().parse::<Algorithm>().is_err());
        }

        #[test]
        fn nothing_but_the_three_exact_names_parses(s in candidate()) {
            let named = Algorithm::ALL.into_iter().find(|a| a.as_str() == s);
            match s.parse::<Algorithm>() {
                Ok(alg) => prop_assert_eq!(Some(alg), named),
                Err(e) => {
                    prop_assert_eq!(named, None);
                    prop_assert_eq!(e, UnknownAlgorithm(s.clone()));
                }
            }
            // A JSON header read through serde is held to the same names.
            let serde = serde_json::from_value::<Algorithm>(serde_json::Value::String(s.clone())).ok();
            prop_assert_eq!(serde, named);
            let by_curve = Algorithm::ALL.into_iter().find(|a| a.curve() == s);
            prop_assert_eq!(Algorithm::from_curve(&s), by_curve);
        }
    }
}
