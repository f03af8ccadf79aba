#!/usr/bin/env bash
# IDC releases and cache directories (issue 12), with the built binaries and peers nobody here
# wrote (findscu, curl):
#  1. a new IDC release that withdrew a series: the bridge (catalog.refreshIntervalSeconds 1)
#     notices GET /version changed, and the series leaves findscu's and QIDO-RS's answers while
#     the study's other series stay; WADO-RS of it answers 404;
#  2. a cache directory filled by an NBIA-backed bridge is refused by an IDC-backed one (exit 2,
#     the reason on stderr), and still accepted by NBIA.
set -euo pipefail
B=${BRIDGE_BINARY_DIR:?set BRIDGE_BINARY_DIR}
DATA=${DATA:-$B/sample-data}
export TCP_NODELAY=1
WORK=$(mktemp -d /tmp/idc-release-XXXXXX)
source "$(dirname "${BASH_SOURCE[0]}")/common.bash"
fail() { echo "FAIL: $*" >&2; echo "--- bridge log" >&2; tail -30 "$WORK/bridge.log" >&2 || true; exit 1; }

ensure_sample_data
start_emulator --idc-version v24 || fail "emulator did not start"

cat > "$WORK/bridge.json" <<JSON
{"catalog": {"refreshIntervalSeconds": 1}}
JSON
"$B/tcia-bridge" --config "$WORK/bridge.json" --source idc --idc-api-url "http://127.0.0.1:$EMU/v3" \
  --idc-bucket-url "http://127.0.0.1:$EMU/s3/{bucket}" --tcia-url "http://127.0.0.1:1/nbia-api/services/v4" \
  --aet TCIA --dimse-port 0 --http-port 0 --cache-dir "$WORK/idc-cache" > "$WORK/bridge.log" 2>&1 &
BRIDGE=$!
PIDS+=($BRIDGE)
for _ in $(seq 100); do grep -q "DICOMweb listening on" "$WORK/bridge.log" 2>/dev/null && break; sleep 0.1; done
PORT=$(grep -o 'DIMSE listening on 127.0.0.1:[0-9]*' "$WORK/bridge.log" | sed 's/.*://') || true
WEB=$(grep -o 'DICOMweb listening on http://127.0.0.1:[0-9]*' "$WORK/bridge.log" | sed 's/.*://') || true
[ -n "$PORT" ] && [ -n "$WEB" ] || fail "bridge did not print its ports"
for _ in $(seq 600); do
  curl -sf "http://127.0.0.1:$WEB/status" | jq -e '.harvest.complete == true' >/dev/null 2>&1 && break; sleep 0.2
done
curl -sf "http://127.0.0.1:$WEB/status" | jq -e '.harvest.complete == true' >/dev/null || fail "harvest did not complete"
ok "bridge on --source idc harvested release v24"

# A study of TCGA-DEMO-CT with at least two series (from the emulator's files).
ST=""
for d in "$DATA"/TCGA-DEMO-CT/*/*/; do
  [ "$(ls -d "$d"*/ | wc -l)" -ge 2 ] && { ST=$(basename "$d"); STDIR=${d%/}; break; }
done
[ -n "$ST" ] || fail "no study with two series in the sample data"
GONE=$(ls "$STDIR" | sort | head -1)
IN_STUDY=$(ls -d "$STDIR"/*/ | wc -l)

cfind() {
  findscu -v -S -aec TCIA -aet BBSCU -k QueryRetrieveLevel=SERIES -k StudyInstanceUID="$ST" -k SeriesInstanceUID \
    127.0.0.1 "$PORT" 2>&1 | tr -d '\0' | grep -a '^I: (0020,000e) UI \[' | sed 's/.*\[\(.*\)\].*/\1/' | sort
}
qido() { curl -sf "http://127.0.0.1:$WEB/dicom-web/studies/$ST/series" | jq -r '.[]["0020000E"].Value[0]' | sort; }

