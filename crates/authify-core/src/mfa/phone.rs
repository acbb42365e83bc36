//! Phone numbers for SMS codes, parsed into E.164 (`+` and 8 to 15 digits, no leading zero in
//! the country code). Spaces, dots, dashes and parentheses are dropped; a national number
//! without its `+country` prefix is refused, since Authify cannot guess the country.

/// A phone number in E.164.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Phone(String);

impl Phone {
    /// Parses what a user typed.
    pub fn parse(raw: &str) -> Result<Phone, String> {
        let raw = raw.trim();
        let mut out = String::with_capacity(16);
        for (i, c) in raw.chars().enumerate() {
            match c {
                '+' if i == 0 => out.push('+'),
                '0'..='9' => out.push(c),
                ' ' | '.' | '-' | '(' | ')' => {}
                _ => {
                    return Err(
                        "A phone number has only digits, spaces, dashes and a leading +.".into(),
                    );
                }
            }
        }
        if let Some(rest) = raw.strip_prefix("00") {
            return Self::parse(&format!("+{rest}"));
        }
        let digits = out.trim_start_matches('+');
        if !out.starts_with('+') {
            return Err(
                "Write the number with its country code, for example +44 20 7946 0958.".into(),
            );
        }
        if !(8..=15).contains(&digits.len()) || digits.starts_with('0') {
            return Err(
                "That is not a valid international phone number (E.164: + and 8 to 15 digits)."
                    .into(),
            );
        }
        Ok(Phone(out))
    }

    /// The E.164 form.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The number with all but the last two digits hidden, for pages.
    pub fn masked(e164: &str) -> String {
        let n = e164.chars().count();
        e164.chars()
            .enumerate()
            .map(|(i, c)| if i >= 3 && i + 2 < n { '•' } else { c })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_are_stored_in_e164() {
        assert_eq!(
            Phone::parse("+44 20 7946-0958").unwrap().as_str(),
            "+442079460958"
        );
        assert_eq!(
            Phone::parse("0044 (20) 7946.0958").unwrap().as_str(),
            "+442079460958"
        );
        assert_eq!(
            Phone::parse("+1 415 555 0100").unwrap().as_str(),
            "+14155550100"
        );
    }

    #[test]
    fn national_short_and_lettered_numbers_are_refused() {
        for bad in [
            "020 7946 0958",
            "+12",
            "+0123456789",
            "+44 20 ABC",
            "",
            "+1234567890123456",
            "1+2345678",
        ] {
            assert!(Phone::parse(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn the_masked_form_shows_the_country_and_last_two_digits() {
        assert_eq!(Phone::masked("+442079460958"), "+44••••••••58");
    }
}
