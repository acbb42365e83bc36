#!/usr/bin/env bash
# Copies the screenshots the Chromium tests made (target/screenshots/, written by every test run)
# into the tracked docs/screenshots/, on purpose: run the browser tests first, e.g.
#   cargo test -p authify-server --test api browser && bash tests/browser/update-screenshots.sh
set -euo pipefail
cd "$(dirname "$0")/../.."
shopt -s nullglob
shots=(target/screenshots/*.png)
[ ${#shots[@]} -gt 0 ] || { echo "no screenshots in target/screenshots: run the browser tests first" >&2; exit 1; }
cp "${shots[@]}" docs/screenshots/
echo "copied ${#shots[@]} screenshots to docs/screenshots/"
