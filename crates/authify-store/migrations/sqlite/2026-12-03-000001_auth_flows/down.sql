ALTER TABLE sessions DROP COLUMN amr;
DROP INDEX sessions_by_expiry;
DROP TABLE auth_flows;
