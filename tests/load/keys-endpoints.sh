#!/usr/bin/env bash
# Load test of the public-key endpoints on loopback, as recorded in docs/performance.md.
# The server gets one worker pinned to CPU 0; wrk runs pinned to CPU 1. Bounded: 10 s per endpoint.
# usage: bash tests/load/keys-endpoints.sh [seconds] [connections]
set -euo pipefail
cd "$(dirname "$0")/../.."
secs=${1:-10}
conns=${2:-64}
command -v wrk >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null; }
cargo build --release --locked -p authify-server

work=$(mktemp -d)
touch "$work/authify.toml"
trap 'kill "$pid" 2>/dev/null || true; rm -rf "$work"' EXIT
port=3917
AUTHIFY_CONFIG="$work/authify.toml" AUTHIFY_BIND=127.0.0.1:$port AUTHIFY_WORKERS=1 AUTHIFY_LOG=warn \
  AUTHIFY_KEYS_DIR="$work/keys" AUTHIFY_JWT_ALGORITHM=${ALG:-ES512} \
  taskset -c 0 target/release/authify serve &
pid=$!
for _ in $(seq 50); do curl -fs "http://127.0.0.1:$port/health" >/dev/null && break; sleep 0.1; done
curl -fs "http://127.0.0.1:$port/health" >/dev/null || { echo "the server did not start" >&2; exit 1; }

echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), kernel $(uname -r)"
for path in ${PATHS:-/.well-known/jwks.json /jwt/key /jwt/meta}; do
  echo "== GET $path (1 server worker on CPU 0; wrk -t1 -c$conns -d${secs}s on CPU 1)"
  taskset -c 1 wrk -t1 -c"$conns" -d"${secs}s" --latency "http://127.0.0.1:$port$path" | grep -E 'Requests/sec|Latency|50%|99%|Non-2xx|Socket errors' || true
done
echo "== RSS of the server after the load: $(ps -o rss= -p $pid | xargs) KiB"
