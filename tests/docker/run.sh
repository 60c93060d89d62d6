#!/usr/bin/env bash
# End-to-end tests on a real Docker engine: what a user of `docker run`, `docker stop`,
# `docker logs` and `docker kill` sees. Images are built FROM scratch with formation's
# static binary and busybox (no image can be pulled). Prints the container's logs on
# failure and ends with "N passed, M failed".
# usage: tests/docker/run.sh [path/to/static/formation]
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
bin=${1:-$root/target/x86_64-unknown-linux-musl/release/formation}
busybox=${BUSYBOX:-/bin/busybox}
# Tags of this run only: other checkouts may run this suite on the same engine at once.
tag=formation-e2e:test-$$
app=formation-example:test-$$
passed=0
failed=0
ctx=$(mktemp -d)

# Containers carry this run's label: run() is called in $(...), so a list kept in a variable
# would be lost with the subshell.
label=formation-e2e-run=$$
cleanup() {
  docker ps -aq --filter "label=$label" | xargs -r docker rm -f >/dev/null 2>&1
  docker rmi -f "$tag" "$app" "$tag-pg" "$tag-dash" >/dev/null 2>&1
  rm -rf "$ctx"
}
trap cleanup EXIT

pass() { echo "PASS $1"; passed=$((passed + 1)); }
fail() {
  echo "FAIL $1: $2"
  failed=$((failed + 1))
  if [ -n "${3:-}" ]; then
    echo "---- docker logs $3"; docker logs "$3" 2>&1 | tail -40 | sed 's/^/    /'
  fi
}
run() { docker run -d --label "$label" "$@"; }
exit_code() { docker inspect -f '{{.State.ExitCode}}' "$1"; }
wait_exit() { timeout "${2:-30}" docker wait "$1" >/dev/null; }
wait_log() { # container, text, seconds
  local deadline=$((SECONDS + ${3:-15}))
  until docker logs "$1" 2>&1 | grep -qF -- "$2"; do
    [ $SECONDS -ge $deadline ] && return 1
    sleep 0.2
  done
}
millis() { date +%s%3N; }

