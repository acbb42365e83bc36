#!/usr/bin/env bash
# Administration at scale, as recorded in docs/performance.md ("Administration at scale"):
# seeds 100,000 users and 10,000 organizations (10 members each), then takes the server time
# (the `Server-Timing: app;dur=` header) of console pages and management API list calls, one
# request at a time: 5 warm-ups, then N samples per request; prints median, p95 and max against
# the 50 ms goal. Last, token issuance for a user in 50 organizations: the signed-in single
# sign-on redirect (`GET /login?callback=…`, 303 with a fresh token carrying the 50 organizations),
# timed from outside (curl's time to first byte minus its time to send), to compare a large
# database with a small one (USERS=1000 ORGS=100).
# usage: [DB=sqlite|postgres] [N=50] [USERS=100000] [ORGS=10000] [KEEP=1] bash tests/load/admin-scale.sh
#   DB=postgres uses the server of target/.test-postgres-url (written by tests/setup.sh) and a
#   fresh database authify_scale, dropped at the end. KEEP=1 keeps the temporary directory (with
#   the SQLite database) or the PostgreSQL database, to look at the queries afterwards.
set -euo pipefail
cd "$(dirname "$0")/../.."
db=${DB:-sqlite}
n=${N:-50}
users=${USERS:-100000}
orgs=${ORGS:-10000}
warm=5
goal=50
command -v curl >/dev/null || { echo "curl is needed" >&2; exit 1; }
cargo build --release --locked -p authify-server
bin=$PWD/target/release/authify
# The target directory is shared: do not measure while another build compiles (at most 10 min).
for _ in $(seq 600); do pgrep -x rustc >/dev/null || break; sleep 1; done

work=$(mktemp -d)
touch "$work/authify.toml"
port=3921
base="http://127.0.0.1:$port"
pid=
pg_admin_url=
cleanup() {
  [ -n "$pid" ] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null || true
  if [ -n "$pg_admin_url" ] && [ -z "${KEEP:-}" ]; then psql -q "$pg_admin_url" -c "DROP DATABASE IF EXISTS authify_scale" >/dev/null || true; fi
  if [ -n "${KEEP:-}" ]; then echo "kept $work" >&2; else rm -rf "$work"; fi
}
trap cleanup EXIT

case $db in
  sqlite) db_url="sqlite://$work/authify.db" ;;
  postgres)
    [ -s target/.test-postgres-url ] || { echo "no target/.test-postgres-url: run bash tests/setup.sh first" >&2; exit 1; }
    pg_admin_url=$(cat target/.test-postgres-url)
    export PGOPTIONS='-c client_min_messages=warning'
    psql -q "$pg_admin_url" -c "DROP DATABASE IF EXISTS authify_scale" >/dev/null
    psql -q "$pg_admin_url" -c "CREATE DATABASE authify_scale" >/dev/null
    db_url="${pg_admin_url%/*}/authify_scale"
    ;;
  *) echo "DB must be sqlite or postgres" >&2; exit 1 ;;
esac
export AUTHIFY_CONFIG="$work/authify.toml" AUTHIFY_DB_URL="$db_url" AUTHIFY_KEYS_DIR="$work/keys" \
  AUTHIFY_BIND=127.0.0.1:$port AUTHIFY_PUBLIC_URL=$base AUTHIFY_LOG=warn

echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), kernel $(uname -r), database $db"
start=$(date +%s.%N)
echo "seed-password" | $bin seed --users "$users" --orgs "$orgs" --members-per-org 10 >/dev/null
echo "== seeded $users users and $orgs organizations in $(awk -v a="$start" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }') s"
[ "$db" = sqlite ] && echo "== SQLite file: $(du -m "$work/authify.db" | cut -f1) MiB"
$bin apps create --name "Scale app" --callback "http://127.0.0.1:9/scale/callback" >/dev/null
echo "admin-password-0" | $bin users create --email scale-admin@example.com --name "Scale Admin" --admin --password-stdin >/dev/null

