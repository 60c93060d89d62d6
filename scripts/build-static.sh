#!/usr/bin/env bash
# Builds the static release binary that goes into images, checks that it is static, and
# prints its size. Usage: scripts/build-static.sh [--check-size]
#
# Why nightly: on stable, std's panic and backtrace machinery alone is ~380 KB of a 700 KB
# binary. Rebuilding std with `-Z build-std` and the `optimize_for_size` feature, with the
# flags below, keeps it under the 500 KB budget. Without nightly, the stable build is used.
set -euo pipefail
cd "$(dirname "$0")/.."
target=x86_64-unknown-linux-musl
out=${CARGO_TARGET_DIR:-target}/$target/release/formation

# A static, non-PIE executable with no unwind tables, and panics that abort at once: musl's
# default static-pie carries a ~27 KB relocation table; with panic=abort nothing unwinds, so
# .eh_frame (~70 KB) only served backtraces; and std's panic-message machinery (and the Debug
# impls that only `expect` messages reach) is ~120 KB. With the status listener, schedules,
# the graph and export in, the build with panic messages is 543 KB, over the 500 KB budget;
# this one is ~425 KB. What it costs: a panic (a bug: formation has no unwrap outside tests)
# ends PID 1 with SIGILL and no message; a debug build (`cargo build`) prints it.
# (Non-PIE: the binary's own image is not address-randomized; its heap and stack are.)
export RUSTFLAGS="${RUSTFLAGS:-} -C relocation-model=static -C force-unwind-tables=no -Zunstable-options -Cpanic=immediate-abort"
if cargo +nightly --version >/dev/null 2>&1 && rustup +nightly component list --installed 2>/dev/null | grep -q rust-src; then
  cargo +nightly build --release --locked --target "$target" \
    -Z build-std=std,panic_abort -Z build-std-features=optimize_for_size
  how="nightly, build-std, optimize_for_size"
else
  echo "build-static: nightly with rust-src not found; building on stable (larger binary)" >&2
  RUSTFLAGS="-C relocation-model=static" cargo build --release --locked --target "$target"
  how="stable"
fi

if readelf -l "$out" | grep -q 'INTERP' || readelf -d "$out" | grep -q 'NEEDED'; then
  echo "build-static: $out is not statically linked" >&2
  readelf -d "$out" >&2
  exit 1
fi
size=$(stat -c %s "$out")
echo "static binary: $out, $size bytes ($((size / 1024)) KiB), built with $how"
if [ "${1:-}" = "--check-size" ] && [ "$how" != "stable" ] && [ "$size" -gt 512000 ]; then
  echo "build-static: $size bytes is over the 500 KB budget" >&2
  exit 1
fi
