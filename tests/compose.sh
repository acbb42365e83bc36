#!/usr/bin/env bash
# docker-compose.yml for real: PostgreSQL, two Authify instances and the nginx load balancer, built
# from the Debian base image (no registry), then through the load balancer: sign up, sign in, the
# session on /account; stop authify-a; the same session and a fresh sign-in still work.
#
# Run as root on Debian 12 after `cargo build --release --locked -p authify-server`:
#   bash tests/compose.sh
# Installs docker.io, docker-compose and debootstrap when missing, starts dockerd when it is not
# running, builds authify-base:bookworm once (docker/base-image.sh, a few minutes). Idempotent:
# the project `authify-ci` (containers, network, volumes) is removed at the start and at exit; the
# images are kept, so a second run rebuilds from cache. Every step is bounded by `timeout`.
#   AUTHIFY_LB_PORT=8080            host port of the load balancer (127.0.0.1)
#   AUTHIFY_COMPOSE_CLIENT=curl     use curl even when tests/interop/.venv has requests
set -euo pipefail
cd "$(dirname "$0")/.."

PROJECT=authify-ci
export AUTHIFY_LB_PORT=${AUTHIFY_LB_PORT:-8080}
LB="http://127.0.0.1:$AUTHIFY_LB_PORT"
PY=tests/interop/.venv/bin/python
PASSWORD="compose test passphrase"
WORK=$(mktemp -d)

# ---- phases and their timings ------------------------------------------------------------------
PHASE="" PHASE_T0=0 START=$(date +%s)
TIMINGS=()
phase() {
    local now
    now=$(date +%s)
    [ -z "$PHASE" ] || TIMINGS+=("$(printf '%5d s  %s' $((now - PHASE_T0)) "$PHASE")")
    PHASE=$1 PHASE_T0=$now
    [ -z "$PHASE" ] || echo "== $PHASE"
}
fail() {
    echo "tests/compose.sh: FAIL${PHASE:+ ($PHASE)}: $*" >&2
    exit 1
}
# Builds through docker-py, not the docker CLI: the same on every machine whatever CLI is there.
export COMPOSE_DOCKER_CLI_BUILD=0
COMPOSE=(docker-compose -p "$PROJECT" -f docker-compose.yml)
compose() { "${COMPOSE[@]}" "$@"; }

