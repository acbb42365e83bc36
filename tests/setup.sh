#!/usr/bin/env bash
# Installs what the test suite needs beyond cargo, idempotently: the independent JWT verifiers
# (PyJWT in a venv, node jose) under tests/interop/. Safe to run again; fast when nothing changed.
set -euo pipefail
cd "$(dirname "$0")/interop"

as_root() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }
apt_install() {
  echo "setup: installing $* from Debian"
  as_root apt-get update -qq
  DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq "$@" >/dev/null
}

command -v python3 >/dev/null || apt_install python3 python3-venv
command -v node >/dev/null && command -v npm >/dev/null || apt_install nodejs npm

# PyJWT + cryptography, pinned in requirements.txt.
if [ ! -x .venv/bin/python ]; then
  python3 -m venv .venv || { apt_install python3-venv && python3 -m venv .venv; }
fi
if ! cmp -s requirements.txt .venv/.installed-requirements; then
  .venv/bin/python -m pip install --quiet --disable-pip-version-check -r requirements.txt
  cp requirements.txt .venv/.installed-requirements
fi

# jose, pinned in package-lock.json.
if ! cmp -s package-lock.json node_modules/.installed-lock 2>/dev/null; then
  npm ci --no-audit --no-fund --loglevel=error
  cp package-lock.json node_modules/.installed-lock
fi
echo "setup: PyJWT $(.venv/bin/python -c 'import jwt; print(jwt.__version__)'), jose $(node -p 'require("./node_modules/jose/package.json").version')"
