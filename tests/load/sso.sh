#!/usr/bin/env bash
# Single sign-on redirects per second on one server worker pinned to one core, wrk on the other:
# a signed-in GET /login?callback=... answered with 303 and a freshly signed token. SQLite.
# usage: [ALG=ES256] [BIN=path/to/authify] bash tests/load/sso.sh   (BIN measures another build)
set -euo pipefail
cd "$(dirname "$0")/../.."
command -v wrk >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null; }
if [ -z "${BIN:-}" ]; then cargo build --release --locked -p authify-server; fi
bin=${BIN:-target/release/authify}
alg=${ALG:-ES256}
work=$(mktemp -d)
touch "$work/authify.toml"
port=3921
export AUTHIFY_CONFIG="$work/authify.toml" AUTHIFY_BIND=127.0.0.1:$port AUTHIFY_LOG=warn AUTHIFY_JWT_ALGORITHM=$alg \
  AUTHIFY_DB_URL="sqlite://$work/authify.db" AUTHIFY_KEYS_DIR="$work/keys" AUTHIFY_WORKERS=1
trap 'kill "$pid" 2>/dev/null || true; rm -rf "$work"' EXIT
echo "load-test-password" | $bin users create --email load@example.com --password-stdin >/dev/null
$bin apps create --name Load --callback "http://127.0.0.1:9/cb" >/dev/null
taskset -c 0 $bin serve & pid=$!
for _ in $(seq 100); do curl -fs "http://127.0.0.1:$port/health" >/dev/null && break; sleep 0.1; done
cookie=$(bash tests/load/session-cookie.sh "http://127.0.0.1:$port" load@example.com load-test-password)
[ -n "$cookie" ] || { echo "sign-in failed" >&2; exit 1; }
callback=$(printf 'http://127.0.0.1:9/cb' | base64 -w0)
status=$(curl -s -o /dev/null -w '%{http_code}' -H "Cookie: $cookie" "http://127.0.0.1:$port/login?callback=$callback")
[ "$status" = 303 ] || { echo "SSO answered $status, not 303" >&2; exit 1; }
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs); $alg; server: 1 worker on core 0; wrk -t1 -c16 -d${SECS:-15}s on core 1"
taskset -c 1 wrk -t1 -c16 -d"${SECS:-15}s" --latency -H "Cookie: $cookie" "http://127.0.0.1:$port/login?callback=$callback" \
  | grep -E 'Requests/sec|50%|99%|Non-2xx|Socket errors' || true
