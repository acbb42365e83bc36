//! Settings: defaults, layering, strictness, and the documentation staying true.

use super::*;
use serde::Deserialize;

fn env(pairs: &[(&str, &str)]) -> HashMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

/// Loads with an empty settings file, so a developer's ./authify.toml never leaks in.
fn load(pairs: &[(&str, &str)]) -> Result<Settings, SettingsError> {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("authify.toml");
    std::fs::write(&file, "").unwrap();
    let mut vars = env(pairs);
    vars.insert(CONFIG_FILE_ENV.into(), file.to_str().unwrap().into());
    Settings::load(&vars)
}

#[test]
fn defaults_match_the_original_authify() {
    let s = load(&[]).unwrap();
    assert_eq!(s.jwt_algorithm, Algorithm::ES512);
    assert_eq!(s.jwt_expiration, 15);
    assert_eq!(s.bind.to_string(), "127.0.0.1:3000");
    assert_eq!(s.public_url, "http://localhost:3000");
    assert_eq!(s.jwt_issuer, "http://localhost:3000");
    assert_eq!(
        s.keys,
        KeySource::Database {
            import: "./keys".into()
        }
    );
    assert!(s.workers >= 1);
    assert_eq!(s.db_url, "sqlite://./data/authify.db");
    assert!(s.signup);
    assert_eq!(
        s.argon2,
        authify_core::HashParams {
            memory_kib: 19_456,
            iterations: 2,
            parallelism: 1
        }
    );
}

#[test]
fn the_original_environment_names_are_honoured() {
    let s = load(&[
        ("AUTHIFY_JWT_ALGORITHM", "ES256"),
        ("AUTHIFY_JWT_ISSUER", "My Awesome Company Inc."),
        ("AUTHIFY_JWT_EXPIRATION", "60"),
        ("AUTHIFY_PUBLIC_URL", "https://id.example.com/"),
        ("AUTHIFY_KEYS_DIR", "/var/lib/authify/keys"),
        ("AUTHIFY_BIND", "0.0.0.0:8080"),
    ])
    .unwrap();
    assert_eq!(s.jwt_algorithm, Algorithm::ES256);
    assert_eq!(s.jwt_issuer, "My Awesome Company Inc.");
    assert_eq!(s.jwt_expiration, 60);
    assert_eq!(s.public_url, "https://id.example.com");
    assert_eq!(s.keys_dir(), Some(Path::new("/var/lib/authify/keys")));
    assert_eq!(s.bind.port(), 8080);
}

#[test]
fn invalid_values_name_the_setting_the_value_and_what_is_allowed() {
    let cases = [
        ("AUTHIFY_JWT_ALGORITHM", "HS256", "ES256, ES384, ES512"),
        ("AUTHIFY_JWT_ALGORITHM", "none", "ES256, ES384, ES512"),
        ("AUTHIFY_JWT_EXPIRATION", "0", "1 to 1440"),
        ("AUTHIFY_JWT_EXPIRATION", "fifteen", "1 to 1440"),
        ("AUTHIFY_BIND", "localhost", "IP address and port"),
        ("AUTHIFY_PUBLIC_URL", "ftp://example.com", "http or https"),
        (
            "AUTHIFY_PUBLIC_URL",
            "https://user@example.com",
            "http or https",
        ),
        ("AUTHIFY_WORKERS", "0", "1 to 1024"),
        (
            "AUTHIFY_PUBKEY_PATH",
            "/tmp/pub.pem",
            "AUTHIFY_PRIVKEY_PATH",
        ),
    ];
    for (var, value, allowed) in cases {
        let err = load(&[(var, value)]).unwrap_err().to_string();
        assert!(err.contains(var), "{err}");
        assert!(err.contains(value), "{err}");
        assert!(err.contains(allowed), "{err}");
        assert!(!err.contains('\n'), "one line: {err}");
    }
}