[ "$(cfind | wc -l)" = "$IN_STUDY" ] || fail "C-FIND before: $(cfind | wc -l) series, expected $IN_STUDY"
cfind | grep -qx "$GONE" || fail "C-FIND before lacks $GONE"
qido | grep -qx "$GONE" || fail "QIDO before lacks $GONE"
ok "before the release change: $IN_STUDY series in study $ST, $GONE among them (findscu, QIDO-RS)"

# IDC publishes v25 without that series.
curl -sf -X POST "http://127.0.0.1:$EMU/emulator/idc/version?idc_version=v25&idc_index_data_version=25.0.0&withdraw=$GONE" \
  >/dev/null || fail "emulator version switch"
gone=0
for _ in $(seq 300); do
  if ! qido | grep -qx "$GONE"; then gone=1; break; fi
  sleep 0.2
done
[ "$gone" = 1 ] || fail "QIDO-RS still lists $GONE 60 s after the release change"
[ "$(qido | wc -l)" = "$((IN_STUDY - 1))" ] || fail "QIDO-RS after: $(qido | wc -l) series, expected $((IN_STUDY - 1))"
cfind | grep -qx "$GONE" && fail "C-FIND still returns $GONE"
[ "$(cfind | wc -l)" = "$((IN_STUDY - 1))" ] || fail "C-FIND after: $(cfind | wc -l) series, expected $((IN_STUDY - 1))"
code=$(curl -s -o /dev/null -w '%{http_code}' -H 'Accept: multipart/related; type="application/dicom"' \
  "http://127.0.0.1:$WEB/dicom-web/studies/$ST/series/$GONE")
[ "$code" = 404 ] || fail "WADO-RS of the withdrawn series: HTTP $code, expected 404"
[ "$(curl -sf "http://127.0.0.1:$WEB/status" | jq -r .source.idcVersion)" = v25 ] || fail "/status does not show v25"
ok "after v25: $GONE gone from findscu and QIDO-RS, WADO-RS 404, $((IN_STUDY - 1)) series left, pinned v25"
kill "$BRIDGE"; wait "$BRIDGE" 2>/dev/null || true

# ---- one cache directory, one source
"$B/tcia-bridge" --source nbia --tcia-url "http://127.0.0.1:$EMU/nbia-api/services/v4" --no-harvest \
  --aet TCIA --dimse-port 0 --http-port 0 --cache-dir "$WORK/nbia-cache" > "$WORK/nbia.log" 2>&1 &
NBIA=$!
PIDS+=($NBIA)
for _ in $(seq 100); do grep -q "DICOMweb listening on" "$WORK/nbia.log" 2>/dev/null && break; sleep 0.1; done
grep -q "DICOMweb listening on" "$WORK/nbia.log" || fail "NBIA bridge did not start"
kill "$NBIA"; wait "$NBIA" 2>/dev/null || true
[ "$(cat "$WORK/nbia-cache/source")" = nbia ] || fail "the NBIA bridge did not record its source"
set +e
timeout 60 "$B/tcia-bridge" --source idc --idc-api-url "http://127.0.0.1:$EMU/v3" \
  --idc-bucket-url "http://127.0.0.1:$EMU/s3/{bucket}" --aet TCIA --dimse-port 0 --http-port 0 \
  --cache-dir "$WORK/nbia-cache" > "$WORK/refused.log" 2>&1
rc=$?
set -e
[ "$rc" = 2 ] || { cat "$WORK/refused.log" >&2; fail "IDC bridge on an NBIA cache directory: exit $rc, expected 2"; }
grep -q "filled from nbia" "$WORK/refused.log" || fail "no reason given: $(cat "$WORK/refused.log")"
grep -q -- "--cache-dir" "$WORK/refused.log" || fail "no remedy given"
[ "$(cat "$WORK/nbia-cache/source")" = nbia ] || fail "the refused start changed the marker"
ok "IDC bridge on the NBIA cache directory refused (exit 2): $(head -c 160 "$WORK/refused.log")"
echo "PASS"
