"""What a passkey costs next to a password, measured over HTTP on a server.

usage: tests/interop/.venv/bin/python tests/load/passkeys.py BASE_URL [N]
       tests/interop/.venv/bin/python tests/load/passkeys.py --spawn target/release/authify [--pin] [N]
  BASE_URL must be http://localhost:PORT (WebAuthn needs a domain name, not an IP address), a
  server started with that AUTHIFY_PUBLIC_URL and AUTHIFY_SIGNIN_ATTEMPTS_PER_MINUTE=0.
  With --spawn, the script starts `BINARY serve` itself on a free loopback port with a fresh
  SQLite database, keys, master key and mail folder in a temporary directory, and stops it at
  the end; its log goes to a file whose path is printed. --pin runs it under `taskset -c 1`
  (the client is not pinned).

Signs up N users (default 100) through the pages, then, sequentially, each in a fresh cookie
jar: (1) signs in with the password (POST /login, argon2id; no user has a factor yet);
(2) registers a passkey from the signed-in session (POST /webauthn/register/options, which
re-checks the password with argon2id, then POST /webauthn/register/finish); (3) signs in with
the passkey from a new browser (POST /webauthn/login/options, then POST /webauthn/login/finish).
The passkey is a software authenticator here: an ES256 key, "none" attestation, user present
and verified, a resident credential (it returns the user handle) and a counter that goes up
with each use. Times are of the HTTP requests only, not of the authenticator's signing.
Prints the median and p95 of each step in milliseconds, with the machine and the commit.

Checks as it measures: each finish answers 200 with a location, the session cookie it sets
opens GET /account naming the user. Prints the count of failures and exits 1 if any.
Sequential on purpose: this is the latency a user sees, not throughput (docs/performance.md).
Needs fido2 (for CBOR) in the venv, see tests/interop/requirements.txt.
"""

import argparse
import base64
import hashlib
import json
import os
import re
import secrets
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from urllib.parse import urlsplit

import requests
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from fido2 import cbor

PASSWORD = "correct horse battery staple"
FORM_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
LOGIN_CSRF = re.compile(r'data-passkey-login[^>]*data-csrf="([^"]+)"')
REGISTER_CSRF = re.compile(r'id="passkey-register"[^>]*data-csrf="([^"]+)"')
SESSION_COOKIE = "authify_session"

# Authenticator data flags (W3C WebAuthn §6.1).
UP, UV, AT = 0x01, 0x04, 0x40
ES256 = -7


