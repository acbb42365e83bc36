#!/usr/bin/env bash
# The anonymous flow flood of issue 32 on loopback, as recorded in docs/performance.md: 16
# connections GET /oauth/authorize with a 4,000-character `state` and `nonce` (each answer opens
# a sign-in flow) while JWKS latency and password sign-in latency are measured beside it. Prints
# the live flow rows and the database size afterwards. Bounded: every wrk run has a duration.
# usage: [BIN=target/release/authify] [FLOOD_LEN=4000] [FLOOD_DELAY_MS=0] bash tests/load/flow-flood.sh
# (FLOOD_DELAY_MS=4 holds the 16 connections near 3,600 requests a second: the rate the flood
# reached before issue 32, for a comparison at the same rate.)
set -euo pipefail
cd "$(dirname "$0")/../.."
command -v wrk >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null; }
bin=${BIN:-target/release/authify}
[ -x "$bin" ] || cargo build --release --locked -p authify-server
work=$(mktemp -d)
touch "$work/authify.toml"
port=3921
export AUTHIFY_SIGNIN_ATTEMPTS_PER_MINUTE=0
# The flood and the sign-ins come from different clients (X-Forwarded-For from a trusted
# loopback proxy), as they would in production: per-client limits apply to the flood only.
export AUTHIFY_TRUSTED_PROXIES=127.0.0.1/32
export AUTHIFY_CONFIG="$work/authify.toml" AUTHIFY_BIND=127.0.0.1:$port AUTHIFY_LOG=warn \
  AUTHIFY_DB_URL="sqlite://$work/authify.db" AUTHIFY_KEYS_DIR="$work/keys"
pid=; trap '[ -n "$pid" ] && kill "$pid" 2>/dev/null 2>/dev/null || true; rm -rf "$work"' EXIT
echo "load-test-password" | $bin users create --email load@example.com --password-stdin >/dev/null
client=$($bin apps create --name Flood --public --callback "http://127.0.0.1:9/cb" --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["app_id"])')
$bin serve & pid=$!
for _ in $(seq 100); do curl -fs "http://127.0.0.1:$port/health" >/dev/null && break; sleep 0.1; done
# 4,000 characters before issue 32; now past the limits (a 400), so FLOOD_LEN=1000 floods with
# what is still accepted.
long=$(head -c 6000 /dev/urandom | base64 -w0 | tr -d '+/=' | head -c "${FLOOD_LEN:-4000}")
q="response_type=code&client_id=$client&redirect_uri=http%3A%2F%2F127.0.0.1%3A9%2Fcb&scope=openid&code_challenge=E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM&code_challenge_method=S256&state=$long&nonce=$long"
echo "flood answer: $(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port/oauth/authorize?$q")"
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)"
echo "== quiet: JWKS (wrk -t1 -c2 -d8s)"
wrk -t1 -c2 -d8s --latency "http://127.0.0.1:$port/jwt/key" | grep -E 'Requests/sec|50%|99%' || true
echo "== flood (wrk -t1 -c16 -d30s GET /oauth/authorize, 4,000-char state and nonce)"
wrk -t1 -c16 -d30s -s tests/load/flood.lua -H "X-Forwarded-For: 198.51.100.7" "http://127.0.0.1:$port/oauth/authorize?$q" >"$work/flood.txt" 2>&1 &
flood=$!
sleep 4
echo "-- JWKS under the flood (wrk -t1 -c2 -d8s)"
wrk -t1 -c2 -d8s --latency "http://127.0.0.1:$port/jwt/key" | grep -E 'Requests/sec|50%|99%' || true
echo "-- sign-ins under the flood (wrk -t1 -c2 -d10s)"
SIGNIN_SPREAD=1 wrk -t1 -c2 -d10s --latency -s tests/load/signin.lua "http://127.0.0.1:$port/login" 2>/dev/null | grep -E 'Sign-ins/sec|50%|99%' || true
wait $flood || true
grep -E 'requests in|Requests/sec|Non-2xx' "$work/flood.txt" || true
sleep 1
rows=$(python3 -c "import sqlite3,sys; print(sqlite3.connect(sys.argv[1]).execute('select count(*) from auth_flows').fetchone()[0])" "$work/authify.db")
size=$(du -k "$work"/authify.db* | awk '{s+=$1} END {print s}')
echo "== after: $rows flow rows; database files $size KiB"
