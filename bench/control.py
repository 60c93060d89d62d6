"""`formation status` beside a log flood (#23): 50 instances, 4 of them `yes` writers of
100-byte lines flooding stdout, 46 sleeping; a client inside the pid namespace (as `docker
exec` would be) asks for the status 200 times. Measured two ways, both inside the namespace:

- the command as a user runs it: `formation status`, timed by hyperfine (`-N`, no shell): the
  client's exec, its connect to the abstract socket, the answer, the table, its exit;
- the request alone: one connection, `status\\n`, read to EOF, from a Python loop.

The peer is supervisord running the same 50 programs (its children's stdout relayed to its
own, `stdout_logfile=/dev/stdout`, as container images configure it), asked with
`supervisorctl status` (and, for the request alone, its XML-RPC `getAllProcessInfo` over the
same unix socket). Rounds alternate formation and supervisord, each manager started afresh as
PID 1 of its own namespace, so a shared machine's drift falls on both.

The flood is counted on the manager's stdout the whole time: lines/s in the second before the
requests and during them, and the longest gap between two reads during them, so it shows
that answering did not stall the output.
"""

import json
import os
import shutil
import subprocess
import threading
import time

import bench

INSTANCES, WRITERS = 50, 4
LINE = "x" * 98 + "#"  # `yes LINE`: 100-byte lines, as in the log throughput section
SYS_PYTHON = "/usr/bin/python3"  # Debian's, which sees Debian's supervisor package

# Inside the namespace: the request alone, N times; prints the latencies (ms) as JSON.
FORMATION_RTT = r"""
import json, os, socket, sys, time
name = "\0formation/%d" % os.stat("/proc/self/ns/pid").st_ino
out = []
for _ in range(int(sys.argv[1])):
    t = time.perf_counter()
    s = socket.socket(socket.AF_UNIX)
    s.connect(name)
    s.sendall(b"status\n")
    n = 0
    while True:
        c = s.recv(65536)
        if not c:
            break
        n += len(c)
    s.close()
    out.append((time.perf_counter() - t) * 1000)
    assert n > 1000, n
print(json.dumps(out))
"""

SUPERVISOR_RTT = r"""
import json, sys, time, xmlrpc.client
from supervisor.xmlrpc import SupervisorTransport
proxy = xmlrpc.client.ServerProxy("http://127.0.0.1",
                                  transport=SupervisorTransport(None, None, "unix://" + sys.argv[2]))
out = []
for _ in range(int(sys.argv[1])):
    t = time.perf_counter()
    info = proxy.supervisor.getAllProcessInfo()
    out.append((time.perf_counter() - t) * 1000)
    assert len(info) == 50, len(info)
print(json.dumps(out))
"""


def formation_config(flood=True):
    path = os.path.join(bench.WORK, "control.toml")
    writer = f"exec yes {LINE}" if flood else "sleep 1000"
    with open(path, "w") as f:
        f.write(f"""[process.flood]
command = "{writer}"
scale = {WRITERS}

[process.idle]
command = "sleep 1000"
scale = {INSTANCES - WRITERS}
""")
    return path


def supervisor_config():
    path = os.path.join(bench.WORK, "control-supervisord.conf")
    sock = os.path.join(bench.WORK, "supervisor.sock")
    common = """stdout_logfile=/dev/stdout
stdout_logfile_maxbytes=0
stderr_logfile=/dev/stderr
stderr_logfile_maxbytes=0
"""
    with open(path, "w") as f:
        f.write(f"""[supervisord]
nodaemon=true
logfile=/dev/null
logfile_maxbytes=0
pidfile={bench.WORK}/control-supervisord.pid
[unix_http_server]
file={sock}
[supervisorctl]
serverurl=unix://{sock}
[rpcinterface:supervisor]
supervisor.rpcinterface_factory = supervisor.rpcinterface:make_main_rpcinterface
[program:flood]
command=yes {LINE}
numprocs={WRITERS}
process_name=%(program_name)s_%(process_num)d
{common}[program:idle]
command=sleep 1000
numprocs={INSTANCES - WRITERS}
process_name=%(program_name)s_%(process_num)02d
{common}""")
    return path, sock


