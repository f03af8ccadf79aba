#!/usr/bin/env bash
# Figures of issue #4 (the DICOMweb adapter), measured on loopback against the built
# tcia-bridge in front of the built tcia-emulator (large data set: one 300-slice 512x512 CT).
#   1. QIDO /studies (the request OHIF 3.13 sends): latency p50/p99 on one keep-alive
#      connection (wrk -t1 -c1) and requests/s (wrk -t2 -c16), each for a bounded duration.
#   2. WADO-RS series metadata of the large series:
#        cold   empty instance cache: the bridge downloads the series from the emulator
#        disk   instances cached on disk, metadata cache empty (bridge restarted)
#        warm   from the gzipped in-memory metadata cache (median of 5), with and without gzip
# Usage: bench/web_bench.sh [--build DIR] [--data DIR] [--duration SECONDS]
# Everything it starts is stopped on exit; all load is bounded by --duration.
set -euo pipefail
SRC=$(cd "$(dirname "$0")/.." && pwd)
BUILD=$SRC/build
DATA=${TMPDIR:-/tmp}/tcia-bridge-web-bench/data
DURATION=5
while [ $# -gt 0 ]; do
  case $1 in
    --build) BUILD=$2; shift 2 ;;
    --data) DATA=$2; shift 2 ;;
    --duration) DURATION=$2; shift 2 ;;
    *) echo "usage: $0 [--build DIR] [--data DIR] [--duration SECONDS]" >&2; exit 2 ;;
  esac
done
WORK=$(mktemp -d)
PIDS=()
cleanup() {
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; done
  rm -rf "$WORK"
}
trap cleanup EXIT
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'; }
wait_http() { for _ in $(seq 1 $(( $2 * 10 ))); do curl -sf -o /dev/null "$1" && return 0; sleep 0.1; done; echo "not reachable: $1" >&2; return 1; }

[ -f "$DATA/.complete" ] || { mkdir -p "$DATA"; "$BUILD/emulator/tcia-emulator" generate --out "$DATA" --large; }

EPORT=$(free_port)
"$BUILD/emulator/tcia-emulator" serve --data "$DATA" --port "$EPORT" --bind 127.0.0.1 --quiet >"$WORK/emulator.log" 2>&1 &
PIDS+=($!)
TCIA=http://127.0.0.1:$EPORT/nbia-api/services/v4
wait_http "$TCIA/getCollectionValues" 30
"$BUILD/tcia-bridge" sync --tcia-url "$TCIA" --cache-dir "$WORK/cache" >"$WORK/sync.log" 2>&1

HPORT=$(free_port)
start_bridge() {
  "$BUILD/tcia-bridge" --no-dimse --tcia-url "$TCIA" --http-port "$HPORT" --bind 127.0.0.1 --cache-dir "$WORK/cache" \
    >>"$WORK/bridge.log" 2>&1 &
  BRIDGE_PID=$!
  PIDS+=($BRIDGE_PID)
  wait_http "http://127.0.0.1:$HPORT/health" 30
}
stop_bridge() { kill "$BRIDGE_PID"; wait "$BRIDGE_PID" 2>/dev/null || true; }
start_bridge
WEB=http://127.0.0.1:$HPORT/dicom-web

