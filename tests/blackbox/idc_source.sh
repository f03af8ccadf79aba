#!/usr/bin/env bash
# IDC source black-box test (issue 12): the built tcia-bridge on `--source idc` in front of the
# built tcia-emulator's IDC face (/v3 REST API and /s3/{bucket} buckets), driven only by DCMTK's
# command-line tools (findscu, movescu + storescp, getscu) and curl (QIDO-RS, WADO-RS).
# Expected answers come from the emulator's own files (DATA/<collection>/<patient>/<study>/
# <series>/*.dcm): the SOP Instance UIDs moved, got and served must be exactly those files'.
set -euo pipefail
B=${BRIDGE_BINARY_DIR:?set BRIDGE_BINARY_DIR}
DATA=${DATA:-$B/sample-data}
export TCP_NODELAY=1
WORK=$(mktemp -d /tmp/idc-bb-XXXXXX)
source "$(dirname "${BASH_SOURCE[0]}")/common.bash"
fail() { echo "FAIL: $*" >&2; echo "--- bridge log" >&2; tail -30 "$WORK/bridge.log" >&2 || true; exit 1; }
sop_of() { dcmdump -s +P SOPInstanceUID "$1" | sed 's/.*\[\(.*\)\].*/\1/' | tr -d '\0 '; }
sops_in() { for f in "$1"/*; do [ -f "$f" ] && sop_of "$f"; done | sort; }

ensure_sample_data

start_emulator || fail "emulator did not start"

mkdir -p "$WORK/got"
start_storescp DEST "$WORK/moved" || fail "storescp did not start"
DEST=$STORE_PORT

# NBIA's URL points nowhere: every answer must come from IDC.
"$B/tcia-bridge" --source idc --idc-api-url "http://127.0.0.1:$EMU/v3" \
  --idc-bucket-url "http://127.0.0.1:$EMU/s3/{bucket}" --tcia-url "http://127.0.0.1:1/nbia-api/services/v4" \
  --aet TCIA --dimse-port 0 --http-port 0 --cache-dir "$WORK/cache" --destination "DEST=127.0.0.1:$DEST" \
  > "$WORK/bridge.log" 2>&1 &
PIDS+=($!)
wait_log "$WORK/bridge.log" "DICOMweb listening on" 10 || true
PORT=$(grep -o 'DIMSE listening on 127.0.0.1:[0-9]*' "$WORK/bridge.log" | sed 's/.*://') || true
WEB=$(grep -o 'DICOMweb listening on http://127.0.0.1:[0-9]*' "$WORK/bridge.log" | sed 's/.*://') || true
[ -n "$PORT" ] && [ -n "$WEB" ] || fail "bridge did not print its ports"
grep -q "from IDC at http://127.0.0.1:$EMU/v3" "$WORK/bridge.log" || fail "the start line does not name the IDC source"
ok "bridge on --source idc: DIMSE $PORT, DICOMweb $WEB"

# The harvest from /v3/sql completes (GET /status).
for _ in $(seq 600); do
  curl -sf "http://127.0.0.1:$WEB/status" | jq -e '.harvest.complete == true' >/dev/null 2>&1 && break; sleep 0.2
done
curl -sf "http://127.0.0.1:$WEB/status" | jq -e '.harvest.complete == true' >/dev/null || fail "harvest did not complete"
[ "$(curl -sf "http://127.0.0.1:$WEB/status" | jq -r '.source.name + " " + .source.idcVersion')" = "idc v24" ] ||
  fail "/status does not name the IDC source and its pinned release"
ok "harvest complete; /status: source idc, release v24"
# The object buffers are filled once the harvest is over (its peak stays its own), before it says so.
wait_log "$WORK/bridge.log" "catalog harvest complete" 10 || true  # logged after the status flips
line_of() { grep -n -m1 "$1" "$WORK/bridge.log" | cut -d: -f1; }
HARVESTING=$(line_of "collections to harvest at study level"); FILLED=$(line_of "object buffer pool filled: 56 buffers")
COMPLETE=$(line_of "catalog harvest complete")
[ -n "$HARVESTING" ] && [ -n "$FILLED" ] && [ -n "$COMPLETE" ] && [ "$HARVESTING" -lt "$FILLED" ] && [ "$FILLED" -lt "$COMPLETE" ] ||
  fail "the object buffer pool was not filled between the harvest's start and its completion (log lines ${HARVESTING:-none}, ${FILLED:-none}, ${COMPLETE:-none})"
ok "object buffer pool filled after the harvest"

# The series with the most instances, from the data files themselves.
# Restricted collections are not in IDC (it mirrors TCIA's public data only).
SERIES_DIR=$(for d in "$DATA"/*/*/*/*/; do echo "$(ls "$d" | wc -l) $d"; done | grep -v '/Restricted-Demo/' |
  sort -rn | head -1 | cut -d' ' -f2)
