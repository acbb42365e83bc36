#!/usr/bin/env bash
# Sign-in load on loopback, as recorded in docs/performance.md:
#  1. password sign-ins per second (argon2id, OWASP parameters) against the argon2 limit, each
#     through its own flow (GET /login, then POST /login with the flow cookie and csrf_token);
#  2. SSO redirects per second (signed-in GET /login?callback=... -> 303 with a fresh token);
#  3. JWKS latency while sign-ins saturate the hash pool;
#  4. RSS idle and after 10,000 sign-ins.
# Bounded: every wrk run has a fixed duration. usage: [ALG=ES512] [SKIP_10K=1] bash tests/load/signin.sh
set -euo pipefail
cd "$(dirname "$0")/../.."
command -v wrk >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null; }
cargo build --release --locked -p authify-server
bin=target/release/authify
alg=${ALG:-ES256}
work=$(mktemp -d)
touch "$work/authify.toml"
port=3919
# One account signs in over and over: switch the per-account throttle off for the measurement.
export AUTHIFY_SIGNIN_ATTEMPTS_PER_MINUTE=0
# Every request comes from 127.0.0.1: the per-client budgets (password checks, flows) are off too.
export AUTHIFY_FLOWS_PER_ADDRESS=0 AUTHIFY_FLOWS_PER_ADDRESS_PER_MINUTE=0 AUTHIFY_SIGNIN_ATTEMPTS_PER_ADDRESS_PER_MINUTE=0
export AUTHIFY_CONFIG="$work/authify.toml" AUTHIFY_BIND=127.0.0.1:$port AUTHIFY_LOG=warn AUTHIFY_JWT_ALGORITHM=$alg \
  AUTHIFY_DB_URL="sqlite://$work/authify.db" AUTHIFY_KEYS_DIR="$work/keys"
trap 'kill "$pid" 2>/dev/null || true; rm -rf "$work"' EXIT

echo "load-test-password" | $bin users create --email load@example.com --password-stdin >/dev/null
$bin apps create --name Load --callback "http://127.0.0.1:9/cb" >/dev/null
$bin serve & pid=$!
for _ in $(seq 100); do curl -fs "http://127.0.0.1:$port/health" >/dev/null && break; sleep 0.1; done
curl -fs "http://127.0.0.1:$port/health" >/dev/null || { echo "the server did not start" >&2; exit 1; }
rss() { echo "$(ps -o rss= -p "$pid" | xargs) KiB"; }

echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), algorithm $alg"
echo "== RSS idle: $(rss)"

echo "== password sign-ins (wrk -t2 -c16 -d20s POST /login)"
wrk -t2 -c16 -d20s --latency -s tests/load/signin.lua "http://127.0.0.1:$port/login" 2>/dev/null | tee "$work/signin.txt" \
  | grep -E 'Sign-ins/sec|50%|99%|Socket errors' || true
rate=$(awk '/Sign-ins\/sec/ {print int($2)}' "$work/signin.txt")

cookie=$(bash tests/load/session-cookie.sh "http://127.0.0.1:$port" load@example.com load-test-password)
callback=$(printf 'http://127.0.0.1:9/cb' | base64 -w0)
echo "== SSO redirects (wrk -t2 -c32 -d15s GET /login?callback=... with a session)"
wrk -t2 -c32 -d15s --latency -H "Cookie: $cookie" "http://127.0.0.1:$port/login?callback=$callback" \
  | grep -E 'Requests/sec|50%|99%|Non-2xx|Socket errors' || true

echo "== JWKS latency while sign-ins saturate the hash pool (sign-ins: wrk -t1 -c32; JWKS: wrk -t1 -c4 -R unbounded)"
wrk -t1 -c32 -d20s -s tests/load/signin.lua "http://127.0.0.1:$port/login" >/dev/null 2>&1 &
load=$!
sleep 3
wrk -t1 -c4 -d12s --latency "http://127.0.0.1:$port/.well-known/jwks.json" | grep -E 'Requests/sec|50%|75%|90%|99%' || true
wait $load || true

[ -n "${SKIP_10K:-}" ] && exit 0
# wrk cannot stop at a request count, so run for as long as 10,000 take at the measured rate.
secs=$(( 10000 / (rate > 0 ? rate : 1) + 5 ))
echo "== 10,000 sign-ins (wrk -t2 -c16 -d${secs}s)"
wrk -t2 -c16 -d"${secs}s" -s tests/load/signin.lua "http://127.0.0.1:$port/login" 2>/dev/null | grep -E 'requests in|Requests/sec' || true
sleep 2
echo "== RSS after the sign-ins: $(rss)"
