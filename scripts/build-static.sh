#!/usr/bin/env bash
# Builds the static release binary that goes into images, checks that it is static and for
# the right machine, and prints its size.
# Usage: scripts/build-static.sh [--target TRIPLE] [--check-size]
#   TRIPLE: x86_64-unknown-linux-musl (default) or aarch64-unknown-linux-musl.
#   NIGHTLY=nightly-YYYY-MM-DD pins the nightly toolchain (default: `nightly`).
#
# Why nightly: on stable, std's panic and backtrace machinery alone is ~380 KB of a 700 KB
# binary. Rebuilding std with `-Z build-std` and the `optimize_for_size` feature, with the
# flags below, keeps it small (the budget is 500 KB; see --check-size below). Without nightly, the stable build is used.
#
# Cross-building (a target whose arch is not the host's) needs a linker for that arch and
# musl's start files, libc.a and libunwind.a for it:
# - when rustup has the target's std (`rustup target add TRIPLE`), its self-contained musl
#   objects are used and rust-lld links them, as Dockerfile.example does;
# - otherwise (the target's std cannot be downloaded, as on CI) with nightly's build-std:
#   Debian's musl for that arch (`dpkg --add-architecture arm64; apt-get install
#   musl-dev:arm64 g++-aarch64-linux-gnu`) and its musl-gcc.specs drive the cross gcc, and
#   libunwind.a is compiled from the LLVM libunwind sources shipped in rust-src — the same
#   unwinder rustup's musl std bundles.
set -euo pipefail
cd "$(dirname "$0")/.."

# A static, non-PIE executable with no unwind tables, and panics that abort at once: musl's
# default static-pie carries a ~27 KB relocation table; with panic=abort nothing unwinds, so
# .eh_frame (~70 KB) only served backtraces; and std's panic-message machinery (and the Debug
# impls that only `expect` messages reach) is ~120 KB. With the status listener, schedules,
# the graph and export in, the build with panic messages is 543 KB, over the 500 KB budget;
# this one is ~425 KB. What it costs: a panic (a bug: formation has no unwrap outside tests)
# ends PID 1 with SIGILL and no message; a debug build (`cargo build`) prints it.
# (Non-PIE: the binary's own image is not address-randomized; its heap and stack are.)
# `-z noseparate-code`: the linker's default pads the code and the read-only data onto pages
# of their own, ~8 KB of zeros in the file; code and constants share them instead.
# RUSTFLAGS, not the per-target variable: cargo ignores the latter when the former is set.
export RUSTFLAGS="${RUSTFLAGS:-} -C relocation-model=static -C force-unwind-tables=no -Zunstable-options -Cpanic=immediate-abort -C link-arg=-z -C link-arg=noseparate-code"

target=x86_64-unknown-linux-musl
check_size=
while [ $# -gt 0 ]; do
  case "$1" in
    --target) target=${2:?--target needs a triple}; shift 2 ;;
    --target=*) target=${1#--target=}; shift ;;
    --check-size) check_size=1; shift ;;
    *) echo "usage: $0 [--target TRIPLE] [--check-size]" >&2; exit 2 ;;
  esac
done
case "$target" in
  x86_64-unknown-linux-musl) arch=x86_64 machine="Advanced Micro Devices X86-64" ;;
  aarch64-unknown-linux-musl) arch=aarch64 machine="AArch64" ;;
  *) echo "build-static: unsupported target $target" >&2; exit 2 ;;
esac
nightly=${NIGHTLY:-nightly}
tdir=${CARGO_TARGET_DIR:-target}
out=$tdir/$target/release/formation
# Cargo's per-target environment variable names: upper case, '-' as '_'.
tvar=$(echo "$target" | tr 'a-z-' 'A-Z_')

# The sysroot's self-contained musl objects exist only when rustup installed the target's std.
has_std() { [ -f "$(rustc "+$1" --print sysroot)/lib/rustlib/$target/lib/self-contained/crt1.o" ]; }