class Failure(Exception):
    """A step that did not do what the server's contract says."""


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def unb64url(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def unescape(s: str) -> str:
    return s.replace("&amp;", "&").replace("&#x3D;", "=").replace("&#x2F;", "/")


def token(pattern: re.Pattern, html: str, where: str) -> str:
    m = pattern.search(html)
    if not m:
        raise Failure(f"no CSRF token on {where}")
    return unescape(m.group(1))


class Passkey:
    """One resident credential of a software authenticator: user present and verified."""

    def __init__(self, rp_id: str, user_handle: bytes):
        self.rp_id = rp_id
        self.user_handle = user_handle
        self.credential_id = secrets.token_bytes(32)
        self.key = ec.generate_private_key(ec.SECP256R1())
        self.counter = 0

    def _auth_data(self, flags: int, attested: bytes = b"") -> bytes:
        self.counter += 1
        return hashlib.sha256(self.rp_id.encode()).digest() + bytes([flags]) + self.counter.to_bytes(4, "big") + attested

    def _cose_key(self) -> bytes:
        numbers = self.key.public_key().public_numbers()
        return cbor.encode({1: 2, 3: ES256, -1: 1, -2: numbers.x.to_bytes(32, "big"), -3: numbers.y.to_bytes(32, "big")})

    def _credential(self, response: dict) -> dict:
        cid = b64url(self.credential_id)
        return {"id": cid, "rawId": cid, "type": "public-key", "response": response, "extensions": {}}

    @classmethod
    def create(cls, options: dict, origin: str) -> tuple["Passkey", dict]:
        """navigator.credentials.create(): the new passkey and the credential to post."""
        pk = options["publicKey"]
        if ES256 not in [p.get("alg") for p in pk.get("pubKeyCredParams", [])]:
            raise Failure(f"ES256 not offered: {pk.get('pubKeyCredParams')}")
        passkey = cls(pk["rp"]["id"], unb64url(pk["user"]["id"]))
        client_data = client_data_json("webauthn.create", pk["challenge"], origin)
        attested = bytes(16) + len(passkey.credential_id).to_bytes(2, "big") + passkey.credential_id + passkey._cose_key()
        auth_data = passkey._auth_data(UP | UV | AT, attested)
        attestation = cbor.encode({"fmt": "none", "attStmt": {}, "authData": auth_data})
        return passkey, passkey._credential({"attestationObject": b64url(attestation), "clientDataJSON": b64url(client_data)})

    def get(self, options: dict, origin: str) -> dict:
        """navigator.credentials.get() with this passkey: the assertion to post."""
        pk = options["publicKey"]
        if pk.get("rpId") != self.rp_id:
            raise Failure(f"assertion for rpId {pk.get('rpId')!r}, passkey of {self.rp_id!r}")
        allowed = [unb64url(c["id"]) for c in pk.get("allowCredentials") or []]
        if allowed and self.credential_id not in allowed:
            raise Failure("the passkey is not among allowCredentials")
        client_data = client_data_json("webauthn.get", pk["challenge"], origin)
        auth_data = self._auth_data(UP | UV)
        signature = self.key.sign(auth_data + hashlib.sha256(client_data).digest(), ec.ECDSA(hashes.SHA256()))
        return self._credential({
            "authenticatorData": b64url(auth_data),
            "clientDataJSON": b64url(client_data),
            "signature": b64url(signature),
            "userHandle": b64url(self.user_handle),
        })


def client_data_json(kind: str, challenge: str, origin: str) -> bytes:
    return json.dumps({"type": kind, "challenge": challenge, "origin": origin, "crossOrigin": False}, separators=(",", ":")).encode()


class User:
    def __init__(self, base: str, i: int):
        self.base = base
        self.email = f"p{i}-{int(time.time())}@load.test"
        self.session = None
        self.passkey = None

    def json_post(self, s: requests.Session, path: str, csrf: str, body: dict) -> tuple[requests.Response, float]:
        t0 = time.perf_counter()
        r = s.post(f"{self.base}{path}", json=body, headers={"X-CSRF-Token": csrf, "Origin": self.base}, allow_redirects=False)
        return r, (time.perf_counter() - t0) * 1000

    def check_account(self, s: requests.Session, what: str):
        if not s.cookies.get(SESSION_COOKIE):
            raise Failure(f"{what}: no {SESSION_COOKIE} cookie")
        r = s.get(f"{self.base}/account", allow_redirects=False)
        if r.status_code != 200 or self.email not in r.text:
            raise Failure(f"{what}: GET /account {r.status_code}, user named: {self.email in r.text}")

    def sign_up(self) -> bool:
        s = requests.Session()
        page = s.get(f"{self.base}/signup").text
        r = s.post(f"{self.base}/signup", data={"csrf_token": token(FORM_CSRF, page, "/signup"), "name": "Load", "email": self.email, "password": PASSWORD}, allow_redirects=False)
        if r.status_code != 303:
            raise Failure(f"POST /signup {r.status_code}")
        return True

    def password_sign_in(self) -> float:
        s = requests.Session()
        page = s.get(f"{self.base}/login").text
        t0 = time.perf_counter()
        r = s.post(f"{self.base}/login", data={"csrf_token": token(FORM_CSRF, page, "/login"), "email": self.email, "password": PASSWORD}, allow_redirects=False)
        ms = (time.perf_counter() - t0) * 1000
        if r.status_code != 303 or r.headers.get("location") != "/account":
            raise Failure(f"POST /login {r.status_code} to {r.headers.get('location')}")
        self.check_account(s, "password sign-in")
        self.session = s
        return ms

    def register(self) -> tuple[float, float]:
        s = self.session
        csrf = token(REGISTER_CSRF, s.get(f"{self.base}/account").text, "/account")
        r, options_ms = self.json_post(s, "/webauthn/register/options", csrf, {"name": "Load laptop", "password": PASSWORD})
        if r.status_code != 200:
            raise Failure(f"register/options {r.status_code}: {r.text[:200]}")
        options = r.json()
        rp_id = urlsplit(self.base).hostname
        if options["publicKey"]["rp"]["id"] != rp_id:
            raise Failure(f"register/options: rp.id {options['publicKey']['rp']['id']!r}, expected {rp_id!r}")
        passkey, credential = Passkey.create(options, self.base)
        r, finish_ms = self.json_post(s, "/webauthn/register/finish", csrf, credential)
        if r.status_code != 200 or not r.json().get("location"):
            raise Failure(f"register/finish {r.status_code}: {r.text[:200]}")
        if not r.json().get("recovery_codes"):
            raise Failure("register/finish: no recovery codes with the account's first factor")
        self.passkey = passkey
        return options_ms, finish_ms

    def passkey_sign_in(self) -> tuple[float, float]:
        s = requests.Session()
        csrf = token(LOGIN_CSRF, s.get(f"{self.base}/login").text, "/login (passkey sign-in)")
        r, options_ms = self.json_post(s, "/webauthn/login/options", csrf, {})
        if r.status_code != 200:
            raise Failure(f"login/options {r.status_code}: {r.text[:200]}")
        options = r.json()
        uv = options["publicKey"].get("userVerification")
        if uv != "required":
            raise Failure(f"login/options: userVerification {uv!r}")
        assertion = self.passkey.get(options, self.base)
        r, finish_ms = self.json_post(s, "/webauthn/login/finish", csrf, assertion)
        if r.status_code != 200 or r.json().get("location") != "/account":
            raise Failure(f"login/finish {r.status_code}: {r.text[:200]}")
        self.check_account(s, "passkey sign-in")
        return options_ms, finish_ms


def pct(xs, p):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(round(p / 100 * (len(xs) - 1))))]


