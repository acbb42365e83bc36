#!/usr/bin/env bash
# The long run of the property tests (docs/SECURITY.md): every `props` test of authify-domain and
# authify-client, one at a time, in release mode, with PROPTEST_CASES cases each (default one
# million; CI runs proptest's 256, fewer for the costly ones), printing how long each took.
#
#   tests/props/long-run.sh             # 1,000,000 cases a property
#   PROPTEST_CASES=20000 tests/props/long-run.sh [FILTER]
#
# A failure prints proptest's minimal failing input and leaves its seed in the crate's
# proptest-regressions/ folder: commit that file with the fix, so every later run retries it first.
set -euo pipefail
cd "$(dirname "$0")/../.."
export PROPTEST_CASES="${PROPTEST_CASES:-1000000}"
filter="${1:-props}"
log="$(mktemp -d)"
trap 'rm -rf "$log"' EXIT

echo "== building (cargo test --release -p authify-domain -p authify-client --lib --no-run)"
# Built once; then each test binary runs directly, so cargo's own start-up is not timed.
bins=$(cargo test --release --locked -p authify-domain -p authify-client --lib --no-run \
    --message-format=json | sed -n 's/.*"executable":"\([^"]*\)".*/\1/p')

echo "== $(git rev-parse --short HEAD 2>/dev/null || echo '?'), $(rustc --version), $(nproc) CPUs," \
    "PROPTEST_CASES=$PROPTEST_CASES"
printf '%-100s %10s %12s\n' test seconds "µs/case"
failed=()
total_start=$(date +%s%N)
for bin in $bins; do
    for name in $("$bin" --list --format terse "$filter" | sed -n 's/: test$//p'); do
        start=$(date +%s%N)
        if "$bin" --exact "$name" --test-threads 1 >"$log/out" 2>&1; then status=""; else
            status="  FAILED"
            failed+=("$name")
            cp "$log/out" "$log/$name.out"
        fi
        ns=$(( $(date +%s%N) - start ))
        printf '%-100s %10s %12s%s\n' "$name" \
            "$(awk -v n="$ns" 'BEGIN { printf "%.2f", n / 1e9 }')" \
            "$(awk -v n="$ns" -v c="$PROPTEST_CASES" 'BEGIN { printf "%.1f", n / 1e3 / c }')" \
            "$status"
    done
done
total_ns=$(( $(date +%s%N) - total_start ))
echo "== total $(awk -v n="$total_ns" 'BEGIN { printf "%.1f", n / 1e9 }') s"
if (( ${#failed[@]} )); then
    for name in "${failed[@]}"; do
        echo "== FAILED: $name"
        grep -v '^$' "$log/$name.out" | tail -n 40
    done
    exit 1
fi