# ---------------------------------------------------------------- images
[ -x "$bin" ] || { echo "no static binary at $bin (run scripts/build-static.sh)"; exit 1; }
cp "$bin" "$ctx/formation"
cp "$busybox" "$ctx/busybox"
cp "$here"/*.toml "$here"/Procfile.* "$ctx/"
cat > "$ctx/Dockerfile" <<DOCKERFILE
FROM scratch
COPY busybox /bin/busybox
RUN ["/bin/busybox", "--install", "-s", "/bin"]
COPY formation /formation
COPY *.toml Procfile.* /e2e/
WORKDIR /e2e
ENTRYPOINT ["/formation"]
DOCKERFILE
docker build -q -t "$tag" "$ctx" >/dev/null 2>"$ctx/build.log" ||
  { echo "FAIL build of the test image"; cat "$ctx/build.log"; exit 1; }

# Dockerfile.example's final stage, step for step. Two sources change because no image can
# be pulled here: the binary comes from this build instead of the Rust stage, and busybox from
# the host instead of the busybox image.
mkdir -p "$ctx/example/examples"
cp "$bin" "$ctx/example/formation"; cp "$busybox" "$ctx/example/busybox"
cp "$root/examples/formation.toml" "$ctx/example/examples/"
awk '/^FROM scratch AS app$/ {on=1}
     on && /^COPY --from=formation / {print "COPY formation /formation"; next}
     on && /^COPY --from=busybox/ {print "COPY busybox /bin/busybox"; next}
     on' "$root/Dockerfile.example" > "$ctx/example/Dockerfile"
grep -q '^FROM scratch AS app$' "$ctx/example/Dockerfile" || { echo "FAIL Dockerfile.example has no final FROM scratch stage"; exit 1; }
if docker build -q -t "$app" "$ctx/example" >/dev/null 2>"$ctx/build.log"; then
  # The image's own HEALTHCHECK command, probed every second here instead of every 30 s.
  c=$(run --health-interval 1s "$app")
  health=$(docker inspect -f '{{json .Config.Healthcheck.Test}}' "$app")
  healthy() { [ "$(docker inspect -f '{{.State.Health.Status}}' "$c")" = healthy ]; }
  deadline=$((SECONDS + 20))
  until healthy || [ $SECONDS -ge $deadline ]; do sleep 0.5; done
  # It runs until stopped: a scheduled run ends and nothing stops (the old example's
  # essential clock ended the container after 12 s).
  if wait_log "$c" "web.1     | hello from web.1, listening on port 5000" && healthy &&
     wait_log "$c" "clock.1 exited with code 0; next run at" 20 &&
     [ "$(docker inspect -f '{{.State.Running}}' "$c")" = true ] &&
     docker stop "$c" >/dev/null && [ "$(exit_code "$c")" = 0 ] &&
     [ "$health" = '["CMD","/formation","probe","web"]' ]; then
    pass "Dockerfile.example runs the example formation until stopped, healthy with HEALTHCHECK $health"
  else fail "Dockerfile.example" "not healthy, stopped by itself, or health check $health: $(docker inspect -f '{{.State.Health.Status}} {{.State.Running}}' "$c")" "$c"; fi
else
  fail "Dockerfile.example" "the image did not build: $(cat "$ctx/build.log")"
fi

# ---------------------------------------------------------------- scenarios
c=$(run "$tag" -c e2e.toml)
# Lines of different processes have no order between them: wait for each.
if wait_log "$c" "worker.1  | worker out" && wait_log "$c" "web.1     | web out" &&
   wait_log "$c" "web.1     | web err" &&
   docker logs "$c" 2>/dev/null | grep -qxF "web.1     | web out" &&
   docker logs "$c" 2>&1 >/dev/null | grep -qxF "web.1     | web err" &&
   ! docker logs "$c" 2>/dev/null | grep -qF "web err"; then
  pass "docker logs shows prefixed lines, stdout and stderr on their own streams"
else fail "logs" "prefixed lines or streams wrong" "$c"; fi

t0=$(millis)
docker stop "$c" >/dev/null
took=$(( $(millis) - t0 ))
if [ "$(exit_code "$c")" = 0 ] && [ "$took" -lt 5000 ] &&
   wait_log "$c" "web.1     | web got TERM" 10 && wait_log "$c" "worker.1  | worker got TERM" 10; then
  pass "docker stop: every process got SIGTERM, exit code 0, ${took} ms"
else fail "docker stop" "exit $(exit_code "$c") after ${took} ms" "$c"; fi

c=$(run "$tag" -c stubborn.toml)
wait_log "$c" "stubborn ready"
t0=$(millis)
docker stop -t 3 "$c" >/dev/null
took=$(( $(millis) - t0 ))
# Docker copies a container's last lines into its log a moment after the exit: wait for it.
if [ "$(exit_code "$c")" = 137 ] && [ "$took" -lt 2800 ] &&
   wait_log "$c" "stubborn.1 did not stop within 1s; sending SIGKILL" 10; then
  pass "docker stop -t 3: formation's own SIGKILL at its 1 s grace came first (${took} ms, exit 137)"
else fail "docker stop -t 3" "exit $(exit_code "$c") after ${took} ms" "$c"; fi

c=$(run "$tag" -c essential.toml)
wait_exit "$c"
# Docker copies a container's last lines into its log a moment after the exit: wait for it.
if [ "$(exit_code "$c")" = 3 ] && wait_log "$c" "job.1 exited with code 3; stopping" 10; then
  pass "an essential process exiting with 3 makes the container exit with 3"
else fail "essential" "exit $(exit_code "$c")" "$c"; fi

c=$(run "$tag" -c e2e.toml)
wait_log "$c" "worker.1  | worker out"
docker kill -s HUP "$c" >/dev/null
if wait_log "$c" "web.1     | web got HUP" && wait_log "$c" "worker.1  | worker got HUP" &&
   docker inspect -f '{{.State.Running}}' "$c" | grep -q true; then
  pass "docker kill -s HUP reaches every process"
else fail "HUP" "not every process got it" "$c"; fi
docker rm -f "$c" >/dev/null

c=$(run --init "$tag" -c orphans.toml)
if wait_log "$c" "zombies=" 30 && docker logs "$c" 2>/dev/null | grep -qF "storm.1   | zombies=0" &&
   [ "$(docker top "$c" -o pid,comm | awk 'NR>1 && $2 == "docker-init"' | wc -l)" = 1 ]; then
  docker stop "$c" >/dev/null
  if [ "$(exit_code "$c")" = 0 ]; then
    pass "docker run --init: formation under docker-init reaps 1,000 orphans and stops cleanly"
  else fail "--init" "exit $(exit_code "$c")" "$c"; fi
else fail "--init" "zombies left, or docker-init not PID 1" "$c"; fi

c=$(run "$tag" -c orphans.toml)
if wait_log "$c" "zombies=" 30 && docker logs "$c" 2>/dev/null | grep -qF "storm.1   | zombies=0"; then
  pass "an orphan storm of 1,000 double-forked children leaves zero zombies (PID 1)"
else fail "orphan storm" "zombies left" "$c"; fi
docker rm -f "$c" >/dev/null

c=$(run --read-only --user 12345:12345 "$tag" -c e2e.toml)
if wait_log "$c" "worker.1  | worker out" && [ -z "$(docker diff "$c")" ]; then
  docker stop "$c" >/dev/null
  if [ "$(exit_code "$c")" = 0 ]; then
    pass "--read-only --user 12345:12345 runs, writes nothing, stops with 0"
  else fail "read-only" "exit $(exit_code "$c")" "$c"; fi
else fail "read-only" "did not run, or wrote files: $(docker diff "$c")" "$c"; fi

c=$(run "$tag" -c e2e.toml)
wait_log "$c" "worker.1  | worker out"
# SPEC §7 and §10: the one socket formation opens is its control socket, abstract (no file),
# named after its pid namespace (@formation/INODE).
listening=$(docker exec "$c" netstat -ln 2>&1 | awk 'NR>2' | grep -vE ' @formation/[0-9]+$')
if [ -z "$(echo "$listening" | grep -E 'LISTEN|^unix|^udp')" ]; then
  pass "no listening socket inside the container but formation's abstract control socket"
else fail "sockets" "netstat -ln: $listening" "$c"; fi
docker rm -f "$c" >/dev/null

code=0; docker run --rm --label "$label" "$tag" -- sh -c 'exit 7' || code=$?
if [ "$code" = 7 ]; then pass "single-command mode: docker run IMAGE -- sh -c 'exit 7' exits 7"
else fail "single exit" "exit $code"; fi

code=0; docker run --rm --label "$label" "$tag" sh -c 'exit 7' || code=$?
if [ "$code" = 7 ]; then pass "passthrough without --: docker run IMAGE sh -c 'exit 7' exits 7"
else fail "passthrough exit" "exit $code"; fi

c=$(run -e PORT=8080 "$tag" -f Procfile.web-second)
if wait_log "$c" "web.1     | web port 8080" && wait_log "$c" "worker.1  | worker port 8180"; then
  pass "a Procfile whose web type is second: web gets the container's PORT 8080, worker 8180"
else fail "PORT to web" "web did not get PORT 8080, or worker not 8180" "$c"; fi
docker rm -f "$c" >/dev/null

# -it: a terminal, and ^C typed on it reaches the command (exit 130 = SIGINT).
out=$( (sleep 3; printf '\003'; sleep 2) | timeout 30 script -qefc \
  "docker run --rm -it $tag -- sh -c 'echo ready; exec sleep 100'" /dev/null 2>&1)
code=$?
if [ "$code" = 130 ] && echo "$out" | grep -q ready; then
  pass "single-command mode with -it: ^C stops the command (exit 130)"
else fail "-it ^C" "exit $code, output: $out"; fi

# ---------------------------------------------------------------- subcommands through docker exec
# FORMATION_CONFIG is set for the container, so `docker exec` finds the same config as PID 1.
# A scenario of a subcommand still being written runs when its name is in E2E_ENABLE; once
# it lands, its name joins the default list below.

# `formation probe web` as Docker's health check: healthy once httpd listens; a type with no
# check is exit 2.
probe_scenario() {
  local c health deadline code
  c=$(run -e FORMATION_CONFIG=ready.toml --health-cmd "/formation probe web" \
    --health-interval 1s --health-retries 1 "$tag")
  wait_log "$c" "web.1 ready"
  deadline=$((SECONDS + 20))
  until health=$(docker inspect -f '{{.State.Health.Status}}' "$c") && [ "$health" = healthy ]; do
    [ $SECONDS -ge $deadline ] && break
    sleep 0.5
  done
  code=0; docker exec "$c" /formation probe worker >/dev/null 2>&1 || code=$?
  if [ "$health" = healthy ] && docker exec "$c" /formation probe web >/dev/null && [ "$code" = 2 ]; then
    pass "HEALTHCHECK formation probe web: healthy once web listens; probe of a type with no check exits 2"
  else fail "probe" "health $health, probe worker exit $code" "$c"; fi
  docker rm -f "$c" >/dev/null
}

# `docker exec IMAGE /formation status` lists every instance with its pid.
status_scenario() {
  local c out web_pid
  c=$(run -e FORMATION_CONFIG=ready.toml "$tag")
  wait_log "$c" "web.1 ready"
  out=$(docker exec "$c" /formation status 2>&1)
  web_pid=$(docker exec "$c" pidof httpd)
  if [ -n "$web_pid" ] && echo "$out" | grep -F "web.1" | grep -qw "$web_pid" && echo "$out" | grep -qF "worker.1"; then
    pass "docker exec formation status lists web.1 (pid $web_pid) and worker.1"
  else fail "status" "output: $out" "$c"; fi
  docker rm -f "$c" >/dev/null
}

# shellcheck source=tests/docker/edges.sh
. "$here/edges.sh"
# shellcheck source=tests/docker/control.sh
. "$here/control.sh"

# Faults a container meets (issue #26).
# --pids-limit: the instances that cannot be forked say so and back off; formation runs on,
# and every instance starts once `docker update` raises the limit.
pids_scenario() {
  local c
  c=$(run --pids-limit 5 "$tag" -c pids.toml)
  if wait_log "$c" "cannot fork: too many processes (EAGAIN)" &&
     docker inspect -f '{{.State.Running}}' "$c" | grep -q true &&
     docker update --pids-limit 100 "$c" >/dev/null &&
     wait_log "$c" "w.5 started" && wait_log "$c" "w.6 started" &&
     wait_log "$c" "w.7 started" && wait_log "$c" "w.8 started"; then
    pass "--pids-limit 5: forks refused with EAGAIN back off; all 8 start once the limit is raised"
  else fail "pids-limit" "no EAGAIN line, formation gone, or no recovery" "$c"; fi
  docker rm -f "$c" >/dev/null
}

# --memory: the OOM killer's SIGKILL is named as such, with the container's limit.
oom_scenario() {
  local c
  c=$(run --memory 64m --memory-swap 64m "$tag" -c oom.toml)
  if wait_log "$c" "hog.1 was killed by SIGKILL (out of memory: the container's limit is 64 MiB)" 30 &&
     docker inspect -f '{{.State.Running}}' "$c" | grep -q true; then
    pass "--memory 64m: the OOM kill of hog.1 is named with the limit; formation runs on"
  else fail "memory" "no out-of-memory line, or formation gone" "$c"; fi
  docker rm -f "$c" >/dev/null
}

for scenario in probe status user hup dockerfile pids oom \
  control_exec control_user control_reload control_postgres ${E2E_ENABLE:-}; do "${scenario}_scenario"; done

echo "$passed passed, $failed failed"
[ "$failed" = 0 ]
