#!/usr/bin/env python3
"""The soak benchmark (issue #26): a formation of crash-looping, scheduled, health-checked and
flooding types, plus an operator's control requests, run as PID 1 for a long time (30 minutes
by default). formation's RSS and open fd count are sampled once a minute: both must stay flat
(a leak of memory or descriptors over thousands of restarts, fires, checks and lines shows as
a slope). Prints a Markdown table for BENCHMARKS.md and writes bench/soak.json.

usage: bench/soak.py [--minutes N] [--bin PATH]
"""
import collections
import json
import os
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))

INTRO = """
## Soak: 30 minutes of restarts, schedules, checks, a flood and control requests (as PID 1)

`bench/run.sh soak` (`bench/soak.py`): formation as PID 1 of a pid namespace running two
crash-looping instances (`exit 1`, restarted every 0.5–1 s: about 3,600 restarts), a job
scheduled `@every 1s` (1,800 runs), a Python HTTP server with an `http` ready and health check
every second, a `sleep` with an `exec` health check every second (1,800 check processes), and a
flood of up to 2,000 lines a second plus one 40 KB line (cut into 16 KiB pieces) every 0.1 s; every
10 s an operator's `formation restart web` (a rolling restart behind its ready check) and
`formation restart checked` over the control socket. formation's RSS and its
open fds (the fewest over half a second: a check's socket is open only for a moment) sampled
each minute, at nice 19.

"""

CONFIG = """
# Restarts about once a second, forever (the crash-loop limit is set out of reach).
[process.crash]
command = "sh -c 'echo crashing; exit 1'"
scale = 2
restart = "always"
essential = false
backoff = { initial = "500ms", max = "1s", restarts = 100000000 }

# A scheduled job every second.
[process.tick]
command = "sh -c 'echo tick'"
schedule = "@every 1s"

# Health-checked: an exec check and an HTTP check, each once a second.
[process.web]
command = "python3 -m http.server $PORT --bind 127.0.0.1"
restart = "always"
ready = { http = "http://127.0.0.1:$PORT/", interval = "100ms" }
health = { http = "http://127.0.0.1:$PORT/", interval = "1s", failures = 3 }

[process.checked]
command = "sleep 100000"
restart = "always"
health = { exec = "true", interval = "1s", failures = 3 }

# A flood: 2,000 lines a second, one of them 40 KiB (cut into 16 KiB pieces).
[process.flood]
command = "sh -c 'while :; do seq 1 200; head -c 40000 /dev/zero | tr -c x x; echo; sleep 0.1; done'"
"""


def rss_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def fds(pid):
    """The fewest open fds over half a second: a check's socket or a control connection is
    open only for a moment, a leaked fd for good."""
    least = None
    for _ in range(5):
        n = len(os.listdir(f"/proc/{pid}/fd"))
        least = n if least is None else min(least, n)
        time.sleep(0.1)
    return least


def pid1_of(proc):
    """The host pid of formation (PID 1 of the namespace unshare made)."""
    deadline = time.time() + 10
    while time.time() < deadline:
        try:
            with open(f"/proc/{proc.pid}/task/{proc.pid}/children") as f:
                kids = f.read().split()
            if kids:
                return int(kids[0])
        except OSError:
            pass
        time.sleep(0.01)
    raise SystemExit("formation did not start")


def drain(stream, counter, key, tail):
    for line in stream:
        counter[key] += 1
        tail.append(line)


def render(result):
    """BENCHMARKS.md's soak section (bench/bench.py appends it when bench/soak.json exists)."""
    rows = "\n".join(
        f"| {s['minute']} | {s['rss_kib']:,} | {s['fds']} | {s['stdout_lines']:,} | "
        f"{s['stderr_lines']:,} | {s['control_ok']} |"
        for s in result["samples"] if s["minute"] % 3 == 0 or s["minute"] in (1, 2))
    settled = result["samples"][2]["rss_kib"] if len(result["samples"]) > 3 else 0
    last = result["samples"][-1]
    verdict = "Flat" if result["flat"] else "NOT flat"
    return (INTRO + "| minute | RSS (KiB) | fds | stdout lines | stderr lines | control requests |\n"
            "|---:|---:|---:|---:|---:|---:|\n" + rows + "\n\n"
            f"**{verdict}:** RSS grew {result['rss_growth_kib']} KiB from minute 2 to minute "
            f"{last['minute']} ({settled:,} → {last['rss_kib']:,} KiB), the fd count moved by "
            f"{result['fd_spread']}, {last['control_ok']} control requests were answered "
            f"({last['control_failed']} failed), and the stop at the end exited "
            f"{result['exit']}. The per-minute series is in `bench/soak.json`.\n"
            + (f"\nRun: {result['run']}.\n" if result.get("run") else ""))


