"""A PostgreSQL outage: the server says so, without internals, and recovers by itself.

usage: tests/interop/.venv/bin/python tests/failure/db_outage.py BINARY ADMIN_URL
                                                    [--outage 10] [--clients 4] [--keep]

Runs as root (or with passwordless sudo): it stops and starts the PostgreSQL cluster that listens
on ADMIN_URL's port (`pg_ctlcluster VER NAME stop -m fast` / `start`, found with pg_lsclusters;
`service postgresql stop|start` without them). Every database of that cluster is unreachable for
the outage; run it where nothing else uses the cluster (CI runs the failure tests one at a time).
Its own database is created for the run and dropped at the end, and PostgreSQL is started again
whatever happens (also on SIGTERM, e.g. from `timeout`).

What happens: BINARY serves a fresh database; one account is signed up; CLIENTS load threads sign
in continuously, each time in a fresh session (GET /login, POST /login), recording every status
and body (several, because a request during the outage may wait seconds: one gives few
samples); a probe thread asks GET /ready twice a second (each probe in its own thread, so a
hanging probe does not delay the next). After 3 s PostgreSQL stops for OUTAGE seconds, then starts again.

Expectations (the issue's): during the outage every failed request is a 503 (an HTML page or
JSON) whose text names the database, never a 500, never a timeout (30 s) or dropped connection, never internals (driver errors,
addresses); /ready answers 503 within READY_BOUND seconds with a JSON `reason` naming the database;
within RECOVERY seconds of PostgreSQL being back, without restarting Authify, /ready is 200 and
sign-ins succeed again (every attempt after the first success too). Prints each kind of answer
with its count and a sample body, the /ready timeline, the recovery times and the server's WARN
and ERROR lines; exits 1 on a failed expectation.
"""

import argparse
import json
import re
import subprocess
import sys
import threading
import time

import requests

import harness
from harness import log

READY_BOUND = 5.0  # seconds: a load balancer's probe gives up sooner than this (Kubernetes: 1 s)
RECOVERY = 30.0  # seconds after PostgreSQL is back
BEFORE = 3.0  # seconds of load before the outage
STABLE = 3.0  # seconds of sign-ins after the first success that must all succeed
# PostgreSQL's state is polled (pg_isready every 0.1 s): it may accept connections up to this long
# before the poll sees it, so only an answer this far before that moment surely came while down.
LAG = 0.5
# Text that must not reach a user's page: driver and pool errors, addresses, the URL.
INTERNALS = re.compile(
    r"connection refused|could not connect|connection to server|server closed the connection|terminating connection|"
    r"r2d2|diesel|libpq|postgres://|5432|127\.0\.0\.1|sqlstate|panicked|timed out waiting for connection",
    re.I,
)


