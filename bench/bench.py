#!/usr/bin/env python3
"""formation measured side by side with tini, dumb-init, catatonit, honcho, foreman and
supervisord, in one run. Writes BENCHMARKS.md and bench/results.json.

usage: bench/bench.py [--quick] [--only SECTION[,SECTION] | SECTION[,SECTION]]   (through bench/run.sh)
sections: size, idle, ready-idle, schedule, ready-latency, start, stop, reap, scale, scale-peers,
logs, control (bench/control.py), rolling (bench/rolling.py)
Every figure is a median of repeated runs; ratios compare tools measured in this same run.
"""
import argparse
import select
import json
import os
import platform
import random
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
# FORMATION_BIN: a binary built elsewhere (a CARGO_TARGET_DIR of one's own).
FORMATION = os.environ.get("FORMATION_BIN") or os.path.join(
    ROOT, "target/x86_64-unknown-linux-musl/release/formation")
WORK = tempfile.mkdtemp(prefix="formation-bench-")
UNSHARE = ["unshare", "--pid", "--fork", "--mount-proc", "--kill-child"]
TICK = os.sysconf("SC_CLK_TCK")

# Single-command inits: the argv that comes before CMD.
INITS = {
    "formation": [FORMATION, "--"],
    "tini-static": ["/usr/bin/tini-static", "--"],
    "dumb-init": ["/usr/bin/dumb-init"],
    "catatonit": ["/usr/bin/catatonit", "--"],
}


def log(*a):
    print(*a, file=sys.stderr, flush=True)


def median(xs):
    return statistics.median(xs) if xs else None


# ---------------------------------------------------------------- /proc helpers
def children(pid):
    try:
        with open(f"/proc/{pid}/task/{pid}/children") as f:
            return [int(x) for x in f.read().split()]
    except OSError:
        return []


def descendants(pid):
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        kids = children(p)
        out.extend(kids)
        todo.extend(kids)
    return out


def comm(pid):
    try:
        with open(f"/proc/{pid}/comm") as f:
            return f.read().strip()
    except OSError:
        return ""


def status(pid):
    """VmRSS, VmHWM (KiB) and context switches of one process."""
    out = {"rss": 0, "hwm": 0, "ctx": 0}
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                k, _, v = line.partition(":")
                if k == "VmRSS":
                    out["rss"] = int(v.split()[0])
                elif k == "VmHWM":
                    out["hwm"] = int(v.split()[0])
                elif k in ("voluntary_ctxt_switches", "nonvoluntary_ctxt_switches"):
                    out["ctx"] += int(v)
    except OSError:
        pass
    return out


def cpu_ticks(pid):
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return int(fields[11]) + int(fields[12])
    except OSError:
        return 0


WORKLOAD = {"sleep", "cat", "sh", "true"}


def manager_pids(root):
    """The manager and its helper processes: the tree under `root`, minus the workload."""
    return [root] + [p for p in descendants(root) if comm(p) not in WORKLOAD]


def wait_until(pred, timeout=60, step=0.002):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if pred():
            return True
        time.sleep(step)
    return False


def pid1_of(proc):
    """Host pid of the namespace's PID 1 (the child of unshare)."""
    wait_until(lambda: children(proc.pid))
    return children(proc.pid)[0]


def stop(proc):
    """Kills what a run started: every process is started in a session of its own, so its
    whole process group goes (honcho and foreman leave helpers behind otherwise)."""
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    proc.wait()


# ---------------------------------------------------------------- formations
def procfile(n_lines=None, command="sleep 1000"):
    path = os.path.join(WORK, "Procfile")
    with open(path, "w") as f:
        f.write(f"s: {command}\n")
    return path


def supervisord_conf(n, command="sleep 1000"):
    path = os.path.join(WORK, "supervisord.conf")
    with open(path, "w") as f:
        f.write(f"""[supervisord]
nodaemon=true
logfile=/dev/null
logfile_maxbytes=0
pidfile={WORK}/supervisord.pid
childlogdir={WORK}
[program:s]
command={command}
numprocs={n}
process_name=%(program_name)s_%(process_num)03d
stdout_logfile=/dev/null
stdout_logfile_maxbytes=0
stderr_logfile=/dev/null
stderr_logfile_maxbytes=0
""")
    return path


def managers(n, command="sleep 1000"):
    """Formation-mode argvs running `command` n times."""
    pf = procfile(command=command)
    return {
        "formation": [FORMATION, "-f", pf, "-m", f"s={n}"],
        "honcho": [shutil.which("honcho") or "honcho", "-f", pf, "start", "-c", f"s={n}"],
        "foreman": ["foreman", "start", "-f", pf, "-m", f"s={n}"],
        "supervisord": ["supervisord", "-c", supervisord_conf(n, command)],
    }


# ---------------------------------------------------------------- sections
def bench_size(runs):
    out = {}
    for name, argv in INITS.items():
        out[name] = os.path.getsize(argv[0])
    return {"bytes": out}


def control_socket(init):
    """Whether formation's control socket (`@formation/` and the pid namespace's inode, in the
    network namespace's /proc/net/unix) is listening for the namespace whose PID 1 is `init`."""
    try:
        name = f"@formation/{os.stat(f'/proc/{init}/ns/pid').st_ino}"
        with open("/proc/net/unix") as f:
            return any(line.split()[-1] == name for line in f if len(line.split()) > 7)
    except OSError:
        return False


def idle_one(argv, n_children, seconds):
    """RSS (KiB, manager processes) once n children sleep, then CPU ticks and wake-ups over
    `seconds` of idleness; and whether formation's control socket was open meanwhile."""
    proc = subprocess.Popen(UNSHARE + argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            cwd=WORK, start_new_session=True)
    try:
        init = pid1_of(proc)
        ok = wait_until(lambda: sum(1 for p in descendants(init) if comm(p) == "sleep") >= n_children, 60)
        if not ok:
            return None
        time.sleep(1.0)
        pids = manager_pids(init)
        rss = sum(status(p)["rss"] for p in pids)
        t0 = sum(cpu_ticks(p) for p in pids)
        c0 = sum(status(p)["ctx"] for p in pids)
        time.sleep(seconds)
        t1 = sum(cpu_ticks(p) for p in pids)
        c1 = sum(status(p)["ctx"] for p in pids)
        return {"rss_kib": rss, "cpu_ticks": t1 - t0, "wakeups": c1 - c0, "procs": len(pids),
                "control": control_socket(init)}
    finally:
        stop(proc)


