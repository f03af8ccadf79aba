#!/usr/bin/env bash
# Installs what is needed, builds, and starts the bridge in the foreground.
#   scripts/start.sh                 against the real TCIA (default configuration)
#   scripts/start.sh --emulator      offline: generates sample data, starts the TCIA emulator on
#                                    127.0.0.1:8899 and points the bridge at it
#   any further arguments go to tcia-bridge (see tcia-bridge --help), e.g. --config FILE
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
BUILD=${BUILD_DIR:-$ROOT/build}
EMULATOR=0
if [ "${1:-}" = "--emulator" ]; then EMULATOR=1; shift; fi

scripts/install-deps.sh --build-only
cmake -S . -B "$BUILD" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build "$BUILD" -j "$(nproc)" --target tcia-bridge tcia-emulator

export TCP_NODELAY=1
if [ $EMULATOR = 1 ]; then
  DATA=${EMULATOR_DATA:-$BUILD/sample-data}
  [ -f "$DATA/.complete" ] || "$BUILD/emulator/tcia-emulator" generate --out "$DATA"
  "$BUILD/emulator/tcia-emulator" serve --data "$DATA" --port 8899 --bind 127.0.0.1 &
  EMU=$!
  trap 'kill $EMU 2>/dev/null' EXIT
  for _ in $(seq 1 100); do
    curl -sf -o /dev/null "http://127.0.0.1:8899/nbia-api/services/v4/getCollectionValues" && break
    sleep 0.1
  done
  # No `sync` first: the bridge harvests the (small) sample archive by itself on start, so
  # broad searches (OHIF's study list, PatientName=*) are complete within seconds; progress at
  # http://127.0.0.1:8080/status (docs/harvest.md).
  "$BUILD/tcia-bridge" --config conf/emulator.json "$@"
else
  "$BUILD/tcia-bridge" "$@"
fi
