-- Passkeys and passwordless sign-in (sqlite). See docs/ARCHITECTURE.md "Passkeys".

-- A passkey is a factor of kind 'passkey': `credential` holds webauthn-rs's Passkey as JSON (the
-- public key, counter and backup state; nothing secret) once registered, and the registration
-- ceremony's state while it is unconfirmed. `credential_id` (base64url) is unique across users:
-- an authenticator's credential belongs to one account.
ALTER TABLE user_factors ADD COLUMN credential TEXT;
ALTER TABLE user_factors ADD COLUMN credential_id TEXT;
CREATE UNIQUE INDEX user_factors_credential_id ON user_factors (credential_id);

-- The sign-in's ceremony in progress, server-side (never in a cookie): a WebAuthn challenge
-- (single use, taken when answered) or the stand-in of a passwordless request.
ALTER TABLE auth_flows ADD COLUMN ceremony TEXT;