def bench_idle(quick):
    seconds = 3 if quick else 10
    out = {"one_child": {}, "fifty_children": {}, "seconds": seconds}
    for name, argv in INITS.items():
        log(f"idle: {name}, 1 child")
        out["one_child"][name] = idle_one(argv + ["sleep", "1000"], 1, seconds)
    # Formation mode has its control socket open by default (#23): beside it, `--control off`.
    for name, argv in managers(1).items():
        if name == "formation":
            log(f"idle: {name} (formation mode), 1 child")
            out["one_child"]["formation (formation mode)"] = idle_one(argv, 1, seconds)
            log(f"idle: {name} (formation mode, --control off), 1 child")
            out["one_child"]["formation (formation mode, --control off)"] = idle_one(
                argv + ["--control", "off"], 1, seconds)
    for name, argv in managers(50).items():
        log(f"idle: {name}, 50 children")
        out["fifty_children"][name] = idle_one(argv, 50, seconds)
        if name == "formation":
            log(f"idle: {name} --control off, 50 children")
            out["fifty_children"]["formation (--control off)"] = idle_one(argv + ["--control", "off"], 50,
                                                                          seconds)
    return out


# ---------------------------------------------------------------- readiness and schedules
# These run formation.toml formations as PID 1 and read formation's own lines (stdout and
# stderr on one pipe) as they arrive, each stamped with this process's CLOCK_MONOTONIC at
# receipt: formation writes a line at once, so the receipt time is the time of the event plus
# a pipe hop. Their wake-ups and CPU ticks are formation's own (PID 1 only: the workloads
# here are python listeners that the idle section's `manager_pids` would count).
READY_LINE = re.compile(rb"\b([\w-]+\.\d+) ready \(")


def ctx_all(pid):
    """Context switches (voluntary + involuntary) of every thread of `pid`: a switch is a
    wake-up (or a preemption, which an idle process does not get)."""
    total = 0
    try:
        tids = os.listdir(f"/proc/{pid}/task")
    except OSError:
        return 0
    for tid in tids:
        try:
            with open(f"/proc/{pid}/task/{tid}/status") as f:
                for line in f:
                    k, _, v = line.partition(":")
                    if k in ("voluntary_ctxt_switches", "nonvoluntary_ctxt_switches"):
                        total += int(v)
        except OSError:
            pass
    return total


def free_ports(offsets, tries=100):
    """A base port such that base + each offset is free on loopback now (the benchmark
    shares the network namespace with the machine)."""
    for _ in range(tries):
        base = random.randint(20000, 50000)
        socks = []
        try:
            for off in offsets:
                s = socket.socket()
                socks.append(s)
                s.bind(("127.0.0.1", base + off))
            return base
        except OSError:
            continue
        finally:
            for s in socks:
                s.close()
    raise RuntimeError("no free ports on loopback")


class Run:
    """formation -c TOML as PID 1 of a pid namespace, its output lines timestamped on
    receipt by a reader thread."""

    def __init__(self, toml_text, name="formation.toml"):
        path = os.path.join(WORK, name)
        with open(path, "w") as f:
            f.write(toml_text)
        self.lines = []  # (monotonic receipt time, bytes)
        self.cond = threading.Condition()
        self.proc = subprocess.Popen(UNSHARE + [FORMATION, "-c", path], stdout=subprocess.PIPE,
                                     stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, cwd=WORK,
                                     env=dict(os.environ, NO_COLOR="1"), start_new_session=True)
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()
        self.init = pid1_of(self.proc)

    def _read(self):
        fd, tail = self.proc.stdout.fileno(), b""
        while True:
            chunk = os.read(fd, 65536)
            t = time.monotonic()
            if not chunk:
                return
            *done, tail = (tail + chunk).split(b"\n")
            with self.cond:
                self.lines.extend((t, line) for line in done)
                self.cond.notify_all()

    def wait_for(self, pred, timeout, start=0):
        """The first (time, line) at index >= start that satisfies pred, or None at the
        deadline."""
        deadline = time.monotonic() + timeout
        i = start
        with self.cond:
            while True:
                while i < len(self.lines):
                    if pred(self.lines[i][1]):
                        return self.lines[i]
                    i += 1
                left = deadline - time.monotonic()
                if left <= 0:
                    return None
                self.cond.wait(left)

    def count(self, pred):
        with self.cond:
            return sum(1 for _, line in self.lines if pred(line))

    def stop(self):
        stop(self.proc)
        self.reader.join(timeout=5)
        self.proc.stdout.close()


NOTIFY_READY = ("import os, socket; a = os.environ['NOTIFY_SOCKET']; "
                "a = '\\0' + a[1:] if a.startswith('@') else a; "
                "socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM).sendto(b'READY=1', a); "
                "os.execvp('sleep', ['sleep', '1000'])")


def ready_formation():
    """Six instances, one readiness check of each kind, web after db."""
    base = free_ports([0, 1, 100])
    toml = f"""[env]
PORT = "{base}"

[process.web]
command = "exec python3 -m http.server --bind 127.0.0.1 $PORT"
scale = 2
after = ["db"]
ready = {{ http = "http://127.0.0.1:$PORT/" }}

[process.db]
command = "exec python3 -m http.server --bind 127.0.0.1 $PORT"
ready = {{ tcp = "$PORT" }}

[process.worker]
command = "echo worker up; exec sleep 1000"
ready = {{ log = "worker up" }}

[process.notifier]
command = ["python3", "-c", {json.dumps(NOTIFY_READY)}]
ready = {{ notify = true }}

[process.checker]
command = "sleep 1000"
ready = {{ exec = "true" }}
"""
    return toml, 6


def waiting_formation():
    """One instance whose tcp check never succeeds: what a formation that waits costs."""
    port = free_ports([0])
    return f"""[process.db]
command = "sleep 1000"
ready = {{ tcp = {port}, interval = "250ms" }}
""", 0


def rest_once(toml, n_ready, seconds):
    run = Run(toml)
    try:
        if n_ready:
            if not wait_until(lambda: run.count(READY_LINE.search) >= n_ready, 60, 0.01):
                log(f"  only {run.count(READY_LINE.search)}/{n_ready} ready")
                return None
        else:
            if run.wait_for(lambda l: b"db.1 started" in l, 30) is None:
                return None
        time.sleep(1.0)
        t0, c0 = cpu_ticks(run.init), ctx_all(run.init)
        time.sleep(seconds)
        t1, c1 = cpu_ticks(run.init), ctx_all(run.init)
        alive = run.proc.poll() is None
        return {"cpu_ticks": t1 - t0, "wakeups": c1 - c0, "ready": n_ready, "alive": alive}
    finally:
        run.stop()


def bench_ready_idle(quick):
    """formation as PID 1 once every instance is ready: the target is 0 wake-ups (probes stop
    at the first success); and, for contrast, one whose check never succeeds."""
    seconds = 3 if quick else 10
    log("ready-idle: six instances, every kind of check, all ready")
    ready = rest_once(*ready_formation(), seconds)
    log("ready-idle: one instance waiting for a port that never opens (interval 250 ms)")
    waiting = rest_once(*waiting_formation(), seconds)
    return {"seconds": seconds, "all_ready": ready, "waiting": waiting}