class Flood:
    """The manager as PID 1, its stdout and stderr read by a thread that counts the flood's
    lines and stamps every read."""

    def __init__(self, argv):
        self.lines, self.reads = 0, []  # reads: (monotonic, lines so far)
        self.lock = threading.Lock()
        self.proc = subprocess.Popen(bench.UNSHARE + argv, stdout=subprocess.PIPE,
                                     stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                     cwd=bench.WORK, env=dict(os.environ, NO_COLOR="1"),
                                     start_new_session=True)
        self.thread = threading.Thread(target=self._read, daemon=True)
        self.thread.start()
        self.init = bench.pid1_of(self.proc)

    def _read(self):
        fd, tail = self.proc.stdout.fileno(), b""
        while True:
            chunk = os.read(fd, 1 << 20)
            if not chunk:
                return
            n = (tail + chunk).count(b"#\n") - tail.count(b"#\n")
            tail = chunk[-1:]
            with self.lock:
                self.lines += n
                self.reads.append((time.monotonic(), self.lines))

    def count(self):
        with self.lock:
            return time.monotonic(), self.lines

    def window(self, t0, t1):
        """Lines/s between t0 and t1 and the longest time without a read in it (ms)."""
        with self.lock:
            stamps = [(t, n) for t, n in self.reads if t0 <= t <= t1]
        if len(stamps) < 2:
            return 0.0, (t1 - t0) * 1000
        gaps = [b[0] - a[0] for a, b in zip(stamps, stamps[1:])]
        gaps += [stamps[0][0] - t0, t1 - stamps[-1][0]]
        rate = (stamps[-1][1] - stamps[0][1]) / (stamps[-1][0] - stamps[0][0])
        return rate, max(gaps) * 1000

    def stop(self):
        bench.stop(self.proc)
        self.thread.join(timeout=5)
        self.proc.stdout.close()


def inside(init, argv, timeout=300):
    """argv in the namespace's pid and mount namespaces, as `docker exec` runs a command."""
    return subprocess.run(["nsenter", "--target", str(init), "--pid", "--mount", *argv],
                          capture_output=True, text=True, timeout=timeout, cwd=bench.WORK)


def hyperfine(init, commands, runs):
    """Per-run wall times (ms) of each command (no shell), run inside the namespace."""
    out = os.path.join(bench.WORK, "hyperfine.json")
    r = inside(init, ["hyperfine", "-N", "--style", "none", "--warmup", "3", "--runs", str(runs),
                      "--export-json", out, *commands])
    if r.returncode != 0:
        raise RuntimeError(f"hyperfine {commands}: {r.returncode}\n{r.stdout}{r.stderr}")
    with open(out) as f:
        return [[t * 1000 for t in res["times"]] for res in json.load(f)["results"]]


def running(init, want):
    """The namespace holds `want` workload processes (the `yes` writers and the `sleep`s)."""
    return sum(1 for p in bench.descendants(init) if bench.comm(p) in ("yes", "sleep")) >= want


def round_once(tool, runs):
    """One manager, started afresh: the flood's rate before and during the requests, the
    command's latencies, then the request alone's."""
    if tool.startswith("formation"):
        # "formation, no flood": the same 50 instances all asleep, to tell the cost of the
        # answer from that of sharing two cores with four writers.
        argv = [bench.FORMATION, "-c", formation_config(flood=tool == "formation")]
        command = f"{bench.FORMATION} status"
        # The floor of any command run in the namespace: exec the same static binary, exit.
        commands = [command, f"{bench.FORMATION} --version"]
    else:
        conf, sock = supervisor_config()
        argv = ["supervisord", "-c", conf]
        command = f"supervisorctl -c {conf} status"
        commands = [command]
    run = Flood(argv)
    try:
        if not bench.wait_until(lambda: running(run.init, INSTANCES), 60, 0.01):
            raise RuntimeError(f"{tool}: not all {INSTANCES} instances started")
        if tool == "supervisord":
            # RUNNING only `startsecs` (1 s) after each start: `status` exits 0 once all are.
            if not bench.wait_until(lambda: inside(run.init, command.split()).returncode == 0, 60, 0.2):
                raise RuntimeError("supervisord: not all RUNNING")
        time.sleep(1.0)
        t0 = time.monotonic()
        time.sleep(1.0)
        t1 = time.monotonic()
        took = hyperfine(run.init, commands, runs)
        t2 = time.monotonic()
        before, _ = run.window(t0, t1)
        during, gap = run.window(t1, t2)
        if tool.startswith("formation"):
            rtt = inside(run.init, [SYS_PYTHON, "-c", FORMATION_RTT, str(runs)])
        else:
            rtt = inside(run.init, [SYS_PYTHON, "-c", SUPERVISOR_RTT, str(runs), sock])
        if rtt.returncode != 0:
            raise RuntimeError(f"{tool} request loop: {rtt.stderr}")
        t3 = time.monotonic()
        # While only the bare requests ran: what answering costs the relay, without 200
        # clients' own work on the same two cores.
        during_requests, gap_requests = run.window(t2, t3)
        alive = run.proc.poll() is None
        return {"command_ms": took[0], "floor_ms": took[1] if len(took) > 1 else None,
                "request_ms": json.loads(rtt.stdout), "lines_per_s_before": before,
                "lines_per_s_requests": during_requests, "longest_gap_requests_ms": gap_requests,
                "lines_per_s_during": during, "longest_gap_ms": gap, "alive": alive}
    finally:
        run.stop()


def percentile(xs, p):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(round(p / 100 * (len(xs) - 1))))]


