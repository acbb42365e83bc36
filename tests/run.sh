#!/usr/bin/env bash
# The whole test suite, as README.md says: install the test dependencies (idempotent), then run
# every unit and integration test of the workspace.
set -euo pipefail
cd "$(dirname "$0")/.."
bash tests/setup.sh
cargo test --workspace --locked "$@"