def bench_schedule(quick):
    """`@every P` with a sleeping service: formation's wake-ups in a window around each fire
    (from 0.2 s before the job's `started` line to 1 s after it) and outside them. The
    counters are sampled every 20 ms; reading /proc does not wake the process read."""
    period = 3 if quick else 10
    seconds = 3 * period + 1.5  # three fires, the last with its whole window
    toml = f"""[process.sleeper]
command = "sleep 1000"

[process.tick]
command = "true"
schedule = "@every {period}s"
"""
    log(f"schedule: @every {period}s over {seconds} s")
    run = Run(toml)
    try:
        if run.wait_for(lambda l: b"sleeper.1 started" in l, 30) is None:
            return None
        time.sleep(0.5)
        samples = []  # (monotonic, ctx, ticks)
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            samples.append((time.monotonic(), ctx_all(run.init), cpu_ticks(run.init)))
            time.sleep(0.02)
        time.sleep(0.05)  # a line received just before the last sample is in the list
        samples.append((time.monotonic(), ctx_all(run.init), cpu_ticks(run.init)))
        t_first, t_last = samples[0][0], samples[-1][0]
        with run.cond:
            fires = [t for t, l in run.lines if b"tick.1 started" in l]
        windows = [(t - 0.2, t + 1.0) for t in fires]
        # A fire whose window is cut by the start or end of the sampling counts in neither figure.
        whole = [t_first <= lo and hi <= t_last for lo, hi in windows]
        per_fire = [0] * len(fires)
        between = 0
        for (ta, ca, _), (tb, cb, _) in zip(samples, samples[1:]):
            d = cb - ca
            if not d:
                continue
            for i, (lo, hi) in enumerate(windows):
                if lo <= tb and ta <= hi:
                    per_fire[i] += d
                    break
            else:
                between += d
        per_fire = [n for n, w in zip(per_fire, whole) if w]
        in_windows = sum(min(hi, t_last) - max(lo, t_first) for lo, hi in windows
                         if hi > t_first and lo < t_last)
        return {"period_s": period, "seconds": round(t_last - t_first, 1), "fires": len(per_fire),
                "wakeups_per_fire": per_fire, "wakeups_between": between,
                "between_seconds": round(t_last - t_first - in_windows, 1),
                "cpu_ticks": samples[-1][2] - samples[0][2], "alive": run.proc.poll() is None}
    finally:
        run.stop()


LISTEN_AT = r"""
import os, socket, sys, time
port, fifo = int(sys.argv[1]), sys.argv[2]
with open(fifo, "rb") as f:  # blocks until the benchmark says when
    f.read(1)
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", port))
t = time.monotonic()  # taken before listen(): the latency is not understated
s.listen(16)
print("listening at %.6f" % t, flush=True)
time.sleep(1000)  # not exec: python's sockets are close-on-exec
"""


def latency_once(interval_ms):
    """db listens when the benchmark writes to a FIFO, at a random phase of the probe cycle;
    latency = receipt of formation's `db.1 ready` line − the fixture's CLOCK_MONOTONIC before
    listen(). Also: receipt of `web.1 started` (web is `after = ["db"]`)."""
    port = free_ports([0])
    fifo = os.path.join(WORK, f"go-{port}")
    os.mkfifo(fifo)
    fixture = os.path.join(WORK, "listen_at.py")
    with open(fixture, "w") as f:
        f.write(LISTEN_AT)
    toml = f"""[process.db]
command = ["python3", {json.dumps(fixture)}, "{port}", {json.dumps(fifo)}]
ready = {{ tcp = {port}, interval = "{interval_ms}ms" }}

[process.web]
command = "sleep 1000"
after = ["db"]
"""
    run = Run(toml)
    try:
        if run.wait_for(lambda l: b"db.1 started" in l, 30) is None:
            return None
        # Past python's start-up and a few failed probes, then a random phase of the cycle.
        time.sleep(0.5 + random.uniform(0, interval_ms / 1000))
        deadline = time.monotonic() + 10
        while True:
            try:
                w = os.open(fifo, os.O_WRONLY | os.O_NONBLOCK)
                break
            except OSError:  # ENXIO: the fixture has not opened it yet
                if time.monotonic() > deadline:
                    return None
                time.sleep(0.005)
        os.write(w, b"x")
        os.close(w)
        listened = run.wait_for(lambda l: b"listening at " in l, 10)
        ready = run.wait_for(lambda l: b"db.1 ready (" in l, 10)
        web = run.wait_for(lambda l: b"web.1 started" in l, 10)
        if not (listened and ready and web):
            return None
        t_listen = float(listened[1].rsplit(b" ", 1)[1])
        return {"ready_ms": (ready[0] - t_listen) * 1000, "web_started_ms": (web[0] - t_listen) * 1000}
    finally:
        run.stop()
        os.unlink(fifo)


def bench_ready_latency(quick):
    runs = 5 if quick else 20
    interval_ms = 250
    log(f"ready-latency: tcp check, interval {interval_ms} ms, {runs} runs")
    rows = [r for r in (latency_once(interval_ms) for _ in range(runs)) if r]
    if not rows:
        return None
    ready = [r["ready_ms"] for r in rows]
    web = [r["web_started_ms"] for r in rows]
    bound = interval_ms + 10
    return {"runs": len(rows), "interval_ms": interval_ms, "bound_ms": bound,
            "ready_median_ms": median(ready), "ready_max_ms": max(ready), "ready_min_ms": min(ready),
            "web_started_median_ms": median(web), "web_started_max_ms": max(web),
            "holds": max(ready) <= bound, "samples_ms": [round(x, 2) for x in ready]}


def interleaved(tools, runs, once):
    """Runs `once(argv)` for every tool in turn, `runs` rounds: drift of a shared machine
    (frequency, cache, neighbours) then falls on every tool alike, which blocks of runs per
    tool (as hyperfine does) do not give. Returns the median per tool."""
    samples = {name: [] for name in tools}
    for _ in range(runs):
        for name, argv in tools.items():
            x = once(argv)
            if x is not None:
                samples[name].append(x)
    return {name: median(xs) for name, xs in samples.items()}


def start_once(argv):
    t0 = time.perf_counter()
    pid = os.posix_spawn(argv[0], argv, os.environ)
    os.waitpid(pid, 0)
    return (time.perf_counter() - t0) * 1000


def bench_start(quick):
    runs = 50 if quick else 300
    tools = {"(bare /bin/true)": ["/bin/true"]}
    for name, argv in INITS.items():
        tools[name] = argv + ["/bin/true"]
    for argv in tools.values():  # warm-up
        start_once(argv)
    medians = interleaved(tools, runs, start_once)
    base = medians.pop("(bare /bin/true)")
    return {"runs": runs, "true_ms": base,
            "overhead_ms": {k: v - base for k, v in medians.items()}}