STARTED=0
cleanup() {
    local rc=$?
    trap - EXIT INT TERM
    if [ "$STARTED" = 1 ]; then
        if [ "$rc" != 0 ]; then
            echo "== state at failure" >&2
            compose ps >&2 || true
            compose logs --no-color --tail=40 >&2 || true
        fi
        phase "down -v"
        timeout 120 "${COMPOSE[@]}" down -v --remove-orphans -t 10 \
            >/dev/null 2>&1 || echo "tests/compose.sh: docker-compose down -v failed" >&2
    fi
    phase ""
    rm -rf "$WORK"
    echo "== timings"
    printf '%s\n' "${TIMINGS[@]}"
    printf '%5d s  total\n' $(($(date +%s) - START))
    if [ "$rc" = 0 ]; then echo "tests/compose.sh: OK"; else echo "tests/compose.sh: FAILED (exit $rc)" >&2; fi
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# ---- the machine ---------------------------------------------------------------------------------
[ -x target/release/authify ] || fail "target/release/authify is missing: build it first (cargo build --release --locked -p authify-server)"

phase "tools (docker.io, docker-compose, debootstrap, curl)"
missing=()
command -v dockerd >/dev/null || missing+=(docker.io)
command -v docker-compose >/dev/null || missing+=(docker-compose)
command -v debootstrap >/dev/null || missing+=(debootstrap)
command -v curl >/dev/null || missing+=(curl)
if [ ${#missing[@]} -gt 0 ]; then
    [ "$(id -u)" = 0 ] || fail "needs root to install ${missing[*]}"
    echo "installing ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    timeout 300 apt-get update -qq || fail "apt-get update"
    timeout 600 apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null \
        || fail "apt-get install ${missing[*]}"
fi

phase "dockerd"
if ! docker info >/dev/null 2>&1; then
    if ! pgrep -x dockerd >/dev/null; then
        [ "$(id -u)" = 0 ] || fail "dockerd is not running and only root can start it"
        echo "starting dockerd (log: /var/log/dockerd.log)"
        nohup dockerd >/var/log/dockerd.log 2>&1 &
        disown
    fi
    for _ in $(seq 1 60); do
        docker info >/dev/null 2>&1 && break
        sleep 1
    done
    docker info >/dev/null 2>&1 || { tail -n 20 /var/log/dockerd.log >&2 || true; fail "dockerd did not answer within 60 s"; }
fi

phase "base image authify-base:bookworm"
timeout 1200 bash docker/base-image.sh || fail "docker/base-image.sh"

# ---- the stack -----------------------------------------------------------------------------------
phase "clean leftovers of an earlier run"
STARTED=1
timeout 120 "${COMPOSE[@]}" down -v --remove-orphans -t 10 >/dev/null 2>&1 || true

phase "docker-compose build"
timeout 900 "${COMPOSE[@]}" build -q || fail "docker-compose build"

phase "docker-compose up -d (postgres, authify-a, authify-b, lb: each healthy in turn)"
timeout 300 "${COMPOSE[@]}" up -d || fail "docker-compose up -d"

phase "load balancer answers /ready"
ok=0
for _ in $(seq 1 60); do
    if curl -fsS -m 5 -o /dev/null "$LB/ready" 2>/dev/null; then ok=1; break; fi
    sleep 1
done
[ "$ok" = 1 ] || fail "$LB/ready did not answer 200 within 60 s"

phase "containers: init, non-root, healthy"
for svc in postgres authify-a authify-b lb; do
    id=$(compose ps -q "$svc")
    [ -n "$id" ] || fail "$svc has no container"
    [ "$(docker inspect -f '{{.HostConfig.Init}}' "$id")" = true ] || fail "$svc: init is not set"
    for _ in $(seq 1 30); do
        health=$(docker inspect -f '{{.State.Health.Status}}' "$id")
        [ "$health" = starting ] || break
        sleep 1
    done
    [ "$health" = healthy ] || fail "$svc is $health, not healthy"
    # PID 1 is docker-init; every other process (the service) runs as a non-root user.
    procs=$(docker exec "$id" sh -c 'for p in /proc/[0-9]*; do [ -r $p/comm ] && echo "${p#/proc/} $(stat -c %u $p) $(cat $p/comm)"; done 2>/dev/null; true') \
        || fail "docker exec in $svc"
    [ "$(awk '$1 == 1 { print $3 }' <<<"$procs")" = docker-init ] || fail "$svc: PID 1 is not docker-init: $procs"
    root=$(awk '$1 != 1 && $2 == 0 && $3 != "sh" && $3 != "stat" && $3 != "cat"' <<<"$procs")
    [ -z "$root" ] || fail "$svc: processes running as root: $root"
    main=$(awk '$1 != 1 && $3 != "sh" && $3 != "stat" && $3 != "cat"' <<<"$procs" | sort -n | head -n 1)
    echo "$svc: healthy; PID 1 docker-init; ${main##* } as uid $(awk '{ print $2 }' <<<"$main")"
done

# ---- the client ----------------------------------------------------------------------------------
# client signup EMAIL | client signin EMAIL JAR | client account EMAIL JAR
# JAR is a Netscape cookie file (curl's format, also http.cookiejar.MozillaCookieJar's).
if [ "${AUTHIFY_COMPOSE_CLIENT:-}" != curl ] && [ -x "$PY" ] && "$PY" -c 'import requests' 2>/dev/null; then
    CLIENT=python
else
    CLIENT=curl
fi
echo "HTTP client: $CLIENT"

client_python() {
    "$PY" -B - "$LB" "$PASSWORD" "$@" <<'PY'
import http.cookiejar
import sys

sys.path.insert(0, "tests/failure")
import requests
from harness import csrf, excerpt, post_sign_in, sign_in_form, sign_up, signed_in

base, password, op, email = sys.argv[1:5]
if op == "signup":
    r = sign_up(base, email, password, timeout=30)
    if not signed_in(r):
        sys.exit(f"POST /signup -> {r.status_code} {r.headers.get('location')}: {excerpt(r.text)}")
elif op == "signin":
    s, page = sign_in_form(base, timeout=30)
    r = post_sign_in(s, base, page, email, password, timeout=30)
    if not signed_in(r):
        sys.exit(f"POST /login -> {r.status_code} {r.headers.get('location')}: {excerpt(r.text)}")
    jar = http.cookiejar.MozillaCookieJar(sys.argv[5])
    for c in s.cookies:
        jar.set_cookie(c)
    jar.save(ignore_discard=True, ignore_expires=True)
elif op == "account":
    jar = http.cookiejar.MozillaCookieJar(sys.argv[5])
    jar.load(ignore_discard=True, ignore_expires=True)
    s = requests.Session()
    s.cookies = jar
    r = s.get(f"{base}/account", allow_redirects=False, timeout=30)
    if r.status_code != 200 or email not in r.text:
        sys.exit(f"GET /account -> {r.status_code} {r.headers.get('location')}: {excerpt(r.text)}")
PY
}

CURL_EXTRA=()
# POST form $1 (path) with the CSRF token of the page GET before, cookies in $2; prints
# "STATUS LOCATION". The remaining arguments are name=value fields.
curl_form() {
    local path=$1 jar=$2 page token
    shift 2
    page=$(curl -fsS -m 30 "${CURL_EXTRA[@]}" -b "$jar" -c "$jar" "$LB$path") || { echo "GET $path failed"; return 1; }
    token=$(sed -n 's/.*name="csrf_token" value="\([^"]*\)".*/\1/p' <<<"$page" | head -n 1)
    [ -n "$token" ] || { echo "GET $path: no csrf_token"; return 1; }
    local args=(--data-urlencode "csrf_token=$token")
    for f in "$@"; do args+=(--data-urlencode "$f"); done
    curl -sS -m 30 "${CURL_EXTRA[@]}" -b "$jar" -c "$jar" -o /dev/null -w '%{http_code} %{redirect_url}' "${args[@]}" "$LB$path"
}
client_curl() {
    local op=$1 email=$2 jar=${3:-} out
    case $op in
        signup)
            out=$(curl_form /signup "$WORK/signup.jar" "name=Compose Test" "email=$email" "password=$PASSWORD") || { echo "$out" >&2; return 1; }
            [[ $out == "303 "*/account ]] || { echo "POST /signup -> $out" >&2; return 1; } ;;
        signin)
            rm -f "$jar"
            out=$(curl_form /login "$jar" "email=$email" "password=$PASSWORD") || { echo "$out" >&2; return 1; }
            [[ $out == "303 "*/account ]] || { echo "POST /login -> $out" >&2; return 1; } ;;
        account)
            out=$(curl -sS -m 30 -b "$jar" -w '\n%{http_code}' "$LB/account") || return 1
            [ "${out##*$'\n'}" = 200 ] && grep -qF "$email" <<<"$out" \
                || { echo "GET /account -> ${out##*$'\n'}" >&2; return 1; } ;;
    esac
}
client() { "client_$CLIENT" "$@"; }

