#!/usr/bin/env bash
# ThreadSanitizer run of the tests that exercise threads, built with -fsanitize=thread in
# build-tsan (gcc by default; CXX=clang++ works too). Not part of CI (a second full instrumented
# build would break CI's time budget); run it after touching locks, queues or shared caches.
#   scripts/tsan.sh [ctest args...]
# What it covers (docs/fuzzing-and-sanitizers.md):
#   unit_retrieve     InstanceCache, RetrieveEngine / DownloadCoordinator single-flight, bounded downloads
#   unit_web          QidoResponseCache, MetadataCache, RequestGate
#   protocol_retrieve single-flight over the real TCIA client and emulator
#   protocol_dimse    DimseServer association pool, C-MOVE/C-GET workers, C-CANCEL
#   protocol_tcia     HttpTransport's HostLimiter, retries, token refresh under concurrency
# Every race report fails the test that produced it (TSan's exit code 66).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
BUILD=${TSAN_BUILD_DIR:-$ROOT/build-tsan}
TESTS=(unit_retrieve unit_web protocol_retrieve protocol_dimse protocol_tcia)
export CCACHE_DIR=${CCACHE_DIR:-$HOME/.cache/ccache}
start=$(date +%s)
cmake -S . -B "$BUILD" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O1 -g" \
  -DBRIDGE_SANITIZE=thread >/dev/null
cmake --build "$BUILD" -j "$(nproc)" --target tcia-emulator "${TESTS[@]}"
built=$(date +%s)
SUPP=$ROOT/scripts/sanitizer-suppressions
# halt_on_error=0: one run lists every race; the exit code still fails the test.
export TSAN_OPTIONS="halt_on_error=0:second_deadlock_stack=1:history_size=4:suppressions=$SUPP/tsan.supp:${TSAN_EXTRA_OPTIONS:-}"
export TCP_NODELAY=1
regex="^($(IFS='|'; echo "${TESTS[*]}"))\$"
rc=0
ctest --test-dir "$BUILD" --output-on-failure -R "$regex" --timeout 1800 "$@" || rc=$?
end=$(date +%s)
echo "tsan: build $((built - start)) s, tests $((end - built)) s"
exit $rc