#[test]
fn an_unknown_authify_variable_is_refused() {
    let err = load(&[("AUTHIFY_JWT_ALGORITM", "ES256")])
        .unwrap_err()
        .to_string();
    assert!(err.contains("jwt_algoritm"), "{err}");
}

#[test]
fn the_file_is_read_and_the_environment_wins() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("authify.toml");
    std::fs::write(
        &file,
        "jwt_algorithm = \"ES384\"\njwt_expiration = 30\njwt_issuer = \"from-file\"\n",
    )
    .unwrap();
    let s = Settings::load(&env(&[
        (CONFIG_FILE_ENV, file.to_str().unwrap()),
        ("AUTHIFY_JWT_ISSUER", "from-env"),
    ]))
    .unwrap();
    assert_eq!(s.jwt_algorithm, Algorithm::ES384);
    assert_eq!(s.jwt_expiration, 30);
    assert_eq!(s.jwt_issuer, "from-env");

    std::fs::write(&file, "jwt_algorithm = \"ES384\"\nsurprise = 1\n").unwrap();
    let err = Settings::load(&env(&[(CONFIG_FILE_ENV, file.to_str().unwrap())])).unwrap_err();
    assert!(err.to_string().contains("surprise"), "{err}");
}

#[test]
fn a_named_settings_file_that_is_missing_is_an_error() {
    let err =
        Settings::load(&env(&[(CONFIG_FILE_ENV, "/nonexistent/dir/authify.toml")])).unwrap_err();
    assert!(err.to_string().contains("authify.toml"), "{err}");
}

#[test]
fn the_compatibility_key_paths_replace_the_directory() {
    let s = load(&[
        ("AUTHIFY_PRIVKEY_PATH", "/k/private.pem"),
        ("AUTHIFY_PUBKEY_PATH", "/k/public.pem"),
    ])
    .unwrap();
    assert_eq!(
        s.keys,
        KeySource::Files {
            private: "/k/private.pem".into(),
            public: Some("/k/public.pem".into())
        }
    );
}

/// Records the field names serde asks for, so the test below sees every field of RawSettings.
struct FieldNames(Vec<&'static str>);

impl<'de> serde::Deserializer<'de> for &mut FieldNames {
    type Error = serde::de::value::Error;
    fn deserialize_any<V: serde::de::Visitor<'de>>(self, _: V) -> Result<V::Value, Self::Error> {
        Err(serde::de::Error::custom("only structs"))
    }
    fn deserialize_struct<V: serde::de::Visitor<'de>>(
        self,
        _: &'static str,
        fields: &'static [&'static str],
        _: V,
    ) -> Result<V::Value, Self::Error> {
        self.0.extend_from_slice(fields);
        Err(serde::de::Error::custom("recorded"))
    }
    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes byte_buf option unit
        unit_struct newtype_struct seq tuple tuple_struct map enum identifier ignored_any
    }
}

#[test]
fn every_setting_is_documented_in_configuration_md_with_its_default() {
    let mut names = FieldNames(Vec::new());
    let _ = RawSettings::deserialize(&mut names);
    // `[[upstream]]` is a table of the file, documented in its own section.
    let mut fields: Vec<&str> = names
        .0
        .iter()
        .copied()
        .filter(|f| *f != "upstream")
        .collect();
    let mut documented: Vec<&str> = SETTINGS.iter().map(|s| s.key).collect();
    fields.sort_unstable();
    documented.sort_unstable();
    assert_eq!(fields, documented, "RawSettings and SETTINGS differ");

    let doc = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../docs/CONFIGURATION.md"
    ))
    .unwrap();
    let rows: Vec<Vec<String>> = doc
        .lines()
        .filter(|l| l.starts_with("| `AUTHIFY_"))
        .map(|l| {
            l.split('|')
                .map(|c| c.trim().trim_matches('`').to_string())
                .filter(|c| !c.is_empty())
                .collect()
        })
        .collect();
    let mut expected: Vec<(String, String, String)> = SETTINGS
        .iter()
        .map(|s| (s.env.to_string(), s.key.to_string(), s.default.to_string()))
        .collect();
    expected.push((
        CONFIG_FILE_ENV.into(),
        "-".into(),
        DEFAULT_CONFIG_FILE.into(),
    ));
    let mut found: Vec<(String, String, String)> = rows
        .iter()
        .map(|r| (r[0].clone(), r[1].clone(), r[2].clone()))
        .collect();
    expected.sort();
    found.sort();
    assert_eq!(
        found, expected,
        "docs/CONFIGURATION.md drifted from SETTINGS"
    );
}

