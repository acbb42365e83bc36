"""Two `authify serve` processes on one PostgreSQL database, the test alternating between them.

usage: tests/interop/.venv/bin/python tests/failure/two_instances.py BINARY ADMIN_URL [--keep]

Both instances run with keys in the database (AUTHIFY_KEYS_DIR unset), one master key, and a
key refresh every second. Checks, each through real HTTP on loopback and PyJWT as the relying
party:
- both publish the same JWKS; a token signed by one verifies with the JWKS of the other;
- a session made on one works on the other;
- the per-account sign-in budget counts attempts made on both (6 per minute in all, not 6 each);
- `authify keys rotate --now`, run as a third process, is served and used for signing by both
  within the refresh interval, and a token of the old key still verifies.
Exits 1 on a failed expectation; the PostgreSQL database is dropped at the end.
"""

import argparse
import base64
import json
import os
import subprocess
import sys
import time

import requests

import harness
from harness import log

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "interop"))
from verify_authify import AuthifyVerifier  # noqa: E402  (PyJWT, as a relying app uses it)

CALLBACK = "http://127.0.0.1:9/cb"
MASTER_KEY = base64.b64encode(os.urandom(32)).decode()


def jwks(server: harness.Server) -> tuple[list[str], str]:
    r = requests.get(f"{server.base}/.well-known/jwks.json", timeout=harness.HTTP_TIMEOUT)
    r.raise_for_status()
    return sorted(k["kid"] for k in r.json()["keys"]), r.headers.get("etag", "")


def header_kid(token: str) -> str:
    head = token.split(".")[0]
    return json.loads(base64.urlsafe_b64decode(head + "=" * (-len(head) % 4)))["kid"]


def claims_aud(token: str) -> str:
    body = token.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))["aud"]


def sso_token(session: requests.Session, server: harness.Server) -> str:
    """A single sign-on redirect of a signed-in browser: the token in the callback URL."""
    cb = base64.b64encode(CALLBACK.encode()).decode()
    # A fresh connection each time: a kept-alive one may be closing just as it is reused.
    r = session.get(f"{server.base}/login", params={"callback": cb}, headers={"Connection": "close"}, allow_redirects=False, timeout=harness.HTTP_TIMEOUT)
    location = r.headers.get("location", "")
    if r.status_code != 303 or "jwt=" not in location:
        raise RuntimeError(f"SSO on {server.base}: {r.status_code} {location[:80]}")
    return location.split("jwt=", 1)[1].split("&", 1)[0]


def verifies(server: harness.Server, token: str) -> str:
    """'' when PyJWT accepts `token` with the JWKS of `server`, else the reason."""
    try:
        AuthifyVerifier(server.base, claims_aud(token)).verify(token)
        return ""
    except Exception as e:  # noqa: BLE001 (any refusal is the answer)
        return f"{type(e).__name__}: {e}"


def cli(server: harness.Server, *args: str) -> str:
    out = subprocess.run([server.binary, *args], env=server.env(), cwd=server.workdir, capture_output=True, text=True, timeout=60)
    if out.returncode != 0:
        raise RuntimeError(f"authify {' '.join(args)}: {out.stderr.strip()}")
    return out.stdout.strip()