def asleep(pid):
    """Whether `pid` is `sleep`, in its nanosleep: exec'd *and* through its start-up (a
    dynamically linked `sleep` takes ~1 ms to load; killed during that, its exit costs more)."""
    try:
        with open(f"/proc/{pid}/wchan") as f:
            return comm(pid) == "sleep" and "nanosleep" in f.read()
    except OSError:
        return False


def stop_once(argv):
    proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=WORK,
                            start_new_session=True)
    # Ready when the workload sleeps.
    wait_until(lambda: any(asleep(p) for p in descendants(proc.pid)), 10, 0.0005)
    t0 = time.perf_counter()
    os.kill(proc.pid, signal.SIGTERM)
    proc.wait()
    return (time.perf_counter() - t0) * 1000


def bench_stop(quick):
    runs = 30 if quick else 150
    tools = {name: argv + ["sleep", "1000"] for name, argv in INITS.items()}
    tools["formation (formation mode)"] = managers(1)["formation"]
    log("stop: all tools, interleaved")
    return {"runs": runs, "median_ms": interleaved(tools, runs, stop_once)}


def reap_once(init_argv, orphans, n):
    driver = f"""
import subprocess, time
subprocess.run([{orphans!r}, "{n}"])
t0 = time.perf_counter()
while len(open("/proc/1/task/1/children").read().split()) > 1:
    pass
print((time.perf_counter() - t0) * 1000, flush=True)
"""
    argv = UNSHARE + init_argv + [sys.executable, "-c", driver]
    out = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, timeout=120)
    try:
        return float(out.stdout.decode().split()[-1])
    except (ValueError, IndexError):
        return None


def compile_helpers():
    for name in ("orphans", "floor", "spawn_floor"):
        out = os.path.join(WORK, name)
        subprocess.run(["cc", "-O2", "-o", out, os.path.join(ROOT, "bench", name + ".c")], check=True)
        HELPERS[name] = out
    return HELPERS


# The C helpers of bench/, compiled into WORK: name → path.
HELPERS = {}


def bench_reap(quick, bins):
    n = 20000
    runs = 3 if quick else 7
    with open("/proc/sys/kernel/pid_max") as f:
        pid_max = int(f.read())
    if pid_max < 4 * n:
        with open("/proc/sys/kernel/pid_max", "w") as f:
            f.write(str(4194304))
    try:
        tools = dict(INITS)
        tools["(floor: bare wait loop)"] = [bins["floor"]]
        log("reap: all tools, interleaved")
        out = interleaved(tools, runs, lambda argv: reap_once(argv, bins["orphans"], n))
        return {"zombies": n, "runs": runs, "median_ms": out}
    finally:
        if pid_max < 4 * n:
            with open("/proc/sys/kernel/pid_max", "w") as f:
                f.write(str(pid_max))


def scale_sizes():
    """100, 1,000 and 10,000 instances, or as many as the hard RLIMIT_NOFILE lets formation
    hold (two pipe ends per instance, plus a few of its own): 9,000 where it is 20,000."""
    import resource
    hard = resource.getrlimit(resource.RLIMIT_NOFILE)[1]
    top = 10000
    if hard != resource.RLIM_INFINITY and 2 * top + 64 > hard:
        top = (hard - 64) // 2 // 1000 * 1000
    return [100, 1000, top], hard


def spawned(init, n, timeout=120, below=children):
    """Waits until `init` has n children (or, with `below=descendants`, n processes anywhere
    below it) that have exec'd `sleep`. The watcher must not steal the CPU it measures (2
    cores): each process's comm is read once, and the list, which costs O(n) to read, is read
    every 5 µs × n (2 ms at 100, 20 ms from 4,000 on) — at 2 ms for 9,000 the watcher alone
    made a bare C loop 1.5× slower. The error is one step."""
    seen = set()
    step = min(0.02, max(0.002, n * 5e-6))
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for p in below(init):
            if p not in seen and comm(p) == "sleep":
                seen.add(p)
        if len(seen) >= n:
            return True
        time.sleep(step)
    return False


def scale_formation(n, argv=None):
    """One run: formation -m s=n (or `argv`) as PID 1. Start: from Popen until n `sleep`s run;
    then RSS, CPU (the init's own, user + system) and SIGTERM → exit."""
    t0 = time.perf_counter()
    proc = subprocess.Popen(UNSHARE + (argv or managers(n)["formation"]), stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, cwd=WORK, start_new_session=True)
    try:
        init = pid1_of(proc)
        if not spawned(init, n):
            return None
        start = (time.perf_counter() - t0) * 1000
        cpu = cpu_ticks(init) * 1000 / TICK
        time.sleep(0.5)
        st = status(init)
        t1 = time.perf_counter()
        os.kill(init, signal.SIGTERM)
        proc.wait(timeout=120)
        return {"start_ms": start, "start_cpu_ms": cpu, "rss_kib": st["rss"], "hwm_kib": st["hwm"],
                "stop_ms": (time.perf_counter() - t1) * 1000}
    finally:
        stop(proc)


