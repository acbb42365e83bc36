"""Resource pressure: idle connections and a burst of sign-ins beyond the hash queue.

usage: tests/interop/.venv/bin/python tests/failure/pressure.py BINARY [--idle 500] [--burst 200]
                    [--hash-concurrency 1] [--rss-bound-mib 400] [--keep]

Starts BINARY (`authify serve`) on SQLite in a temporary directory with AUTHIFY_HASH_CONCURRENCY
small (1 by default), so its hash queue holds 65 × 1 sign-ins and a burst overflows it. One account
is signed up and BURST sign-in forms are fetched (each in its own session). Then IDLE TCP
connections are opened and held (half send nothing, half a request line and one header, never
finishing the request), and the BURST sign-ins are posted at once (one thread each, released by a
barrier), while another thread polls GET /jwt/key (a new connection every 50 ms) and another reads
the server's VmRSS from /proc every 20 ms.

Expectations: the peak RSS (the largest sample, and the kernel's VmHWM) stays under RSS_BOUND_MIB
(400 MiB by default: the argon2 memory of the hashes running, 19 MiB each, plus the debug binary,
with room); every burst answer is either a sign-in (303 to /account) or a 503 with Retry-After,
with at least one of each (the queue did overflow, and it still served); /jwt/key answers 200
every time (its latency is reported, not judged); the server is still ready afterwards. Prints
RSS before, with the idle connections, at the peak and after, the counts, and what happened to the
idle connections; exits 1 on a failed expectation.
"""

import argparse
import resource
import socket
import statistics
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import requests

import harness
from harness import log


def mib(kib: int | None) -> str:
    return "?" if kib is None else f"{kib / 1024:.1f} MiB"


