"""Shared pieces of the failure tests in this folder: a server started from a binary on a free
loopback port with its own temporary directory, the sign-up and sign-in forms, throwaway
PostgreSQL databases through the `psql` command line, and a list of expectations that decides the
exit status.

Not a test itself; the scripts next to it import it (Python puts a script's folder on sys.path).
Standard library and `requests` only (tests/interop/.venv).
"""

import ctypes
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.parse

import requests

PASSWORD = "failure test passphrase"  # longer than Password::MIN (8)
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
# The request timeout of every HTTP call here: far beyond any sane answer, so a hang is recorded
# as a timeout instead of blocking the script.
HTTP_TIMEOUT = 30


def log(msg: str) -> None:
    print(msg, flush=True)


def on_sigterm_exit() -> None:
    """`timeout` sends SIGTERM: turn it into SystemExit so every `finally` (kill the server,
    restart PostgreSQL, drop the database, remove the temporary directory) still runs."""

    def handler(signum, _frame):
        raise SystemExit(f"stopped by signal {signum}")

    signal.signal(signal.SIGTERM, handler)
    signal.signal(signal.SIGHUP, handler)


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _die_with_parent() -> None:
    # Runs in the child between fork and exec: if this script is killed outright (SIGKILL from
    # `timeout -k`), the kernel kills the server too instead of leaving it listening.
    try:
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except OSError:
        pass


class Checks:
    """Expectations: each one printed as it is decided; any failure makes the exit status 1."""

    def __init__(self) -> None:
        self.failed: list[str] = []
        self.passed = 0

    def check(self, ok: bool, what: str, detail: str = "") -> bool:
        line = f"{'ok  ' if ok else 'FAIL'} {what}"
        if detail:
            line += f": {detail}"
        log(line)
        if ok:
            self.passed += 1
        else:
            self.failed.append(what)
        return ok

    def exit_code(self, name: str, started: float) -> int:
        took = time.monotonic() - started
        if self.failed:
            log(f"== {name}: FAILED {len(self.failed)} of {len(self.failed) + self.passed} expectations in {took:.1f} s:")
            for f in self.failed:
                log(f"   - {f}")
            return 1
        log(f"== {name}: passed {self.passed} expectations in {took:.1f} s")
        return 0


