-- Whether the user proved control of their address (a link mailed to it was followed), sqlite.
ALTER TABLE users ADD COLUMN email_verified BOOLEAN NOT NULL DEFAULT 0;
