-- The client (address, or IPv6 /64) that opened each sign-in flow: live flows are capped per
-- client, oldest dropped first (issue 32).
ALTER TABLE auth_flows ADD COLUMN client_key TEXT;
CREATE INDEX auth_flows_client ON auth_flows (client_key, id);