class Server:
    """One `authify serve` process on 127.0.0.1:PORT with its files under `workdir`. Its stdout
    and stderr go to `workdir/server-N.log` (N counts the starts, so a restart keeps the first
    log)."""

    def __init__(self, binary: str, workdir: str, db_url: str | None = None, port: int | None = None, extra_env: dict | None = None, prefix: list[str] | None = None) -> None:
        self.binary = os.path.abspath(binary)
        # A command the server runs under (valgrind, for tests/memory/link_order.py).
        self.prefix = list(prefix or [])
        self.workdir = workdir
        self.port = port or free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.db_url = db_url or f"sqlite://{workdir}/authify.db"
        self.extra_env = dict(extra_env or {})
        self.proc: subprocess.Popen | None = None
        self.starts = 0
        self.log_path = ""

    def env(self) -> dict:
        # Inherited AUTHIFY_* settings (and DATABASE_URL, read when AUTHIFY_DB_URL is unset, and
        # mimalloc options, which change the memory figures) would change what is measured.
        env = {k: v for k, v in os.environ.items() if not k.startswith(("AUTHIFY_", "MIMALLOC_")) and k != "DATABASE_URL"}
        env.update(
            {
                "AUTHIFY_DB_URL": self.db_url,
                "AUTHIFY_KEYS_DIR": os.path.join(self.workdir, "keys"),
                "AUTHIFY_MASTER_KEY_FILE": os.path.join(self.workdir, "master.key"),
                "AUTHIFY_MAIL_DIR": os.path.join(self.workdir, "mail"),
                "AUTHIFY_BIND": f"127.0.0.1:{self.port}",
                "AUTHIFY_PUBLIC_URL": self.base,
                # The throttles and budgets count per account and per address (every client
                # here is 127.0.0.1): off, so they do not interfere with what a test measures.
                "AUTHIFY_SIGNIN_ATTEMPTS_PER_MINUTE": "0",
                "AUTHIFY_SIGNIN_ATTEMPTS_PER_ADDRESS_PER_MINUTE": "0",
                "AUTHIFY_FLOWS_PER_ADDRESS": "0",
                "AUTHIFY_FLOWS_PER_ADDRESS_PER_MINUTE": "0",
                "AUTHIFY_BUDGET_SIGNUPS_PER_ADDRESS": "0",
                "AUTHIFY_BUDGET_MAIL_PER_ADDRESS": "0",
                "AUTHIFY_BUDGET_MAIL_PER_HOUR": "0",
            }
        )
        env.update(self.extra_env)
        # A setting given as None in extra_env is removed (AUTHIFY_KEYS_DIR: keys in the database).
        return {k: v for k, v in env.items() if v is not None}

    def start(self, ready_within: float = 60.0) -> None:
        self.starts += 1
        self.log_path = os.path.join(self.workdir, f"server-{self.starts}.log")
        out = open(self.log_path, "wb")
        try:
            self.proc = subprocess.Popen(
                [*self.prefix, self.binary, "serve"],
                env=self.env(),
                cwd=self.workdir,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                preexec_fn=_die_with_parent,
            )
        finally:
            out.close()
        deadline = time.monotonic() + ready_within
        last = "no answer"
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"server exited with {self.proc.returncode} before /ready; log:\n{self.tail(30)}")
            try:
                r = requests.get(f"{self.base}/ready", timeout=5)
                if r.status_code == 200:
                    return
                last = f"{r.status_code} {r.text[:200]}"
            except requests.RequestException as e:
                last = type(e).__name__
            time.sleep(0.1)
        raise RuntimeError(f"server not ready within {ready_within:.0f} s (last: {last}); log:\n{self.tail(30)}")

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def kill(self, sig: int = signal.SIGKILL) -> None:
        if self.alive():
            self.proc.send_signal(sig)
        if self.proc is not None:
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()

    def stop(self) -> None:
        """SIGTERM (graceful), SIGKILL after 15 s."""
        self.kill(signal.SIGTERM)

    def status_kib(self, field: str) -> int | None:
        """A `/proc/PID/status` figure in KiB (VmRSS, VmHWM), or None once the process is gone."""
        try:
            with open(f"/proc/{self.pid}/status") as f:
                for line in f:
                    if line.startswith(field + ":"):
                        return int(line.split()[1])
        except (OSError, ValueError):
            return None
        return None

    def logs(self) -> str:
        text = []
        for n in range(1, self.starts + 1):
            path = os.path.join(self.workdir, f"server-{n}.log")
            try:
                with open(path, errors="replace") as f:
                    text.append(f.read())
            except OSError:
                pass
        return "".join(text)

    def tail(self, n: int) -> str:
        return "\n".join(self.logs().splitlines()[-n:])

    def problem_lines(self, limit: int = 12) -> list[str]:
        """WARN and ERROR lines of every start, identical messages (timestamps and references
        aside) counted once, for the report."""
        seen: dict[str, tuple[int, str]] = {}
        for line in self.logs().splitlines():
            if " WARN " not in line and " ERROR " not in line and "panicked" not in line:
                continue
            key = re.sub(r"^\S+Z\s+", "", line)
            key = re.sub(r"[0-9a-f]{16}|[A-Za-z0-9_-]{20,}", "…", key)
            count, first = seen.get(key, (0, line))
            seen[key] = (count + 1, first)
        out = []
        for count, first in list(seen.values())[:limit]:
            out.append(f"({count}x) {first[:600]}")
        if len(seen) > limit:
            out.append(f"... and {len(seen) - limit} more kinds")
        return out

    def report_logs(self, title: str = "server WARN/ERROR lines") -> None:
        lines = self.problem_lines()
        log(f"-- {title}: {'none' if not lines else ''}")
        for line in lines:
            log(f"   {line}")


def describe_binary(path: str) -> str:
    st = os.stat(path)
    return f"{path} (built {time.strftime('%Y-%m-%d %H:%M:%S', time.localtime(st.st_mtime))}, {st.st_size // (1 << 20)} MiB)"


def make_workdir(name: str) -> str:
    return tempfile.mkdtemp(prefix=f"authify-{name}-")


def remove_workdir(path: str, keep: bool) -> None:
    if keep:
        log(f"kept {path}")
    else:
        shutil.rmtree(path, ignore_errors=True)


# --- the forms


class FormError(Exception):
    """A form page without a CSRF token (the status and a body excerpt say what came instead)."""


