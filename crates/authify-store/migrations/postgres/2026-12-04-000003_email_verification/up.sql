-- Whether the user proved control of their address (a link mailed to it was followed), postgres.
ALTER TABLE users ADD COLUMN email_verified BOOLEAN NOT NULL DEFAULT false;
