//! One-time codes sent by SMS or e-mail (6 digits, 5 minutes, 5 tries), recovery codes (10,
//! single use), and the two-digit numbers of push approvals. Codes are stored as HMAC-SHA256 under
//! a key derived from the master key, bound to what they were issued for.

use subtle::ConstantTimeEq;

use crate::secrets::MasterKey;

/// How long a sent code lives.
pub const CODE_TTL_SECS: i64 = 300;
/// Wrong tries that spend a sent code.
pub const CODE_TRIES: i32 = 5;
/// How many recovery codes a user gets.
pub const RECOVERY_CODES: usize = 10;
/// How long an approval request waits.
pub const APPROVAL_TTL_SECS: i64 = 120;

/// A uniform random integer in `0..n` (rejection sampling; no modulo bias).
fn below(n: u32) -> Result<u32, getrandom::Error> {
    let zone = u32::MAX - (u32::MAX % n);
    loop {
        let v = u32::from_le_bytes(crate::random::bytes::<4>()?);
        if v < zone {
            return Ok(v % n);
        }
    }
}

/// A new 6-digit code.
pub fn six_digits() -> Result<String, getrandom::Error> {
    Ok(format!("{:06}", below(1_000_000)?))
}

/// Digits only, whitespace and dashes dropped; lower case.
pub fn normalize(code: &str) -> String {
    code.chars()
        .filter(|c| !c.is_whitespace() && *c != '-')
        .flat_map(char::to_lowercase)
        .collect()
}

/// The stored form of `code` issued for `binding` (a flow, factor or user): HMAC-SHA256 under a
/// key derived from the master key.
// SECURITY: a plain hash of a 6-digit code (10^6 values) or a recovery code (about 2^49) could be
// reversed from a stolen database; the keyed MAC cannot without the master key.
pub fn hash(key: &MasterKey, binding: &str, code: &str) -> String {
    let mut data = binding.as_bytes().to_vec();
    data.push(0);
    data.extend_from_slice(normalize(code).as_bytes());
    key.mac(&data)
}

/// Whether `code` matches a stored hash.
// SECURITY: constant-time comparison of the MACs.
pub fn matches(key: &MasterKey, binding: &str, code: &str, stored: &str) -> bool {
    hash(key, binding, code)
        .as_bytes()
        .ct_eq(stored.as_bytes())
        .into()
}

/// Recovery-code alphabet: no 0/o, 1/l/i.
const ALPHABET: &[u8] = b"23456789abcdefghjkmnpqrstuvwxyz";

/// Ten new recovery codes (`xxxxx-xxxxx`, about 49 bits each).
pub fn recovery_codes() -> Result<Vec<String>, getrandom::Error> {
    (0..RECOVERY_CODES)
        .map(|_| {
            let mut s = String::with_capacity(11);
            for i in 0..10 {
                if i == 5 {
                    s.push('-');
                }
                s.push(char::from(ALPHABET[below(ALPHABET.len() as u32)? as usize]));
            }
            Ok(s)
        })
        .collect()
}

/// The binding of a user's recovery codes.
pub fn recovery_binding(user_id: i64) -> String {
    format!("recovery:{user_id}")
}

/// The number the requesting browser shows and the three the approver chooses from (the right
/// one among them), each 10–99.
pub fn approval_numbers() -> Result<(i32, [i32; 3]), getrandom::Error> {
    let mut choices = [0i32; 3];
    let mut n = 0;
    while n < 3 {
        let v = 10 + below(90)? as i32;
        if !choices[..n].contains(&v) {
            choices[n] = v;
            n += 1;
        }
    }
    let right = choices[below(3)? as usize];
    Ok((right, choices))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sent_codes_are_six_digits() {
        for _ in 0..200 {
            let c = six_digits().unwrap();
            assert_eq!(c.len(), 6);
            assert!(c.bytes().all(|b| b.is_ascii_digit()));
        }
    }

    fn key() -> MasterKey {
        MasterKey::from_base64(&MasterKey::generate().unwrap()).unwrap()
    }

    #[test]
    fn a_code_matches_only_its_binding_and_key() {
        let k = key();
        let h = hash(&k, "flow:1", "123456");
        assert!(matches(&k, "flow:1", " 123 456 ", &h));
        assert!(!matches(&k, "flow:2", "123456", &h));
        assert!(!matches(&k, "flow:1", "123457", &h));
        assert!(!matches(&key(), "flow:1", "123456", &h));
    }

    #[test]
    fn recovery_codes_are_ten_distinct_and_typed_loosely() {
        let codes = recovery_codes().unwrap();
        assert_eq!(codes.len(), 10);
        let mut unique = codes.clone();
        unique.sort();
        unique.dedup();
        assert_eq!(unique.len(), 10);
        let k = key();
        let h = hash(&k, "recovery:1", &codes[0]);
        assert!(matches(
            &k,
            "recovery:1",
            &codes[0].to_uppercase().replace('-', " "),
            &h
        ));
    }

    #[test]
    fn approval_numbers_are_two_digit_distinct_and_include_the_right_one() {
        for _ in 0..200 {
            let (right, choices) = approval_numbers().unwrap();
            assert!(choices.contains(&right));
            assert!(choices.iter().all(|c| (10..=99).contains(c)));
            assert!(
                choices[0] != choices[1] && choices[1] != choices[2] && choices[0] != choices[2]
            );
        }
    }
}