def scale_bash(n):
    """The same n `sleep`s started by a bare bash loop as PID 1 of its own namespace: what
    the machine itself needs (fork + exec, no pipes, no supervision)."""
    loop = f"for i in $(seq {n}); do sleep 1000 & done; wait"
    t0 = time.perf_counter()
    proc = subprocess.Popen(UNSHARE + ["bash", "-c", loop], stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        init = pid1_of(proc)
        if not spawned(init, n):
            return None
        return {"start_ms": (time.perf_counter() - t0) * 1000}
    finally:
        stop(proc)


def scale_floor(n):
    """The same n `sleep`s started by bench/spawn_floor.c as PID 1: vfork + exec in a loop, no
    pipes, no bookkeeping; on SIGTERM it signals them all and reaps them. The kernel's own
    cost of n processes: no init can start or stop them faster on this machine."""
    return scale_formation(n, [HELPERS["spawn_floor"], str(n), "sleep", "1000"])


def bench_scale(quick):
    runs = 3 if quick else 5
    sizes, hard = scale_sizes()
    with open("/proc/sys/kernel/pid_max") as f:
        pid_max = int(f.read())
    if pid_max < 4 * sizes[-1]:
        with open("/proc/sys/kernel/pid_max", "w") as f:
            f.write(str(4194304))
    out = {"runs": runs, "nofile_hard": hard, "sizes": {}}
    try:
        for n in sizes:
            log(f"scale: {n} instances, formation, the C floor and a bash loop, interleaved")
            tools = (("formation", scale_formation), ("floor", scale_floor), ("bash loop", scale_bash))
            rows = {name: [] for name, _ in tools}
            for _ in range(runs):
                for name, once in tools:
                    r = once(n)
                    if r:
                        rows[name].append(r)
            res = {}
            for name, rs in rows.items():
                res[name] = {k: median([r[k] for r in rs]) for k in rs[0]} if rs else None
            out["sizes"][str(n)] = res
    finally:
        if pid_max < 4 * sizes[-1]:
            with open("/proc/sys/kernel/pid_max", "w") as f:
                f.write(str(pid_max))
    return out


def pss(pid):
    """Proportional set size (KiB) of one process: a page shared by k processes counts 1/k to
    each, so a manager made of many processes (honcho, foreman) is not charged many times over
    for the same interpreter."""
    try:
        with open(f"/proc/{pid}/smaps_rollup") as f:
            for line in f:
                if line.startswith("Pss:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def scale_peer(argv, n):
    """One run of a manager with n `sleep`s, as PID 1 of its own namespace: the time until n
    `sleep`s have exec'd anywhere below it (the Procfile runners start each through a shell
    or a helper process), the PSS of its own processes (everything below it that is not a
    `sleep`), and SIGTERM → exit."""
    t0 = time.perf_counter()
    proc = subprocess.Popen(UNSHARE + argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            cwd=WORK, start_new_session=True)
    try:
        init = pid1_of(proc)
        if not spawned(init, n, below=descendants):
            return None
        start = (time.perf_counter() - t0) * 1000
        time.sleep(0.5)
        own = [init] + [p for p in descendants(init) if comm(p) != "sleep"]
        kib = sum(pss(p) for p in own)
        t1 = time.perf_counter()
        os.kill(init, signal.SIGTERM)
        proc.wait(timeout=120)
        return {"start_ms": start, "pss_kib": kib, "processes": len(own),
                "stop_ms": (time.perf_counter() - t1) * 1000}
    except subprocess.TimeoutExpired:
        return None
    finally:
        stop(proc)


def bench_scale_peers(quick):
    """formation against the Procfile runners and supervisord with 100 and 1,000 `sleep`s —
    not 9,000: honcho runs a Python process per instance."""
    runs = 1 if quick else 3
    out = {"runs": runs, "sizes": {}}
    for n in (100, 1000):
        log(f"scale-peers: {n} instances, every manager, interleaved")
        tools = managers(n)
        rows = {name: [] for name in tools}
        for _ in range(runs):
            for name, argv in tools.items():
                r = scale_peer(argv, n)
                if r:
                    rows[name].append(r)
        out["sizes"][str(n)] = {name: ({k: median([r[k] for r in rs]) for k in rs[0]} if rs else None)
                                for name, rs in rows.items()}
    return out


def bench_logs(quick):
    """4 writers × 200,000 lines of 100 B: through each manager vs straight into one pipe, and
    formation's own paths side by side in the same run — pipes and text (the default), pipes and
    `--log-format json` of text lines (escaped into `line`) and of JSON-object lines (merged),
    and `tty = true` (a pseudo-terminal per instance). With FORMATION_BASELINE set to another
    formation binary (e.g. one built before a change), its text and JSON paths are measured in
    the same rounds too. Rounds are interleaved, so a shared machine's drift falls on every
    path alike."""
    lines, writers = 200_000, 4
    runs = 3 if quick else 5
    data = os.path.join(WORK, "lines.txt")
    with open(data, "wb") as f:
        f.write((b"x" * 98 + b"#\n") * lines)
    objects = os.path.join(WORK, "lines.json")
    with open(objects, "wb") as f:
        f.write((b'{"level":"info","msg":"' + b"x" * 73 + b'#"}\n') * lines)
    payload = writers * lines * 100
    writer = f"sh -c 'cat {data}; exec sleep 1000'"
    json_writer = f"sh -c 'cat {objects}; exec sleep 1000'"
    text_end, json_end = b"#\n", b'#"}\n'
    # name -> (argv, the bytes that end each of the writers' lines on formation's stdout)
    tools = {"raw pipe": (None, text_end)}
    peers = managers(writers, writer)
    del peers["supervisord"]  # it writes to log files, not to one stream
    del peers["formation"]  # its row is formation's own text path below, from a formation.toml
    tools.update({k: (v, text_end) for k, v in peers.items()})

    def toml(name, command, extra=""):
        path = os.path.join(WORK, name)
        with open(path, "w") as f:
            f.write(f"[process.s]\ncommand = \"{command}\"\nscale = {writers}\n{extra}")
        return path

    text_toml, json_toml = toml("text.toml", writer), toml("json.toml", json_writer)
    tty_toml = toml("tty.toml", writer, "tty = true\n")
    binaries = [("formation", FORMATION)]
    if os.environ.get("FORMATION_BASELINE"):
        binaries.append((f"formation baseline ({os.environ.get('FORMATION_BASELINE_NAME', 'before')})",
                         os.environ["FORMATION_BASELINE"]))
    for label, binary in binaries:
        own = {
            "text": ([binary, "-c", text_toml], text_end),
            "JSON, text lines": ([binary, "-c", text_toml, "--log-format", "json"], json_end),
            # `}\n` ends both a merged object and (in a build without the merge) an escaped one.
            "JSON, JSON-object lines": ([binary, "-c", json_toml, "--log-format", "json"], b"}\n"),
        }
        if binary == FORMATION:
            own["text, tty = true"] = ([binary, "-c", tty_toml], text_end)
        tools.update({f"{label}: {k}": v for k, v in own.items()})
    # A formation or raw-pipe run takes a fraction of a second, a peer's up to a minute: the
    # fast paths run `reps` times per round, interleaved, for medians steady enough to compare
    # builds a few per cent apart on a shared machine.
    reps = 1 if quick else 5
    fast = [name for name in tools if name not in peers]
    rows = {name: [] for name in tools}
    tries = {name: 0 for name in tools}
    for round_ in range(runs):
        for name in fast * reps + list(peers):
            argv, end = tools[name]
            log(f"logs: round {round_ + 1}/{runs}: {name}")
            r = logs_once(argv, data, writers, lines, end)
            tries[name] += 1
            if r:
                rows[name].append(r)
    out = {}
    for name, rs in rows.items():
        if not rs:
            out[name] = {"complete_runs": 0, "tries": tries[name]}
            continue
        secs = median([r["secs"] for r in rs])
        out[name] = {"mb_per_s": payload / secs / 1e6, "secs": secs, "lines_per_s": writers * lines / secs,
                     "complete_runs": len(rs), "tries": tries[name],
                     "cpu_s": median([r["cpu_s"] for r in rs]),
                     "peak_rss_kib": int(median([r["hwm"] for r in rs]))}
    # The first table's "formation" row is formation's default path (pipes and text).
    out["formation"] = out.pop("formation: text", None)
    first = ["raw pipe", "formation", *peers]
    out = {k: out[k] for k in first + [k for k in out if k not in first]}
    return {"writers": writers, "lines": lines, "line_bytes": 100, "runs": runs, "results": out}


def logs_once(argv, data, writers, lines, end=b"#\n"):
    """Every path runs in a pid namespace of its own, the manager as its PID 1 (the raw pipe:
    a shell whose `cat`s write straight into the pipe), timed from the namespace's start until
    every writer's line has been read; a run that loses a line counts as none."""
    want = writers * lines
    r, w = os.pipe()
    t0 = time.perf_counter()
    if argv is None:
        argv = ["sh", "-c", " & ".join([f"cat {data}"] * writers) + " & wait"]
        manager = False
    else:
        manager = True
    proc = subprocess.Popen(UNSHARE + argv, stdout=w, stderr=subprocess.DEVNULL, cwd=WORK,
                            env=dict(os.environ, NO_COLOR="1"), start_new_session=True)
    procs = [proc]
    os.close(w)
    seen, tail, hwm, cpu = 0, b"", 0, 0
    deadline = time.monotonic() + 120
    while seen < want:
        left = deadline - time.monotonic()
        if left <= 0 or not select.select([r], [], [], left)[0]:
            break
        chunk = os.read(r, 1 << 20)
        if not chunk:
            break
        seen += (tail + chunk).count(end) - tail.count(end)
        tail = (tail + chunk)[-(len(end) - 1):]
    secs = time.perf_counter() - t0
    kids = children(proc.pid)
    if manager and kids:
        pids = manager_pids(kids[0])
        hwm = sum(status(p)["hwm"] for p in pids)
        cpu = sum(cpu_ticks(p) for p in pids) / TICK
    for p in procs:
        # SIGTERM first: a manager stops its instances (each in a group of its own, which
        # killing the manager's group would leave behind), then SIGKILL for what is left.
        try:
            os.killpg(p.pid, signal.SIGTERM)
            p.wait(timeout=10)
        except (ProcessLookupError, subprocess.TimeoutExpired):
            pass
        stop(p)
    os.close(r)
    if seen < want:
        log(f"  lost lines: {seen}/{want}")
        return None
    return {"secs": secs, "hwm": hwm, "cpu_s": cpu}


# ---------------------------------------------------------------- report
def fmt(x, unit="", digits=2):
    if x is None:
        return "—"
    if isinstance(x, float):
        return f"{x:.{digits}f}{unit}"
    return f"{x}{unit}"


def ratio(a, b):
    return "—" if a is None or not b else f"{a / b:.2f}×"


def ratio_table(title, head, values, digits):
    """A section with one row per tool and its ratio to catatonit's figure of the same run."""
    cat = values.get("catatonit")
    rows = [f"## {title}\n", f"| {head} | vs catatonit |\n|---|---:|---:|"]
    rows += [f"| {k} | {fmt(v, '', digits)} | {ratio(v, cat)} |" for k, v in values.items()]
    return rows + [""]


def provenance(res):
    """Which run each section's figures come from: one sentence per run (date, commit,
    machine), naming its sections when not every section comes from it."""
    runs = res.get("runs") or {k: res["machine"] for k in res if k not in ("machine", "runs")}
    groups = {}
    for section in ALL_SECTIONS.split(","):
        if section in runs:
            m = runs[section]
            groups.setdefault((m["date"], m["commit"], m["cpu"], m["cores"], m["kernel"]), []).append(section)
    parts = []
    for (date, commit, cpu, cores, kernel), sections in sorted(groups.items()):
        which = "" if len(groups) == 1 else f" ({', '.join(sections)})"
        loads = [f"{s} {runs[s]['load'][0]:.2f}" for s in sections if runs[s].get("load")]
        load = f", load average (1 min, `uptime`) at each section's start: {', '.join(loads)}" if loads else ""
        parts.append(f"on {date} at commit `{commit}`{which}: {cpu}, {cores} cores, Linux {kernel}{load}")
    return "Measured by `bench/run.sh` " + "; and ".join(parts) + ". Medians of repeated runs; " \
           "every ratio compares figures of the same run."


def report(res):
    out = [f"# Benchmarks\n", provenance(res) + "\n"]
    if "size" in res:
        s = res["size"]["bytes"]
        out.append("## Size of the static binary\n\n| tool | bytes | KiB |\n|---|---:|---:|")
        for k, v in s.items():
            out.append(f"| {k} | {v} | {v // 1024} |")
        out.append("")
    if "idle" in res:
        i = res["idle"]
        out.append(f"## Idle: RSS, CPU and wake-ups over {i['seconds']} s (as PID 1)\n")
        out.append("| tool | children | RSS KiB | vs catatonit | CPU ticks | wake-ups | control socket |\n"
                   "|---|---:|---:|---:|---:|---:|---|")
        cat = (i["one_child"].get("catatonit") or {}).get("rss_kib")
        for label, key, n in (("one_child", "one_child", 1), ("fifty_children", "fifty_children", 50)):
            for k, v in i[key].items():
                v = v or {}
                sock = "open" if v.get("control") else ("off" if "control off" in k else "")
                out.append(f"| {k} | {n} | {fmt(v.get('rss_kib'))} | {ratio(v.get('rss_kib'), cat) if n == 1 else ''} "
                           f"| {fmt(v.get('cpu_ticks'))} | {fmt(v.get('wakeups'))} | {sock} |")
        out.append("\nRSS sums the manager's own processes (honcho and foreman run helpers), "
                   "not the sleeping children. Wake-ups: the voluntary and involuntary context switches "
                   "of those processes (/proc/PID/status) over the window. Control socket: formation's "
                   "`@formation/…` seen listening in /proc/net/unix during the window (on by default in "
                   "formation mode).\n")
    if "ready-idle" in res:
        ri = res["ready-idle"]
        out.append(f"## Readiness at rest: formation's own wake-ups over {ri['seconds']} s (as PID 1)\n")
        out.append("| formation | formation's CPU ticks | wake-ups |\n|---|---:|---:|")
        for key, label in (("all_ready", "6 instances, all ready: `db` (tcp), 2 × `web` after db (http), "
                                          "`worker` (log), `notifier` (notify), `checker` (exec)"),
                           ("waiting", "1 instance whose tcp port never opens (interval 250 ms), for contrast")):
            v = ri.get(key) or {}
            out.append(f"| {label} | {fmt(v.get('cpu_ticks'))} | {fmt(v.get('wakeups'))} |")
        out.append("\nMeasured from 1 s after the last `ready` line. The target is 0: probes stop at the first "
                   "success. The second row shows that the method sees the probes while there are some.\n")
    if "schedule" in res:
        sc = res["schedule"]
        if sc:
            pf = sc["wakeups_per_fire"]
            out.append(f"## Schedules: formation's wake-ups with `schedule = \"@every {sc['period_s']}s\"` "
                       f"(a `true` job) and a sleeping service, over {sc['seconds']} s\n")
            out.append("| fires | wake-ups per fire | wake-ups between fires | time between fires | CPU ticks |\n"
                       "|---:|---|---:|---:|---:|")
            out.append(f"| {sc['fires']} | {', '.join(str(n) for n in pf) or '—'} | {sc['wakeups_between']} "
                       f"| {sc['between_seconds']} s | {sc['cpu_ticks']} |")
            out.append("\nA fire's wake-ups are those from 0.2 s before its `tick.1 started` line to 1 s after it "
                       "(the timer, the spawn, the pipes' end, the reap); the target between fires is 0.\n")
    if "ready-latency" in res:
        rl = res["ready-latency"]
        if rl:
            out.append(f"## Readiness latency: a port that opens, noticed by a `tcp` check ({rl['runs']} runs)\n")
            out.append("| interval | `ready` line: median | max | bound (interval + 10 ms) | holds | "
                       "dependent `web.1 started`: median | max |\n|---:|---:|---:|---:|---|---:|---:|")
            out.append(f"| {rl['interval_ms']} ms | {fmt(rl['ready_median_ms'], ' ms', 1)} | {fmt(rl['ready_max_ms'], ' ms', 1)} "
                       f"| {rl['bound_ms']} ms | {'yes' if rl['holds'] else 'no'} "
                       f"| {fmt(rl['web_started_median_ms'], ' ms', 1)} | {fmt(rl['web_started_max_ms'], ' ms', 1)} |")
            out.append("\nFrom the fixture's CLOCK_MONOTONIC just before `listen()`, at a random phase of the probe "
                       "cycle, to the receipt of formation's line on its output pipe. A check that polls every "
                       "interval notices within one interval; the median is about half of it.\n")
    if "start" in res:
        st = res["start"]
        out += ratio_table(f"Start overhead: `X -- /bin/true` minus `/bin/true` ({st['runs']} interleaved runs)",
                           "tool | overhead ms", st["overhead_ms"], 3)
        out.append(f"`/bin/true` alone: {st['true_ms']:.3f} ms.\n")
    if "stop" in res:
        st = res["stop"]
        out += ratio_table(f"Stop latency: SIGTERM → exit, child dies on SIGTERM ({st['runs']} interleaved runs)",
                           "tool | ms", st["median_ms"], 3)
    if "reap" in res:
        r = res["reap"]
        out += ratio_table(f"Reaping {r['zombies']:,} orphaned zombies re-parented at once ({r['runs']} interleaved runs)",
                           "tool (PID 1) | ms until all reaped", r["median_ms"], 1)
    if "scale" in res:
        sc = res["scale"]
        sizes = sc["sizes"]
        top = max(int(k) for k in sizes)
        out.append(f"## Scale: formation `-m s=N` of `sleep` as PID 1, the machine's floor and a bare bash loop "
                   f"({sc['runs']} interleaved runs)\n")
        out.append("| N | formation: all running | floor | vs floor | bash loop | vs bash | per instance "
                   "| formation CPU | RSS | peak RSS | all stopped | floor: all stopped | vs floor |\n"
                   "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
        for n, r in sorted(sizes.items(), key=lambda kv: int(kv[0])):
            f, fl, b = r.get("formation") or {}, r.get("floor") or {}, r.get("bash loop") or {}
            per = f.get("start_ms") / int(n) * 1000 if f.get("start_ms") else None
            out.append(f"| {int(n):,} | {fmt(f.get('start_ms'), ' ms', 0)} | {fmt(fl.get('start_ms'), ' ms', 0)} "
                       f"| {ratio(f.get('start_ms'), fl.get('start_ms'))} | {fmt(b.get('start_ms'), ' ms', 0)} "
                       f"| {ratio(f.get('start_ms'), b.get('start_ms'))} | {fmt(per, ' µs', 0)} "
                       f"| {fmt(f.get('start_cpu_ms'), ' ms', 0)} | {fmt(f.get('rss_kib'), ' KiB', 0)} "
                       f"| {fmt(f.get('hwm_kib'), ' KiB', 0)} | {fmt(f.get('stop_ms'), ' ms', 0)} "
                       f"| {fmt(fl.get('stop_ms'), ' ms', 0)} | {ratio(f.get('stop_ms'), fl.get('stop_ms'))} |")
        note = "" if top >= 10000 else (f" The largest N is {top:,}, not 10,000: this machine's hard RLIMIT_NOFILE is "
                                        f"{sc['nofile_hard']:,} and formation holds two pipe ends per instance.")
        out.append(f"\n\"All running\": from starting the namespace until N `sleep`s have exec'd. \"Floor\": "
                   f"`bench/spawn_floor.c`, a C PID 1 that only vforks and execs N `sleep`s (no pipes, no "
                   f"bookkeeping) and on SIGTERM signals and reaps them — what the kernel itself needs. "
                   f"\"CPU\": formation's own user + system time until all run. RSS is formation's alone (not the "
                   f"children's). \"All stopped\": SIGTERM to PID 1 → its exit.{note}\n")
    if "scale-peers" in res:
        sp = res["scale-peers"]
        out.append(f"## Scale against the peers: N `sleep`s under each manager as PID 1 ({sp['runs']} interleaved runs)\n")
        out.append("| N | manager | all running | vs formation | its processes | PSS | vs formation "
                   "| all stopped | vs formation |\n|---:|---|---:|---:|---:|---:|---:|---:|---:|")
        for n, r in sorted(sp["sizes"].items(), key=lambda kv: int(kv[0])):
            f = r.get("formation") or {}
            for name, v in r.items():
                v = v or {}
                vs = (lambda k: "" if name == "formation" else ratio(v.get(k), f.get(k)))
                out.append(f"| {int(n):,} | {name} | {fmt(v.get('start_ms'), ' ms', 0)} | {vs('start_ms')} "
                           f"| {fmt(v.get('processes'), '', 0)} | {fmt(v.get('pss_kib'), ' KiB', 0)} | {vs('pss_kib')} "
                           f"| {fmt(v.get('stop_ms'), ' ms', 0)} | {vs('stop_ms')} |")
        out.append("\n\"All running\": from starting the namespace until N `sleep`s have exec'd anywhere below the "
                   "manager. PSS: the manager's own processes (everything below it but the `sleep`s), each shared "
                   "page divided among the processes that map it. supervisord calls a process RUNNING only "
                   "`startsecs` (1 s) after its start; the time here is until the `sleep`s have exec'd. A manager "
                   "that did not get all N running within 120 s shows —.\n")
    if "logs" in res:
        lg = res["logs"]
        rs = lg["results"]
        raw = (rs.get("raw pipe") or {}).get("mb_per_s")
        out.append(f"## Log throughput: {lg['writers']} writers × {lg['lines']:,} lines of {lg['line_bytes']} B ({lg['runs']} rounds)\n")
        out.append("| path | MB/s | vs raw pipe | formation vs it | manager CPU s | manager peak RSS KiB "
                   "| runs with every line |\n|---|---:|---:|---:|---:|---:|---:|")
        fm = (rs.get("formation") or {}).get("mb_per_s")
        own = {k: v for k, v in rs.items() if k.startswith("formation")}
        for k, v in rs.items():
            if k in own and k != "formation":
                continue
            v = v or {}
            mbs = v.get("mb_per_s")
            vs = "" if k in ("formation", "raw pipe") else ratio(fm, mbs)
            cpu = "—" if k == "raw pipe" else fmt(v.get("cpu_s"))
            rss = "—" if k == "raw pipe" else fmt(v.get("peak_rss_kib"))
            out.append(f"| {k} | {fmt(mbs, '', 1)} | {ratio(mbs, raw)} | {vs} | {cpu} | {rss} "
                       f"| {v.get('complete_runs', '—')}/{v.get('tries', lg['runs'])} |")
        if len(own) > 1:
            out.append("\nEvery path runs as PID 1 of a pid namespace of its own (the raw pipe: a shell whose `cat`s "
                       "write into the pipe), timed from the namespace's start until every writer's last line is "
                       "read; a run that lost a line does not count (\"runs with every line\"). The raw pipe and "
                       "formation's paths, a fraction of a second each, run 5 times a round, interleaved; "
                       "the peers once.\n")
            out.append("formation's own paths, in the same interleaved rounds (\"formation\" above is pipes and "
                       "text). JSON-object lines are `{\"level\":\"info\",\"msg\":\"x…#\"}`, merged with formation's "
                       "fields; text lines in JSON are escaped into `line`. `tty = true` gives each writer a "
                       "pseudo-terminal instead of pipes.\n")
            out.append("| formation path | lines/s | MB/s | vs pipes and text | vs raw pipe | CPU s | peak RSS KiB "
                       "| runs with every line |\n|---|---:|---:|---:|---:|---:|---:|---:|")
            for k, v in own.items():
                v = v or {}
                mbs = v.get("mb_per_s")
                name = "formation: text (pipes)" if k == "formation" else k
                out.append(f"| {name} | {fmt(v.get('lines_per_s'), '', 0)} | {fmt(mbs, '', 1)} | {ratio(mbs, fm)} "
                           f"| {ratio(mbs, raw)} | {fmt(v.get('cpu_s'))} | {fmt(v.get('peak_rss_kib'))} "
                           f"| {v.get('complete_runs', '—')}/{v.get('tries', lg['runs'])} |")
        out.append("")
    if "control" in res:
        import control
        out.append(control.report(res["control"]))
    if "rolling" in res:
        import rolling
        out.append(rolling.report(res["rolling"]))
    return "\n".join(out) + "\n"


def machine():
    cpu = "unknown CPU"
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    commit = subprocess.run(["git", "-C", ROOT, "rev-parse", "--short", "HEAD"],
                            capture_output=True, text=True).stdout.strip() or "unknown"
    return {"date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()), "commit": commit,
            "cpu": cpu, "cores": os.cpu_count(), "kernel": platform.release()}


ALL_SECTIONS = ("size,idle,ready-idle,schedule,ready-latency,start,stop,reap,scale,scale-peers,logs,"
                "control,rolling")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true", help="fewer runs (a smoke test)")
    ap.add_argument("sections", nargs="?", help="same as --only")
    ap.add_argument("--only", default=ALL_SECTIONS)
    ap.add_argument("--out", default=os.path.join(ROOT, "BENCHMARKS.md"))
    ap.add_argument("--report", action="store_true",
                    help="measure nothing: rewrite BENCHMARKS.md from bench/results.json")
    args = ap.parse_args()
    # bench/control.py and bench/rolling.py `import bench`: this very module, not a second copy
    # (with a WORK of its own).
    sys.modules.setdefault("bench", sys.modules[__name__])
    if args.sections:
        args.only = args.sections
    sections = args.only.split(",")
    path = os.path.join(ROOT, "bench", "results.json")
    if args.report:
        with open(path) as f:
            write_report(json.load(f), args.out)
        return
    stamp = machine()
    res = {"machine": stamp, "runs": {section: stamp for section in sections}}
    try:
        bins = compile_helpers()
        for section in sections:
            t = time.monotonic()
            # The machine is shared: the load each section started under goes with its figures.
            res["runs"][section] = dict(stamp, load=os.getloadavg())
            if section == "size":
                res["size"] = bench_size(args.quick)
            elif section == "idle":
                res["idle"] = bench_idle(args.quick)
            elif section == "ready-idle":
                res["ready-idle"] = bench_ready_idle(args.quick)
            elif section == "schedule":
                res["schedule"] = bench_schedule(args.quick)
            elif section == "ready-latency":
                res["ready-latency"] = bench_ready_latency(args.quick)
            elif section == "start":
                res["start"] = bench_start(args.quick)
            elif section == "stop":
                res["stop"] = bench_stop(args.quick)
            elif section == "reap":
                res["reap"] = bench_reap(args.quick, bins)
            elif section == "scale":
                res["scale"] = bench_scale(args.quick)
            elif section == "scale-peers":
                res["scale-peers"] = bench_scale_peers(args.quick)
            elif section == "logs":
                res["logs"] = bench_logs(args.quick)
            elif section == "control":
                import control  # bench/control.py: `status` beside a log flood
                res["control"] = control.bench_control(args.quick)
            elif section == "rolling":
                import rolling  # bench/rolling.py: the zero-downtime restart
                res["rolling"] = rolling.bench_rolling()
            else:
                sys.exit(f"unknown section {section}")
            log(f"{section}: {time.monotonic() - t:.0f} s")
    finally:
        shutil.rmtree(WORK, ignore_errors=True)
    if args.only != ALL_SECTIONS and os.path.exists(path):
        # A partial run updates its sections and keeps the others' last figures.
        with open(path) as f:
            merged = json.load(f)
        # Each section keeps the date, commit and machine of the run that measured it.
        runs = merged.get("runs") or {k: merged["machine"] for k in merged
                                      if k not in ("machine", "runs")}
        runs.update(res["runs"])
        merged.update(res)
        merged["runs"] = runs
        res = merged
    with open(path, "w") as f:
        json.dump(res, f, indent=2)
    write_report(res, args.out)


def write_report(res, out):
    text = report(res)
    soak_path = os.path.join(ROOT, "bench", "soak.json")
    if os.path.exists(soak_path):
        # The soak (bench/run.sh soak) runs apart, for 30 minutes; its last figures stay.
        sys.path.insert(0, os.path.join(ROOT, "bench"))
        import soak
        with open(soak_path) as f:
            text += soak.render(json.load(f))
    with open(out, "w") as f:
        f.write(text)
    print(text)


if __name__ == "__main__":
    main()
