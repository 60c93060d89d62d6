#!/usr/bin/env bash
# Reproduces BENCHMARKS.md: installs the peers, builds formation's static binary, and runs
# every workload for every tool in one run. Needs root (pid namespaces, apt-get).
# usage: bench/run.sh [--quick] [--only size,idle,ready-idle,schedule,ready-latency,start,stop,reap,scale,scale-peers,logs,rolling
#                      | SECTION[,SECTION]]
# e.g. bench/run.sh scale  (a partial run keeps the other sections' figures in results.json)
set -euo pipefail
cd "$(dirname "$0")/.."
if [ "${SKIP_INSTALL:-}" != 1 ]; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq tini dumb-init catatonit ruby-foreman supervisor gcc util-linux nginx-light >/dev/null
  command -v honcho >/dev/null || pip install -q honcho
fi
scripts/build-static.sh
exec python3 bench/bench.py "$@"