# ---- the scenario --------------------------------------------------------------------------------
EMAIL="compose-$(date +%s)-$RANDOM@example.com"
JAR="$WORK/session.jar"

phase "sign up, sign in, /account through the load balancer (both instances)"
client signup "$EMAIL" || fail "sign-up of $EMAIL"
client signin "$EMAIL" "$JAR" || fail "sign-in of $EMAIL"
# Four requests: round robin sends two to each instance, so each one knows the session.
for i in 1 2 3 4; do client account "$EMAIL" "$JAR" || fail "GET /account #$i with the session"; done
kids=$(for _ in 1 2 3 4; do curl -fsS -m 5 "$LB/ready"; echo; done | sed -n 's/.*"signing_key":"\([^"]*\)".*/\1/p' | sort -u | wc -l) || kids="?"
echo "signed up $EMAIL; session good on /account x4; /ready shows $kids signing key(s) across the instances"
# Keys live in the database: both instances sign with the same one.
[ "$kids" = 1 ] || fail "the instances sign with $kids different keys (expected 1, shared through the database)"

phase "a client's own X-Forwarded-For is not believed"
# Authify trusts the load balancer's address only; the session list on /account shows the client
# address each session was opened from.
CURL_EXTRA=(-H "X-Forwarded-For: 203.0.113.9")
out=$(curl_form /login "$WORK/xff.jar" "email=$EMAIL" "password=$PASSWORD") || fail "$out"
CURL_EXTRA=()
[[ $out == "303 "*/account ]] || fail "POST /login with X-Forwarded-For -> $out"
page=$(curl -fsS -m 30 -b "$WORK/xff.jar" "$LB/account") || fail "GET /account"
! grep -qF 203.0.113.9 <<<"$page" || fail "a sign-in was recorded from the forged X-Forwarded-For 203.0.113.9"
echo "client addresses on /account: $(grep -oE '([0-9]{1,3}\.){3}[0-9]{1,3}' <<<"$page" | sort -u | tr '\n' ' ')"

phase "docker-compose stop authify-a"
timeout 60 "${COMPOSE[@]}" stop -t 10 authify-a >/dev/null 2>&1 || fail "docker-compose stop authify-a"

phase "with authify-a stopped: the same session, a fresh sign-in"
t0=$(date +%s%N)
client account "$EMAIL" "$JAR" || fail "GET /account with the session after stopping authify-a"
echo "first request after the stop: $(( ($(date +%s%N) - t0) / 1000000 )) ms"
for i in 1 2 3; do client account "$EMAIL" "$JAR" || fail "GET /account #$i after stopping authify-a"; done
client signin "$EMAIL" "$WORK/fresh.jar" || fail "fresh sign-in after stopping authify-a"
client account "$EMAIL" "$WORK/fresh.jar" || fail "GET /account with the fresh session"

phase "restart lb while authify-a is down"
timeout 60 "${COMPOSE[@]}" restart -t 10 lb >/dev/null 2>&1 || fail "docker-compose restart lb"
ok=0
for _ in $(seq 1 30); do
    if curl -fsS -m 5 -o /dev/null "$LB/ready" 2>/dev/null; then ok=1; break; fi
    sleep 1
done
[ "$ok" = 1 ] || fail "the load balancer did not come back without authify-a"
client account "$EMAIL" "$JAR" || fail "GET /account after restarting lb"
echo "lb restarted and serves through authify-b"
