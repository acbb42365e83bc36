-- OpenID Connect and single logout (SQLite). See docs/ARCHITECTURE.md "OpenID Connect".

-- What kind of client an application is, and how it signs out.
ALTER TABLE applications ADD COLUMN client_type TEXT NOT NULL DEFAULT 'confidential';
ALTER TABLE applications ADD COLUMN first_party BOOLEAN NOT NULL DEFAULT 0;
ALTER TABLE applications ADD COLUMN algorithm TEXT NOT NULL DEFAULT 'ES256';
ALTER TABLE applications ADD COLUMN backchannel_logout_uri TEXT;
ALTER TABLE applications ADD COLUMN post_logout_redirect_uri TEXT;
-- Consecutive failed back-channel deliveries; 3 or more shows the endpoint as failing.
ALTER TABLE applications ADD COLUMN backchannel_failures INTEGER NOT NULL DEFAULT 0;

-- Where and on what a session was opened, and when it was last used to sign in to an app.
ALTER TABLE sessions ADD COLUMN ip TEXT;
ALTER TABLE sessions ADD COLUMN user_agent TEXT;
ALTER TABLE sessions ADD COLUMN last_seen_at TIMESTAMP;

-- The applications that received a token in a session: told by back-channel when it ends.
CREATE TABLE session_apps (
    session_id BIGINT NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
    application_id BIGINT NOT NULL REFERENCES applications (id) ON DELETE CASCADE,
    first_at TIMESTAMP NOT NULL,
    PRIMARY KEY (session_id, application_id)
);

-- Authorization codes (OpenID authorize and the legacy flow's response_type=code), by SHA-256.
CREATE TABLE oauth_codes (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    code_hash TEXT NOT NULL UNIQUE,
    application_id BIGINT NOT NULL REFERENCES applications (id) ON DELETE CASCADE,
    user_id BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    -- The session's `sid` claim.
    sid TEXT NOT NULL,
    redirect_uri TEXT NOT NULL,
    scope TEXT NOT NULL,
    nonce TEXT,
    code_challenge TEXT,
    auth_time TIMESTAMP NOT NULL,
    amr TEXT NOT NULL,
    legacy BOOLEAN NOT NULL,
    -- Every token issued from this code shares the family: a reused code revokes it.
    family TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    expires_at TIMESTAMP NOT NULL,
    redeemed_at TIMESTAMP
);
CREATE INDEX oauth_codes_by_expiry ON oauth_codes (expires_at);

-- Refresh tokens, by SHA-256; each use rotates (used_at set, a new row in the family).
CREATE TABLE oauth_refresh_tokens (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    token_hash TEXT NOT NULL UNIQUE,
    family TEXT NOT NULL,
    application_id BIGINT NOT NULL REFERENCES applications (id) ON DELETE CASCADE,
    user_id BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    sid TEXT NOT NULL,
    scope TEXT NOT NULL,
    auth_time TIMESTAMP NOT NULL,
    amr TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    expires_at TIMESTAMP NOT NULL,
    used_at TIMESTAMP
);
CREATE INDEX oauth_refresh_by_family ON oauth_refresh_tokens (family);
CREATE INDEX oauth_refresh_by_expiry ON oauth_refresh_tokens (expires_at);

-- Revoked access tokens (`jti:<jti>`) and token families (`family:<id>`), kept until what they
-- revoke has expired. Access tokens are JWTs; nothing is stored when one is issued.
CREATE TABLE oauth_revocations (
    revoked TEXT PRIMARY KEY NOT NULL,
    expires_at TIMESTAMP NOT NULL
);

-- Consent remembered per user and application.
CREATE TABLE oauth_grants (
    user_id BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    application_id BIGINT NOT NULL REFERENCES applications (id) ON DELETE CASCADE,
    scope TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    PRIMARY KEY (user_id, application_id)
);

-- Back-channel logout deliveries not yet made (OpenID Back-Channel Logout 1.0).
CREATE TABLE logout_outbox (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    application_id BIGINT NOT NULL REFERENCES applications (id) ON DELETE CASCADE,
    sub TEXT NOT NULL,
    sid TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_at TIMESTAMP NOT NULL,
    last_error TEXT,
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX logout_outbox_due ON logout_outbox (next_attempt_at);
