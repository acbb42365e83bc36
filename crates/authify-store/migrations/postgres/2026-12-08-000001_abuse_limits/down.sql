DROP TABLE pending_signups;
DROP INDEX auth_flows_client;
ALTER TABLE auth_flows DROP COLUMN client_key;