def csrf(page: requests.Response) -> str:
    m = CSRF.search(page.text)
    if not m:
        raise FormError(f"GET {page.request.path_url} -> {page.status_code}, no CSRF token: {excerpt(page.text)}")
    return m.group(1)


def sign_up(base: str, email: str, password: str = PASSWORD, timeout: float = HTTP_TIMEOUT) -> requests.Response:
    """GET /signup then POST it; the POST's response (303 on success)."""
    s = requests.Session()
    page = s.get(f"{base}/signup", timeout=timeout)
    return s.post(
        f"{base}/signup",
        data={"csrf_token": csrf(page), "name": "Failure Test", "email": email, "password": password},
        allow_redirects=False,
        timeout=timeout,
    )


def sign_in_form(base: str, timeout: float = HTTP_TIMEOUT) -> tuple[requests.Session, requests.Response]:
    s = requests.Session()
    return s, s.get(f"{base}/login", timeout=timeout)


def post_sign_in(s: requests.Session, base: str, page: requests.Response, email: str, password: str = PASSWORD, timeout: float = HTTP_TIMEOUT) -> requests.Response:
    return s.post(
        f"{base}/login",
        data={"csrf_token": csrf(page), "email": email, "password": password},
        allow_redirects=False,
        timeout=timeout,
    )


def sign_in(base: str, email: str, password: str = PASSWORD, timeout: float = HTTP_TIMEOUT) -> requests.Response:
    """A fresh session: GET /login then POST it; the POST's response (303 to /account on
    success)."""
    s, page = sign_in_form(base, timeout)
    return post_sign_in(s, base, page, email, password, timeout)


def signed_in(r: requests.Response) -> bool:
    return r.status_code == 303 and r.headers.get("location") == "/account"


def signed_in_item(x: dict) -> bool:
    """The same as signed_in, for a recorded answer (a dict with status and location)."""
    return x.get("status") == 303 and x.get("location") == "/account"


def excerpt(body: str, n: int = 300) -> str:
    """A body in one line: the visible text of an HTML page, or the JSON as is."""
    if "<html" in body[:200].lower() or "<!doctype" in body[:200].lower():
        main = re.search(r"<section.*?</section>", body, re.S) or re.search(r"<body.*?</body>", body, re.S)
        body = main.group(0) if main else body
        body = re.sub(r"<[^>]+>", " ", body)
    body = re.sub(r"\s+", " ", body).strip()
    return body[:n] + ("…" if len(body) > n else "")


# --- PostgreSQL through psql


def psql(admin_url: str, sql: str, timeout: float = 30) -> str:
    r = subprocess.run(
        ["psql", admin_url, "-X", "-q", "-At", "-v", "ON_ERROR_STOP=1", "-c", sql],
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    if r.returncode != 0:
        raise RuntimeError(f"psql failed ({r.returncode}) on {sql!r}: {r.stderr.strip()}")
    return r.stdout.strip()


def database_url(admin_url: str, name: str) -> str:
    """The admin URL with another database name: same user, password, host, port and query."""
    u = urllib.parse.urlsplit(admin_url)
    return urllib.parse.urlunsplit((u.scheme, u.netloc, "/" + name, u.query, u.fragment))


def create_database(admin_url: str, prefix: str) -> tuple[str, str]:
    """A fresh database for one run; (name, url)."""
    name = f"{prefix}_{os.getpid()}_{secrets.token_hex(4)}"
    psql(admin_url, f'CREATE DATABASE "{name}"')
    return name, database_url(admin_url, name)


def drop_database(admin_url: str, name: str) -> None:
    try:
        psql(admin_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)', timeout=60)
    except (RuntimeError, subprocess.TimeoutExpired) as e:
        log(f"warning: could not drop database {name}: {e}")


def as_root(cmd: list[str]) -> list[str]:
    return cmd if os.geteuid() == 0 else ["sudo", "-n", *cmd]


def pg_port(admin_url: str) -> int:
    return urllib.parse.urlsplit(admin_url).port or 5432


def pg_ready(admin_url: str) -> bool:
    u = urllib.parse.urlsplit(admin_url)
    return subprocess.run(["pg_isready", "-q", "-h", u.hostname or "127.0.0.1", "-p", str(pg_port(admin_url))], timeout=10).returncode == 0


def wait_pg(admin_url: str, up: bool, within: float = 30) -> bool:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        if pg_ready(admin_url) == up:
            return True
        time.sleep(0.2)
    return False
