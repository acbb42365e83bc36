-- E-mail sign-in links (sqlite): stored by the SHA-256 of the token, bound to the sign-in flow
-- that asked (a link opened in another browser signs nothing in), single use. A flow's links go
-- with it (its expiry bounds theirs).
CREATE TABLE magic_links (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    token_hash TEXT NOT NULL UNIQUE,
    flow_id BIGINT NOT NULL REFERENCES auth_flows (id) ON DELETE CASCADE,
    user_id BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    -- The step it was asked for: '' (first factor) or 'mfa' (second); it serves only that step.
    step TEXT NOT NULL,
    email TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    expires_at TIMESTAMP NOT NULL,
    used_at TIMESTAMP
);
CREATE INDEX magic_links_by_flow ON magic_links (flow_id);
CREATE INDEX magic_links_by_user ON magic_links (user_id);
