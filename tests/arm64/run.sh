#!/usr/bin/env bash
# Smoke tests of the aarch64 static binary as PID 1, under qemu-user (Debian's
# qemu-user-static) on an x86_64 host: the emulated formation spawns the host's own programs
# (sh, sleep) natively, so no aarch64 userland is needed. What this proves: the aarch64 build
# runs, and its syscalls — signalfd, waitpid, kill of process groups, the child subreaper —
# behave under PID 1 as on x86_64. Under qemu-user, PID 1 is qemu running formation, so
# signals sent to PID 1 from outside reach formation through qemu's own handlers.
# Ends with "N passed, M failed".
# usage: tests/arm64/run.sh [path/to/aarch64/formation]
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
bin=${1:-$root/target/aarch64-unknown-linux-musl/release/formation}
qemu=${QEMU:-qemu-aarch64-static}
passed=0
failed=0
work=$(mktemp -d)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill -KILL "$p" 2>/dev/null; done
  rm -rf "$work"
}
trap cleanup EXIT

pass() { echo "PASS $1"; passed=$((passed + 1)); }
fail() {
  echo "FAIL $1: $2"
  failed=$((failed + 1))
  [ -f "${3:-}" ] && sed 's/^/    /' "$3" | tail -30
}
# PID 1 in a new PID namespace: unshare forks qemu, which runs formation.
pid1() { timeout 60 unshare --pid --fork --kill-child --mount-proc "$qemu" "$bin" "$@"; }
wait_text() { # file, text, seconds
  local deadline=$((SECONDS + ${3:-15}))
  until grep -qF -- "$2" "$1" 2>/dev/null; do
    [ $SECONDS -ge $deadline ] && return 1
    sleep 0.1
  done
}
# The qemu process that is PID 1 inside unshare's namespace (unshare's only child).
pid1_of() {
  local deadline=$((SECONDS + 10)) q
  until q=$(cat "/proc/$1/task/$1/children" 2>/dev/null) && [ -n "$q" ]; do
    [ $SECONDS -ge $deadline ] && return 1
    sleep 0.1
  done
  echo "${q%% *}"
}
status=
wait_exit() { # pid, seconds; sets status (not a subshell: only this shell can wait for it)
  local deadline=$((SECONDS + ${2:-15}))
  status=timeout
  while kill -0 "$1" 2>/dev/null; do
    [ $SECONDS -ge $deadline ] && return 1
    sleep 0.1
  done
  wait "$1"; status=$?
}

[ -x "$bin" ] || { echo "no aarch64 binary at $bin (run scripts/build-static.sh --target aarch64-unknown-linux-musl)"; exit 1; }
command -v "$qemu" >/dev/null || { echo "no $qemu (apt-get install qemu-user-static)"; exit 1; }
readelf -h "$bin" | grep -q 'Machine: *AArch64$' || { echo "$bin is not an aarch64 binary"; exit 1; }

# ---------------------------------------------------------------- scenarios
out=$(pid1 --version 2>&1)
if [[ "$out" == formation\ * ]]; then pass "the aarch64 binary runs under $qemu: $out"
else fail "version" "$out"; fi

pid1 -- sh -c 'exit 7'; code=$?
if [ "$code" = 7 ]; then pass "single-command mode: formation -- sh -c 'exit 7' exits 7"
else fail "single exit" "exit $code"; fi

pid1 -- sh -c 'kill -TERM $$'; code=$?
if [ "$code" = 143 ]; then pass "a command killed by SIGTERM makes formation exit 143"
else fail "signal status" "exit $code"; fi

# 20 double-forked children die while their parent lives on: PID 1 must reap them.
pid1 -- sh -c 'i=0; while [ $i -lt 20 ]; do (sleep 0.2 &); i=$((i+1)); done; sleep 2;
  z=0; for f in /proc/[0-9]*/stat; do read -r l < $f 2>/dev/null || continue;
  case "${l##*) }" in Z*) z=$((z+1));; esac; done; echo zombies=$z' >"$work/reap" 2>&1
if grep -qx 'zombies=0' "$work/reap"; then pass "20 orphans are reaped (zero zombies)"
else fail "reaping" "zombies left" "$work/reap"; fi

# SIGTERM sent to PID 1 from outside reaches the command's group; its status comes back.
pid1 -- sh -c 'trap "echo got TERM; exit 3" TERM; echo ready; while :; do sleep 1 & wait $!; done' >"$work/fwd" 2>&1 &
u=$!; pids+=("$u")
if wait_text "$work/fwd" ready && q=$(pid1_of "$u") && kill -TERM "$q" && wait_exit "$u" && [ "$status" = 3 ] &&
   grep -qx 'got TERM' "$work/fwd"; then
  pass "SIGTERM to PID 1 is forwarded to the command, which exits 3"
else fail "forwarding" "no TERM, or exit status $status, not 3" "$work/fwd"; fi

# A formation of two types: each starts (web gets PORT 5000), SIGTERM stops both, status 0.
(cd "$here" && exec unshare --pid --fork --kill-child --mount-proc "$qemu" "$bin" -c formation.toml) >"$work/formation" 2>&1 &
u=$!; pids+=("$u")
if wait_text "$work/formation" "web port 5000" && wait_text "$work/formation" "worker up" &&
   q=$(pid1_of "$u") && kill -TERM "$q" && wait_exit "$u" && [ "$status" = 0 ] &&
   grep -qF "web got TERM" "$work/formation" && grep -qF "worker got TERM" "$work/formation"; then
  pass "a formation of two types runs and stops on SIGTERM with status 0"
else fail "formation" "did not run, or did not stop cleanly (status $status)" "$work/formation"; fi

out=$(cd "$here" && "$qemu" "$bin" check -c formation.toml 2>&1); code=$?
if [ "$code" = 0 ] && echo "$out" | grep -q worker; then pass "check describes the formation"
else fail "check" "exit $code: $out"; fi

echo "$passed passed, $failed failed"
[ "$failed" = 0 ]
