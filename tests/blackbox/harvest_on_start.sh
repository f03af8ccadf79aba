#!/usr/bin/env bash
# Black-box, issue 8 "works from the first minute": the built tcia-bridge started as a service
# would be -- a TCIA URL, an EMPTY cache directory, no `sync` -- in front of `tcia-emulator
# serve`, checked only with curl and DCMTK's findscu. While the harvest is held back (the
# emulator's `slow` fault on the first getPatientStudy) broad searches carry the explicit
# partial signal; once GET /status says complete they carry none and list everything TCIA
# lists. Everything polls with deadlines; the script stops itself.
set -euo pipefail
B=${BRIDGE_BINARY_DIR:?set BRIDGE_BINARY_DIR}
DATA=${DATA:-$B/sample-data}
export TCP_NODELAY=1
WORK=$(mktemp -d /tmp/harvest-bb-XXXXXX)
source "$(dirname "${BASH_SOURCE[0]}")/common.bash"
fail() { echo "FAIL: $*" >&2; echo "--- bridge log" >&2; tail -30 "$WORK/bridge.log" >&2 || true; exit 1; }
ensure_sample_data

start_emulator || fail "emulator did not start"
TCIA="http://127.0.0.1:$EMU/nbia-api/services/v4"
# Ground truth straight from TCIA (the emulator): every study UID of every collection.
: > "$WORK/truth.txt"
for c in $(curl -sf "$TCIA/getCollectionValues" | grep -o '"Collection":"[^"]*"' | sed 's/.*:"//; s/"$//'); do
  curl -sf "$TCIA/getPatientStudy?Collection=$c" | grep -o '"StudyInstanceUID":"[^"]*"' | sed 's/.*:"//; s/"$//' >> "$WORK/truth.txt"
done
sort -u -o "$WORK/truth.txt" "$WORK/truth.txt"
[ -s "$WORK/truth.txt" ] || fail "no studies in the emulator"
ok "TCIA lists $(wc -l < "$WORK/truth.txt") studies"
# Hold the harvester's first study-level call for 15 s: a window with a deterministic partial state.
curl -sf --max-time 10 -X POST -d "" "http://127.0.0.1:$EMU/emulator/faults?spec=getPatientStudy:slow:1:delay-ms=15000" >/dev/null

DPORT=$(free_port); HPORT=$(free_port)
"$B/tcia-bridge" --tcia-url "$TCIA" --aet TCIA --dimse-port "$DPORT" --http-port "$HPORT" --bind 127.0.0.1 \
  --cache-dir "$WORK/cache" > "$WORK/bridge.log" 2>&1 &
PIDS+=($!)
wait_port "$DPORT" 30 || fail "bridge DIMSE did not start"
ok "DIMSE port open"
wait_http "http://127.0.0.1:$HPORT/health" 30 || fail "bridge HTTP did not start"
grep -q "harvesting the catalog in the background" "$WORK/bridge.log" || fail "serve mode did not start the harvest"
ok "bridge started fresh, no sync"

# 1. Partial, and saying so.
curl -s -D "$WORK/h1" -o "$WORK/b1" "http://127.0.0.1:$HPORT/dicom-web/studies"
grep -qi '^Warning: 299 .*catalog harvest in progress' "$WORK/h1" || { cat "$WORK/h1" >&2; fail "no partial warning on /studies"; }
ok "QIDO /studies while harvesting: $(grep -i '^Warning' "$WORK/h1" | tr -d '\r')"
# -d prints the final response's status detail (ErrorComment, 0000,0902).
out=$(findscu -d -S -aec TCIA -aet BBSCU -k QueryRetrieveLevel=STUDY -k "PatientName=*" -k StudyInstanceUID 127.0.0.1 "$DPORT" 2>&1 | tr -d '\0') || true
echo "$out" | grep -a -q -i -E "0xa700|OutOfResources|Out of Resources" || { echo "$out" | tail -5 >&2; fail "C-FIND while harvesting did not end with A700"; }
echo "$out" | grep -a "(0000,0902)" | grep -a -q "harvest in progress" || { echo "$out" | tail -8 >&2; fail "C-FIND A700 without the harvest ErrorComment"; }
ok "C-FIND PatientName=* while harvesting: A700 + ErrorComment"

# 2. Complete: the operator's view, then the answers.
for _ in $(seq 1200); do
  curl -sf "http://127.0.0.1:$HPORT/status" | grep -q '"complete":true' && break
  sleep 0.1
done
curl -sf "http://127.0.0.1:$HPORT/status" > "$WORK/status.json" || fail "GET /status"
grep -q '"complete":true' "$WORK/status.json" || { cat "$WORK/status.json" >&2; fail "harvest not complete within 120 s"; }
grep -q '"seriesLevel":"pending"' "$WORK/status.json" && fail "a collection still pending in /status"
ok "GET /status: harvest complete after $SECONDS s"

curl -s -D "$WORK/h2" -o "$WORK/b2" "http://127.0.0.1:$HPORT/dicom-web/studies"
grep -qi '^Warning' "$WORK/h2" && { cat "$WORK/h2" >&2; fail "warning after the harvest completed"; }
grep -o '"0020000D":{"vr":"UI","Value":\["[^"]*"' "$WORK/b2" | sed 's/.*\["//; s/"$//' | sort -u > "$WORK/qido.txt"
diff "$WORK/truth.txt" "$WORK/qido.txt" >&2 || fail "QIDO /studies differs from TCIA's studies"
ok "QIDO /studies: all $(wc -l < "$WORK/qido.txt") studies, no warning"

out=$(findscu -v -S -aec TCIA -aet BBSCU -k QueryRetrieveLevel=STUDY -k "PatientName=*" -k StudyInstanceUID 127.0.0.1 "$DPORT" 2>&1 | tr -d '\0') || fail "findscu after harvest"
echo "$out" | grep -a -q "Received Final Find Response (Success)" || { echo "$out" | tail -5 >&2; fail "C-FIND after harvest not Success"; }
n=$(echo "$out" | grep -a -c "Find Response: [0-9]* (Pending)" || true)
[ "$n" = "$(wc -l < "$WORK/truth.txt")" ] || fail "C-FIND after harvest: $n matches, TCIA has $(wc -l < "$WORK/truth.txt")"
ok "C-FIND PatientName=* after harvest: Success, $n matches"

curl -sf "http://127.0.0.1:$HPORT/" | grep -q "movescu" || fail "landing page lacks connection help"
ok "landing page shows how to connect"
