DROP TABLE webhook_health;
ALTER TABLE applications DROP COLUMN require_mfa;
ALTER TABLE organizations DROP COLUMN require_mfa;
ALTER TABLE auth_flows DROP COLUMN factor_failures;
DROP TABLE approval_requests;
DROP TABLE factor_challenges;
DROP TABLE recovery_codes;
DROP TABLE user_factors;
