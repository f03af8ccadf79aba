#!/usr/bin/env bash
# labels: slow
# Orthanc (a real PACS nobody here wrote) uses the bridge as a DICOM modality: C-ECHO, C-FIND
# through /modalities/{id}/query, C-MOVE through /queries/{id}/answers/{n}/retrieve and
# /modalities/{id}/move, and ends up holding the studies with every instance.
# Orthanc cannot bind to loopback only, so everything runs inside a private network namespace
# (unshare -n, toolchain.md pitfall 4): nothing here is reachable from outside.
set -euo pipefail
B=${BRIDGE_BINARY_DIR:?set BRIDGE_BINARY_DIR}
DATA=${DATA:-$B/sample-data}
if [ -z "${IN_PRIVATE_NETNS:-}" ]; then
  command -v Orthanc > /dev/null || { echo "SKIP: Orthanc not installed (scripts/install-deps.sh)"; exit 0; }
  unshare -n true 2> /dev/null || { echo "SKIP: unshare -n needs root (Orthanc cannot bind loopback only)"; exit 0; }
  exec unshare -n env IN_PRIVATE_NETNS=1 BRIDGE_SOURCE="${BRIDGE_SOURCE:-nbia}" bash "$0" "$@"
fi
ip link set lo up
export TCP_NODELAY=1
WORK=$(mktemp -d /tmp/orthanc-bb-XXXXXX)
source "$(dirname "${BASH_SOURCE[0]}")/common.bash"
fail() {
  echo "FAIL: $*" >&2
  echo "--- bridge log" >&2; tail -20 "$WORK/bridge.log" >&2 || true
  echo "--- orthanc log" >&2; grep -a -E "^E|^W" "$WORK/orthanc.log" | tail -20 >&2 || true
  exit 1
}
ok() { echo "ok: $*"; }
# Minimal readers of Orthanc's pretty-printed JSON (one member per line; no python needed).
field() { sed -n "s/.*\"$1\" *: *\"\{0,1\}\([^\",]*\)\"\{0,1\},\{0,1\} *$/\1/p" | head -1; }
count_strings() { grep -c '^ *"[^"]*",\{0,1\} *$' || true; }
count_field() { grep -c "\"$1\" *:" || true; }
api() { curl -sf -X "$1" "http://127.0.0.1:8042$2" ${3:+--data-binary "$3"}; }

[ -f "$DATA/.complete" ] || "$B/emulator/tcia-emulator" generate --out "$DATA" > /dev/null

"$B/emulator/tcia-emulator" serve --data "$DATA" --port 8899 --bind 127.0.0.1 --quiet > "$WORK/emulator.log" 2>&1 &
PIDS+=($!)
wait_port 8899 15 || fail "emulator did not start"

