#!/usr/bin/env bash
# Single sign-on redirects per second through a loopback load balancer (nginx), in one run, for
# three set-ups: (1) one instance on SQLite, (2) one instance on PostgreSQL, (3) two instances on
# one PostgreSQL database, round-robin. The request is sso.sh's: a signed-in
# GET /login?callback=... answered with 303 and a freshly signed token. Sessions live in the
# database, so a session cookie made through the load balancer works on either instance.
# Nothing is pinned: the instances, nginx (one worker), PostgreSQL and wrk (one thread) float on
# all cores, since the point is how throughput scales with instances on this machine.
# Needs PostgreSQL and its URL in target/.test-postgres-url (bash tests/setup.sh).
# usage: [SECS=15] [WORKERS=1] [ALG=ES256] [BIN=path/to/authify] bash tests/load/sso-instances.sh
set -euo pipefail
cd "$(dirname "$0")/../.."
as_root() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }
apt_install() { as_root apt-get update -qq && DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq "$@" >/dev/null; }
command -v wrk >/dev/null || apt_install wrk
[ -x /usr/sbin/nginx ] || apt_install nginx-light
[ -s target/.test-postgres-url ] || { echo "no target/.test-postgres-url: run bash tests/setup.sh" >&2; exit 1; }
if [ -z "${BIN:-}" ]; then cargo build --release --locked -p authify-server; fi
bin=$(realpath "${BIN:-target/release/authify}")
secs=${SECS:-15}
admin_url=$(cat target/.test-postgres-url)

# Inherited settings would change what is measured.
while read -r v; do unset "$v"; done < <(compgen -e | grep -E '^AUTHIFY_|^DATABASE_URL$' || true)
work=$(mktemp -d)
mkdir -p "$work/nginx"
touch "$work/authify.toml"
lb_port=3940 port_a=3941 port_b=3942
export AUTHIFY_CONFIG="$work/authify.toml" AUTHIFY_LOG=warn AUTHIFY_JWT_ALGORITHM=${ALG:-ES256} \
  AUTHIFY_WORKERS=${WORKERS:-1} AUTHIFY_TRUSTED_PROXIES=127.0.0.1/32 AUTHIFY_MAIL_DIR="$work/mail"
# Every instance of one database must unseal the same secrets: one master key for the whole run.
AUTHIFY_MASTER_KEY=$(head -c32 /dev/urandom | base64)
export AUTHIFY_MASTER_KEY

