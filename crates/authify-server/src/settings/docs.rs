//! Every setting with its variable, file key, default and meaning: the source of
//! `docs/CONFIGURATION.md` (a test keeps the two equal) and of the error messages.

/// One documented setting. `docs/CONFIGURATION.md` must list exactly these (a test checks).
#[derive(Debug, Clone, Copy)]
pub struct SettingDoc {
    /// Key in `authify.toml`.
    pub key: &'static str,
    /// Environment variable.
    pub env: &'static str,
    /// Default, as documented.
    pub default: &'static str,
    /// What it does.
    pub description: &'static str,
}

/// Every setting, in documentation order.
pub const SETTINGS: &[SettingDoc] = &[
    SettingDoc {
        key: "public_url",
        env: "AUTHIFY_PUBLIC_URL",
        default: "http://localhost:3000",
        description: "Base URL users and apps reach Authify at (http or https, no path query or fragment); also the OpenID Connect issuer.",
    },
    SettingDoc {
        key: "bind",
        env: "AUTHIFY_BIND",
        default: "127.0.0.1:3000",
        description: "Address and port to listen on.",
    },
    SettingDoc {
        key: "metrics_bind",
        env: "AUTHIFY_METRICS_BIND",
        default: "(unset: no metrics)",
        description: "Address and port of a separate listener serving `GET /metrics` (Prometheus text format); `/metrics` is never served on AUTHIFY_BIND. Keep it on a private network.",
    },
    SettingDoc {
        key: "workers",
        env: "AUTHIFY_WORKERS",
        default: "number of CPU cores",
        description: "HTTP worker threads, 1 to 1024.",
    },
    SettingDoc {
        key: "keys_dir",
        env: "AUTHIFY_KEYS_DIR",
        default: "(unset: keys in the database)",
        description: "Set it to keep signing keys as files instead of in the database (one instance only): PKCS#8 PEM, one file per key named by its kid; a key of each algorithm is generated on first start. Unset, keys live in the database, sealed under the master key, shared by every instance; an existing ./keys directory is imported on first start.",
    },
    SettingDoc {
        key: "key_rotation_days",
        env: "AUTHIFY_KEY_ROTATION_DAYS",
        default: "30",
        description: "Keys in the database: days a signing key signs before its successor takes over (one instance rotates, holding a lease); 0 turns automatic rotation off. An old key stays published until every token it signed has expired.",
    },
    SettingDoc {
        key: "key_prepublish_hours",
        env: "AUTHIFY_KEY_PREPUBLISH_HOURS",
        default: "24",
        description: "Keys in the database: hours a new key is published in the JWKS before it signs anything, so relying parties that cache the JWKS know it first.",
    },
    SettingDoc {
        key: "key_refresh_seconds",
        env: "AUTHIFY_KEY_REFRESH_SECONDS",
        default: "60",
        description: "Keys in the database: how often each instance re-reads the keys (a rotation made by another instance is served within this), 1 to 3600.",
    },
    SettingDoc {
        key: "privkey_path",
        env: "AUTHIFY_PRIVKEY_PATH",
        default: "(unset)",
        description: "Original Authify compatibility: one private key file (PKCS#8 or SEC1 PEM) used instead of the keys directory.",
    },
    SettingDoc {
        key: "pubkey_path",
        env: "AUTHIFY_PUBKEY_PATH",
        default: "(unset)",
        description: "Original Authify compatibility: the public key matching `privkey_path`; checked against it at start-up.",
    },
    SettingDoc {
        key: "jwt_algorithm",
        env: "AUTHIFY_JWT_ALGORITHM",
        default: "ES512",
        description: "Signing algorithm: ES256, ES384 or ES512.",
    },
    SettingDoc {
        key: "jwt_issuer",
        env: "AUTHIFY_JWT_ISSUER",
        default: "the public URL",
        description: "The `iss` claim of tokens of the original `/login?callback=` flow (OpenID Connect tokens use AUTHIFY_PUBLIC_URL).",
    },
    SettingDoc {
        key: "jwt_expiration",
        env: "AUTHIFY_JWT_EXPIRATION",
        default: "15",
        description: "Token lifetime in minutes, 1 to 1440 (legacy tokens, OpenID access and ID tokens).",
    },
    SettingDoc {
        key: "log",
        env: "AUTHIFY_LOG",
        default: "info",
        description: "Log filter (tracing `EnvFilter` syntax, e.g. `info,authify_web=debug`).",
    },
    SettingDoc {
        key: "log_format",
        env: "AUTHIFY_LOG_FORMAT",
        default: "text",
        description: "`text` (one readable line per event) or `json` (one JSON object per line, with the request's span and its `id`, for log shippers).",
    },
    SettingDoc {
        key: "db_url",
        env: "AUTHIFY_DB_URL",
        default: "sqlite://./data/authify.db",
        description: "Database: `sqlite://PATH` (embedded, created on first start) or `postgres://user:pass@host/db`. `DATABASE_URL` is read when this is unset.",
    },
    SettingDoc {
        key: "db_pool_size",
        env: "AUTHIFY_DB_POOL_SIZE",
        default: "8",
        description: "Database connections, 1 to 256.",
    },
    SettingDoc {
        key: "signup",
        env: "AUTHIFY_SIGNUP",
        default: "true",
        description: "Public sign-up at /signup: true or false.",
    },
    SettingDoc {
        key: "org_creation",
        env: "AUTHIFY_ORG_CREATION",
        default: "admins",
        description: "Who may create organizations: `admins` (global admins only) or `users` (any signed-in user, who becomes its admin).",
    },
    SettingDoc {
        key: "session_ttl",
        env: "AUTHIFY_SESSION_TTL",
        default: "12",
        description: "Session lifetime in hours, 1 to 720.",
    },
    SettingDoc {
        key: "flow_ttl",
        env: "AUTHIFY_FLOW_TTL",
        default: "10",
        description: "How long one sign-in attempt may take, in minutes (from opening the form to the last factor), 1 to 60.",
    },
    SettingDoc {
        key: "argon2_memory_kib",
        env: "AUTHIFY_ARGON2_MEMORY_KIB",
        default: "19456",
        description: "argon2id memory per hash in KiB (OWASP: 19456), 1024 to 1048576.",
    },
    SettingDoc {
        key: "argon2_iterations",
        env: "AUTHIFY_ARGON2_ITERATIONS",
        default: "2",
        description: "argon2id iterations (OWASP: 2), 1 to 100.",
    },
    SettingDoc {
        key: "argon2_parallelism",
        env: "AUTHIFY_ARGON2_PARALLELISM",
        default: "1",
        description: "argon2id lanes (OWASP: 1), 1 to 16.",
    },
    SettingDoc {
        key: "email_verification",
        env: "AUTHIFY_EMAIL_VERIFICATION",
        default: "optional",
        description: "off: no verification mails; optional: a link is mailed at sign-up and on a change of address, and tokens say whether it was followed (email_verified); required: an unverified account cannot sign in (a new link is mailed instead).",
    },
    SettingDoc {
        key: "magic_links",
        env: "AUTHIFY_MAGIC_LINKS",
        default: "off",
        description: "on: \"E-mail me a sign-in link\" on the login page (a single-use link, 10 minutes, that works only in the browser that asked), and the link as a second factor where the address is confirmed; off: neither.",
    },
    SettingDoc {
        key: "signin_attempts_per_minute",
        env: "AUTHIFY_SIGNIN_ATTEMPTS_PER_MINUTE",
        default: "10",
        description: "Sign-in attempts allowed per account per minute (known or unknown e-mail alike); 0 disables.",
    },
    SettingDoc {
        key: "signin_attempts_per_address_per_minute",
        env: "AUTHIFY_SIGNIN_ATTEMPTS_PER_ADDRESS_PER_MINUTE",
        default: "300",
        description: "Password checks (sign-in and sign-up) allowed per client address per minute, counted before the shared hash queue so one client cannot fill it; 0 disables. Behind a proxy, set AUTHIFY_TRUSTED_PROXIES, or every user shares the proxy's budget.",
    },
    SettingDoc {
        key: "trusted_proxies",
        env: "AUTHIFY_TRUSTED_PROXIES",
        default: "(none)",
        description: "Comma-separated IP addresses or networks (`10.0.0.0/8, 192.0.2.7`) of the proxies in front of Authify: only from them is `X-Forwarded-For` believed (the nearest address that is not a trusted proxy is the client, for the audit log and the per-address budgets).",
    },
    SettingDoc {
        key: "hash_concurrency",
        env: "AUTHIFY_HASH_CONCURRENCY",
        default: "number of CPU cores",
        description: "Password hashes computed at once (memory bound: this times argon2_memory_kib); more wait in a bounded queue, beyond it sign-ins get 503.",
    },
    SettingDoc {
        key: "mfa",
        env: "AUTHIFY_MFA",
        default: "optional",
        description: "`optional`: users choose second factors (organizations and apps may still require one); `required`: every user needs one and is led through enrolment at sign-in.",
    },
    SettingDoc {
        key: "master_key",
        env: "AUTHIFY_MASTER_KEY",
        default: "(unset: the key file)",
        description: "32 bytes, base64: the one key sealing secrets at rest (TOTP secrets; AES-256-GCM). Keep it out of the database's backups.",
    },
    SettingDoc {
        key: "master_key_file",
        env: "AUTHIFY_MASTER_KEY_FILE",
        default: "./data/master.key",
        description: "Where the master key is kept when AUTHIFY_MASTER_KEY is unset; generated on first start, mode 0600.",
    },
    SettingDoc {
        key: "push_webhook_url",
        env: "AUTHIFY_PUSH_WEBHOOK_URL",
        default: "(unset)",
        description: "Each new push approval request is POSTed here as JSON (to wake the approver's phone), signed with AUTHIFY_PUSH_WEBHOOK_SECRET.",
    },
    SettingDoc {
        key: "push_webhook_secret",
        env: "AUTHIFY_PUSH_WEBHOOK_SECRET",
        default: "(unset)",
        description: "HMAC-SHA256 key (16+ characters) of the push webhook's `X-Authify-Signature: sha256=<hex MAC of \"<X-Authify-Timestamp>.<body>\">`; required with the URL.",
    },
    SettingDoc {
        key: "sms_webhook_url",
        env: "AUTHIFY_SMS_WEBHOOK_URL",
        default: "(unset: no SMS codes)",
        description: "SMS gateway: receives `{\"to\": \"+E.164\", \"message\": \"...\"}`, signed like the push webhook with AUTHIFY_SMS_WEBHOOK_SECRET.",
    },
    SettingDoc {
        key: "sms_webhook_secret",
        env: "AUTHIFY_SMS_WEBHOOK_SECRET",
        default: "(unset)",
        description: "HMAC-SHA256 key (16+ characters) of the SMS webhook's signature (as the push webhook's); required with the URL.",
    },
    SettingDoc {
        key: "outbound_allow",
        env: "AUTHIFY_OUTBOUND_ALLOW",
        default: "(none)",
        description: "Comma-separated IP addresses or networks (`10.20.0.0/16, fd12::/64`) the server may send requests to although they are not public (loopback, private, link-local, ...): for webhooks, back-channel logout receivers and providers inside a private deployment. Every other internal or metadata address is refused, at save time and at every connection (docs/SECURITY.md, Outbound requests).",
    },
    SettingDoc {
        key: "outbound_http",
        env: "AUTHIFY_OUTBOUND_HTTP",
        default: "off",
        description: "`on`: the server's own requests (webhooks, back-channel logout, upstream providers) may use http as well as https; `off`: https only, and an http URL is refused when saved or at start-up.",
    },
    SettingDoc {
        key: "smtp_url",
        env: "AUTHIFY_SMTP_URL",
        default: "(unset: mails go to files)",
        description: "SMTP server for mail (codes, factor changes): `smtps://user:pass@host:465`, `smtp://user:pass@host:587?tls=required`, or `smtp://host:25` (no login) on a trusted network; a login over `smtp://` without `tls=required` is refused.",
    },
    SettingDoc {
        key: "mail_from",
        env: "AUTHIFY_MAIL_FROM",
        default: "Authify <authify@localhost>",
        description: "The From of every mail.",
    },
    SettingDoc {
        key: "mail_dir",
        env: "AUTHIFY_MAIL_DIR",
        default: "./data/mail",
        description: "Without AUTHIFY_SMTP_URL, each mail is written here as an `.eml` file (mode 0600) instead of sent.",
    },
    SettingDoc {
        key: "webauthn_rp_id",
        env: "AUTHIFY_WEBAUTHN_RP_ID",
        default: "(the public URL's host)",
        description: "WebAuthn relying-party id of passkeys: the public URL's host or a parent domain of it (`example.com` for `https://id.example.com`). Passkeys are bound to it: changing it later orphans every registered passkey. Passkeys are off when the public URL's host is an IP address.",
    },
    SettingDoc {
        key: "github_key",
        env: "AUTHIFY_GITHUB_KEY",
        default: "(unset: no GitHub sign-in)",
        description: "Client id of a GitHub OAuth app (the original's `GITHUB_KEY` is read too); its callback URL is `<public URL>/login/upstream/github/callback`. Needs AUTHIFY_GITHUB_SECRET.",
    },
    SettingDoc {
        key: "github_secret",
        env: "AUTHIFY_GITHUB_SECRET",
        default: "(unset)",
        description: "Client secret of that GitHub OAuth app (the original's `GITHUB_SECRET` is read too).",
    },
    SettingDoc {
        key: "github_url",
        env: "AUTHIFY_GITHUB_URL",
        default: "https://github.com",
        description: "GitHub's web address (authorize and token endpoints); a GitHub Enterprise server's for GitHub Enterprise.",
    },
    SettingDoc {
        key: "github_api_url",
        env: "AUTHIFY_GITHUB_API_URL",
        default: "https://api.github.com",
        description: "GitHub's REST API (`/user`, `/user/emails`); `https://<host>/api/v3` for GitHub Enterprise.",
    },
    SettingDoc {
        key: "google_client_id",
        env: "AUTHIFY_GOOGLE_CLIENT_ID",
        default: "(unset: no Google sign-in)",
        description: "Client id of a Google OAuth client (the original's `GOOGLE_CLIENT_ID` is read too); its redirect URI is `<public URL>/login/upstream/google/callback`. Needs AUTHIFY_GOOGLE_CLIENT_SECRET.",
    },
    SettingDoc {
        key: "google_client_secret",
        env: "AUTHIFY_GOOGLE_CLIENT_SECRET",
        default: "(unset)",
        description: "Client secret of that Google client (the original's `GOOGLE_CLIENT_SECRET` is read too).",
    },
    SettingDoc {
        key: "google_issuer",
        env: "AUTHIFY_GOOGLE_ISSUER",
        default: "https://accounts.google.com",
        description: "Google's OpenID issuer, found by discovery.",
    },
];
