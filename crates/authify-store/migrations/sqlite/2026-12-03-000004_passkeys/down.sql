ALTER TABLE auth_flows DROP COLUMN ceremony;
DROP INDEX user_factors_credential_id;
ALTER TABLE user_factors DROP COLUMN credential_id;
ALTER TABLE user_factors DROP COLUMN credential;