db="authify_sso_instances_$$_$(head -c4 /dev/urandom | od -An -tx1 | tr -d ' \n')"
pg_url="${admin_url%/*}/$db"   # the admin URL (no query string) with another database name
pids=() nginx_pid=
stop_all() {
  [ -z "$nginx_pid" ] || { kill "$nginx_pid" 2>/dev/null || true; wait "$nginx_pid" 2>/dev/null || true; }
  nginx_pid=
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
  pids=()
}
psql_admin() { psql "$admin_url" -X -q -At -v ON_ERROR_STOP=1 -c "$1"; }
cleanup() {
  stop_all
  psql_admin "DROP DATABASE IF EXISTS \"$db\" WITH (FORCE)" 2>/dev/null || echo "warning: could not drop database $db" >&2
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# serve NAME PORT DB_URL KEYS_DIR: start one instance, wait for /ready.
serve() {
  AUTHIFY_BIND=127.0.0.1:$2 AUTHIFY_PUBLIC_URL=http://127.0.0.1:$lb_port AUTHIFY_DB_URL=$3 AUTHIFY_KEYS_DIR=$4 \
    "$bin" serve >"$work/$1.log" 2>&1 &
  local pid=$!
  pids+=("$pid")
  for _ in $(seq 150); do
    curl -fs "http://127.0.0.1:$2/ready" >/dev/null && return 0
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  echo "instance $1 not ready; log:" >&2; tail -20 "$work/$1.log" >&2; exit 1
}
# nginx PORT...: nginx in the foreground, round-robin over the given instance ports, keepalive to them.
nginx_up() {
  local ups="" p
  for p in "$@"; do ups+="    server 127.0.0.1:$p;"$'\n'; done
  cat >"$work/nginx/nginx.conf" <<EOF
$([ "$(id -u)" -eq 0 ] && echo "user root;")
daemon off;
worker_processes 1;
pid $work/nginx/nginx.pid;
error_log $work/nginx/error.log warn;
events { worker_connections 1024; }
http {
  access_log off;
  client_body_temp_path $work/nginx/client_body;
  proxy_temp_path $work/nginx/proxy;
  fastcgi_temp_path $work/nginx/fastcgi;
  uwsgi_temp_path $work/nginx/uwsgi;
  scgi_temp_path $work/nginx/scgi;
  upstream authify {
$ups    keepalive 32;
  }
  server {
    listen 127.0.0.1:$lb_port;
    location / {
      proxy_pass http://authify;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_set_header Host \$http_host;
      proxy_set_header X-Forwarded-For \$proxy_add_x_forwarded_for;
    }
  }
}
EOF
  /usr/sbin/nginx -p "$work/nginx" -e "$work/nginx/error.log" -c "$work/nginx/nginx.conf" &
  nginx_pid=$!
  for _ in $(seq 50); do curl -fs "http://127.0.0.1:$lb_port/health" >/dev/null && return 0; sleep 0.1; done
  echo "nginx not answering; log:" >&2; tail -20 "$work/nginx/error.log" >&2; exit 1
}
# The CLI, on one database (same env as the servers).
provision() {
  echo "load-test-password" | AUTHIFY_DB_URL=$1 AUTHIFY_KEYS_DIR=$2 "$bin" users create --email load@example.com --password-stdin >/dev/null
  AUTHIFY_DB_URL=$1 AUTHIFY_KEYS_DIR=$2 "$bin" apps create --name Load --callback "http://127.0.0.1:9/cb" >/dev/null
}

callback=$(printf 'http://127.0.0.1:9/cb' | base64 -w0)
lb="http://127.0.0.1:$lb_port"
# CPU ticks (utime+stime) of one process; 0 when it is gone.
ticks() { sed 's/.*) //' "/proc/$1/stat" 2>/dev/null | awk '{print $12+$13}' || echo 0; }
# Ticks of this script's reaped children (cutime+cstime): wrk's, around its run.
child_ticks() { sed 's/.*) //' /proc/$$/stat | awk '{print $14+$15}'; }
busy_idle() { awk '/^cpu /{print $2+$3+$4+$7+$8, $5+$6}' /proc/stat; }
postgres_pids() { ps -u postgres -o pid= 2>/dev/null | tr -d ' ' || true; }
hz=$(getconf CLK_TCK)

# measure LABEL NAME=PORT...: sign in through the LB, check the 303, run wrk, print one block.
measure() {
  local label=$1; shift
  local cookie status n p name port
  cookie=$(bash tests/load/session-cookie.sh "$lb" load@example.com load-test-password)
  [ -n "$cookie" ] || { echo "$label: sign-in through the load balancer failed" >&2; exit 1; }
  # Through the LB (twice: round-robin reaches each of two instances), then each instance directly.
  for n in 1 2; do
    status=$(curl -s -o /dev/null -w '%{http_code}' -H "Cookie: $cookie" "$lb/login?callback=$callback")
    [ "$status" = 303 ] || { echo "$label: SSO through the load balancer answered $status, not 303" >&2; exit 1; }
  done
  for p in "$@"; do
    status=$(curl -s -o /dev/null -w '%{http_code}' -H "Cookie: $cookie" "http://127.0.0.1:${p#*=}/login?callback=$callback")
    [ "$status" = 303 ] || { echo "$label: SSO on instance ${p%%=*} answered $status, not 303" >&2; exit 1; }
  done
  local -A before=()
  local pgp="" nginx_workers w t0 t1 c0 c1 b0 i0 b1 i1
  nginx_workers=$(ps --ppid "$nginx_pid" -o pid= | tr -d ' ')
  for p in "${pids[@]}" $nginx_workers; do before[$p]=$(ticks "$p"); done
  pgp=$(postgres_pids)
  for p in $pgp; do before[pg$p]=$(ticks "$p"); done
  read -r b0 i0 < <(busy_idle); c0=$(child_ticks); t0=$(date +%s.%N)
  wrk -t1 -c16 -d"${secs}s" --latency -H "Cookie: $cookie" "$lb/login?callback=$callback" >"$work/wrk.out"
  t1=$(date +%s.%N); c1=$(child_ticks); read -r b1 i1 < <(busy_idle)
  local cpu="" i=0 d pg=0
  for p in "$@"; do
    w=${pids[$i]}; i=$((i + 1))
    d=$(( $(ticks "$w") - ${before[$w]} ))
    cpu+="$(awk -v d="$d" -v h="$hz" -v s="$t1" -v s0="$t0" -v n="${p%%=*}" 'BEGIN{printf "%s %.0f%%, ", n, 100*d/h/(s-s0)}')"
  done
  d=0; for w in $nginx_workers; do d=$(( d + $(ticks "$w") - ${before[$w]} )); done
  for p in $(postgres_pids); do pg=$(( pg + $(ticks "$p") - ${before[pg$p]:-0} )); done
  cpu+=$(awk -v d="$d" -v pg="$pg" -v w="$((c1 - c0))" -v h="$hz" -v s="$t1" -v s0="$t0" \
    -v bb="$((b1 - b0))" -v ii="$((i1 - i0))" -v nc="$(nproc)" \
    'BEGIN{t=s-s0; printf "nginx %.0f%%, postgres %.0f%%, wrk %.0f%%; machine busy %.0f%% of %d00%%", 100*d/h/t, 100*pg/h/t, 100*w/h/t, nc*100*bb/(bb+ii), nc}')
  awk -v label="$label" -v cpu="$cpu" '
    /Requests\/sec/ {rps=$2} /^ +50%/ {p50=$2} /^ +99%/ {p99=$2}
    /Non-2xx/ {non=$NF} /Socket errors/ {sock=$0; sub(/^ +/, "", sock)}
    END {
      printf "%s\n  requests/s %s   p50 %s   p99 %s   non-2xx/3xx %s%s\n  cpu (%% of one core): %s\n",
        label, rps, p50, p99, (non == "" ? 0 : non), (sock == "" ? "" : "   " sock), cpu
    }' "$work/wrk.out"
}

echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs); load before: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "placement: nothing pinned; each instance ${AUTHIFY_WORKERS} worker(s), nginx 1 worker, PostgreSQL and wrk (-t1 -c16 -d${secs}s) float on all $(nproc) cores; $AUTHIFY_JWT_ALGORITHM"

# (1) one instance on SQLite
provision "sqlite://$work/authify.db" "$work/keys-sqlite"
serve a $port_a "sqlite://$work/authify.db" "$work/keys-sqlite"
nginx_up $port_a
measure "(1) one instance, SQLite, behind nginx" a=$port_a
stop_all

# (2) one instance on PostgreSQL (a fresh database for this run, dropped on exit)
psql_admin "CREATE DATABASE \"$db\""
provision "$pg_url" "$work/keys-pg"
serve a $port_a "$pg_url" "$work/keys-pg"
nginx_up $port_a
measure "(2) one instance, PostgreSQL, behind nginx" a=$port_a
stop_all

# (3) two instances on the same PostgreSQL database, round-robin. A starts first (migrations, and
# the signing key when there is none), then B. Same database, same master key, and for now the
# same keys dir: with the signing keys kept in the database, the keys dir will not be needed.
serve a $port_a "$pg_url" "$work/keys-pg"
serve b $port_b "$pg_url" "$work/keys-pg"
nginx_up $port_a $port_b
measure "(3) two instances, one PostgreSQL database, nginx round-robin" a=$port_a b=$port_b
