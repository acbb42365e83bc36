-- Sign-in through upstream providers (sqlite). An upstream identity is keyed by provider and
-- subject, never by e-mail: the address is kept only to show on the account page.
CREATE TABLE upstream_identities (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    provider TEXT NOT NULL,
    subject TEXT NOT NULL,
    email TEXT,
    created_at TIMESTAMP NOT NULL,
    last_used_at TIMESTAMP,
    UNIQUE (provider, subject)
);
CREATE INDEX upstream_identities_by_user ON upstream_identities (user_id);
-- The round trip of a flow to an upstream provider (state, PKCE verifier, nonce), then a link
-- waiting for the user to sign in to the account whose address the identity carries.
ALTER TABLE auth_flows ADD COLUMN upstream TEXT;