# LLVM libunwind for $arch from rust-src, compiled against Debian's musl headers (cached).
build_libunwind() {
  local src dir cc cxx specs f
  src="$(rustc "+$nightly" --print sysroot)/lib/rustlib/src/rust/src/llvm-project/libunwind"
  dir=$tdir/$target/libunwind
  cc=$arch-linux-gnu-gcc cxx=$arch-linux-gnu-g++ specs=/usr/lib/$arch-linux-musl/musl-gcc.specs
  [ -f "$dir/libunwind.a" ] && { echo "$dir"; return; }
  for f in "$src/src/libunwind.cpp" "$specs" "$(command -v "$cc" || echo "$cc")" "$(command -v "$cxx" || echo "$cxx")"; do
    [ -e "$f" ] || { echo "build-static: cross-building $target needs $f (see the header of $0)" >&2; return 1; }
  done
  mkdir -p "$dir/obj"
  local flags=(-specs="$specs" -O2 -fPIC -funwind-tables -fno-exceptions -fvisibility=hidden
    -D_LIBUNWIND_IS_NATIVE_ONLY -DNDEBUG -I"$src/include")
  for f in UnwindLevel1.c UnwindLevel1-gcc-ext.c; do "$cc" "${flags[@]}" -std=c99 -c "$src/src/$f" -o "$dir/obj/$f.o"; done
  for f in UnwindRegistersSave.S UnwindRegistersRestore.S; do "$cc" "${flags[@]}" -c "$src/src/$f" -o "$dir/obj/$f.o"; done
  "$cxx" "${flags[@]}" -std=c++17 -nostdinc++ -fno-rtti -c "$src/src/libunwind.cpp" -o "$dir/obj/libunwind.cpp.o"
  "$arch-linux-gnu-ar" rcs "$dir/libunwind.a.tmp" "$dir"/obj/*.o
  mv "$dir/libunwind.a.tmp" "$dir/libunwind.a"
  echo "$dir"
}

cross=
[ "$(uname -m)" != "$arch" ] && cross=1
if cargo "+$nightly" --version >/dev/null 2>&1 && rustup "+$nightly" component list --installed 2>/dev/null | grep -q rust-src; then
  how="$(rustc "+$nightly" -V | cut -d' ' -f2-), build-std, optimize_for_size"
  if [ -n "$cross" ] && has_std "$nightly"; then
    export "CARGO_TARGET_${tvar}_LINKER=rust-lld"
  elif [ -n "$cross" ]; then
    unwind=$(build_libunwind)
    export "CARGO_TARGET_${tvar}_LINKER=$arch-linux-gnu-gcc"
    RUSTFLAGS="$RUSTFLAGS -C link-self-contained=no -C link-arg=-specs=/usr/lib/$arch-linux-musl/musl-gcc.specs -L native=$(realpath "$unwind")"
    how="$how, Debian musl + rust-src libunwind"
  fi
  cargo "+$nightly" build --release --locked --target "$target" \
    -Z build-std=std,panic_abort -Z build-std-features=optimize_for_size
else
  echo "build-static: nightly with rust-src not found; building on stable (larger binary)" >&2
  if [ -n "$cross" ]; then
    has_std stable || { echo "build-static: on stable, cross-building needs: rustup target add $target" >&2; exit 1; }
    export "CARGO_TARGET_${tvar}_LINKER=rust-lld"
  fi
  RUSTFLAGS="-C relocation-model=static" cargo build --release --locked --target "$target"
  how="stable"
fi

if readelf -l "$out" | grep -q 'INTERP' || readelf -d "$out" | grep -q 'NEEDED'; then
  echo "build-static: $out is not statically linked" >&2
  readelf -d "$out" >&2
  exit 1
fi
if ! readelf -h "$out" | grep -q "Machine: *$machine\$"; then
  echo "build-static: $out is not an $arch binary" >&2
  readelf -h "$out" >&2
  exit 1
fi
size=$(stat -c %s "$out")
echo "static binary: $out, $size bytes ($((size / 1024)) KiB), built with $how"
# The budget: 500 KB (docs/decisions.md, "The size of the binary").
if [ -n "$check_size" ] && [ "$how" != "stable" ] && [ "$size" -gt 500000 ]; then
  echo "build-static: $size bytes is over the budget of 500,000 bytes" >&2
  exit 1
fi
