#!/usr/bin/env bash
# Figures of issue #3 (the DIMSE adapter), measured on loopback against the built tcia-bridge in
# front of the built tcia-emulator (data set with --large: one 300-slice 512x512 CT series):
#   1. C-FIND STUDY level latency (findscu, Study Root, collection + PatientID=*), median of N
#      runs with hyperfine after one warm-up (catalog/metadata warm), plus the first (cold) run.
#   2. C-MOVE of the large series into storescp, cold (empty instance cache: the bridge downloads
#      from the emulator while it C-STOREs): wall time, MB/s, time to the first file written by
#      storescp (polled every 1 ms).
#   3. The same C-MOVE warm (series in the instance cache): wall time and MB/s, median of 3.
# Usage: bench/dimse_bench.sh [--build DIR] [--data DIR] [--runs N]
# Everything it starts is stopped on exit; TCP_NODELAY=1 for every DIMSE process (pitfall 7).
set -euo pipefail
SRC=$(cd "$(dirname "$0")/.." && pwd)
BUILD=$SRC/build
DATA=${TMPDIR:-/tmp}/tcia-bridge-dimse-bench/data
RUNS=20
while [ $# -gt 0 ]; do
  case $1 in
    --build) BUILD=$2; shift 2 ;;
    --data) DATA=$2; shift 2 ;;
    --runs) RUNS=$2; shift 2 ;;
    *) echo "usage: $0 [--build DIR] [--data DIR] [--runs N]" >&2; exit 2 ;;
  esac
done
export TCP_NODELAY=1
WORK=$(mktemp -d)
PIDS=()
cleanup() {
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; done
  rm -rf "$WORK"
}
trap cleanup EXIT
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'; }
wait_port() { for _ in $(seq 300); do (echo > /dev/tcp/127.0.0.1/$1) 2>/dev/null && return 0; sleep 0.1; done; return 1; }
now_ms() { date +%s%3N; }

[ -f "$DATA/.complete" ] || { mkdir -p "$DATA"; "$BUILD/emulator/tcia-emulator" generate --out "$DATA" --large > /dev/null; }
LARGE_DIR=$(find "$DATA" -mindepth 4 -maxdepth 4 -type d -exec sh -c 'echo "$(ls "$1" | wc -l) $1"' _ {} \; | sort -n | tail -1 | cut -d' ' -f2)
LARGE_SERIES=$(basename "$LARGE_DIR")
LARGE_STUDY=$(basename "$(dirname "$LARGE_DIR")")
LARGE_COUNT=$(ls "$LARGE_DIR" | wc -l)
LARGE_BYTES=$(du -sb "$LARGE_DIR" | cut -f1)

EPORT=$(free_port)
"$BUILD/emulator/tcia-emulator" serve --data "$DATA" --port "$EPORT" --bind 127.0.0.1 --quiet > "$WORK/emulator.log" 2>&1 &
PIDS+=($!)
wait_port "$EPORT"
DEST=$(free_port)
mkdir -p "$WORK/dest"
storescp -aet DEST -od "$WORK/dest" "$DEST" > "$WORK/storescp.log" 2>&1 &
PIDS+=($!)
wait_port "$DEST"
"$BUILD/tcia-bridge" --tcia-url "http://127.0.0.1:$EPORT/nbia-api/services/v4" --dimse-port 0 --no-web \
  --cache-dir "$WORK/cache" --destination "DEST=127.0.0.1:$DEST" --log-level warn > "$WORK/bridge.log" 2>&1 &
PIDS+=($!)
for _ in $(seq 100); do grep -q "DIMSE listening" "$WORK/bridge.log" 2>/dev/null && break; sleep 0.1; done
PORT=$(grep -o 'DIMSE listening on 127.0.0.1:[0-9]*' "$WORK/bridge.log" | sed 's/.*://')

echo "data: large series $LARGE_SERIES, $LARGE_COUNT instances, $((LARGE_BYTES / 1048576)) MiB"

# 1. C-FIND STUDY level
FIND=(findscu -S -aec TCIA -aet BENCH -k QueryRetrieveLevel=STUDY -k ClinicalTrialProtocolID=TCGA-DEMO-CT
      -k "PatientID=*" -k StudyInstanceUID -k StudyDate -k PatientName -k ModalitiesInStudy 127.0.0.1 "$PORT")
T0=$(now_ms); "${FIND[@]}" > /dev/null 2>&1; T1=$(now_ms)
echo "C-FIND STUDY first (cold metadata): $((T1 - T0)) ms"
hyperfine -N --warmup 1 --runs "$RUNS" --export-json "$WORK/find.json" "${FIND[*]}" > /dev/null 2>&1
python3 - "$WORK/find.json" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))["results"][0]
print("C-FIND STUDY warm: median %.1f ms, mean %.1f ms, min %.1f ms, max %.1f ms (%d runs, incl. association setup)" % (
    r["median"] * 1e3, r["mean"] * 1e3, r["min"] * 1e3, r["max"] * 1e3, len(r["times"])))
PY

# 2./3. C-MOVE of the large series
move_once() {  # prints "wall_ms first_file_ms"
  rm -f "$WORK"/dest/*
  local start first="" end
  start=$(now_ms)
  movescu -S -aec TCIA -aet BENCH -aem DEST -k QueryRetrieveLevel=SERIES -k StudyInstanceUID="$LARGE_STUDY" \
    -k SeriesInstanceUID="$LARGE_SERIES" 127.0.0.1 "$PORT" > "$WORK/move.log" 2>&1 &
  local mpid=$!
  while kill -0 "$mpid" 2>/dev/null; do
    if [ -z "$first" ] && [ -n "$(ls -A "$WORK/dest")" ]; then first=$(now_ms); fi
    [ -n "$first" ] && sleep 0.05 || sleep 0.001
  done
  wait "$mpid"
  end=$(now_ms)
  [ -n "$first" ] || first=$end
  local n; n=$(ls "$WORK/dest" | wc -l)
  [ "$n" = "$LARGE_COUNT" ] || { echo "C-MOVE delivered $n of $LARGE_COUNT" >&2; exit 1; }
  echo "$((end - start)) $((first - start))"
}
read -r WALL FIRST < <(move_once)
python3 -c "print('C-MOVE cold (download + store): %d ms, %.1f MB/s, first C-STORE file after %d ms' % ($WALL, $LARGE_BYTES / 1e6 / ($WALL / 1e3), $FIRST))"
WARM=()
for _ in 1 2 3; do read -r W F < <(move_once); WARM+=("$W"); done
MED=$(printf '%s\n' "${WARM[@]}" | sort -n | sed -n 2p)
python3 -c "print('C-MOVE warm (instance cache): median %d ms of 3, %.1f MB/s' % ($MED, $LARGE_BYTES / 1e6 / ($MED / 1e3)))"
