#!/usr/bin/env bash
# The sanitizer ring: the unit and protocol rings built with ASan+UBSan in build-asan (gcc by
# default; CXX=clang++ works too) and run so that any finding fails the run. scripts/test.sh runs
# this after the normal rings, so CI (.ci/run) runs it. See docs/fuzzing-and-sanitizers.md.
#   scripts/asan.sh [ctest args...]      e.g. scripts/asan.sh -R unit_web
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
BUILD=${ASAN_BUILD_DIR:-$ROOT/build-asan}
export CCACHE_DIR=${CCACHE_DIR:-$HOME/.cache/ccache}
start=$(date +%s)
# -O1: a third less compile time than -O2 and still fast enough for the protocol ring.
cmake -S . -B "$BUILD" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O1 -g" \
  -DBRIDGE_SANITIZE=address,undefined >/dev/null
# Only what the two rings run: their test executables and the emulator they spawn.
mapfile -t targets < <(ninja -C "$BUILD" -t targets all | grep -oE '^(unit|protocol)_[a-z]+:' | tr -d ':' | sort -u)
cmake --build "$BUILD" -j "$(nproc)" --target tcia-emulator "${targets[@]}"
built=$(date +%s)

# A finding fails the test: ASan halts, UBSan does not recover (also compiled in), leaks count.
# Suppressions (with reasons) for code that is not ours: scripts/sanitizer-suppressions/.
SUPP=$ROOT/scripts/sanitizer-suppressions
export ASAN_OPTIONS="halt_on_error=1:detect_leaks=1:detect_stack_use_after_return=0:strict_string_checks=0:check_initialization_order=1:${ASAN_EXTRA_OPTIONS:-}"
export UBSAN_OPTIONS="halt_on_error=1:print_stacktrace=1:suppressions=$SUPP/ubsan.supp"
export LSAN_OPTIONS="suppressions=$SUPP/lsan.supp:print_suppressions=0"
export TCP_NODELAY=1
# Excluded under ASan, each for a stated reason (docs/fuzzing-and-sanitizers.md):
EXCLUDE=${ASAN_EXCLUDE:-}
rc=0
ctest --test-dir "$BUILD" --output-on-failure -L 'unit|protocol' -LE slow ${EXCLUDE:+-E "$EXCLUDE"} --timeout 1200 "$@" || rc=$?
end=$(date +%s)
echo "sanitizer ring (ASan+UBSan): build $((built - start)) s, tests $((end - built)) s"
exit $rc
