//! The budgets of what costs the operator (`AUTHIFY_BUDGET_*`, `AUTHIFY_SMS_REFUSED_PREFIXES`)
//! and how long an address may stay unconfirmed (`AUTHIFY_UNVERIFIED_ACCOUNT_DAYS`). Each budget
//! is a whole number per hour; 0 switches it off. Defaults: `authify_core::costs::CostLimits`.

use authify_core::costs::CostLimits;

use super::fields::{invalid, number};
use super::raw::RawSettings;
use super::types::SettingsError;

/// The highest hourly budget accepted: one a millisecond (the buckets count milliseconds).
const MAX: u32 = 3_600_000;

/// The budgets, and the days after which an unconfirmed sign-up is deleted (0: never).
pub(super) fn parse(raw: &RawSettings) -> Result<(CostLimits, u32), SettingsError> {
    let d = CostLimits::default();
    let n = |v: &Option<String>, key: &'static str, default: u32| {
        number(v.clone(), key, default, 0, MAX)
    };
    let limits = CostLimits {
        sms_per_number: n(
            &raw.budget_sms_per_number,
            "budget_sms_per_number",
            d.sms_per_number,
        )?,
        sms_per_account: n(
            &raw.budget_sms_per_account,
            "budget_sms_per_account",
            d.sms_per_account,
        )?,
        sms_per_address: n(
            &raw.budget_sms_per_address,
            "budget_sms_per_address",
            d.sms_per_address,
        )?,
        sms_per_country: n(
            &raw.budget_sms_per_country,
            "budget_sms_per_country",
            d.sms_per_country,
        )?,
        sms_per_hour: n(
            &raw.budget_sms_per_hour,
            "budget_sms_per_hour",
            d.sms_per_hour,
        )?,
        sms_refused_prefixes: match &raw.sms_refused_prefixes {
            None => d.sms_refused_prefixes,
            Some(v) => prefixes(v)?,
        },
        mail_per_recipient: n(
            &raw.budget_mail_per_recipient,
            "budget_mail_per_recipient",
            d.mail_per_recipient,
        )?,
        mail_per_address: n(
            &raw.budget_mail_per_address,
            "budget_mail_per_address",
            d.mail_per_address,
        )?,
        mail_per_hour: n(
            &raw.budget_mail_per_hour,
            "budget_mail_per_hour",
            d.mail_per_hour,
        )?,
        invitations_per_admin: n(
            &raw.budget_invitations_per_admin,
            "budget_invitations_per_admin",
            d.invitations_per_admin,
        )?,
        signups_per_address: n(
            &raw.budget_signups_per_address,
            "budget_signups_per_address",
            d.signups_per_address,
        )?,
        push_per_user: n(
            &raw.budget_push_per_user,
            "budget_push_per_user",
            d.push_per_user,
        )?,
        push_per_address: n(
            &raw.budget_push_per_address,
            "budget_push_per_address",
            d.push_per_address,
        )?,
    };
    let days = number(
        raw.unverified_account_days.clone(),
        "unverified_account_days",
        7,
        0,
        3650,
    )?;
    Ok((limits, days))
}

/// Live flows kept per client address, and new ones per minute.
pub(super) fn flows(raw: &RawSettings) -> Result<(u32, u32), SettingsError> {
    Ok((
        number(
            raw.flows_per_address.clone(),
            "flows_per_address",
            100,
            0,
            1_000_000,
        )?,
        number(
            raw.flows_per_address_per_minute.clone(),
            "flows_per_address_per_minute",
            120,
            0,
            1_000_000,
        )?,
    ))
}

/// Zero bits of the sign-up proof of work, 0 (off) to `authify_core::authn::work::MAX_BITS`.
pub(super) fn work_bits(raw: &RawSettings) -> Result<u8, SettingsError> {
    let max = authify_core::authn::work::MAX_BITS;
    let bits = number(
        raw.signup_work_bits.clone(),
        "signup_work_bits",
        0,
        0,
        u32::from(max),
    )?;
    Ok(u8::try_from(bits).unwrap_or(max))
}

/// `+881, +882 ...`: E.164 prefixes (a plus and 1 to 6 digits), comma or space separated; `none`
/// or an empty value refuses no range.
fn prefixes(v: &str) -> Result<Vec<String>, SettingsError> {
    if v.trim().eq_ignore_ascii_case("none") {
        return Ok(Vec::new());
    }
    v.split([',', ' '])
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .map(|p| {
            let digits = p.strip_prefix('+').unwrap_or_default();
            if (1..=6).contains(&digits.len()) && digits.bytes().all(|b| b.is_ascii_digit()) {
                Ok(p.to_owned())
            } else {
                Err(invalid(
                    "sms_refused_prefixes",
                    p,
                    "E.164 prefixes such as +881, separated by commas, or none",
                ))
            }
        })
        .collect()
}