def main():
    args = sys.argv[1:]
    minutes = 30
    binary = os.path.join(HERE, "..", "target", "release", "formation")
    while args:
        flag = args.pop(0)
        if flag == "--minutes":
            minutes = float(args.pop(0))
        elif flag == "--bin":
            binary = args.pop(0)
        else:
            raise SystemExit(__doc__)
    binary = os.path.abspath(binary)
    work = tempfile.mkdtemp(prefix="formation-soak-")
    with open(os.path.join(work, "formation.toml"), "w") as f:
        f.write(CONFIG)
    proc = subprocess.Popen(
        ["unshare", "--pid", "--fork", "--mount-proc", "--kill-child", binary],
        cwd=work, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    counts = {"stdout": 0, "stderr": 0}
    tail = collections.deque(maxlen=40)
    for stream, key in ((proc.stdout, "stdout"), (proc.stderr, "stderr")):
        threading.Thread(target=drain, args=(stream, counts, key, tail), daemon=True).start()
    pid = pid1_of(proc)
    requests = {"ok": 0, "failed": 0}

    def control():
        """An operator: a rolling restart of web and a restart of checked every 10 s."""
        while proc.poll() is None:
            for target in ("web", "checked"):
                r = subprocess.run(
                    ["nsenter", "-t", str(pid), "-p", "-m", binary, "restart", target],
                    stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=60)
                requests["ok" if r.returncode == 0 else "failed"] += 1
            time.sleep(10)

    threading.Thread(target=control, daemon=True).start()
    samples = []
    start = time.time()
    for minute in range(int(minutes) + 1):
        target = start + minute * 60
        time.sleep(max(0, target - time.time()))
        if proc.poll() is not None:
            time.sleep(1)
            sys.stdout.write(b"".join(tail).decode(errors="replace"))
            raise SystemExit(f"formation exited with {proc.returncode} at minute {minute}")
        sample = {"minute": minute, "rss_kib": rss_kib(pid), "fds": fds(pid),
                  "stdout_lines": counts["stdout"], "stderr_lines": counts["stderr"],
                  "control_ok": requests["ok"], "control_failed": requests["failed"]}
        samples.append(sample)
        print(json.dumps(sample), flush=True)
    # unshare forwards nothing (and would SIGKILL formation if it died): signal PID 1 itself.
    os.kill(pid, 15)
    code = proc.wait(timeout=60)
    # Flat: from minute 2 on (start-up allocations done), RSS within 10% or 512 KiB of its
    # first figure and fds within the few sockets a check or request holds for a moment.
    settled = samples[2:] if len(samples) > 3 else samples
    base = settled[0]
    rss_slope = max(s["rss_kib"] for s in settled) - base["rss_kib"]
    fd_spread = max(s["fds"] for s in settled) - min(s["fds"] for s in settled)
    flat = rss_slope <= max(512, base["rss_kib"] // 10) and fd_spread <= 2
    built = subprocess.run(["git", "-C", HERE, "describe", "--always", "--dirty"],
                           capture_output=True, text=True).stdout.strip()
    run = (f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime(start))}, {os.path.basename(binary)} "
           f"built from {built or 'this checkout'}, {os.cpu_count()} cores")
    result = {"run": run, "minutes": minutes, "samples": samples, "exit": code,
              "rss_growth_kib": rss_slope, "fd_spread": fd_spread, "flat": flat}
    with open(os.path.join(HERE, "soak.json"), "w") as f:
        json.dump(result, f, indent=1)
    print(render(result))
    return 0 if flat and code == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
