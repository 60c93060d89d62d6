#!/usr/bin/env bash
# Runs every cargo-fuzz target in fuzz/ for a while, a few at a time, at the lowest CPU
# priority, and prints one summary line per target (runs, execs/s, coverage, crashes).
# usage: scripts/fuzz.sh [SECONDS_PER_TARGET] [AT_ONCE] [TARGET...]
#   SECONDS_PER_TARGET: default 600 (the recorded run of docs/fuzzing.md); CI uses 20.
#   AT_ONCE: how many targets run at the same time (default 2).
# Needs nightly and cargo-fuzz (`cargo install cargo-fuzz`). The corpus grows in
# fuzz/corpus/TARGET (not committed) from the seeds in fuzz/seeds/TARGET; a crash is saved in
# fuzz/artifacts/TARGET and makes the script exit 1. Logs: $FUZZ_LOGS (default a temp dir).
set -uo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-600}
at_once=${2:-2}
shift $(( $# < 2 ? $# : 2 ))
targets=("$@")
if [ ${#targets[@]} = 0 ]; then
  mapfile -t targets < <(cargo +nightly fuzz list)
fi
logs=${FUZZ_LOGS:-$(mktemp -d)}
mkdir -p "$logs"
nice -n 19 cargo +nightly fuzz build || { echo "FAIL the fuzz targets do not build"; exit 1; }

run_one() {
  local t=$1
  mkdir -p "fuzz/corpus/$t" "fuzz/seeds/$t"
  # -max_len: the framer needs inputs that reach 16 KiB lines (its runs make them long);
  # the others are small texts.
  nice -n 19 cargo +nightly fuzz run "$t" "fuzz/corpus/$t" "fuzz/seeds/$t" -- \
    -max_total_time="$seconds" -max_len=8192 -print_final_stats=1 \
    > "$logs/$t.log" 2>&1
}

failed=0
running=0
for t in "${targets[@]}"; do
  run_one "$t" &
  running=$((running + 1))
  if [ "$running" -ge "$at_once" ]; then
    wait -n
    running=$((running - 1))
  fi
done
wait

printf '%-12s %12s %10s %8s %8s %s\n' target runs execs/s cov ft crashes
for t in "${targets[@]}"; do
  log=$logs/$t.log
  runs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | awk '{print $2}')
  speed=$(grep -o 'stat::average_exec_per_sec: *[0-9]*' "$log" | awk '{print $2}')
  last=$(grep -E '^#[0-9]+' "$log" | grep -o 'cov: [0-9]* ft: [0-9]*' | tail -1)
  crashes=$(ls "fuzz/artifacts/$t" 2>/dev/null | grep -c -E '^(crash|oom|timeout|leak)-' || true)
  if grep -qE 'ERROR: libFuzzer|panicked|SUMMARY: AddressSanitizer' "$log"; then
    failed=1
    crashes="$crashes (see $log)"
  fi
  printf '%-12s %12s %10s %8s %8s %s\n' "$t" "${runs:-?}" "${speed:-?}" \
    "$(echo "$last" | awk '{print $2}')" "$(echo "$last" | awk '{print $4}')" "$crashes"
done
echo "logs: $logs"
exit $failed
