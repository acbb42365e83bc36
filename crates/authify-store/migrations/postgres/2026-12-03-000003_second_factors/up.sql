-- Second factors (postgres). See docs/ARCHITECTURE.md "Second factors".

-- A user's second factors. kind: totp | sms | email | approver. A factor counts only once
-- confirmed (a correct code posted, or a device registered from a signed-in browser).
CREATE TABLE user_factors (
    id BIGSERIAL PRIMARY KEY,
    user_id BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    kind TEXT NOT NULL,
    -- Shown to the user: "Authenticator app", the phone number, the address, the device.
    label TEXT NOT NULL,
    -- TOTP: the secret sealed with AES-256-GCM under the master key (never in clear).
    secret TEXT,
    -- SMS: the number in E.164.
    phone TEXT,
    -- Approver: SHA-256 of the device token the browser or phone app keeps.
    device_hash TEXT UNIQUE,
    -- TOTP: the last time step accepted (a step is accepted once).
    last_step BIGINT,
    -- An unconfirmed TOTP set-up: the flow or session it was shown to (only that one confirms it).
    pending_for TEXT,
    confirmed BOOLEAN NOT NULL DEFAULT FALSE,
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX user_factors_by_user ON user_factors (user_id);

-- Single-use recovery codes, by SHA-256.
CREATE TABLE recovery_codes (
    id BIGSERIAL PRIMARY KEY,
    user_id BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    code_hash TEXT NOT NULL,
    used_at TIMESTAMP
);
CREATE INDEX recovery_codes_by_user ON recovery_codes (user_id);

-- One-time codes sent by SMS or e-mail: for a sign-in flow, or to confirm a new factor.
CREATE TABLE factor_challenges (
    id BIGSERIAL PRIMARY KEY,
    flow_id BIGINT REFERENCES auth_flows (id) ON DELETE CASCADE,
    factor_id BIGINT NOT NULL REFERENCES user_factors (id) ON DELETE CASCADE,
    code_hash TEXT NOT NULL,
    tries INTEGER NOT NULL DEFAULT 0,
    created_at TIMESTAMP NOT NULL,
    expires_at TIMESTAMP NOT NULL
);
CREATE INDEX factor_challenges_by_expiry ON factor_challenges (expires_at);
CREATE INDEX factor_challenges_by_flow ON factor_challenges (flow_id);
CREATE INDEX factor_challenges_by_factor ON factor_challenges (factor_id);

-- Push approval requests. status: pending | approved | denied | used.
CREATE TABLE approval_requests (
    id BIGSERIAL PRIMARY KEY,
    public_id TEXT NOT NULL UNIQUE,
    flow_id BIGINT REFERENCES auth_flows (id) ON DELETE CASCADE,
    user_id BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    app_name TEXT,
    ip TEXT,
    user_agent TEXT,
    -- The number the requesting browser shows, and the three the approver chooses from.
    number INTEGER NOT NULL,
    choices TEXT NOT NULL,
    status TEXT NOT NULL,
    decided_by BIGINT REFERENCES user_factors (id) ON DELETE SET NULL,
    created_at TIMESTAMP NOT NULL,
    expires_at TIMESTAMP NOT NULL
);
CREATE INDEX approval_requests_by_user ON approval_requests (user_id, status);
CREATE INDEX approval_requests_by_expiry ON approval_requests (expires_at);
CREATE INDEX approval_requests_by_flow ON approval_requests (flow_id);
CREATE INDEX approval_requests_by_device ON approval_requests (decided_by);

-- Wrong codes in one sign-in attempt: 5 end it.
ALTER TABLE auth_flows ADD COLUMN factor_failures INTEGER NOT NULL DEFAULT 0;
-- Policy: an organization or an application requiring a second factor.
ALTER TABLE organizations ADD COLUMN require_mfa BOOLEAN NOT NULL DEFAULT FALSE;
ALTER TABLE applications ADD COLUMN require_mfa BOOLEAN NOT NULL DEFAULT FALSE;

-- Health of the outgoing webhooks (push, SMS): consecutive failures are shown in the console.
CREATE TABLE webhook_health (
    name TEXT PRIMARY KEY,
    failures INTEGER NOT NULL DEFAULT 0,
    last_error TEXT,
    updated_at TIMESTAMP NOT NULL
);