def main() -> int:
    started = time.monotonic()
    harness.on_sigterm_exit()
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("binary")
    ap.add_argument("admin_url")
    ap.add_argument("--keep", action="store_true")
    args = ap.parse_args()
    checks = harness.Checks()
    db_name = None
    servers: list[harness.Server] = []
    workdirs: list[str] = []
    try:
        db_name, db_url = harness.create_database(args.admin_url, "authify_two")
        env = {
            "AUTHIFY_KEYS_DIR": None,  # keys in the database
            "AUTHIFY_MASTER_KEY": MASTER_KEY,
            "AUTHIFY_KEY_REFRESH_SECONDS": "1",
            # Behind a load balancer both would share the public URL; here each has its own port,
            # so the issuer is set to one name for both.
            "AUTHIFY_JWT_ISSUER": "https://authify.two-instances.test",
            "AUTHIFY_SIGNIN_ATTEMPTS_PER_MINUTE": "6",
            # Cheap hashes: the throttle check counts attempts in time, so they must be quick.
            "AUTHIFY_ARGON2_MEMORY_KIB": "1024",
            "AUTHIFY_ARGON2_ITERATIONS": "1",
        }
        for name in ("a", "b"):
            workdir = harness.make_workdir(f"two-{name}")
            workdirs.append(workdir)
            server = harness.Server(args.binary, workdir, db_url=db_url, extra_env=env)
            server.start()
            servers.append(server)
        a, b = servers
        log(f"instances: {a.base} and {b.base} on one database")

        (kids_a, etag_a), (kids_b, etag_b) = jwks(a), jwks(b)
        checks.check(kids_a == kids_b and etag_a == etag_b, "both instances publish the same JWKS", f"{len(kids_a)} keys")

        cli(a, "apps", "create", "--name", "Two", "--callback", CALLBACK)
        checks.check(harness.sign_up(a.base, "ann@example.com").status_code == 303, "sign-up on instance A")
        session, page = harness.sign_in_form(a.base)
        checks.check(harness.signed_in(harness.post_sign_in(session, a.base, page, "ann@example.com")), "sign-in on instance A")
        account = session.get(f"{b.base}/account", headers={"Connection": "close"}, allow_redirects=False, timeout=harness.HTTP_TIMEOUT)
        checks.check(account.status_code == 200 and "ann@example.com" in account.text, "the session made on A works on B", str(account.status_code))

        token_a, token_b = sso_token(session, a), sso_token(session, b)
        checks.check(verifies(b, token_a) == "", "a token signed by A verifies with B's JWKS (PyJWT)", verifies(b, token_a))
        checks.check(verifies(a, token_b) == "", "a token signed by B verifies with A's JWKS (PyJWT)", verifies(a, token_b))

        # Six guesses per minute for the account (one more every 10 s), counted on both
        # instances together: separate budgets would let 12 through.
        harness.sign_up(a.base, "bob@example.com")
        answers = []
        t0 = time.monotonic()
        for i in range(12):
            server = servers[i % 2]
            answers.append(harness.sign_in(server.base, "bob@example.com", "wrong password").status_code)
        refills = int((time.monotonic() - t0) / 10)
        allowed = answers.count(401)
        checks.check(
            allowed <= 6 + refills and answers.count(429) == 12 - allowed and allowed < 12,
            "the account's budget holds across instances (6 in all, plus refills)",
            f"{answers}, {refills} refill(s) in {time.monotonic() - t0:.1f} s",
        )

        old_kid = header_kid(token_a)
        new_kid = cli(a, "keys", "rotate", "--now")
        t0 = time.monotonic()
        served = False
        while time.monotonic() - t0 < 10:
            if all(new_kid in jwks(s)[0] for s in servers):
                served = True
                break
            time.sleep(0.2)
        took = time.monotonic() - t0
        checks.check(served, "a forced rotation is served by both instances within the refresh interval", f"{took:.1f} s (interval 1 s)")
        time.sleep(0.5)
        kids = {header_kid(sso_token(session, s)) for s in servers}
        checks.check(kids == {new_kid}, "both instances sign with the new key", str(kids))
        checks.check(old_kid in jwks(b)[0] and verifies(b, token_a) == "", "a token of the old key still verifies", old_kid)
        for s in servers:
            s.report_logs()
    except Exception as e:  # noqa: BLE001
        checks.check(False, "the test ran to its end", f"{type(e).__name__}: {e}")
        for s in servers:
            log(s.tail(20))
    finally:
        for s in servers:
            s.stop()
        if db_name:
            harness.drop_database(args.admin_url, db_name)
        for w in workdirs:
            harness.remove_workdir(w, args.keep)
    return checks.exit_code("two instances", started)


if __name__ == "__main__":
    sys.exit(main())
