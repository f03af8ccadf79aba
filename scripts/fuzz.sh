#!/usr/bin/env bash
# Builds the libFuzzer targets (clang, -fsanitize=fuzzer,address,undefined; build dir build-fuzz)
# and runs each for a bounded time against its seed corpus fuzz/corpus/<target>.
#   scripts/fuzz.sh [SECONDS] [TARGET...]     default 60 s per target, every target
# Prints executions per target; exits non-zero when a target crashed, leaked, hit a sanitizer,
# ran out of memory or time. The input that did it is kept in build-fuzz/fuzz/artifacts/ and
# replays with: build-fuzz/fuzz/fuzz_<target> <file>. See docs/fuzzing-and-sanitizers.md.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
SECONDS_EACH=${1:-60}
[ $# -gt 0 ] && shift
BUILD=${FUZZ_BUILD_DIR:-$ROOT/build-fuzz}
RSS_LIMIT_MB=${FUZZ_RSS_LIMIT_MB:-2048}
TIMEOUT_S=${FUZZ_TIMEOUT_SECONDS:-20}

if ! command -v clang++ >/dev/null; then
  SUDO=""; [ "$(id -u)" = 0 ] || SUDO=sudo
  $SUDO apt-get update -qq && $SUDO apt-get install -y -qq --no-install-recommends clang
fi
export CCACHE_DIR=${CCACHE_DIR:-$HOME/.cache/ccache}
cmake -S . -B "$BUILD" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_CXX_COMPILER=clang++ -DBRIDGE_FUZZ=ON >/dev/null
cmake --build "$BUILD" -j "$(nproc)" --target fuzzers

targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
  for d in "$ROOT"/fuzz/corpus/*/; do targets+=("$(basename "$d")"); done
fi

export ASAN_OPTIONS=${ASAN_OPTIONS:-halt_on_error=1:detect_leaks=1:abort_on_error=1:symbolize=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-halt_on_error=1:print_stacktrace=1}
mkdir -p "$BUILD/fuzz/artifacts" "$BUILD/fuzz/logs"
failed=()
printf '%-22s %12s %10s %8s  %s\n' target executions exec/s "cov" result
for t in "${targets[@]}"; do
  bin="$BUILD/fuzz/fuzz_$t"
  [ -x "$bin" ] || { echo "no fuzz target $t" >&2; failed+=("$t"); continue; }
  # New inputs go to a work corpus in the build dir; the committed seeds are read only.
  work="$BUILD/fuzz/corpus-work/$t"
  mkdir -p "$work"
  log="$BUILD/fuzz/logs/$t.log"
  rc=0
  "$bin" -max_total_time="$SECONDS_EACH" -rss_limit_mb="$RSS_LIMIT_MB" -timeout="$TIMEOUT_S" \
    -print_final_stats=1 -artifact_prefix="$BUILD/fuzz/artifacts/$t-" \
    "$work" "$ROOT/fuzz/corpus/$t" > "$log" 2>&1 || rc=$?
  execs=$(grep -a -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$' | tail -1)
  rate=$(grep -a -o 'stat::average_exec_per_sec: *[0-9]*' "$log" | grep -o '[0-9]*$' | tail -1)
  cov=$(grep -a -o 'cov: [0-9]*' "$log" | tail -1 | grep -o '[0-9]*')
  if [ $rc = 0 ]; then result=ok; else
    result="FAILED (exit $rc, log $log)"
    failed+=("$t")
  fi
  printf '%-22s %12s %10s %8s  %s\n' "$t" "${execs:-?}" "${rate:-?}" "${cov:-?}" "$result"
  if [ $rc != 0 ]; then grep -a -E 'ERROR|FUZZ FINDING|SUMMARY|Test unit written' "$log" | head -8 | sed 's/^/    /'; fi
done
if [ ${#failed[@]} -gt 0 ]; then
  echo "fuzz: ${#failed[@]} target(s) failed: ${failed[*]}" >&2
  exit 1
fi
echo "fuzz: all ${#targets[@]} targets ran ${SECONDS_EACH}s clean"
