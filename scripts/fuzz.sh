#!/bin/sh
# scripts/fuzz.sh -- build the libFuzzer targets (clang, ASan+UBSan) and run
# each one for a bounded time over its committed seed corpus.
#
#   FUZZ_SECONDS=20   seconds per target (default 20)
#   FUZZ_TARGETS="frame view-json"   subset (default: every built target)
#   FUZZ_BUILD=build-fuzz            build directory
#   FUZZ_JOBS=2                      make -j
#
# New coverage is kept in $FUZZ_BUILD/fuzz-work/<target>/ (not committed).
# A crash leaves crash-* / leak-* / timeout-* files in $FUZZ_BUILD/fuzz-work/
# and makes the script exit 1: copy the file into fuzz/regressions/<target>/,
# fix the bug; the ctest suite then replays it forever (rel-fuzz-replay-*).
set -eu
cd "$(dirname "$0")/.."
SRC=$(pwd)
SECONDS_EACH=${FUZZ_SECONDS:-20}
BUILD=${FUZZ_BUILD:-build-fuzz}
case "$BUILD" in /*) ;; *) BUILD="$SRC/$BUILD" ;; esac
JOBS=${FUZZ_JOBS:-2}

command -v clang >/dev/null 2>&1 || { echo "fuzz.sh: clang not found (apt-get install clang)" >&2; exit 2; }
mkdir -p "$BUILD"
cmake -S "$SRC" -B "$BUILD" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DCMAKE_C_COMPILER=clang -DCMAKE_CXX_COMPILER=clang++ \
  -DFLOCK_ENABLE_FUZZ=ON -DFLOCK_SANITIZE=ON -DFLOCK_ENABLE_TESTS=OFF \
  -DFLOCK_ENABLE_BENCH=OFF -DFLOCK_ENABLE_EXAMPLES=OFF -DFLOCK_ENABLE_MPI=OFF >/dev/null
cmake --build "$BUILD" -j "$JOBS" >/dev/null

TARGETS=${FUZZ_TARGETS:-$(tr ';' ' ' < "$BUILD/fuzz-targets.txt")}
WORK="$BUILD/fuzz-work"
mkdir -p "$WORK"
status=0
for t in $TARGETS; do
  bin="$BUILD/fuzz/fuzz-$t"
  [ -x "$bin" ] || { echo "fuzz.sh: no target $t" >&2; status=1; continue; }
  mkdir -p "$WORK/$t"
  seeds="$SRC/fuzz/corpus/$t"
  regs="$SRC/fuzz/regressions/$t"
  dirs="$WORK/$t $seeds"
  [ -d "$regs" ] && dirs="$dirs $regs"
  printf 'fuzz %-16s %ss ... ' "$t" "$SECONDS_EACH"
  # -timeout: one input may not take more than 25 s (hangs are bugs too)
  if (cd "$WORK" && ASAN_OPTIONS=detect_leaks=1:allocator_may_return_null=1 \
      UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
      "$bin" -max_total_time="$SECONDS_EACH" -timeout=25 -rss_limit_mb=4096 \
      -print_final_stats=1 $dirs >"$WORK/$t.log" 2>&1); then
    runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$WORK/$t.log")
    echo "ok (${runs:-?} runs)"
  else
    echo "FAILED (see $WORK/$t.log)"
    grep -E "ERROR|SUMMARY|Test unit written" "$WORK/$t.log" | head -5 || true
    status=1
  fi
done
exit $status
