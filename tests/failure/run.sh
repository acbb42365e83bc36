#!/usr/bin/env bash
# The failure tests: crash durability (SQLite and PostgreSQL), two instances on one PostgreSQL
# database, a PostgreSQL outage, and resource pressure, each against a server it starts itself on a loopback port, each under `timeout`.
#
# usage: bash tests/failure/run.sh [BINARY]     (default target/debug/authify)
#
# Needs what tests/setup.sh installs and starts: the Python venv under tests/interop/.venv and
# PostgreSQL with its admin URL in target/.test-postgres-url. Runs as root or with passwordless
# sudo: db_outage.py stops and starts the PostgreSQL cluster (every database of it is unreachable
# for ten seconds). Prints a summary; exits 1 if any test failed or timed out.
set -uo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
cd "$root"
binary="${1:-target/debug/authify}"
py=tests/interop/.venv/bin/python
limit=170   # seconds per test: each takes well under a minute; CI's bound is three
[ -x "$binary" ] || { echo "no server binary at $binary (cargo build first)"; exit 2; }
[ -x "$py" ] || { echo "no $py: run tests/setup.sh first"; exit 2; }
admin_url=""
[ -s target/.test-postgres-url ] && admin_url="$(cat target/.test-postgres-url)"

names=() results=()
run() {
  local name="$1"; shift
  echo
  echo "======== $name"
  local t0=$SECONDS rc
  # SIGTERM at the limit (the scripts clean up on it), SIGKILL 20 s later.
  timeout -k 20 "$limit" "$py" -B "$@"
  rc=$?
  local took=$((SECONDS - t0)) verdict=passed
  if [ "$rc" -eq 124 ] || [ "$rc" -eq 137 ]; then verdict="TIMED OUT after ${limit} s"
  elif [ "$rc" -ne 0 ]; then verdict="FAILED (exit $rc)"; fi
  names+=("$name") results+=("$verdict in ${took} s")
}
no_postgres() {
  echo; echo "======== $1"; echo "no target/.test-postgres-url: run tests/setup.sh first"
  names+=("$1") results+=("FAILED (no PostgreSQL admin URL)")
}
# A killed db_outage.py cannot restart PostgreSQL itself: make sure it runs for whatever follows.
ensure_postgres() {
  local port; port="$(sed -E 's#.*:([0-9]+)/[^/]*$#\1#' <<<"$admin_url")"
  [[ "$port" =~ ^[0-9]+$ ]] || port=5432
  pg_isready -q -h 127.0.0.1 -p "$port" && return
  echo "PostgreSQL is down after db_outage.py: starting it again"
  local cluster; cluster="$(pg_lsclusters -h | awk -v p="$port" '$3 == p {print $1" "$2; exit}')"
  local sudo=""; [ "$(id -u)" -eq 0 ] || sudo="sudo -n"
  # shellcheck disable=SC2086
  if [ -n "$cluster" ]; then $sudo pg_ctlcluster $cluster start; else $sudo service postgresql start; fi
}

run "kill9 (SQLite)" tests/failure/kill9.py "$binary"
if [ -n "$admin_url" ]; then
  run "kill9 (PostgreSQL)" tests/failure/kill9.py "$binary" --postgres "$admin_url"
  run "two instances (PostgreSQL)" tests/failure/two_instances.py "$binary" "$admin_url"
  run "db_outage (PostgreSQL)" tests/failure/db_outage.py "$binary" "$admin_url"
  ensure_postgres
else
  no_postgres "kill9 (PostgreSQL)"
  no_postgres "two instances (PostgreSQL)"
  no_postgres "db_outage (PostgreSQL)"
fi
run "pressure (SQLite)" tests/failure/pressure.py "$binary"

echo
echo "======== failure tests: summary"
failed=0
for i in "${!names[@]}"; do
  printf '  %-24s %s\n' "${names[$i]}" "${results[$i]}"
  [[ "${results[$i]}" == passed* ]] || failed=1
done
exit "$failed"