class Cluster:
    """The PostgreSQL cluster on one port, stopped and started as setup.sh does."""

    def __init__(self, admin_url: str) -> None:
        self.admin_url = admin_url
        port = harness.pg_port(admin_url)
        self.version = self.name = None
        try:
            out = subprocess.run(["pg_lsclusters", "-h"], capture_output=True, text=True, timeout=10).stdout
            for line in out.splitlines():
                f = line.split()
                if len(f) >= 3 and f[2] == str(port):
                    self.version, self.name = f[0], f[1]
        except (OSError, subprocess.TimeoutExpired):
            pass
        self.stopped = False

    def describe(self) -> str:
        return f"cluster {self.version}/{self.name}" if self.version else "service postgresql"

    def _run(self, action: str) -> None:
        if self.version:
            cmd = ["pg_ctlcluster", self.version, self.name, action]
            if action == "stop":
                cmd += ["-m", "fast"]  # disconnect the clients at once, as a crash or failover would
        else:
            cmd = ["service", "postgresql", action]
        r = subprocess.run(harness.as_root(cmd), capture_output=True, text=True, timeout=60)
        if r.returncode != 0:
            raise RuntimeError(f"{' '.join(cmd)} failed ({r.returncode}): {r.stderr.strip()}")

    def stop(self) -> float:
        """Stops it; returns the moment it no longer accepted connections."""
        self.stopped = True  # before the command: a half-done stop is restarted too
        self._run("stop")
        if not harness.wait_pg(self.admin_url, up=False, within=30):
            raise RuntimeError("PostgreSQL still answers after stop")
        return time.monotonic()

    def start(self) -> float:
        """Starts it; returns the moment it first accepted connections (polled while the start
        command runs: `pg_ctlcluster start` returns a while after that)."""
        cmd = ["pg_ctlcluster", self.version, self.name, "start"] if self.version else ["service", "postgresql", "start"]
        proc = subprocess.Popen(harness.as_root(cmd), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        up_at = None
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if harness.pg_ready(self.admin_url):
                up_at = time.monotonic()
                break
            time.sleep(0.1)
        try:
            _, err = proc.communicate(timeout=60)
        except subprocess.TimeoutExpired:
            proc.kill()
            _, err = proc.communicate()
        if proc.returncode != 0:
            raise RuntimeError(f"{' '.join(cmd)} failed ({proc.returncode}): {err.strip()}")
        if up_at is None:
            raise RuntimeError("PostgreSQL not accepting connections 60 s after start")
        self.stopped = False
        return up_at

    def restore(self) -> None:
        """Start it again if this script stopped it (or may have)."""
        if self.stopped or not harness.pg_ready(self.admin_url):
            try:
                self.start()
                log(f"PostgreSQL ({self.describe()}) started again")
            except (RuntimeError, OSError, subprocess.TimeoutExpired) as e:
                log(f"ERROR: could not restart PostgreSQL: {e}")


class Recorder:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.items: list[dict] = []

    def add(self, **item) -> None:
        with self.lock:
            self.items.append(item)

    def snapshot(self) -> list[dict]:
        with self.lock:
            return list(self.items)


def answer(r: requests.Response, t0: float, t1: float, step: str) -> dict:
    return {
        "step": step,
        "t0": t0,
        "t1": t1,
        "status": r.status_code,
        "location": r.headers.get("location"),
        "retry_after": r.headers.get("retry-after"),
        "type": (r.headers.get("content-type") or "").split(";")[0],
        "body": r.text,
    }


def no_answer(e: Exception, t0: float, t1: float, step: str) -> dict:
    return {"step": step, "t0": t0, "t1": t1, "status": type(e).__name__, "location": None, "retry_after": None, "type": "", "body": str(e)}


def kind(item: dict) -> str:
    if item["status"] == 303:
        return f"{item['step']} 303 -> {item['location']}"
    text = re.sub(r"\b[0-9a-f]{8,}\b|[A-Za-z0-9]{16,}", "<ref>", harness.excerpt(item["body"], 160))
    return f"{item['step']} {item['status']} {item['type']} {text}"


def main() -> int:
    started = time.monotonic()
    harness.on_sigterm_exit()
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("binary")
    ap.add_argument("admin_url")
    ap.add_argument("--outage", type=float, default=10.0, help="seconds PostgreSQL stays down")
    ap.add_argument("--clients", type=int, default=4, help="load threads signing in (each request of an outage may wait long: several give several samples)")
    ap.add_argument("--keep", action="store_true", help="keep the temporary directory (server logs)")
    args = ap.parse_args()
    checks = harness.Checks()
    cluster = Cluster(args.admin_url)
    workdir = harness.make_workdir("db-outage")
    db_name = None
    server = None
    done = threading.Event()
    threads: list[threading.Thread] = []
    try:
        if not harness.pg_ready(args.admin_url):
            raise RuntimeError("PostgreSQL is not accepting connections at the start (run tests/setup.sh)")
        db_name, db_url = harness.create_database(args.admin_url, "authify_failure_outage")
        log(f"database {db_name} created; PostgreSQL is {cluster.describe()}")
        log(f"binary {harness.describe_binary(args.binary)}")
        server = harness.Server(args.binary, workdir, db_url=db_url)
        server.start()
        pid = server.pid
        log(f"server pid {pid} on {server.base}")
        email = "outage@failure.test"
        r = harness.sign_up(server.base, email)
        if r.status_code != 303:
            raise RuntimeError(f"sign-up before the outage: {r.status_code} {harness.excerpt(r.text)}")

        signins = Recorder()
        probes = Recorder()

        def load() -> None:
            while not done.is_set():
                s = requests.Session()
                t0 = time.monotonic()
                try:
                    page = s.get(f"{server.base}/login", timeout=harness.HTTP_TIMEOUT)
                except requests.RequestException as e:
                    signins.add(**no_answer(e, t0, time.monotonic(), "GET /login"))
                    time.sleep(0.1)
                    continue
                t1 = time.monotonic()
                if page.status_code != 200 or not harness.CSRF.search(page.text):
                    signins.add(**answer(page, t0, t1, "GET /login"))
                    time.sleep(0.1)
                    continue
                try:
                    r = harness.post_sign_in(s, server.base, page, email)
                    signins.add(**answer(r, t0, time.monotonic(), "POST /login"))
                    if not harness.signed_in(r):
                        time.sleep(0.1)
                except requests.RequestException as e:
                    signins.add(**no_answer(e, t0, time.monotonic(), "POST /login"))
                    time.sleep(0.1)

        def probe() -> None:
            t0 = time.monotonic()
            try:
                r = requests.get(f"{server.base}/ready", timeout=harness.HTTP_TIMEOUT)
                probes.add(**answer(r, t0, time.monotonic(), "GET /ready"))
            except requests.RequestException as e:
                probes.add(**no_answer(e, t0, time.monotonic(), "GET /ready"))

        def prober() -> None:
            while not done.is_set():
                t = threading.Thread(target=probe, daemon=True)
                t.start()
                threads.append(t)
                done.wait(0.5)

        for target in [prober] + [load] * args.clients:
            t = threading.Thread(target=target, daemon=True)
            t.start()
            threads.append(t)
        time.sleep(BEFORE)

        others = harness.psql(args.admin_url, f"SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'client backend' AND datname IS DISTINCT FROM '{db_name}' AND pid <> pg_backend_pid()")
        if others != "0":
            log(f"note: {others} other client connection(s) to this PostgreSQL will be cut by the outage")
        t_stop = time.monotonic()
        t_down = cluster.stop()
        log(f"PostgreSQL stopped at t={t_stop - started:.1f} s (down after {t_down - t_stop:.1f} s); outage {args.outage:.0f} s")
        time.sleep(max(0.0, args.outage - (t_down - t_stop)))
        t_start = time.monotonic()
        t_back = cluster.start()
        log(f"PostgreSQL started again: accepting connections {t_back - t_start:.1f} s after `start`, {t_back - t_stop:.1f} s after `stop`")

        # Recovery: wait (at most RECOVERY s) for a 200 from /ready and a successful sign-in, then
        # STABLE s more of sign-ins that must all succeed.
        ready_at = signin_at = None
        deadline = t_back + RECOVERY
        while time.monotonic() < deadline and (ready_at is None or signin_at is None):
            time.sleep(0.2)
            if ready_at is None:
                ok = [p["t1"] for p in probes.snapshot() if p["status"] == 200 and p["t0"] >= t_back]
                ready_at = min(ok) if ok else None
            if signin_at is None:
                ok = [x["t1"] for x in signins.snapshot() if harness.signed_in_item(x) and x["t0"] >= t_back]
                signin_at = min(ok) if ok else None
        if signin_at is not None:
            time.sleep(STABLE)
        done.set()
        for t in threads:
            t.join(timeout=harness.HTTP_TIMEOUT + 5)
        t_end = time.monotonic()

        # --- report
        items = signins.snapshot()
        ready = sorted(probes.snapshot(), key=lambda p: p["t0"])

        def phase(x: dict) -> str:
            if x["t1"] < t_stop:
                return "before"
            if x["t0"] >= t_back:
                return "after"
            return "outage"

        log("-- sign-in answers by phase (before: ended before the stop; outage: overlapping it; after: sent once PostgreSQL was back)")
        for ph in ("before", "outage", "after"):
            kinds: dict[str, list[dict]] = {}
            for x in items:
                if phase(x) == ph:
                    kinds.setdefault(kind(x), []).append(x)
            log(f"   {ph}: {sum(len(v) for v in kinds.values())} requests")
            for k, xs in sorted(kinds.items(), key=lambda kv: -len(kv[1])):
                slow = max(x["t1"] - x["t0"] for x in xs)
                log(f"      {len(xs):4d} x {k[:230]}  (slowest {slow:.2f} s; retry-after {xs[0]['retry_after']})")
        log("-- GET /ready timeline (start of probe relative to the stop: status, latency, body)")
        last = None
        for p in ready:
            line = f"{p['status']} {harness.excerpt(p['body'], 200)}"
            if line != last or p["t1"] - p["t0"] > 1:
                log(f"   t={p['t0'] - t_stop:+6.1f} s  {p['t1'] - p['t0']:5.2f} s  {line}")
            last = line
        log(f"   ({len(ready)} probes)")

        # --- expectations
        before = [x for x in items if phase(x) == "before"]
        checks.check(bool(before) and all(harness.signed_in_item(x) for x in before), "sign-ins succeed before the outage", f"{sum(harness.signed_in_item(x) for x in before)} of {len(before)}")

        failed = [x for x in items if not harness.signed_in_item(x)]
        not_503 = [x for x in failed if x["status"] != 503]
        checks.check(
            bool(failed) and not not_503,
            "every failed sign-in request is a 503 (none a 500, a hang or a dropped connection)",
            f"{len(failed)} failed: " + ", ".join(f"{n} x {s}" for s, n in count_by(failed, "status")),
        )
        unnamed = [x for x in failed if x["status"] == 503 and "database" not in harness.excerpt(x["body"], 10_000).lower()]
        checks.check(
            not unnamed and any(x["status"] == 503 for x in failed),
            "the outage is answered by 503s whose text names the database",
            f"{len(unnamed)} do not, e.g. {harness.excerpt(unnamed[0]['body'], 200)}" if unnamed else f"{sum(x['status'] == 503 for x in failed)} 503s among {len(failed)} failed requests",
        )
        leaky = [x for x in failed if INTERNALS.search(x["body"])]
        checks.check(
            not leaky,
            "no failed sign-in shows internals (driver errors, addresses)",
            f"{len(leaky)}, e.g. {INTERNALS.search(leaky[0]['body']).group(0)!r} in {harness.excerpt(leaky[0]['body'], 200)}" if leaky else "",
        )
        slowest = max((x["t1"] - x["t0"] for x in failed), default=0.0)
        log(f"slowest failed sign-in request: {slowest:.2f} s (measured, not judged)")

        # Probes sent from the stop until PostgreSQL accepted connections again.
        sent = [p for p in ready if t_stop <= p["t0"] < t_back]
        answered = [p for p in sent if p["t1"] < t_back - LAG]
        checks.check(
            bool(answered),
            "/ready answers while PostgreSQL is down",
            f"{len(answered)} of {len(sent)} probes sent during the outage were answered before it ended"
            + (f"; they took {min(p['t1'] - p['t0'] for p in sent):.1f} to {max(p['t1'] - p['t0'] for p in sent):.1f} s" if sent else ""),
        )
        bad = []
        for p in sent:
            reason = None
            try:
                reason = json.loads(p["body"]).get("reason")
            except (ValueError, AttributeError):
                pass
            slow = p["t1"] - p["t0"] > READY_BOUND
            surely_down = p["t0"] >= t_down and p["t1"] < t_back - LAG
            if p["status"] == 200 and not surely_down and not slow:
                continue  # answered while PostgreSQL was still stopping or already back: correct
            if slow or p["status"] != 503 or not isinstance(reason, str) or "database" not in reason.lower():
                bad.append(p)
        checks.check(
            bool(sent) and not bad,
            f"/ready during the outage: 503 within {READY_BOUND:.0f} s, JSON reason naming the database",
            (f"{len(bad)} of {len(sent)} probes not: " + "; ".join(f"{p['status']} after {p['t1'] - p['t0']:.2f} s {harness.excerpt(p['body'], 160)}" for p in ([bad[0], bad[-1]] if len(bad) > 1 else bad))) if bad else f"{len(sent)} probes",
        )

        leaky_ready = sorted({json.loads(p["body"]).get("reason", "") for p in sent if p["status"] == 503 and p["type"] == "application/json" and INTERNALS.search(p["body"])})
        if leaky_ready:
            log(f"note (not judged): /ready reasons carry driver text, e.g. {max(leaky_ready, key=len)!r}")
        checks.check(ready_at is not None, f"/ready is 200 within {RECOVERY:.0f} s of PostgreSQL being back", f"after {ready_at - t_back:.1f} s" if ready_at else "never")
        checks.check(signin_at is not None, f"a sign-in succeeds within {RECOVERY:.0f} s of PostgreSQL being back", f"after {signin_at - t_back:.1f} s" if signin_at else "never")
        if signin_at is not None:
            later = [x for x in items if x["t0"] > signin_at]
            checks.check(bool(later) and all(harness.signed_in_item(x) for x in later), f"every sign-in after the first success succeeds ({STABLE:.0f} s)", f"{sum(harness.signed_in_item(x) for x in later)} of {len(later)}")
        checks.check(server.alive() and server.pid == pid, "the same server process served throughout (no restart)")
        log(f"outage {t_back - t_stop:.1f} s (stop to accepting), recovery: /ready {fmt(ready_at, t_back)}, sign-in {fmt(signin_at, t_back)} after PostgreSQL was back; load ran {t_end - t_stop + BEFORE:.0f} s")
        server.report_logs()
    except Exception as e:  # the script's own failure: reported, never a pass
        checks.check(False, "the test ran to the end", f"{type(e).__name__}: {e}")
        if server is not None and "log:" not in str(e):
            log(server.tail(20))
    finally:
        done.set()
        cluster.restore()
        if server is not None:
            server.kill()
        if db_name:
            harness.drop_database(args.admin_url, db_name)
            log(f"database {db_name} dropped")
        harness.remove_workdir(workdir, args.keep)
    return checks.exit_code("db_outage (PostgreSQL)", started)


def count_by(items: list[dict], key: str) -> list[tuple[object, int]]:
    counts: dict[object, int] = {}
    for x in items:
        counts[x[key]] = counts.get(x[key], 0) + 1
    return sorted(counts.items(), key=lambda kv: -kv[1])


def fmt(at: float | None, since: float) -> str:
    return "never" if at is None else f"{at - since:.1f} s"


if __name__ == "__main__":
    sys.exit(main())
