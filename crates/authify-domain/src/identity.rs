//! What people type: e-mail addresses, passwords, display names, organization and group names.
//! Each is parsed once at the edge into a type that is valid by construction.

use std::fmt;

use secrecy::{ExposeSecret as _, SecretString};

/// Why an input was refused; the message is shown to the person who typed it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InputError {
    /// Not an e-mail address.
    #[error("enter a valid e-mail address, like name@example.com")]
    Email,
    /// Password too short or too long.
    #[error("the password must be {min} to {max} characters long")]
    PasswordLength {
        /// Minimum length.
        min: usize,
        /// Maximum length.
        max: usize,
    },
    /// Empty, too long, or with control characters.
    #[error("{what} must be 1 to {max} characters, without control characters")]
    Name {
        /// Which field.
        what: &'static str,
        /// Maximum length.
        max: usize,
    },
}

/// A normalized e-mail address: trimmed and lower-cased, so `Ann@Example.com` and
/// `ann@example.com` are one account.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Email(String);

impl Email {
    /// Parses and normalizes.
    pub fn parse(raw: &str) -> Result<Self, InputError> {
        let email = raw.trim().to_lowercase();
        let (local, domain) = email.split_once('@').ok_or(InputError::Email)?;
        let ok = email.len() <= 254
            && !local.is_empty()
            && local.len() <= 64
            && !domain.is_empty()
            && !domain.contains('@')
            && domain.contains('.')
            && !domain.starts_with('.')
            && !domain.ends_with('.')
            && !domain.contains("..")
            && !email
                .chars()
                .any(|c| c.is_whitespace() || c.is_control() || "<>()[]\\,;:\"".contains(c));
        if !ok {
            return Err(InputError::Email);
        }
        Ok(Email(email))
    }

    /// The normalized address.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Email {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A new password, checked for length (NIST SP 800-63B: at least 8, long passphrases allowed).
/// `Debug` never shows it.
pub struct Password(SecretString);

impl Password {
    /// Minimum length in characters.
    pub const MIN: usize = 8;
    /// Maximum length in characters (bounds hashing input).
    pub const MAX: usize = 1024;

    /// Checks a password chosen at sign-up.
    pub fn new(raw: &str) -> Result<Self, InputError> {
        let n = raw.chars().count();
        if !(Self::MIN..=Self::MAX).contains(&n) {
            return Err(InputError::PasswordLength {
                min: Self::MIN,
                max: Self::MAX,
            });
        }
        Ok(Password(SecretString::from(raw.to_owned())))
    }

    /// A password typed at sign-in: never rejected for length here (that would tell an attacker
    /// about the policy per account); only capped so hashing stays bounded.
    pub fn attempt(raw: &str) -> Self {
        let capped: String = raw.chars().take(Self::MAX).collect();
        Password(SecretString::from(capped))
    }

    /// The secret, for hashing only.
    pub fn expose(&self) -> &str {
        self.0.expose_secret()
    }
}

// SECURITY: passwords never reach logs through Debug.
impl fmt::Debug for Password {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Password(..)")
    }
}

/// A display, organization or group name: trimmed, 1 to `MAX` characters, no control characters.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Name(String);

impl Name {
    /// Longest name.
    pub const MAX: usize = 200;

    /// Parses `raw` as the field `what` ("the name", "the organization name", ...).
    pub fn parse(raw: &str, what: &'static str) -> Result<Self, InputError> {
        let name = raw.trim();
        let n = name.chars().count();
        if n == 0 || n > Self::MAX || name.chars().any(char::is_control) {
            return Err(InputError::Name {
                what,
                max: Self::MAX,
            });
        }
        Ok(Name(name.to_owned()))
    }

    /// The name.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emails_are_normalized_and_malformed_ones_refused() {
        assert_eq!(
            Email::parse("  Ann.Lee@Example.COM ").unwrap().as_str(),
            "ann.lee@example.com"
        );
        for bad in [
            "",
            "ann",
            "@example.com",
            "ann@",
            "ann@example",
            "a b@example.com",
            "ann@@example.com",
            "ann@example..com",
            "ann@.example.com",
            "<ann>@example.com",
            "ann@exa mple.com",
        ] {
            assert!(Email::parse(bad).is_err(), "{bad:?}");
        }
        assert!(Email::parse(&format!("{}@example.com", "a".repeat(65))).is_err());
    }

    #[test]
    fn passwords_need_eight_characters_and_never_show_in_debug() {
        assert!(Password::new("short").is_err());
        assert!(Password::new("long enough").is_ok());
        assert!(Password::new(&"x".repeat(Password::MAX + 1)).is_err());
        let p = Password::new("correct horse").unwrap();
        assert_eq!(format!("{p:?}"), "Password(..)");
        assert_eq!(
            Password::attempt(&"y".repeat(5000)).expose().len(),
            Password::MAX
        );
    }

    #[test]
    fn names_are_trimmed_and_bounded() {
        assert_eq!(
            Name::parse("  Acme  ", "the name").unwrap().as_str(),
            "Acme"
        );
        assert!(Name::parse("   ", "the name").is_err());
        assert!(Name::parse("a\u{0}b", "the name").is_err());
        assert!(Name::parse(&"n".repeat(201), "the name").is_err());
    }
}