SERIES_DIR=${SERIES_DIR%/}
SE=$(basename "$SERIES_DIR"); ST=$(basename "$(dirname "$SERIES_DIR")")
PAT=$(basename "$(dirname "$(dirname "$SERIES_DIR")")"); COLL=$(basename "$(dirname "$(dirname "$(dirname "$SERIES_DIR")")")")
WANT=$(sops_in "$SERIES_DIR")
N=$(echo "$WANT" | wc -l)
IN_STUDY=$(ls -d "$DATA/$COLL/$PAT/$ST"/*/ | wc -l)
ok "target: $COLL / $PAT / study $ST / series $SE ($N instances; $IN_STUDY series in the study)"

# ---- C-FIND (SERIES level within the study)
out=$(findscu -v -S -aec TCIA -aet BBSCU -k QueryRetrieveLevel=SERIES -k StudyInstanceUID="$ST" -k SeriesInstanceUID \
  127.0.0.1 "$PORT" 2>&1 | tr -d '\0') || fail "findscu"
echo "$out" | grep -a -q "Received Final Find Response (Success)" || fail "C-FIND not successful"
got=$(echo "$out" | grep -a -c "Find Response: [0-9]* (Pending)" || true)
[ "$got" = "$IN_STUDY" ] || fail "C-FIND: $got series, expected $IN_STUDY"
ok "C-FIND SERIES: $got"

# ---- QIDO-RS
qido=$(curl -sf "http://127.0.0.1:$WEB/dicom-web/studies/$ST/series") || fail "QIDO"
[ "$(echo "$qido" | jq length)" = "$IN_STUDY" ] || fail "QIDO: $(echo "$qido" | jq length) series, expected $IN_STUDY"
[ "$(echo "$qido" | jq -r --arg s "$SE" '[.[] | select(.["0020000E"].Value[0] == $s)] | length')" = 1 ] || fail "QIDO lacks $SE"
ok "QIDO-RS series of the study"

# ---- C-MOVE to storescp
movescu -S -aec TCIA -aet BBSCU -aem DEST -k QueryRetrieveLevel=SERIES -k StudyInstanceUID="$ST" \
  -k SeriesInstanceUID="$SE" 127.0.0.1 "$PORT" > "$WORK/move.log" 2>&1 || fail "movescu: $(tail -3 "$WORK/move.log")"
[ "$(sops_in "$WORK/moved")" = "$WANT" ] || fail "C-MOVE: the stored instances differ from the series' files"
ok "C-MOVE: $N instances, exactly the series' SOP Instance UIDs"

# ---- C-GET
getscu -S -aec TCIA -aet BBSCU -od "$WORK/got" -k QueryRetrieveLevel=SERIES -k StudyInstanceUID="$ST" \
  -k SeriesInstanceUID="$SE" 127.0.0.1 "$PORT" > "$WORK/get.log" 2>&1 || fail "getscu: $(tail -3 "$WORK/get.log")"
[ "$(sops_in "$WORK/got")" = "$WANT" ] || fail "C-GET: the received instances differ from the series' files"
ok "C-GET: $N instances"

# ---- WADO-RS of another series (cold: fetched from the bucket now), one instance of it too
OTHER_DIR=$(ls -d "$DATA"/*/*/*/*/ | grep -v "/$SE/" | grep -v '/Restricted-Demo/' | head -1); OTHER_DIR=${OTHER_DIR%/}
OSE=$(basename "$OTHER_DIR"); OST=$(basename "$(dirname "$OTHER_DIR")")
ON=$(ls "$OTHER_DIR" | wc -l)
code=$(curl -s -o "$WORK/wado.body" -w '%{http_code}' -H 'Accept: multipart/related; type="application/dicom"' \
  "http://127.0.0.1:$WEB/dicom-web/studies/$OST/series/$OSE")
[ "$code" = 200 ] || fail "WADO-RS series: HTTP $code"
parts=$(grep -a -c 'Content-Type: application/dicom' "$WORK/wado.body" || true)
[ "$parts" = "$ON" ] || fail "WADO-RS series: $parts parts, expected $ON"
F1=$(ls "$OTHER_DIR"/* | head -1); SOP1=$(sop_of "$F1")
curl -sf -o "$WORK/one.body" -H 'Accept: multipart/related; type="application/dicom"' \
  "http://127.0.0.1:$WEB/dicom-web/studies/$OST/series/$OSE/instances/$SOP1" || fail "WADO-RS instance"
grep -a -q "$SOP1" "$WORK/one.body" || fail "WADO-RS instance: not $SOP1"
ok "WADO-RS: series of $ON parts, one instance"

# Nothing came from NBIA's face.
STATS=$(curl -sf "http://127.0.0.1:$EMU/emulator/stats")
[ "$(echo "$STATS" | jq '.endpoints.getImage // 0')" = 0 ] || fail "getImage was called"
[ "$(echo "$STATS" | jq '.endpoints.GetObject // 0')" -ge "$N" ] || fail "fewer GetObject calls than instances"
ok "instances came from the bucket (GetObject $(echo "$STATS" | jq '.endpoints.GetObject')), none from NBIA"
echo "PASS idc_source"
