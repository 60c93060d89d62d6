#!/usr/bin/env bash
# Reproduces BENCHMARKS.md: installs the peers, builds formation's static binary, and runs
# every workload for every tool in one run. Needs root (pid namespaces, apt-get).
# usage: bench/run.sh [--quick] [--only size,idle,ready-idle,schedule,ready-latency,start,stop,reap,scale,scale-peers,logs,control,rolling
#                      | SECTION[,SECTION]]
#        bench/run.sh soak [--minutes N] [--bin PATH]   (bench/soak.py: 30 minutes of faults)
# e.g. bench/run.sh scale  (a partial run keeps the other sections' figures in results.json)
set -euo pipefail
cd "$(dirname "$0")/.."
if [ "${1:-}" = soak ]; then
  # bench/run.sh soak [--minutes N] [--bin PATH]: formation alone, no peers to install; the
  # release build of this checkout unless --bin names another binary.
  shift
  [[ " $* " == *" --bin "* ]] || cargo build --release --locked
  exec python3 bench/soak.py "$@"
fi
if [ "${SKIP_INSTALL:-}" != 1 ]; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq tini dumb-init catatonit ruby-foreman supervisor hyperfine gcc util-linux nginx-light >/dev/null
  command -v honcho >/dev/null || pip install -q honcho
fi
scripts/build-static.sh
# The binary just built, wherever CARGO_TARGET_DIR puts it (FORMATION_BIN given wins).
export FORMATION_BIN="${FORMATION_BIN:-$(realpath -m "${CARGO_TARGET_DIR:-target}/x86_64-unknown-linux-musl/release/formation")}"
exec python3 bench/bench.py "$@"