#[cfg(test)]
mod props {
    //! Properties of the parsers above: they never panic, parsing what they return gives it
    //! back, control characters and overlong input are refused, lengths count what the messages
    //! say. Case counts: proptest's default (256), or `PROPTEST_CASES` (`tests/props/long-run.sh`).

    use proptest::prelude::*;
    use proptest::sample::Index;

    use super::*;

    /// Any characters, control characters included.
    fn any_text(max: usize) -> impl Strategy<Value = String> {
        prop::collection::vec(any::<char>(), 0..max).prop_map(String::from_iter)
    }

    /// Characters where lower-casing, trimming or counting are easy to get wrong.
    const TRICKY: &[char] = &[
        'A', 'z', '.', '@', '-', '+', ' ', '\t', '\n', '\0', '\u{7f}', '\u{85}', '\u{a0}',
        '\u{3000}', 'İ', 'Σ', 'ß', 'ẞ', 'ﬀ', 'É', '日', '😀', '<', '"', '\\', ',',
    ];

    fn tricky_text(max: usize) -> impl Strategy<Value = String> {
        prop::collection::vec(
            prop_oneof![3 => prop::sample::select(TRICKY), 1 => any::<char>()],
            0..max,
        )
        .prop_map(String::from_iter)
    }

    /// Whitespace that `trim` removes, ASCII or not.
    fn padding() -> impl Strategy<Value = String> {
        prop::collection::vec(
            prop::sample::select(vec![" ", "\t", "\r\n", "\u{a0}", "\u{3000}", "\u{85}"]),
            0..3,
        )
        .prop_map(|v| v.concat())
    }

    /// A well-formed address in ASCII, in mixed case.
    fn ascii_email() -> impl Strategy<Value = String> {
        (
            "[a-zA-Z0-9._%+-]{1,20}",
            prop::collection::vec("[a-zA-Z0-9]([a-zA-Z0-9-]{0,8}[a-zA-Z0-9])?", 2..4),
        )
            .prop_map(|(local, labels)| format!("{local}@{}", labels.join(".")))
    }

    /// The position of a character boundary of `s`, ends included.
    fn boundary(s: &str, at: Index) -> usize {
        let all: Vec<usize> = s.char_indices().map(|(i, _)| i).chain([s.len()]).collect();
        all[at.index(all.len())]
    }

    /// `char::is_control`: the C0 and C1 controls and DEL.
    fn control() -> impl Strategy<Value = char> {
        prop_oneof![
            prop::char::range('\0', '\u{1f}'),
            prop::char::range('\u{7f}', '\u{9f}'),
        ]
    }

    /// Whether `c` inserted at `i` into `s` lands in whitespace that `trim` removes.
    fn trimmed_away(s: &str, i: usize, c: char) -> bool {
        c.is_whitespace() && (s[..i].trim().is_empty() || s[i..].trim().is_empty())
    }