$bin serve & pid=$!
for _ in $(seq 100); do curl -fs "$base/health" >/dev/null && break; sleep 0.1; done
curl -fs "$base/health" >/dev/null || { echo "the server did not start" >&2; exit 1; }

# Console session: the CSRF cookie and hidden field from GET /login, then POST /login.
jar="$work/cookies"
csrf=$(curl -fs -c "$jar" "$base/login" | grep -o 'name="csrf_token" value="[^"]*"' | head -1 | sed 's/.*value="//; s/"$//')
[ -n "$csrf" ] || { echo "no csrf_token on /login" >&2; exit 1; }
curl -fs -o /dev/null -b "$jar" -c "$jar" "$base/login" --data-urlencode "csrf_token=$csrf" \
  --data-urlencode "email=scale-admin@example.com" --data-urlencode "password=admin-password-0"
grep -q authify_session "$jar" || { echo "sign-in failed" >&2; exit 1; }

# API token: an API key from the account page (its secret is shown once), exchanged at /jwt/token.
csrf=$(curl -fs -b "$jar" -c "$jar" "$base/account" | grep -o 'name="csrf_token" value="[^"]*"' | head -1 | sed 's/.*value="//; s/"$//')
keypage=$(curl -fs -b "$jar" -c "$jar" "$base/account/api-keys" --data-urlencode "csrf_token=$csrf" --data-urlencode "name=scale")
field() { grep -o "name=\"$1\" value=\"[^\"]*\"" <<<"$keypage" | head -1 | sed 's/.*value="//; s/"$//'; }
access=$(field access_key); secret=$(field secret_key)
[ -n "$access" ] && [ -n "$secret" ] || { echo "could not create an API key" >&2; exit 1; }
token=$(curl -fs "$base/jwt/token" -H 'Content-Type: application/json' \
  -d "{\"access_key\":\"$access\",\"secret_key\":\"$secret\"}" | sed 's/.*"jwt":"\([^"]*\)".*/\1/')
[ -n "$token" ] || { echo "no API token" >&2; exit 1; }

oid=$(curl -fs -H "Authorization: Bearer $token" "$base/api/v1/organizations?q=00042&limit=1" \
  | grep -o '"oid":"[^"]*"' | head -1 | cut -d'"' -f4)
[ -n "$oid" ] || { echo "no organization 00042" >&2; exit 1; }
rare=$(printf 'seed-%06d' $((users - 1)))
# A cursor from deep in the user list: the cursor is the last e-mail seen, base64url-encoded.
deep=$(printf 'seed-%06d@example.com' $((users * 9 / 10)) | base64 -w0 | tr '+/' '-_' | tr -d '=')

# One request, N timed samples: prints "median p95 max status bytes".
sample() { # kind path
  local kind=$1 path=$2 auth out i
  if [ "$kind" = api ]; then auth=(-H "Authorization: Bearer $token"); else auth=(-b "$jar"); fi
  : >"$work/times"
  for i in $(seq $((warm + n))); do
    out=$(curl -s -o "$work/body" -D - -w '\nstatus=%{http_code} size=%{size_download}\n' "${auth[@]}" "$base$path")
    [ "$i" -le "$warm" ] && continue
    grep -i '^server-timing:' <<<"$out" | sed 's/.*dur=\([0-9.]*\).*/\1/' >>"$work/times" || true
  done
  status=$(grep -o 'status=[0-9]*' <<<"$out" | cut -d= -f2)
  size=$(grep -o 'size=[0-9]*' <<<"$out" | cut -d= -f2)
  sort -g "$work/times" | awk -v s="$status" -v b="$size" '{v[NR]=$1} END {
    if (NR == 0) { print "- - - " s " " b; exit }
    m = (NR % 2) ? v[(NR+1)/2] : (v[NR/2] + v[NR/2+1]) / 2
    p = int(0.95 * NR + 0.999999); if (p < 1) p = 1
    printf "%.2f %.2f %.2f %s %s\n", m, v[p], v[NR], s, b }'
}

