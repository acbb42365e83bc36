ALTER TABLE auth_flows DROP COLUMN upstream;
DROP TABLE upstream_identities;
