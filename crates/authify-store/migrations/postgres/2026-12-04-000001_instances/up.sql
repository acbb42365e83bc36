-- Several instances on one database (postgres). See docs/ARCHITECTURE.md "Several instances".
-- Times are milliseconds since the epoch (BIGINT), compared in SQL as plain numbers.

-- Signing keys shared by every instance. The private key (PKCS#8 PEM) is sealed with
-- AES-256-GCM under the master key, bound to its kid: never stored in clear. A key is published
-- from its creation and signs from signs_from_ms; it is deleted once every token it signed has
-- expired (its successor has signed for longer than the longest token lifetime).
CREATE TABLE signing_keys (
    kid TEXT PRIMARY KEY NOT NULL,
    algorithm TEXT NOT NULL,
    private_sealed TEXT NOT NULL,
    created_at_ms BIGINT NOT NULL,
    signs_from_ms BIGINT NOT NULL
);

-- Leases: one instance at a time does a named piece of work (key rotation).
CREATE TABLE leases (
    name TEXT PRIMARY KEY NOT NULL,
    holder TEXT NOT NULL,
    expires_at_ms BIGINT NOT NULL
);

-- Attempt budgets shared by every instance (GCRA: the theoretical arrival time of the next
-- attempt). last_allowed says whether the last attempt was let through.
CREATE TABLE throttle_buckets (
    key TEXT PRIMARY KEY NOT NULL,
    tat_ms BIGINT NOT NULL,
    last_allowed INTEGER NOT NULL
);