#[test]
fn database_url_is_read_when_authify_db_url_is_unset_and_signup_can_be_disabled() {
    let s = load(&[
        ("DATABASE_URL", "postgres://u:p@db/authify"),
        ("AUTHIFY_SIGNUP", "false"),
    ])
    .unwrap();
    assert_eq!(s.db_url, "postgres://u:p@db/authify");
    assert!(!s.signup);
    let s = load(&[
        ("DATABASE_URL", "postgres://u:p@db/a"),
        ("AUTHIFY_DB_URL", "sqlite://x.db"),
    ])
    .unwrap();
    assert_eq!(s.db_url, "sqlite://x.db");
}

#[test]
fn an_smtp_login_needs_tls_and_a_webhook_needs_a_long_enough_secret() {
    assert!(load(&[("AUTHIFY_SMTP_URL", "smtp://u:p@mail.example:587")]).is_err());
    assert!(
        load(&[(
            "AUTHIFY_SMTP_URL",
            "smtp://u:p@mail.example:587?tls=required"
        )])
        .is_ok()
    );
    assert!(load(&[("AUTHIFY_SMTP_URL", "smtps://u:p@mail.example")]).is_ok());
    assert!(load(&[("AUTHIFY_SMTP_URL", "smtp://relay.internal:25")]).is_ok());
    let e = load(&[("AUTHIFY_SMS_WEBHOOK_URL", "https://gw.example/sms?key=abc")])
        .unwrap_err()
        .to_string();
    assert!(!e.contains("key=abc"), "the URL may hold credentials: {e}");
    assert!(
        load(&[
            ("AUTHIFY_SMS_WEBHOOK_URL", "https://gw.example/sms"),
            ("AUTHIFY_SMS_WEBHOOK_SECRET", "short"),
        ])
        .is_err()
    );
    let s = load(&[
        ("AUTHIFY_SMS_WEBHOOK_URL", "https://gw.example/sms"),
        ("AUTHIFY_SMS_WEBHOOK_SECRET", "long-enough-secret-123"),
        (
            "AUTHIFY_MASTER_KEY",
            "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=",
        ),
    ])
    .unwrap();
    let shown = format!("{s:?}");
    assert!(
        !shown.contains("long-enough-secret") && !shown.contains("AAECAwQF"),
        "{shown}"
    );
}

#[test]
fn email_verification_is_optional_by_default_and_refuses_other_words() {
    use authify_core::account::verify::EmailVerification;
    let mode = |v: &str| load(&[("AUTHIFY_EMAIL_VERIFICATION", v)]);
    assert_eq!(
        load(&[]).unwrap().email_verification,
        EmailVerification::Optional
    );
    assert_eq!(
        mode(" Required ").unwrap().email_verification,
        EmailVerification::Required
    );
    assert_eq!(
        mode("off").unwrap().email_verification,
        EmailVerification::Off
    );
    let err = mode("always").unwrap_err().to_string();
    assert!(
        err.contains("AUTHIFY_EMAIL_VERIFICATION") && err.contains("off, optional or required"),
        "{err}"
    );
}