    proptest! {
        #[test]
        fn email_parsing_never_panics_and_parsing_its_result_gives_it_back(
            raw in prop_oneof![any_text(40), tricky_text(40), ascii_email(),
                (padding(), tricky_text(12), tricky_text(12), padding())
                    .prop_map(|(a, l, d, b)| format!("{a}{l}@{d}.com{b}"))],
        ) {
            let Ok(email) = Email::parse(&raw) else { return Ok(()) };
            let s = email.as_str();
            prop_assert_eq!(s, raw.trim().to_lowercase());
            prop_assert_eq!(Email::parse(s), Ok(email.clone()));
            let (local, domain) = s.split_once('@').unwrap_or_default();
            prop_assert!(s.len() <= 254 && (1..=64).contains(&local.len()), "{}", s);
            prop_assert!(!domain.contains('@') && domain.contains('.'), "{}", s);
            prop_assert!(!domain.starts_with('.') && !domain.ends_with('.') && !domain.contains(".."), "{}", s);
            prop_assert!(!s.chars().any(|c| c.is_whitespace() || c.is_control()), "{}", s);
        }

        #[test]
        fn ascii_case_and_surrounding_whitespace_never_make_a_second_account(
            email in ascii_email(),
            flips in prop::collection::vec(any::<bool>(), 1..16),
            before in padding(),
            after in padding(),
        ) {
            let respelled: String = email
                .chars()
                .zip(flips.iter().cycle())
                .map(|(c, &up)| if up { c.to_ascii_uppercase() } else { c.to_ascii_lowercase() })
                .collect();
            let canonical = Email::parse(&email);
            prop_assert!(canonical.is_ok(), "{}", email);
            prop_assert_eq!(Email::parse(&format!("{before}{respelled}{after}")), canonical);
        }

        #[test]
        fn a_control_or_forbidden_character_in_an_email_is_refused(
            email in ascii_email(),
            at in any::<Index>(),
            c in prop_oneof![
                control(),
                prop::sample::select("<>()[]\\,;:\" \u{a0}\u{2028}\u{3000}".chars().collect::<Vec<_>>()),
            ],
        ) {
            let mut raw = email.clone();
            let i = boundary(&raw, at);
            raw.insert(i, c);
            // Whitespace at either end is trimmed, as around the address itself.
            prop_assert_eq!(Email::parse(&raw).is_ok(), trimmed_away(&email, i, c), "{:?}", raw);
        }

        #[test]
        fn email_length_limits_are_exact(
            local_len in prop_oneof![1..=70usize, 62..=67usize],
            total in prop_oneof![8..=300usize, 250..=258usize],
            local_char in prop::sample::select(vec!['a', 'Z', '.', '+']),
        ) {
            let domain_len = total.saturating_sub(local_len + 1).max(5);
            let local = local_char.to_string().repeat(local_len);
            let domain = format!("{}.com", "d".repeat(domain_len - 4));
            let raw = format!("{local}@{domain}");
            let fits = local_len <= 64 && raw.len() <= 254;
            prop_assert_eq!(Email::parse(&raw).is_ok(), fits, "{} + {}", local_len, domain_len);
        }

        #[test]
        fn name_parsing_never_panics_and_accepts_exactly_trimmed_short_text_without_controls(
            raw in prop_oneof![
                any_text(40),
                tricky_text(40),
                (padding(), tricky_text(8), padding()).prop_map(|(a, n, b)| format!("{a}{n}{b}")),
                // Around the limit, in characters of one to four bytes.
                (prop::sample::select(vec!['n', 'é', '日', '😀']), 195..=205usize)
                    .prop_map(|(c, n)| c.to_string().repeat(n)),
            ],
        ) {
            let trimmed = raw.trim();
            let chars = trimmed.chars().count();
            let valid = (1..=Name::MAX).contains(&chars) && !trimmed.chars().any(char::is_control);
            match Name::parse(&raw, "the name") {
                Ok(name) => {
                    prop_assert!(valid, "{:?}", raw);
                    prop_assert_eq!(name.as_str(), trimmed);
                    prop_assert_eq!(Name::parse(name.as_str(), "the name"), Ok(name.clone()));
                }
                Err(e) => {
                    prop_assert!(!valid, "{:?}", raw);
                    prop_assert_eq!(e, InputError::Name { what: "the name", max: Name::MAX });
                }
            }
        }

        #[test]
        fn a_control_character_inside_a_name_is_refused(
            name in "[a-zA-Zé日 ]{0,10}[a-zA-Zé日]",
            at in any::<Index>(),
            c in control(),
        ) {
            let mut raw = name.clone();
            let i = boundary(&raw, at);
            raw.insert(i, c);
            let ok = trimmed_away(&name, i, c);
            prop_assert_eq!(Name::parse(&raw, "the name").is_ok(), ok, "{:?}", raw);
        }

        #[test]
        fn password_length_counts_characters_and_the_password_never_shows_in_debug(
            c in prop::sample::select(vec!['p', 'é', '日', '😀', '\0']),
            n in prop_oneof![0..=12usize, 1020..=1030usize],
        ) {
            let raw = c.to_string().repeat(n);
            let new = Password::new(&raw);
            prop_assert_eq!(new.is_ok(), (Password::MIN..=Password::MAX).contains(&n));
            let attempt = Password::attempt(&raw);
            prop_assert_eq!(attempt.expose().chars().count(), n.min(Password::MAX));
            prop_assert!(raw.starts_with(attempt.expose()));
            prop_assert_eq!(format!("{attempt:?}"), "Password(..)");
        }
    }
}