echo "== server time (Server-Timing app;dur), $n samples after $warm warm-ups, one request at a time"
printf '| %-58s | %6s | %8s | %8s | %8s | %-7s |\n' request status "median" "p95" "max" "< ${goal} ms"
printf '|%s|%s|%s|%s|%s|%s|\n' "$(printf -- '-%.0s' $(seq 60))" -------- ---------- ---------- ---------- ---------
row() { # kind path
  read -r med p95 max status size < <(sample "$1" "$2")
  verdict=$(awk -v p="$p95" -v g="$goal" 'BEGIN { if (p == "-") print "?"; else if (p + 0 < g) print "met"; else print "NOT met" }')
  label="$2"; [ "$1" = console ] && label="console $2" || label="API $2"
  label=${label/$oid/\{oid\}}; label=${label/$deep/<deep>}
  printf '| %-58s | %6s | %5s ms | %5s ms | %5s ms | %-7s |\n' "$label" "$status" "$med" "$p95" "$max" "$verdict"
}
row console "/admin/users"
row console "/admin/users?q=ann"
row console "/admin/users?q=$rare"
row console "/admin/users?cursor=$deep"
row console "/admin/orgs"
row console "/admin/orgs?q=00042"
row console "/admin/orgs/$oid"
row console "/admin/audit"
row api "/api/v1/users"
row api "/api/v1/users?q=ann"
row api "/api/v1/users?q=$rare"
row api "/api/v1/organizations"
row api "/api/v1/organizations?q=00042"
row api "/api/v1/organizations/$oid/members"
row api "/api/v1/audit-events"
echo "(the goal is read on p95; <deep> is the cursor after seed-$(printf %06d $((users * 9 / 10))); audit events: $(curl -fs -H "Authorization: Bearer $token" "$base/api/v1/audit-events?limit=200" | grep -o '"id"' | wc -l) rows or more)"

# Token issuance for a user in 50 organizations: the admin joins the first 50 (by the API).
orgs50=$(curl -fs -H "Authorization: Bearer $token" "$base/api/v1/organizations?limit=50" | grep -o '"oid":"[^"]*"' | cut -d'"' -f4)
joined=0
for o in $orgs50; do
  code=$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $token" -H 'Content-Type: application/json' \
    "$base/api/v1/organizations/$o/members" -d '{"email":"scale-admin@example.com"}')
  case $code in 200|201|409) joined=$((joined + 1)) ;; *) echo "joining $o: $code" >&2 ;; esac
done
cb=$(printf 'http://127.0.0.1:9/scale/callback' | base64 -w0)
: >"$work/sso"
for i in $(seq $((warm + n))); do
  out=$(curl -s -o /dev/null -b "$jar" -w '%{http_code} %{time_pretransfer} %{time_starttransfer} %{redirect_url}' "$base/login?callback=$cb")
  read -r code pre first url <<<"$out"
  [ "$code" = 303 ] || { echo "SSO redirect answered $code" >&2; break; }
  [ "$i" -le "$warm" ] && continue
  awk -v a="$pre" -v b="$first" 'BEGIN { printf "%.3f\n", (b - a) * 1000 }' >>"$work/sso"
done
payload=$(sed 's/.*jwt=\([^&]*\).*/\1/' <<<"$url" | cut -d. -f2 | tr '_-' '/+')
while [ $(( ${#payload} % 4 )) -ne 0 ]; do payload="$payload="; done
orgs_in_token=$(base64 -d <<<"$payload" 2>/dev/null | grep -o '"oid"' | wc -l || true)
sort -g "$work/sso" | awk -v j="$joined" -v t="$orgs_in_token" '{v[NR]=$1} END {
  if (NR == 0) { print "== token issuance: no sample"; exit }
  m = (NR % 2) ? v[(NR+1)/2] : (v[NR/2] + v[NR/2+1]) / 2
  p = int(0.95 * NR + 0.999999)
  printf "== token issuance (SSO redirect, user in %d organizations, %d in the token): median %.2f ms, p95 %.2f ms, max %.2f ms (curl, first byte - sent)\n", j, t, m, v[p], v[NR] }'
echo "== RSS of the server: $(ps -o rss= -p "$pid" | xargs) KiB"