#[test]
fn keys_rotate_monthly_a_day_pre_published_and_are_re_read_every_minute_by_default() {
    let s = load(&[]).unwrap();
    assert_eq!(
        (
            s.key_rotation_days,
            s.key_prepublish_hours,
            s.key_refresh_seconds
        ),
        (30, 24, 60)
    );
    let s = load(&[("AUTHIFY_KEY_ROTATION_DAYS", "0")]).unwrap();
    assert_eq!(s.key_rotation_days, 0, "0 turns automatic rotation off");
    for (var, bad) in [
        ("AUTHIFY_KEY_REFRESH_SECONDS", "0"),
        ("AUTHIFY_KEY_PREPUBLISH_HOURS", "721"),
        ("AUTHIFY_KEY_ROTATION_DAYS", "soon"),
    ] {
        let err = load(&[(var, bad)]).unwrap_err().to_string();
        assert!(err.contains(var), "{var}={bad}: {err}");
    }
}

#[test]
fn outbound_requests_are_https_to_public_hosts_unless_the_settings_allow_more() {
    let s = load(&[]).unwrap();
    assert_eq!(s.outbound, authify_domain::OutboundPolicy::default());
    let s = load(&[
        ("AUTHIFY_OUTBOUND_ALLOW", "10.20.0.0/16, ::1"),
        ("AUTHIFY_OUTBOUND_HTTP", "on"),
    ])
    .unwrap();
    assert!(s.outbound.allow_http);
    assert_eq!(
        s.outbound.allow,
        vec![
            "10.20.0.0/16".parse::<ipnet::IpNet>().unwrap(),
            "::1/128".parse().unwrap()
        ]
    );
    let e = load(&[("AUTHIFY_OUTBOUND_ALLOW", "10.0.0.0/8, intranet")])
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("AUTHIFY_OUTBOUND_ALLOW") && e.contains("intranet"),
        "{e}"
    );
}

#[test]
fn a_webhook_or_provider_url_pointing_inside_stops_start_up_naming_the_setting() {
    let hook = |url: &str, extra: &[(&'static str, &'static str)]| {
        let mut vars = vec![
            ("AUTHIFY_SMS_WEBHOOK_URL", url.to_owned()),
            (
                "AUTHIFY_SMS_WEBHOOK_SECRET",
                "long-enough-secret-123".to_owned(),
            ),
        ];
        vars.extend(extra.iter().map(|(k, v)| (*k, v.to_string())));
        let refs: Vec<(&str, &str)> = vars.iter().map(|(k, v)| (*k, v.as_str())).collect();
        load(&refs).map(|_| ()).map_err(|e| e.to_string())
    };
    let e = hook("https://127.0.0.1:9000/sms?key=abc", &[]).unwrap_err();
    assert!(
        e.contains("AUTHIFY_SMS_WEBHOOK_URL")
            && e.contains("points at a loopback address")
            && e.contains("AUTHIFY_OUTBOUND_ALLOW")
            && !e.contains("key=abc"),
        "{e}"
    );
    let e = hook("http://gw.example/sms", &[]).unwrap_err();
    assert!(
        e.contains("https is required") && e.contains("AUTHIFY_OUTBOUND_HTTP"),
        "{e}"
    );
    assert!(hook("http://gw.example/sms", &[("AUTHIFY_OUTBOUND_HTTP", "on")]).is_ok());
    assert!(
        hook(
            "https://127.0.0.1:9000/sms",
            &[("AUTHIFY_OUTBOUND_ALLOW", "127.0.0.0/8")]
        )
        .is_ok()
    );
    let e = load(&[
        ("AUTHIFY_GITHUB_KEY", "id"),
        ("AUTHIFY_GITHUB_SECRET", "secret"),
        ("AUTHIFY_GITHUB_URL", "https://169.254.169.254"),
    ])
    .unwrap_err()
    .to_string();
    assert!(
        e.contains("AUTHIFY_GITHUB_URL") && e.contains("metadata"),
        "{e}"
    );
}
