"""Crash durability: an account whose sign-up was acknowledged survives a SIGKILL of the server.

usage: tests/interop/.venv/bin/python tests/failure/kill9.py BINARY [--postgres ADMIN_URL]
                                                            [--clients 8] [--seconds 5] [--keep]

Starts BINARY (`authify serve`) on a free loopback port with a temporary directory: SQLite in it
by default, or with --postgres a fresh database created through ADMIN_URL (e.g.
`$(cat target/.test-postgres-url)`) and dropped at the end. CLIENTS threads sign up new accounts
through the form for SECONDS seconds; then the server gets SIGKILL while they are still sending.
Every sign-up answered 303 before the kill was acknowledged to its user. The server is started
again on the same database, keys and port, and each acknowledged account must sign in (303 to
/account). Sign-ups cut off by the kill may or may not exist; their count is reported, not
judged. Prints the counts (acknowledged, verified, lost) and exits 1 on a failed expectation.
"""

import argparse
import secrets
import signal
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import requests

import harness
from harness import log


def main() -> int:
    started = time.monotonic()
    harness.on_sigterm_exit()
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("binary")
    ap.add_argument("--postgres", metavar="ADMIN_URL", help="run on a fresh PostgreSQL database created through this URL")
    ap.add_argument("--clients", type=int, default=8)
    ap.add_argument("--seconds", type=float, default=5.0)
    ap.add_argument("--keep", action="store_true", help="keep the temporary directory (server logs)")
    args = ap.parse_args()
    backend = "PostgreSQL" if args.postgres else "SQLite"
    name = f"kill9 ({backend})"
    checks = harness.Checks()
    workdir = harness.make_workdir("kill9")
    db_name = None
    server = None
    try:
        db_url = None
        if args.postgres:
            db_name, db_url = harness.create_database(args.postgres, "authify_failure_kill9")
            log(f"database {db_name} created")
        log(f"binary {harness.describe_binary(args.binary)}")
        server = harness.Server(args.binary, workdir, db_url=db_url)
        server.start()
        log(f"server pid {server.pid} on {server.base}, {backend}, {args.clients} clients signing up for {args.seconds:.0f} s, then SIGKILL")

        run = secrets.token_hex(3)
        lock = threading.Lock()
        acked: list[str] = []  # 303 received: the user was told the account exists
        cut: list[tuple[str, str]] = []  # no answer: the kill cut the request off
        refused: list[tuple[str, int, str]] = []  # an answer other than 303
        killed = threading.Event()

        def client(n: int) -> None:
            i = 0
            while not killed.is_set():
                i += 1
                email = f"c{n}-{i}-{run}@kill9.test"
                try:
                    r = harness.sign_up(server.base, email)
                except (requests.RequestException, harness.FormError) as e:
                    with lock:
                        cut.append((email, type(e).__name__))
                    if killed.is_set():
                        return
                    time.sleep(0.05)
                    continue
                with lock:
                    if r.status_code == 303:
                        acked.append(email)
                    else:
                        refused.append((email, r.status_code, harness.excerpt(r.text)))

        threads = [threading.Thread(target=client, args=(n,), daemon=True) for n in range(args.clients)]
        for t in threads:
            t.start()
        time.sleep(args.seconds)
        server.kill(signal.SIGKILL)
        killed.set()
        log(f"SIGKILL sent after {args.seconds:.0f} s; exit status {server.proc.returncode}")
        for t in threads:
            t.join(timeout=harness.HTTP_TIMEOUT + 5)
        cut_by_kill = [e for e, _ in cut]
        log(f"acknowledged (303) before the kill: {len(acked)}; cut off by the kill (no answer): {len(cut_by_kill)}; other answers: {len(refused)}")
        checks.check(
            not refused,
            "every answered sign-up before the kill was a 303",
            "; ".join(f"{e}: {s} {b}" for e, s, b in refused[:3]) if refused else f"{len(acked)} of {len(acked)}",
        )
        checks.check(len(acked) > 0, "some sign-ups were acknowledged before the kill (the test measured something)", str(len(acked)))

        t0 = time.monotonic()
        try:
            server.start()
            restarted = True
        except RuntimeError as e:
            restarted = False
            log(str(e))
        checks.check(restarted, "the server starts again on the same database", f"ready after {time.monotonic() - t0:.1f} s" if restarted else "")
        if restarted:
            def verify(email: str) -> tuple[str, str | None]:
                try:
                    r = harness.sign_in(server.base, email)
                except (requests.RequestException, harness.FormError) as e:
                    return email, f"{type(e).__name__}: {e}"
                if harness.signed_in(r):
                    return email, None
                return email, f"{r.status_code} location={r.headers.get('location')} {harness.excerpt(r.text)}"

            with ThreadPoolExecutor(4) as pool:
                results = list(pool.map(verify, acked))
                in_flight = list(pool.map(verify, cut_by_kill))
            lost = [(e, why) for e, why in results if why is not None]
            verified = len(results) - len(lost)
            log(f"acknowledged {len(acked)}, verified {verified}, lost {len(lost)}")
            for email, why in lost[:5]:
                log(f"   lost {email}: {why}")
            exists = sum(1 for _, why in in_flight if why is None)
            log(f"cut off by the kill: {len(cut_by_kill)}, of which {exists} exist after the restart (either is correct)")
            checks.check(not lost, "every acknowledged account signs in after the restart (303 to /account)", f"{verified} of {len(acked)}")
        server.report_logs()
    except Exception as e:  # the script's own failure: reported, never a pass
        checks.check(False, "the test ran to the end", f"{type(e).__name__}: {e}")
        if server is not None and "log:" not in str(e):
            log(server.tail(20))
    finally:
        if server is not None:
            server.kill(signal.SIGKILL)
        if db_name:
            harness.drop_database(args.postgres, db_name)
            log(f"database {db_name} dropped")
        harness.remove_workdir(workdir, args.keep)
    return checks.exit_code(name, started)


if __name__ == "__main__":
    sys.exit(main())
