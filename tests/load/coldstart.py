"""Cold start to ready: how long `authify serve` takes from exec to its first `/ready` 200.

usage: tests/interop/.venv/bin/python tests/load/coldstart.py [BINARY] [--runs 15]

BINARY defaults to target/release/authify. SQLite in a temporary directory, keys present: a first
start makes the keys and the master key and is not counted. Each counted run spawns the server and
polls GET /ready on a fresh connection every millisecond; the time is from just before the spawn
to the first 200. Prints every run, then min, median and max (the goal in docs/performance.md is
a median of at most 50 ms). A benchmark, not a test: it never fails on a figure.
"""

import argparse
import http.client
import os
import statistics
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "failure"))
import harness  # noqa: E402
from harness import log  # noqa: E402


def ready(port: int) -> bool:
    try:
        c = http.client.HTTPConnection("127.0.0.1", port, timeout=1)
        c.request("GET", "/ready")
        ok = c.getresponse().status == 200
        c.close()
        return ok
    except OSError:
        return False


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("binary", nargs="?", default="target/release/authify")
    ap.add_argument("--runs", type=int, default=15)
    args = ap.parse_args()
    log(f"binary: {harness.describe_binary(args.binary)}")
    workdir = harness.make_workdir("coldstart")
    server = harness.Server(args.binary, workdir, extra_env={"AUTHIFY_LOG": "warn"})
    times = []
    try:
        server.start()
        server.stop()
        for n in range(args.runs):
            t0 = time.perf_counter()
            server.starts += 1
            server.log_path = os.path.join(workdir, f"server-{server.starts}.log")
            with open(server.log_path, "wb") as out:
                server.proc = harness.subprocess.Popen(
                    [server.binary, "serve"], env=server.env(), cwd=workdir, stdin=harness.subprocess.DEVNULL, stdout=out, stderr=harness.subprocess.STDOUT
                )
            while not ready(server.port):
                if server.proc.poll() is not None:
                    raise RuntimeError(f"server exited: {server.tail(20)}")
                if time.perf_counter() - t0 > 30:
                    raise RuntimeError("not ready within 30 s")
                time.sleep(0.001)
            ms = (time.perf_counter() - t0) * 1000
            times.append(ms)
            log(f"run {n + 1}: {ms:.1f} ms")
            server.stop()
        log(f"cold start to /ready: min {min(times):.1f} ms, median {statistics.median(times):.1f} ms, max {max(times):.1f} ms ({len(times)} runs)")
    finally:
        server.kill()
        harness.remove_workdir(workdir, False)
    return 0


if __name__ == "__main__":
    sys.exit(main())