def bench_control(quick):
    rounds, per_round = (2, 20) if quick else (5, 40)
    tools = ["formation", "supervisord", "formation, no flood"]
    if not shutil.which("supervisord") or not os.path.exists(SYS_PYTHON):
        tools.remove("supervisord")
    samples = {t: [] for t in tools}
    for i in range(rounds):
        for tool in tools:
            bench.log(f"control: round {i + 1}/{rounds}: {tool}")
            samples[tool].append(round_once(tool, per_round))
    out = {"instances": INSTANCES, "writers": WRITERS, "rounds": rounds, "runs": rounds * per_round,
           "results": {}}
    for tool, rs in samples.items():
        cmd = [x for r in rs for x in r["command_ms"]]
        req = [x for r in rs for x in r["request_ms"]]
        out["results"][tool] = {
            "command_median_ms": bench.median(cmd), "command_p95_ms": percentile(cmd, 95),
            "command_max_ms": max(cmd),
            "request_median_ms": bench.median(req), "request_p95_ms": percentile(req, 95),
            "request_max_ms": max(req),
            "lines_per_s_before": bench.median([r["lines_per_s_before"] for r in rs]),
            "lines_per_s_during": bench.median([r["lines_per_s_during"] for r in rs]),
            "longest_gap_ms": max(r["longest_gap_ms"] for r in rs),
            "lines_per_s_requests": bench.median([r["lines_per_s_requests"] for r in rs]),
            "longest_gap_requests_ms": max(r["longest_gap_requests_ms"] for r in rs),
            "alive": all(r["alive"] for r in rs),
        }
        floor = [x for r in rs for x in (r["floor_ms"] or [])]
        if floor:
            out["results"][tool].update({"floor_median_ms": bench.median(floor),
                                         "floor_p95_ms": percentile(floor, 95), "floor_max_ms": max(floor)})
    return out


def flood(v):
    """The flood's columns of a row: none when nothing floods."""
    if not v["lines_per_s_before"]:
        return "— | — | — | — | —"
    return (f"{v['lines_per_s_before']:,.0f} | {v['lines_per_s_during']:,.0f} "
            f"| {bench.fmt(v['longest_gap_ms'], ' ms', 1)} | {v.get('lines_per_s_requests', 0):,.0f} "
            f"| {bench.fmt(v.get('longest_gap_requests_ms'), ' ms', 1)}")


def report(c):
    rs = c["results"]
    f = rs.get("formation") or {}
    out = [f"## `status` beside a log flood: {c['instances']} instances, {c['writers']} of them flooding "
           f"stdout ({c['runs']} requests each, {c['rounds']} interleaved rounds)\n",
           "| manager | command: median | p95 | max | vs formation | request alone: median | p95 | max "
           "| vs formation | flood lines/s before | during the commands | longest output gap | during the requests "
           "alone | longest output gap |\n"
           "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for tool, v in rs.items():
        vs = (lambda k: "" if tool.startswith("formation") else bench.ratio(v.get(k), f.get(k)))
        label = {"formation": "formation (`formation status`)",
                 "formation, no flood": "formation, the 50 asleep (no flood: for contrast)",
                 "supervisord": "supervisord (`supervisorctl status`)"}.get(tool, tool)
        out.append(f"| {label} | {bench.fmt(v['command_median_ms'], ' ms', 2)} "
                   f"| {bench.fmt(v['command_p95_ms'], ' ms', 2)} | {bench.fmt(v['command_max_ms'], ' ms', 2)} "
                   f"| {vs('command_median_ms')} | {bench.fmt(v['request_median_ms'], ' ms', 3)} "
                   f"| {bench.fmt(v['request_p95_ms'], ' ms', 3)} | {bench.fmt(v['request_max_ms'], ' ms', 3)} "
                   f"| {vs('request_median_ms')} | {flood(v)} |")
        if v.get("floor_median_ms") is not None:
            out.append(f"| (floor: `formation --version`, same rounds) | {bench.fmt(v['floor_median_ms'], ' ms', 2)} "
                       f"| {bench.fmt(v['floor_p95_ms'], ' ms', 2)} | {bench.fmt(v['floor_max_ms'], ' ms', 2)} "
                       "| | | | | | | | | | |")
    out.append(f"\nEach manager is PID 1 of its own namespace, started afresh each round, running "
               f"{c['writers']} `yes` writers of 100-byte lines and {c['instances'] - c['writers']} `sleep`s; "
               "its output is read on a pipe the whole time. The client runs inside the namespace "
               "(`nsenter --pid --mount`, as `docker exec` does). *Command*: the whole "
               "`formation status` (exec, connect, answer, table, exit) against `supervisorctl status`, "
               "timed by hyperfine (`-N`). *Request alone*: one connection and its answer from a "
               "Python loop — formation's `status` line over its abstract socket, supervisord's "
               "`getAllProcessInfo` over its unix socket. supervisord relays its children's output to "
               "its stdout (`stdout_logfile=/dev/stdout`). Flood lines/s: in the second before the "
               "requests, during the commands and during the bare requests; the longest gap is the longest "
               "time without a read of the manager's output in that window. The no-flood row runs the same 50 instances all "
               "asleep, in the same rounds. The target is a median under 5 ms.\n")
    return "\n".join(out) + "\n"
