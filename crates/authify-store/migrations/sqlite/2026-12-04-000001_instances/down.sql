DROP TABLE throttle_buckets;
DROP TABLE leases;
DROP TABLE signing_keys;
