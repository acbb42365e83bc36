"""What a second factor adds to a sign-in, measured over HTTP on a running server.

usage: tests/interop/.venv/bin/python tests/load/mfa.py BASE_URL [N] [plain]
  (e.g. after `AUTHIFY_DB_URL=sqlite:///tmp/mfa.db target/release/authify serve`)

Signs up N users (default 200) and sets up an authenticator app for half of them through the
pages (/account/totp, code from pyotp), then signs each in once, sequentially, in a fresh cookie
jar: POST /login (argon2id), and for the TOTP half GET /login/factor and POST /login/factor with
the current code. Prints the median and p95 of each step in milliseconds. With `plain`, no user
sets up a factor (to compare the password step with a build that has no second factors). Sequential on purpose:
this is the latency a user sees, not throughput (password sign-ins are bounded by argon2, see
docs/performance.md "Sign-in").
"""

import re
import statistics
import sys
import time

import pyotp
import requests

CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
URI = re.compile(r'<code class="mono otpauth-uri">([^<]+)</code>')
PASSWORD = "correct horse battery staple"


def csrf(html: str) -> str:
    m = CSRF.search(html)
    if not m:
        raise SystemExit("no CSRF token on the page")
    return m.group(1)


def unescape(s: str) -> str:
    return s.replace("&amp;", "&").replace("&#x3D;", "=").replace("&#x2F;", "/")


def sign_up(base: str, email: str, totp: bool):
    s = requests.Session()
    page = s.get(f"{base}/signup").text
    r = s.post(f"{base}/signup", data={"csrf_token": csrf(page), "name": "Load", "email": email, "password": PASSWORD}, allow_redirects=False)
    assert r.status_code == 303, r.status_code
    if not totp:
        return None
    page = s.get(f"{base}/account/totp").text
    uri = unescape(URI.search(page).group(1))
    r = s.post(f"{base}/account/totp", data={"csrf_token": csrf(page), "code": pyotp.parse_uri(uri).now()})
    assert "recovery-code" in r.text, r.status_code
    return uri


def pct(xs, p):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(round(p / 100 * (len(xs) - 1))))]


def main() -> int:
    base = sys.argv[1].rstrip("/")
    n = int(sys.argv[2]) if len(sys.argv) > 2 else 200
    plain = len(sys.argv) > 3 and sys.argv[3] == "plain"
    users = []
    for i in range(n):
        email = f"u{i}-{int(time.time())}@load.test"
        users.append((email, sign_up(base, email, not plain and i % 2 == 0)))
    if not plain:
        # A fresh time step: the enrolment's step is spent for each user.
        time.sleep(31 - time.time() % 30)
    pwd_plain, pwd_mfa, page_t, code_t = [], [], [], []
    for email, uri in users:
        s = requests.Session()
        page = s.get(f"{base}/login").text
        t0 = time.perf_counter()
        r = s.post(f"{base}/login", data={"csrf_token": csrf(page), "email": email, "password": PASSWORD}, allow_redirects=False)
        t1 = time.perf_counter()
        if uri is None:
            assert r.headers["location"] == "/account", r.headers.get("location")
            pwd_plain.append((t1 - t0) * 1000)
            continue
        assert r.headers["location"] == "/login/factor", r.headers.get("location")
        pwd_mfa.append((t1 - t0) * 1000)
        t2 = time.perf_counter()
        page = s.get(f"{base}/login/factor").text
        t3 = time.perf_counter()
        r = s.post(f"{base}/login/factor", data={"csrf_token": csrf(page), "method": "totp", "action": "verify", "code": pyotp.parse_uri(uri).now()}, allow_redirects=False)
        t4 = time.perf_counter()
        assert r.headers["location"] == "/account", (r.status_code, r.headers.get("location"))
        page_t.append((t3 - t2) * 1000)
        code_t.append((t4 - t3) * 1000)
    for name, xs in [
        ("POST /login, user without a factor (session created)", pwd_plain),
        ("POST /login, user with TOTP (flow waits for the factor)", pwd_mfa),
        ("GET /login/factor", page_t),
        ("POST /login/factor, TOTP code (session created)", code_t),
    ]:
        if not xs:
            continue
        print(f"{name}: n={len(xs)} median {statistics.median(xs):.2f} ms, p95 {pct(xs, 95):.2f} ms")
    return 0


if __name__ == "__main__":
    sys.exit(main())