def run(cmd, cwd=None) -> str:
    try:
        return subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "?"


def machine() -> str:
    model = "?"
    try:
        with open("/proc/cpuinfo") as f:
            model = next((line.split(":", 1)[1].strip() for line in f if line.startswith("model name")), "?")
    except OSError:
        pass
    return f"{run(['nproc'])} CPUs (nproc), {model}"


def commit() -> str:
    repo = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    head = run(["git", "rev-parse", "--short", "HEAD"], cwd=repo)
    dirty = subprocess.run(["git", "diff", "--quiet", "HEAD"], cwd=repo).returncode != 0
    return head + (" (with uncommitted changes)" if dirty else "")


class Server:
    """`BINARY serve` on a free loopback port, everything it writes in a temporary directory."""

    def __init__(self, binary: str, pin: bool):
        self.dir = tempfile.TemporaryDirectory(prefix="authify-passkeys-")
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            port = sock.getsockname()[1]
        self.base = f"http://localhost:{port}"
        d = self.dir.name
        for sub in ("keys", "mail"):
            os.mkdir(os.path.join(d, sub), 0o700)
        env = {k: v for k, v in os.environ.items() if not k.startswith("AUTHIFY_") and k != "DATABASE_URL"}
        env.update({
            "AUTHIFY_BIND": f"127.0.0.1:{port}",
            "AUTHIFY_PUBLIC_URL": self.base,
            "AUTHIFY_DB_URL": f"sqlite://{d}/authify.db",
            "AUTHIFY_KEYS_DIR": f"{d}/keys",
            "AUTHIFY_MASTER_KEY_FILE": f"{d}/master.key",
            "AUTHIFY_MAIL_DIR": f"{d}/mail",
            "AUTHIFY_SIGNIN_ATTEMPTS_PER_MINUTE": "0",
            "AUTHIFY_FLOWS_PER_ADDRESS": "0",
            "AUTHIFY_FLOWS_PER_ADDRESS_PER_MINUTE": "0",
        })
        cmd = [os.path.abspath(binary), "serve"]
        if pin:
            if not shutil.which("taskset"):
                raise SystemExit("--pin needs taskset (util-linux)")
            cmd = ["taskset", "-c", "1"] + cmd
        self.log_path = tempfile.mkstemp(prefix="authify-passkeys-", suffix=".log")[1]
        self.log = open(self.log_path, "w")
        # cwd: the temporary directory, so no ./authify.toml is picked up.
        self.proc = subprocess.Popen(cmd, cwd=d, env=env, stdout=self.log, stderr=subprocess.STDOUT)
        self.pinned = pin
        deadline = time.monotonic() + 60
        while True:
            if self.proc.poll() is not None:
                self.stop()
                raise SystemExit(f"the server exited with {self.proc.returncode}; log: {self.log_path}")
            try:
                if requests.get(f"{self.base}/ready", timeout=1).status_code == 200:
                    return
            except requests.RequestException:
                pass
            if time.monotonic() > deadline:
                self.stop()
                raise SystemExit(f"the server was not ready within 60 s; log: {self.log_path}")
            time.sleep(0.1)

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()
        self.dir.cleanup()


