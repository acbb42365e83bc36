-- The client (address, or IPv6 /64) that opened each sign-in flow: live flows are capped per
-- client, oldest dropped first (issue 32).
ALTER TABLE auth_flows ADD COLUMN client_key TEXT;
CREATE INDEX auth_flows_client ON auth_flows (client_key, id);

-- Accounts made by sign-up while verification is required, and when they go unless verified
-- (AUTHIFY_UNVERIFIED_ACCOUNT_DAYS); the row goes when the address is verified.
CREATE TABLE pending_signups (
    user_id BIGINT PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    delete_after TIMESTAMP NOT NULL
);
CREATE INDEX pending_signups_due ON pending_signups (delete_after);
