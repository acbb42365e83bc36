"""JWKS latency while password checks saturate the hash pool (docs/performance.md "JWKS under
hash saturation"). Starts BINARY serve on SQLite on a loopback port, measures
/.well-known/jwks.json with wrk (1 thread, 2 connections, 8 s) idle, then again while 8 clients
post wrong passwords for an unknown address (one argon2 check each), and prints p50/p90/p99.

usage: tests/interop/.venv/bin/python tests/load/jwks_saturation.py target/release/authify [AUTHIFY_X=Y ...]
"""
import os, re, socket, subprocess, sys, tempfile, threading, time, urllib.request
import requests
binary = sys.argv[1]
d = tempfile.mkdtemp()
s = socket.socket(); s.bind(("127.0.0.1", 0)); port = s.getsockname()[1]; s.close()
env = {"PATH": os.environ["PATH"], "AUTHIFY_DB_URL": f"sqlite://{d}/a.db", "AUTHIFY_KEYS_DIR": f"{d}/keys",
       "AUTHIFY_MASTER_KEY_FILE": f"{d}/master.key", "AUTHIFY_MAIL_DIR": f"{d}/mail", "AUTHIFY_LOG": "warn",
       "AUTHIFY_BIND": f"127.0.0.1:{port}", "AUTHIFY_PUBLIC_URL": f"http://127.0.0.1:{port}",
       "AUTHIFY_SIGNIN_ATTEMPTS_PER_MINUTE": "0", "AUTHIFY_SIGNIN_ATTEMPTS_PER_ADDRESS_PER_MINUTE": "0",
       "AUTHIFY_FLOWS_PER_ADDRESS": "0", "AUTHIFY_FLOWS_PER_ADDRESS_PER_MINUTE": "0"}
env.update(dict(kv.split("=", 1) for kv in sys.argv[2:]))
p = subprocess.Popen([binary, "serve"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
base = f"http://127.0.0.1:{port}"
for _ in range(200):
    try:
        if urllib.request.urlopen(base + "/ready").status == 200: break
    except Exception: time.sleep(0.05)
def wrk(label):
    out = subprocess.run(["wrk", "-t1", "-c2", "-d8s", "--latency", base + "/.well-known/jwks.json"], capture_output=True, text=True).stdout
    lat = {m.group(1): m.group(2) for m in re.finditer(r"^\s+(50|75|90|99)%\s+(\S+)", out, re.M)}
    rps = re.search(r"Requests/sec:\s+(\S+)", out).group(1)
    print(f"{label}: JWKS p50 {lat.get('50')} p90 {lat.get('90')} p99 {lat.get('99')}, {rps} req/s")
wrk("idle")
stop = False; count = [0, 0]
def hammer():
    sess = requests.Session()
    while not stop:
        html = sess.get(base + "/login").text
        tok = re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)
        r = sess.post(base + "/login", data={"csrf_token": tok, "email": "nobody@example.com", "password": "wrong password here"}, allow_redirects=False)
        count[0 if r.status_code == 401 else 1] += 1
threads = [threading.Thread(target=hammer) for _ in range(8)]
for t in threads: t.start()
time.sleep(2)
t0 = time.time(); c0 = count[0]
wrk("hash pool saturated (8 clients signing in)")
print(f"  password checks during the run: {(count[0]-c0)/(time.time()-t0):.1f}/s, other statuses: {count[1]}")
stop = True
for t in threads: t.join()
p.terminate(); p.wait()
