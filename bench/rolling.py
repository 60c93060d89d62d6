"""Zero-downtime rolling restart (SPEC §10): a `web` of scale 2 (Python's http.server) with an
`http` ready check, behind nginx (an `lb` type that retries the other upstream on a refused or
reset connection, as a platform's router does), under a steady load generator on loopback;
then `formation restart web --wait` from inside the container. The figure is the number of
failed requests (the target is 0), with the count and the rate.

For contrast, the same load through `formation stop web --wait` then `formation start web`
(both instances down at once) shows that the method sees failures when there is a window.

usage: python3 bench/rolling.py [--seconds S] [--json]   (as root; FORMATION_BIN=path/to/binary)
"""

import argparse
import http.client
import json
import os
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bench  # noqa: E402

bench.FORMATION = os.environ.get("FORMATION_BIN", bench.FORMATION)


def python():
    """The real interpreter (a pyenv shim is a shell script: slow to start)."""
    return subprocess.run([sys.executable, "-c", "import sys; print(sys.executable)"],
                          capture_output=True, text=True).stdout.strip()


def config(base):
    lb = base + 200
    conf = os.path.join(bench.WORK, "nginx.conf")
    with open(conf, "w") as f:
        f.write(f"""worker_processes 1;
pid {bench.WORK}/nginx.pid;
error_log stderr crit;
events {{ worker_connections 1024; }}
http {{
  access_log off;
  client_body_temp_path {bench.WORK}/body;
  proxy_temp_path {bench.WORK}/proxy;
  fastcgi_temp_path {bench.WORK}/fastcgi;
  uwsgi_temp_path {bench.WORK}/uwsgi;
  scgi_temp_path {bench.WORK}/scgi;
  upstream web {{
    server 127.0.0.1:{base} max_fails=0;
    server 127.0.0.1:{base + 1} max_fails=0;
  }}
  server {{
    listen 127.0.0.1:{lb};
    location / {{
      proxy_pass http://web;
      proxy_next_upstream error timeout http_502;
      proxy_connect_timeout 1s;
    }}
  }}
}}
""")
    toml = f"""[env]
PORT = "{base}"

[process.web]
command = "{python()} -m http.server $PORT --bind 127.0.0.1 --directory {bench.WORK}"
scale = 2
ready = {{ http = "http://127.0.0.1:$PORT/", interval = "20ms" }}

[process.lb]
command = ["nginx", "-c", "{conf}", "-g", "daemon off;"]
after = ["web"]
"""
    return toml, lb


class Load:
    """Steady GETs through the load balancer from `threads` threads, one new connection
    each (the harshest case for a restart): every answer that is not a 200 is a failure."""

    def __init__(self, port, threads=4):
        self.port, self.done = port, threading.Event()
        self.ok = self.failed = 0
        self.errors = {}
        self.lock = threading.Lock()
        self.threads = [threading.Thread(target=self.run, daemon=True) for _ in range(threads)]

    def run(self):
        while not self.done.is_set():
            try:
                c = http.client.HTTPConnection("127.0.0.1", self.port, timeout=5)
                c.request("GET", "/")
                r = c.getresponse()
                r.read()
                c.close()
                good, why = r.status == 200, f"HTTP {r.status}"
            except OSError as e:
                good, why = False, type(e).__name__
            with self.lock:
                if good:
                    self.ok += 1
                else:
                    self.failed += 1
                    self.errors[why] = self.errors.get(why, 0) + 1

    def __enter__(self):
        self.start = time.monotonic()
        for t in self.threads:
            t.start()
        return self

    def __exit__(self, *exc):
        self.done.set()
        for t in self.threads:
            t.join()
        self.seconds = time.monotonic() - self.start

    def result(self):
        n = self.ok + self.failed
        return {"requests": n, "failed": self.failed, "errors": self.errors,
                "rate_per_s": round(n / self.seconds), "seconds": round(self.seconds, 1)}


def inside(run, *args):
    """`formation ARGS` inside the formation's pid and mount namespaces (`docker exec`)."""
    t = time.monotonic()
    out = subprocess.run(["nsenter", "--target", str(run.init), "--pid", "--mount",
                          bench.FORMATION, *args], capture_output=True, text=True, timeout=120)
    return out.returncode, out.stdout + out.stderr, time.monotonic() - t


def once(request, settle):
    base = bench.free_ports([0, 1, 100, 200])
    toml, lb = config(base)
    run = bench.Run(toml)
    try:
        if not run.wait_for(lambda l: b"lb.1 started" in l, 30):
            text = b"\n".join(line for _, line in run.lines).decode(errors="replace")
            raise RuntimeError(f"lb never started:\n{text}")
        time.sleep(0.5)
        with Load(lb) as load:
            time.sleep(settle)
            took = []
            for args in request:
                code, out, t = inside(run, *args)
                if code != 0:
                    raise RuntimeError(f"formation {' '.join(args)}: {code}\n{out}")
                took.append(round(t, 2))
            time.sleep(settle)
        result = load.result()
        result["request_seconds"] = took
        return result
    finally:
        run.stop()


def bench_rolling(seconds=2.0):
    return {
        "restart": once([["restart", "web", "--wait"]], seconds),
        "stop_then_start": once([["stop", "web", "--wait"], ["start", "web", "--wait"]],
                                seconds),
    }


def report(r):
    out = ["## Zero-downtime rolling restart: `formation restart web --wait` under load\n",
           "`web` (Python's http.server, scale 2, `ready = { http = ... }`) behind nginx (an `lb` "
           "type that retries the other upstream when one refuses), 4 client threads each "
           "opening a new connection per GET on loopback, from 2 s before to 2 s after the "
           "request.\n",
           "| request | requests | failed | rate (req/s) | request took |\n|---|---:|---:|---:|---:|"]
    for key, label in (("restart", "`restart web --wait` (one instance at a time)"),
                       ("stop_then_start", "`stop web --wait`, then `start web --wait` "
                                           "(contrast: both down at once)")):
        v = r[key]
        took = " + ".join(f"{t} s" for t in v["request_seconds"])
        out.append(f"| {label} | {v['requests']} | **{v['failed']}** | {v['rate_per_s']} | {took} |")
    return "\n".join(out) + "\n"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--seconds", type=float, default=2.0)
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    try:
        r = bench_rolling(args.seconds)
    finally:
        import shutil
        shutil.rmtree(bench.WORK, ignore_errors=True)
    print(json.dumps(r, indent=2) if args.json else report(r))


if __name__ == "__main__":
    main()