def main() -> int:
    started = time.monotonic()
    harness.on_sigterm_exit()
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("binary")
    ap.add_argument("--idle", type=int, default=500, help="idle TCP connections held open")
    ap.add_argument("--burst", type=int, default=200, help="concurrent password sign-ins")
    ap.add_argument("--hash-concurrency", type=int, default=1, help="AUTHIFY_HASH_CONCURRENCY (queue capacity: 65 times this)")
    ap.add_argument("--rss-bound-mib", type=float, default=400.0)
    ap.add_argument("--keep", action="store_true", help="keep the temporary directory (server logs)")
    args = ap.parse_args()
    checks = harness.Checks()
    # Room for IDLE + BURST + polling sockets here and in the server (which inherits the limit).
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = min(hard, max(soft, 4 * (args.idle + args.burst) + 256)) if hard != resource.RLIM_INFINITY else max(soft, 4 * (args.idle + args.burst) + 256)
    resource.setrlimit(resource.RLIMIT_NOFILE, (want, hard))
    workdir = harness.make_workdir("pressure")
    server = None
    idle: list[socket.socket] = []
    stop = threading.Event()
    try:
        log(f"binary {harness.describe_binary(args.binary)}")
        server = harness.Server(args.binary, workdir, extra_env={"AUTHIFY_HASH_CONCURRENCY": str(args.hash_concurrency)})
        server.start()
        capacity = 65 * args.hash_concurrency
        log(f"server pid {server.pid} on {server.base}, SQLite, AUTHIFY_HASH_CONCURRENCY={args.hash_concurrency} (queue capacity {capacity}), open files limit {want}")
        email = "pressure@failure.test"
        r = harness.sign_up(server.base, email)
        if r.status_code != 303:
            raise RuntimeError(f"sign-up: {r.status_code} {harness.excerpt(r.text)}")

        def form(_: int):
            s, page = harness.sign_in_form(server.base)
            token = harness.csrf(page)
            s.close()  # the keep-alive connection may time out before the burst; POST on a new one
            return s, token

        with ThreadPoolExecutor(16) as pool:
            forms = list(pool.map(form, range(args.burst)))
        rss_before = server.status_kib("VmRSS")
        log(f"RSS before: {mib(rss_before)} ({args.burst} sign-in forms fetched)")

        samples: list[tuple[float, int]] = []
        keys: list[tuple[float, float, object]] = []  # (start, latency, status or error)

        def sample_rss() -> None:
            while not stop.is_set():
                kib = server.status_kib("VmRSS")
                if kib is not None:
                    samples.append((time.monotonic(), kib))
                stop.wait(0.02)

        def poll_key() -> None:
            while not stop.is_set():
                t0 = time.monotonic()
                try:
                    r = requests.get(f"{server.base}/jwt/key", timeout=harness.HTTP_TIMEOUT)
                    keys.append((t0, time.monotonic() - t0, r.status_code))
                except requests.RequestException as e:
                    keys.append((t0, time.monotonic() - t0, type(e).__name__))
                stop.wait(0.05)

        background = [threading.Thread(target=f, daemon=True) for f in (sample_rss, poll_key)]
        for t in background:
            t.start()

        t0 = time.monotonic()
        refused_idle = 0
        for i in range(args.idle):
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            s.settimeout(5)
            try:
                s.connect(("127.0.0.1", server.port))
                if i % 2:
                    s.sendall(b"GET /jwt/key HTTP/1.1\r\nHost: 127.0.0.1\r\n")
                idle.append(s)
            except OSError:
                refused_idle += 1
                s.close()
        rss_idle = server.status_kib("VmRSS")
        log(f"{len(idle)} idle connections open in {time.monotonic() - t0:.2f} s ({refused_idle} refused); RSS with them: {mib(rss_idle)}")

        barrier = threading.Barrier(args.burst + 1)
        results: list[dict] = [{} for _ in range(args.burst)]

        def sign_in(n: int) -> None:
            s, token = forms[n]
            try:
                barrier.wait(timeout=60)
            except threading.BrokenBarrierError:
                pass
            t = time.monotonic()
            try:
                r = s.post(
                    f"{server.base}/login",
                    data={"csrf_token": token, "email": email, "password": harness.PASSWORD},
                    allow_redirects=False,
                    timeout=120,
                )
                results[n] = {"status": r.status_code, "location": r.headers.get("location"), "retry_after": r.headers.get("retry-after"), "body": r.text, "latency": time.monotonic() - t}
            except requests.RequestException as e:
                results[n] = {"status": type(e).__name__, "location": None, "retry_after": None, "body": str(e), "latency": time.monotonic() - t}

        burst = [threading.Thread(target=sign_in, args=(n,), daemon=True) for n in range(args.burst)]
        for t in burst:
            t.start()
        barrier.wait(timeout=60)
        t_burst = time.monotonic()
        for t in burst:
            t.join(timeout=150)
        t_done = time.monotonic()
        log(f"burst of {args.burst} sign-ins answered in {t_done - t_burst:.1f} s")

        seen: dict[int, str] = {}
        log(f"idle connections after the burst ({t_done - t0:.1f} s after opening): {idle_state(idle, seen)}")

        time.sleep(2)
        log(f"idle connections 2 s later ({time.monotonic() - t0:.1f} s after opening): {idle_state(idle, seen)}")
        rss_after = server.status_kib("VmRSS")
        hwm = server.status_kib("VmHWM")
        stop.set()
        for t in background:
            t.join(timeout=harness.HTTP_TIMEOUT + 5)
        for s in idle:
            s.close()
        idle.clear()
        peak_t, peak = max(samples, key=lambda s: s[1]) if samples else (t_burst, 0)
        peak_all = max(peak, hwm or 0)
        log(
            f"RSS before {mib(rss_before)}, with idle connections {mib(rss_idle)}, peak sampled {mib(peak)} "
            f"({peak_t - t_burst:+.1f} s from the burst; {len(samples)} samples), VmHWM {mib(hwm)}, after (2 s later) {mib(rss_after)}"
        )

        ok = [r for r in results if harness.signed_in_item(r)]
        busy = [r for r in results if r.get("status") == 503]
        other = [r for r in results if not harness.signed_in_item(r) and r.get("status") != 503]
        no_retry = [r for r in busy if not r.get("retry_after")]
        lat_ok = [r["latency"] for r in ok]
        lat_busy = [r["latency"] for r in busy]
        log(
            f"burst answers: {len(ok)} signed in (303 /account; latency median {med(lat_ok)} max {mx(lat_ok)}), "
            f"{len(busy)} 503 (Retry-After {sorted({r.get('retry_after') for r in busy}, key=str)}; latency median {med(lat_busy)} max {mx(lat_busy)}), "
            f"{len(other)} other"
        )
        if busy:
            log(f"   sample 503: {harness.excerpt(busy[0]['body'], 200)}")
        kinds: dict[str, int] = {}
        for r in other:
            k = f"{r['status']} {harness.excerpt(r['body'], 160)}"
            kinds[k] = kinds.get(k, 0) + 1
        for k, n in kinds.items():
            log(f"   other: {n} x {k}")

        key_ok = [k for k in keys if k[2] == 200]
        key_bad = [k for k in keys if k[2] != 200]
        during = [k for k in keys if t_burst <= k[0] <= t_done]
        log(
            f"GET /jwt/key: {len(keys)} requests, {len(key_ok)} 200; latency max {mx([k[1] for k in keys])}, "
            f"median {med([k[1] for k in keys])}; during the burst: {len(during)} requests, max {mx([k[1] for k in during])} (reported, not judged)"
        )

        checks.check(peak_all < args.rss_bound_mib * 1024, f"peak RSS under {args.rss_bound_mib:.0f} MiB", f"{mib(peak_all)}")
        checks.check(not other, "every burst sign-in is answered 303 to /account or 503", f"{len(other)} others: " + "; ".join(f"{n} x {k}" for k, n in list(kinds.items())[:3]) if other else f"{len(ok)} + {len(busy)}")
        checks.check(bool(busy), f"the burst overflowed the hash queue (some 503s; capacity {capacity})", f"{len(busy)} of {args.burst}")
        checks.check(bool(busy) and not no_retry, "every 503 carries Retry-After", f"{len(no_retry)} without" if no_retry else f"{len(busy)} with")
        checks.check(bool(ok), "some burst sign-ins succeed", f"{len(ok)} of {args.burst}")
        checks.check(bool(during) and not key_bad, "GET /jwt/key answers 200 throughout", f"{len(key_bad)} not: {sorted({str(k[2]) for k in key_bad})}" if key_bad else f"{len(keys)} requests, {len(during)} during the burst")
        alive = server.alive()
        ready = None
        if alive:
            try:
                ready = requests.get(f"{server.base}/ready", timeout=10).status_code
            except requests.RequestException as e:
                ready = type(e).__name__
        checks.check(alive and ready == 200, "the server is alive and ready afterwards", f"alive={alive}, /ready {ready}")
        try:
            r = harness.sign_in(server.base, email)
            checks.check(harness.signed_in(r), "a sign-in after the burst succeeds", f"{r.status_code} {r.headers.get('location')}")
        except (requests.RequestException, harness.FormError) as e:
            checks.check(False, "a sign-in after the burst succeeds", f"{type(e).__name__}: {e}")
        server.report_logs()
    except Exception as e:  # the script's own failure: reported, never a pass
        checks.check(False, "the test ran to the end", f"{type(e).__name__}: {e}")
        if server is not None and "log:" not in str(e):
            log(server.tail(20))
    finally:
        stop.set()
        for s in idle:
            s.close()
        if server is not None:
            server.kill()
        harness.remove_workdir(workdir, args.keep)
    return checks.exit_code("pressure (SQLite)", started)


def idle_state(idle: list[socket.socket], seen: dict[int, str]) -> str:
    """What the server did with the idle connections so far: still open, answered (its first
    line) then closed, or closed without a word. `seen` keeps each socket's outcome across calls."""
    for i, s in enumerate(idle):
        if seen.get(i, "open") != "open":
            continue
        s.setblocking(False)
        try:
            data = s.recv(4096)
            seen[i] = "answered: " + data.split(b"\r\n", 1)[0].decode(errors="replace") if data else "closed without an answer"
        except BlockingIOError:
            seen[i] = "open"
        except OSError as e:
            seen[i] = f"closed: {type(e).__name__}"
    counts: dict[str, int] = {}
    for state in seen.values():
        counts[state] = counts.get(state, 0) + 1
    return ", ".join(f"{n} {state}" for state, n in sorted(counts.items(), key=lambda kv: -kv[1]))


def med(xs: list[float]) -> str:
    return f"{statistics.median(xs) * 1000:.0f} ms" if xs else "-"


def mx(xs: list[float]) -> str:
    return f"{max(xs) * 1000:.0f} ms" if xs else "-"


if __name__ == "__main__":
    sys.exit(main())
