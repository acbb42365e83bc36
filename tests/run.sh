#!/usr/bin/env bash
# The whole test suite, as README.md says: install and start what the tests need (idempotent),
# run every unit and integration test on the embedded SQLite, then the integration tests again on
# a real PostgreSQL (one fresh database per test), then the failure scripts of tests/failure/.
set -euo pipefail
cd "$(dirname "$0")/.."
bash tests/setup.sh
echo "== every test, SQLite"
cargo test --workspace --locked "$@"
echo "== integration tests, PostgreSQL"
# --workspace as above, so the test binary is the one already built (selecting one package
# changes the feature set and rebuilt authify-server).
TEST_POSTGRES_URL="$(cat target/.test-postgres-url)" cargo test --workspace --locked --test api "$@"
echo "== failure tests (kill -9 under load, PostgreSQL outage, resource pressure)"
# Last: the outage test stops the PostgreSQL cluster for ten seconds. The server binary is the one
# the integration tests used.
bash tests/failure/run.sh target/debug/authify
