#!/usr/bin/env bash
# Installs what is needed, builds, and runs every test (CI runs exactly this via .ci/run).
#   scripts/test.sh            all three rings (unit, protocol, blackbox incl. slow: Orthanc, OHIF),
#                              then unit + protocol under ASan+UBSan (scripts/asan.sh)
#   scripts/test.sh --fast     unit + protocol rings only (a few minutes)
#   scripts/test.sh -R REGEX   extra arguments go to ctest
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
BUILD=${BUILD_DIR:-$ROOT/build}
FAST=0
if [ "${1:-}" = "--fast" ]; then FAST=1; shift; fi

if [ $FAST = 1 ]; then scripts/install-deps.sh --build-only; else scripts/install-deps.sh; fi
export CCACHE_DIR=${CCACHE_DIR:-$HOME/.cache/ccache}
cmake -S . -B "$BUILD" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build "$BUILD" -j "$(nproc)"

export TCP_NODELAY=1
if [ $FAST = 1 ]; then
  ctest --test-dir "$BUILD" --output-on-failure -L 'unit|protocol' -LE slow "$@"
else
  ctest --test-dir "$BUILD" --output-on-failure "$@"
  # The sanitizer ring: unit + protocol again, built with ASan+UBSan (build-asan).
  scripts/asan.sh "$@"
fi