# BRIDGE_SOURCE=idc (tests/blackbox/idc_orthanc_pacs.sh): the same checks over the IDC source.
if [ "${BRIDGE_SOURCE:-nbia}" = idc ]; then
  SOURCE_FLAGS=(--source idc --idc-api-url http://127.0.0.1:8899/v3 --idc-bucket-url "http://127.0.0.1:8899/s3/{bucket}")
else
  SOURCE_FLAGS=(--tcia-url http://127.0.0.1:8899/nbia-api/services/v4)
fi
"$B/tcia-bridge" "${SOURCE_FLAGS[@]}" --aet TCIA --dimse-port 11112 --no-web \
  --cache-dir "$WORK/cache" --destination ORTHANC=127.0.0.1:4242 > "$WORK/bridge.log" 2>&1 &
PIDS+=($!)
wait_port 11112 15 || fail "bridge did not start"
if [ "${BRIDGE_SOURCE:-nbia}" = idc ]; then
  for _ in $(seq 50); do grep -q "from IDC at" "$WORK/bridge.log" && break; sleep 0.1; done
  grep -q "from IDC at http://127.0.0.1:8899/v3" "$WORK/bridge.log" || fail "bridge is not on the IDC source"
fi

mkdir -p "$WORK/orthanc"
cat > "$WORK/orthanc/orthanc.json" <<JSON
{ "Name": "bridge-test", "StorageDirectory": "$WORK/db/storage", "IndexDirectory": "$WORK/db/index",
  "HttpPort": 8042, "DicomPort": 4242, "DicomAet": "ORTHANC",
  "RemoteAccessAllowed": false, "AuthenticationEnabled": false,
  "DicomModalities": { "tcia": ["TCIA", "127.0.0.1", 11112] },
  "DicomScuTimeout": 60 }
JSON
Orthanc "$WORK/orthanc/" > "$WORK/orthanc.log" 2>&1 &
PIDS+=($!)
for _ in $(seq 150); do curl -sf http://127.0.0.1:8042/system > /dev/null 2>&1 && break; sleep 0.1; done
curl -sf http://127.0.0.1:8042/system > /dev/null || fail "Orthanc did not start"
ok "emulator, bridge and Orthanc up in a private network namespace"

api POST /modalities/tcia/echo '{}' > /dev/null || fail "Orthanc C-ECHO to the bridge"
ok "Orthanc C-ECHO -> bridge"

COLL=TCGA-DEMO-CT
P1=$(ls "$DATA/$COLL" | head -1)
P1_STUDIES=$(ls "$DATA/$COLL/$P1" | wc -l)
QUERY=$(api POST /modalities/tcia/query "{\"Level\":\"Study\",\"Query\":{\"PatientID\":\"$P1\",\"StudyInstanceUID\":\"\",\"StudyDate\":\"\",\"PatientName\":\"\"}}") \
  || fail "Orthanc C-FIND through /modalities/tcia/query"
QID=$(echo "$QUERY" | field ID)
ANSWERS=$(api GET "/queries/$QID/answers" | count_strings)
[ "$ANSWERS" = "$P1_STUDIES" ] || fail "C-FIND answers: $ANSWERS, expected $P1_STUDIES"
ok "Orthanc C-FIND STUDY PatientID=$P1: $ANSWERS answers"

# C-MOVE of answer 0 to Orthanc itself.
STUDY0=$(api GET "/queries/$QID/answers/0/content?simplify" | field StudyInstanceUID)
EXPECTED0=$(find "$DATA/$COLL/$P1/$STUDY0" -name '*.dcm' | wc -l)
api POST "/queries/$QID/answers/0/retrieve" '{"TargetAet":"ORTHANC","Synchronous":true}' > /dev/null \
  || fail "Orthanc retrieve (C-MOVE) of answer 0"
ID0=$(api POST /tools/lookup "$STUDY0" | field ID)
[ -n "$ID0" ] || fail "study $STUDY0 not in Orthanc"
N0=$(api GET "/studies/$ID0/instances" | count_field IndexInSeries)
[ "$N0" = "$EXPECTED0" ] || fail "Orthanc holds $N0 instances of $STUDY0, expected $EXPECTED0"
ok "Orthanc retrieve (C-MOVE) of $STUDY0: $N0 instances"

# C-MOVE of one series of another study through /modalities/tcia/move.
P2=$(ls "$DATA/$COLL" | sed -n 2p)
STUDY1=$(ls "$DATA/$COLL/$P2" | head -1)
SERIES1=$(ls "$DATA/$COLL/$P2/$STUDY1" | head -1)
EXPECTED1=$(ls "$DATA/$COLL/$P2/$STUDY1/$SERIES1" | wc -l)
api POST /modalities/tcia/move "{\"Level\":\"Series\",\"Resources\":[{\"StudyInstanceUID\":\"$STUDY1\",\"SeriesInstanceUID\":\"$SERIES1\"}],\"TargetAet\":\"ORTHANC\",\"Synchronous\":true}" \
  > /dev/null || fail "Orthanc /modalities/tcia/move"
ID1=$(api POST /tools/lookup "$SERIES1" | field ID)
[ -n "$ID1" ] || fail "series $SERIES1 not in Orthanc"
N1=$(api GET "/series/$ID1/instances" | count_field IndexInSeries)
[ "$N1" = "$EXPECTED1" ] || fail "Orthanc holds $N1 instances of series $SERIES1, expected $EXPECTED1"
ok "Orthanc /modalities/tcia/move SERIES: $N1 instances"

STUDIES=$(api GET /studies | count_strings)
[ "$STUDIES" = 2 ] || fail "Orthanc holds $STUDIES studies, expected 2"
TOTAL=$(api GET /statistics | field CountInstances)
[ "$TOTAL" = $((EXPECTED0 + EXPECTED1)) ] || fail "Orthanc holds $TOTAL instances, expected $((EXPECTED0 + EXPECTED1))"
ok "Orthanc holds $STUDIES studies, $TOTAL instances"
echo "ALL ORTHANC CHECKS PASSED"
