-- Sign-in attempts (PostgreSQL). One row per attempt, found by the SHA-256 of its cookie token; the
-- last step deletes it in the transaction that creates the session.
CREATE TABLE auth_flows (
    id BIGSERIAL PRIMARY KEY,
    token_hash TEXT NOT NULL UNIQUE,
    -- JSON: where the attempt returns (the account page, a legacy callback, ...).
    return_to TEXT NOT NULL,
    user_id BIGINT REFERENCES users (id) ON DELETE CASCADE,
    -- Space-separated RFC 8176 `amr` values of the factors satisfied so far.
    amr TEXT NOT NULL DEFAULT '',
    -- Space-separated factors still required before the session may be created.
    pending TEXT NOT NULL DEFAULT '',
    created_at TIMESTAMP NOT NULL,
    expires_at TIMESTAMP NOT NULL
);
CREATE INDEX auth_flows_by_expiry ON auth_flows (expires_at);
CREATE INDEX sessions_by_expiry ON sessions (expires_at);
-- How the session's user signed in (RFC 8176 `amr` values, space-separated).
ALTER TABLE sessions ADD COLUMN amr TEXT NOT NULL DEFAULT 'pwd';