def measure(base: str, n: int) -> tuple[dict, list]:
    steps = {k: [] for k in ("password", "reg_options", "reg_finish", "reg_both", "pk_options", "pk_finish", "pk_both")}
    failures = []
    users = []

    def attempt(what, user, fn):
        try:
            return fn()
        except (Failure, requests.RequestException, KeyError, TypeError, ValueError) as e:
            failures.append(f"{what} {user.email}: {type(e).__name__}: {e}")
            return None

    for i in range(n):
        user = User(base, i)
        if attempt("sign-up", user, user.sign_up):
            users.append(user)
    for user in users:
        ms = attempt("password sign-in", user, user.password_sign_in)
        if ms is not None:
            steps["password"].append(ms)
    for user in users:
        if user.session is None:
            continue
        ms = attempt("registration", user, user.register)
        if ms is not None:
            steps["reg_options"].append(ms[0])
            steps["reg_finish"].append(ms[1])
            steps["reg_both"].append(ms[0] + ms[1])
    for user in users:
        if user.passkey is None:
            continue
        ms = attempt("passkey sign-in", user, user.passkey_sign_in)
        if ms is not None:
            steps["pk_options"].append(ms[0])
            steps["pk_finish"].append(ms[1])
            steps["pk_both"].append(ms[0] + ms[1])
    return steps, failures


def main() -> int:
    parser = argparse.ArgumentParser(description="Passkey and password sign-in latency over HTTP.", usage=__doc__.split("\n\n")[1])
    parser.add_argument("args", nargs="*", help="BASE_URL [N], or with --spawn just [N]")
    parser.add_argument("--spawn", metavar="BINARY", help="start BINARY serve on a free port for the run")
    parser.add_argument("--pin", action="store_true", help="with --spawn: run the server under taskset -c 1")
    opts = parser.parse_args()
    args = list(opts.args)
    if opts.spawn:
        if len(args) > 1:
            parser.error("with --spawn, only N")
        base = None
    else:
        if not args:
            parser.error("BASE_URL or --spawn BINARY")
        base = args.pop(0).rstrip("/")
        if urlsplit(base).scheme != "http" or urlsplit(base).hostname != "localhost":
            parser.error("BASE_URL must be http://localhost:PORT")
    if opts.pin and not opts.spawn:
        parser.error("--pin needs --spawn")
    n = int(args[0]) if args else 100

    server = Server(opts.spawn, opts.pin) if opts.spawn else None
    try:
        base = server.base if server else base
        steps, failures = measure(base, n)
    finally:
        if server:
            server.stop()

    print(f"machine: {machine()}")
    print(f"commit: {commit()}")
    if server:
        print(f"server: {opts.spawn} serve at {base}{', pinned to CPU 1' if server.pinned else ''}, SQLite; log {server.log_path}")
    else:
        print(f"server: {base}")
    print(f"users: {n}, sequential")
    print()
    rows = [
        ("POST /login, password, user without a factor", "password"),
        ("POST /webauthn/register/options (password re-check)", "reg_options"),
        ("POST /webauthn/register/finish", "reg_finish"),
        ("registration, options + finish", "reg_both"),
        ("POST /webauthn/login/options", "pk_options"),
        ("POST /webauthn/login/finish (session created)", "pk_finish"),
        ("passkey sign-in, options + finish", "pk_both"),
    ]
    width = max(len(name) for name, _ in rows)
    print(f"{'step':<{width}}  {'n':>4}  {'median ms':>9}  {'p95 ms':>8}")
    for name, key in rows:
        xs = steps[key]
        if xs:
            print(f"{name:<{width}}  {len(xs):>4}  {statistics.median(xs):>9.2f}  {pct(xs, 95):>8.2f}")
        else:
            print(f"{name:<{width}}  {0:>4}  {'-':>9}  {'-':>8}")
    print()
    print(f"failures: {len(failures)}")
    for f in failures[:20]:
        print(f"  {f}")
    if len(failures) > 20:
        print(f"  ... and {len(failures) - 20} more")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