# The large series: the one with the most instances (emulator getSeries, ImageCount).
read -r STUDY SERIES COUNT < <(curl -sf "$TCIA/getSeries?Collection=Large-CT-Demo" | python3 -c '
import json,sys; s=max(json.load(sys.stdin), key=lambda r: int(r.get("ImageCount",0)))
print(s["StudyInstanceUID"], s["SeriesInstanceUID"], s.get("ImageCount"))')

echo "| figure | value |"
echo "|---|---|"
QIDO="$WEB/studies?limit=101&offset=0&fuzzymatching=false&includefield=00081030,00080060,00080090,00100030"
n=$(curl -sf "$QIDO" | python3 -c 'import json,sys; print(len(json.load(sys.stdin)))')
wrk -t1 -c1 -d"${DURATION}s" --latency -H "Accept: application/dicom+json" "$QIDO" >"$WORK/wrk1.txt"
p50=$(awk '/^ +50%/{print $2}' "$WORK/wrk1.txt"); p99=$(awk '/^ +99%/{print $2}' "$WORK/wrk1.txt")
echo "| QIDO /studies ($n studies), one keep-alive connection: latency p50 / p99 | $p50 / $p99 |"
wrk -t2 -c16 -d"${DURATION}s" -H "Accept: application/dicom+json" "$QIDO" >"$WORK/wrk16.txt"
rps=$(awk '/^Requests\/sec/{print $2}' "$WORK/wrk16.txt")
errors=$(grep -E "Non-2xx|Socket errors" "$WORK/wrk16.txt" | tr -s ' ' | tr '\n' ';' || true)
echo "| QIDO /studies requests/s (wrk -t2 -c16 -d${DURATION}s) | $rps ${errors:+($errors)} |"

# Baseline for the cold figure: the bare TCIA (emulator) download of the same series.
download=$(curl -sf -o /dev/null -w '%{time_total}' "$TCIA/getImage?SeriesInstanceUID=$SERIES")
echo "| baseline: getImage download of the large series alone (curl to /dev/null) | ${download} s |"
META="$WEB/studies/$STUDY/series/$SERIES/metadata"
t() { curl -sf -o "$WORK/meta.out" -w '%{time_total}' "$@" "$META"; }
cold=$(t -H "Accept: application/dicom+json")
bytes=$(stat -c %s "$WORK/meta.out")
echo "| series metadata, $COUNT instances, cold (download from emulator + build) | ${cold} s ($bytes bytes JSON) |"
warm=(); for _ in 1 2 3 4 5; do warm+=("$(t -H 'Accept: application/dicom+json' --compressed)"); done
warmgz=$(printf '%s\n' "${warm[@]}" | sort -n | sed -n 3p)
warm=(); for _ in 1 2 3 4 5; do warm+=("$(t -H 'Accept: application/dicom+json')"); done
warmplain=$(printf '%s\n' "${warm[@]}" | sort -n | sed -n 3p)
echo "| series metadata warm (gzip cache), median of 5: gzip / identity | ${warmgz} s / ${warmplain} s |"
# Frames (what OHIF's viewport asks per slice), instances cached: requests/s over all slices.
curl -sf "$WEB/studies/$STUDY/series/$SERIES/instances" | python3 -c '
import json,sys
for i in json.load(sys.stdin): print(i["00080018"]["Value"][0])' >"$WORK/sops.txt"
cat >"$WORK/frames.lua" <<LUA
local sops = {}
for line in io.lines("$WORK/sops.txt") do sops[#sops + 1] = line end
local n = 0
request = function()
  n = n + 1
  local path = "/dicom-web/studies/$STUDY/series/$SERIES/instances/" .. sops[(n % #sops) + 1] .. "/frames/1"
  return wrk.format("GET", path, {["Accept"] = "multipart/related; type=application/octet-stream; transfer-syntax=*"})
end
LUA
wrk -t2 -c8 -d"${DURATION}s" --latency -s "$WORK/frames.lua" "http://127.0.0.1:$HPORT" >"$WORK/wrkf.txt"
frps=$(awk '/^Requests\/sec/{print $2}' "$WORK/wrkf.txt"); fp50=$(awk '/^ +50%/{print $2}' "$WORK/wrkf.txt")
echo "| frames/1 of the large series' instances (512x512, cached), wrk -t2 -c8: requests/s, p50 | $frps, $fp50 |"
stop_bridge
start_bridge
disk=$(t -H "Accept: application/dicom+json" --compressed)
echo "| series metadata, instances on disk, metadata cache empty (after restart) | ${disk} s |"
