"""Writes the link order of the release executable: the functions a server runs, first.

usage: tests/interop/.venv/bin/python tests/memory/link_order.py BINARY
           [--out crates/authify-server/link-order.txt] [--keep]
       tests/interop/.venv/bin/python tests/memory/link_order.py BINARY --check

Why (docs/performance.md, "Idle memory: link order"): Linux maps an executable's code in 64 KiB
windows around each page a process touches (fault-around), so an idle server whose few thousand
start-up functions lie scattered over 12 MB of code has nearly all of it resident. Placing the
functions it runs next to each other makes the resident part about the size of what runs.

How: BINARY (a release build) runs twice under `valgrind --tool=callgrind`, which records every
function that executes:
  1. start-up and idle: `authify serve` with its keys present, /ready, one discovery document,
     two seconds of idle (what tests/memory/rss.py measures as idle);
  2. the requests of a working server: sign-up, password sign-in, the account page, single
     sign-on to an app (`GET /login?callback=…`), the key documents, health and metrics.
The order file lists the functions of (1), then those only in (2), each group hottest first.
`crates/authify-server/build.rs` hands it to the linker (lld's `--symbol-ordering-file`);
functions it does not name keep the compiler's order after them, so a stale file costs memory,
never correctness. Re-run this after dependency or toolchain updates, when rss.py's idle figure
grows: symbol names carry a hash of the crate's version and the compiler's.

Needs valgrind (Debian package `valgrind`). Takes about a minute.

With --check (no valgrind; `.ci/run` runs it before the memory bounds) it only tells whether the
file still names the functions of BINARY: it exits 1 when fewer than 97 % of its names are among
BINARY's symbols, which is what a dependency or toolchain update does to it.
"""

import argparse
import base64
import os
import re
import subprocess
import sys
import time
from collections import defaultdict

import requests

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "failure"))
import harness  # noqa: E402
from harness import log  # noqa: E402

ROOT = os.path.abspath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
# mimalloc options set here, so the server does not re-execute itself (rss.py's figures are taken
# with the same options: the server sets them itself when none is given).
ENV = {"MIMALLOC_PURGE_DELAY": "0", "MIMALLOC_ARENA_EAGER_COMMIT": "0"}
CALLBACK = "http://127.0.0.1:9/cb"


def symbols(binary: str) -> set[str]:
    """Names of the code symbols of BINARY (what the linker can order)."""
    out = subprocess.run(["nm", "--defined-only", binary], check=True, capture_output=True, text=True).stdout
    return {p[2] for p in (line.split() for line in out.splitlines()) if len(p) == 3 and p[1] in "tTwW"}


def self_costs(path: str) -> dict[str, int]:
    """Instructions executed in each function (self cost) from a callgrind output file, with
    names as in the symbol table (`--demangle=no`; callgrind's recursion marks `'N` removed)."""
    names: dict[str, str] = {}
    costs: dict[str, int] = defaultdict(int)
    current = None
    skip_next = False
    name_line = re.compile(r"^(c?fn)=\((\d+)\)(?: (.*))?$")
    with open(path, errors="replace") as f:
        for line in f:
            line = line.rstrip("\n")
            m = name_line.match(line)
            if m:
                kind, ident, name = m.groups()
                if name is not None:
                    names[ident] = re.sub(r"'\d+$", "", name)
                if kind == "fn":
                    current = names.get(ident)
                continue
            if line.startswith("calls="):
                skip_next = True  # the next cost line is the call's inclusive cost
                continue
            if line[:1].isdigit() or line[:1] in "+-*":
                if skip_next:
                    skip_next = False
                    continue
                parts = line.split()
                if current is not None and len(parts) >= 2 and parts[1].isdigit():
                    costs[current] += int(parts[1])
    return costs


def profiled(binary: str, workdir: str, port: int, name: str) -> tuple[harness.Server, str]:
    out = os.path.join(workdir, f"{name}.callgrind")
    prefix = ["valgrind", "--tool=callgrind", "--demangle=no", f"--callgrind-out-file={out}"]
    return harness.Server(binary, workdir, port=port, extra_env=ENV, prefix=prefix), out


