#!/usr/bin/env bash
# Installs and starts what the test suite needs beyond cargo, idempotently:
# - PyJWT (a venv) and node jose, the independent verifiers, under tests/interop/;
# - PostgreSQL (Debian's package), started, with a test role that may create databases;
# - Chromium (Debian's package) and playwright-core under tests/browser/, for the browser test.
# Safe to run again; fast when nothing changed.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"

as_root() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }
apt_updated=
apt_install() {
  echo "setup: installing $* from Debian"
  [ -n "$apt_updated" ] || { as_root apt-get update -qq; apt_updated=1; }
  DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq --no-install-recommends "$@" >/dev/null
}
have_pkg() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q "install ok installed"; }

command -v python3 >/dev/null || apt_install python3 python3-venv
command -v node >/dev/null && command -v npm >/dev/null || apt_install nodejs npm
# libpq is built into the binary (pq-sys bundled): no libpq-dev needed.
have_pkg postgresql || apt_install postgresql
command -v chromium >/dev/null || apt_install chromium

# --- independent JWT verifiers
cd "$root/tests/interop"
if [ ! -x .venv/bin/python ]; then
  python3 -m venv .venv || { apt_install python3-venv && python3 -m venv .venv; }
fi
if ! cmp -s requirements.txt .venv/.installed-requirements; then
  .venv/bin/python -m pip install --quiet --disable-pip-version-check -r requirements.txt
  cp requirements.txt .venv/.installed-requirements
fi
if ! cmp -s package-lock.json node_modules/.installed-lock 2>/dev/null; then
  npm ci --no-audit --no-fund --loglevel=error
  cp package-lock.json node_modules/.installed-lock
fi

# --- browser test driver (Debian's Chromium; playwright never downloads a browser here)
cd "$root/tests/browser"
if ! cmp -s package-lock.json node_modules/.installed-lock 2>/dev/null; then
  npm ci --no-audit --no-fund --loglevel=error
  cp package-lock.json node_modules/.installed-lock
fi

# --- PostgreSQL: start the first cluster (creating one if none), and the test role
cluster=$(pg_lsclusters -h 2>/dev/null | awk 'NR==1 {print $1" "$2}')
if [ -z "$cluster" ]; then
  ver=$(ls /usr/lib/postgresql | sort -V | tail -1)
  as_root pg_createcluster "$ver" main >/dev/null
  cluster="$ver main"
fi
# shellcheck disable=SC2086
pg_lsclusters -h | awk 'NR==1 {print $4}' | grep -q online || as_root pg_ctlcluster $cluster start
port=$(pg_lsclusters -h | awk 'NR==1 {print $3}')
for _ in $(seq 50); do pg_isready -q -h 127.0.0.1 -p "$port" && break; sleep 0.2; done
psql_admin() { (cd / && as_root su postgres -c "psql -q -p $port -v ON_ERROR_STOP=1 -c \"$1\"") >/dev/null; }
# Every test server holds its own connection pool, and tests run in parallel: the default 100
# connections run out. Raise the limit once (takes a restart).
max_conn=$(cd / && as_root su postgres -c "psql -p $port -tAc 'SHOW max_connections'")
if [ "${max_conn:-0}" -lt 400 ]; then
  psql_admin "ALTER SYSTEM SET max_connections = 400"
  # shellcheck disable=SC2086
  as_root pg_ctlcluster $cluster restart
  for _ in $(seq 50); do pg_isready -q -h 127.0.0.1 -p "$port" && break; sleep 0.2; done
fi
if ! (cd / && as_root su postgres -c "psql -p $port -tAc \"SELECT 1 FROM pg_roles WHERE rolname='authify_test'\"") | grep -q 1; then
  psql_admin "CREATE ROLE authify_test LOGIN PASSWORD 'authify_test' CREATEDB"
fi
mkdir -p "$root/target"
echo "postgres://authify_test:authify_test@127.0.0.1:$port/postgres" > "$root/target/.test-postgres-url"

echo "setup: PyJWT $("$root/tests/interop/.venv/bin/python" -c 'import jwt; print(jwt.__version__)'), jose $(node -p 'require("'"$root"'/tests/interop/node_modules/jose/package.json").version'), playwright-core $(node -p 'require("'"$root"'/tests/browser/node_modules/playwright-core/package.json").version'), $(chromium --version 2>/dev/null | head -1), PostgreSQL on port $port"