def run_idle(binary: str, workdir: str, port: int) -> str:
    server, out = profiled(binary, workdir, port, "idle")
    server.start(ready_within=300)
    requests.get(f"{server.base}/.well-known/openid-configuration", timeout=60).raise_for_status()
    time.sleep(2)
    server.stop()
    return out


def run_requests(binary: str, workdir: str, port: int) -> str:
    server, out = profiled(binary, workdir, port, "requests")
    subprocess.run([binary, "apps", "create", "--name", "Order", "--callback", CALLBACK], env=server.env(), cwd=workdir, check=True, capture_output=True)
    server.start(ready_within=300)
    base, t = server.base, 120
    email = "order@example.test"
    r = harness.sign_up(base, email, timeout=t)
    if r.status_code != 303:
        raise RuntimeError(f"sign-up: {r.status_code} {harness.excerpt(r.text)}")
    for _ in range(2):
        s, page = harness.sign_in_form(base, t)
        r = harness.post_sign_in(s, base, page, email, timeout=t)
        if not harness.signed_in(r):
            raise RuntimeError(f"sign-in: {r.status_code} {harness.excerpt(r.text)}")
        s.get(f"{base}/account", timeout=t).raise_for_status()
        cb = base64.b64encode(CALLBACK.encode()).decode()
        r = s.get(f"{base}/login", params={"callback": cb}, allow_redirects=False, timeout=t)
        if r.status_code != 303 or not r.headers.get("location", "").startswith(CALLBACK):
            raise RuntimeError(f"single sign-on: {r.status_code} {r.headers.get('location')}")
    for path in ("/jwt/key", "/jwt/meta", "/.well-known/jwks.json", "/.well-known/openid-configuration", "/health", "/ready", "/metrics", "/login", "/signup"):
        requests.get(f"{base}{path}", timeout=t)
    server.stop()
    return out


def check(binary: str, path: str, known: set[str]) -> int:
    with open(path) as f:
        names = [line.strip() for line in f if line.strip() and not line.startswith("#")]
    found = sum(1 for n in names if n in known)
    share = found / len(names) if names else 0.0
    ok = share >= 0.97
    log(f"{'ok  ' if ok else 'FAIL'} link order {os.path.relpath(path, ROOT)}: {found} of {len(names)} names ({share:.0%}) are functions of {binary}")
    if not ok:
        log("     the order no longer matches the code: rewrite it with tests/memory/link_order.py BINARY (valgrind), then build again")
    return 0 if ok else 1


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("binary")
    ap.add_argument("--out", default=os.path.join(ROOT, "crates", "authify-server", "link-order.txt"))
    ap.add_argument("--keep", action="store_true", help="keep the temporary directory (callgrind files, logs)")
    ap.add_argument("--check", action="store_true", help="only tell whether the order file matches BINARY")
    args = ap.parse_args()
    binary = os.path.abspath(args.binary)
    known = symbols(binary)
    if args.check:
        return check(binary, args.out, known)
    workdir = harness.make_workdir("link-order")
    try:
        first = harness.Server(binary, workdir, extra_env=ENV)
        first.start()  # makes the keys and the master key natively: the profiled start has them
        first.stop()
        idle = self_costs(run_idle(binary, workdir, first.port))
        busy = self_costs(run_requests(binary, workdir, first.port))
    finally:
        harness.remove_workdir(workdir, args.keep)

    def hottest(costs: dict[str, int], skip: set[str]) -> list[str]:
        return sorted((n for n in costs if n in known and n not in skip), key=lambda n: (-costs[n], n))

    group1 = hottest(idle, set())
    group2 = hottest(busy, set(group1))
    with open(args.out, "w") as f:
        f.write("# Link order of the release executable: written by tests/memory/link_order.py, read by build.rs.\n")
        f.write(f"# {len(group1)} functions of start-up and idle, then {len(group2)} more of a working server.\n")
        for name in group1 + group2:
            f.write(name + "\n")
    log(f"{args.out}: {len(group1)} start-up and idle functions, {len(group2)} more under requests ({len(known)} in the executable)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
