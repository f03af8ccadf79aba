#!/usr/bin/env bash
# DIMSE black-box test: the built tcia-bridge in front of the built tcia-emulator, driven only by
# DCMTK's command-line tools (echoscu, findscu, movescu, getscu, storescp), none written here.
# Expected answers are computed from the emulator's own files (DATA/<collection>/<patient>/
# <study>/<series>/*.dcm), pixel data is compared byte for byte (dcmdump +W).
set -euo pipefail
B=${BRIDGE_BINARY_DIR:?set BRIDGE_BINARY_DIR}
DATA=${DATA:-$B/sample-data}
export TCP_NODELAY=1
WORK=$(mktemp -d /tmp/dimse-bb-XXXXXX)
source "$(dirname "${BASH_SOURCE[0]}")/common.bash"
fail() { echo "FAIL: $*" >&2; echo "--- bridge log" >&2; tail -30 "$WORK/bridge.log" >&2 || true; exit 1; }

ensure_sample_data

start_emulator || fail "emulator did not start"

# ---- the data dictionary is read at start (not in the first association), and a bridge that
# cannot read one says so and does not start (it could read no dataset right).
rc=0
DCMDICTPATH=$WORK/no-such.dic timeout 20 "$B/tcia-bridge" --tcia-url "http://127.0.0.1:$EMU/nbia-api/services/v4" \
  --dimse-port 0 --no-web --cache-dir "$WORK/nodict-cache" > "$WORK/nodict.log" 2>&1 || rc=$?
[ "$rc" = 1 ] || fail "without a data dictionary: exit $rc, expected 1 (timeout = 124)"
grep -q "cannot load the DICOM data dictionary from $WORK/no-such.dic (DCMDICTPATH)" "$WORK/nodict.log" ||
  fail "without a data dictionary: no clear reason: $(cat "$WORK/nodict.log")"
! grep -q "listening" "$WORK/nodict.log" || fail "without a data dictionary: it listened"
ok "no data dictionary: refused to start, with the reason"

mkdir -p "$WORK/got"
start_storescp DEST "$WORK/moved" || fail "storescp did not start"
DEST=$STORE_PORT

"$B/tcia-bridge" --tcia-url "http://127.0.0.1:$EMU/nbia-api/services/v4" --aet TCIA --dimse-port 0 --no-web \
  --cache-dir "$WORK/cache" --destination "DEST=127.0.0.1:$DEST" > "$WORK/bridge.log" 2>&1 &
PIDS+=($!)
wait_log "$WORK/bridge.log" "DIMSE listening on" 10 || true
PORT=$(grep -o 'DIMSE listening on 127.0.0.1:[0-9]*' "$WORK/bridge.log" | sed 's/.*://') || true
[ -n "$PORT" ] || fail "bridge did not print its DIMSE port"
ok "bridge listening on 127.0.0.1:$PORT"

# ---- C-ECHO
echoscu -aec TCIA 127.0.0.1 "$PORT" || fail "echoscu"
ok "C-ECHO"
if echoscu -aec WRONG-AE 127.0.0.1 "$PORT" 2>/dev/null; then fail "unknown called AE accepted"; fi
ok "unknown called AE rejected"

# ---- C-FIND: count Pending responses, require final Success
# find MODEL key... -> prints the number of matches
find_count() {
  local model=$1; shift
  local args=()
  for k in "$@"; do args+=(-k "$k"); done
  local out
  out=$(findscu -v "$model" -aec TCIA -aet BBSCU "${args[@]}" 127.0.0.1 "$PORT" 2>&1 | tr -d '\0') || { echo "$out" >&2; return 1; }
  echo "$out" | grep -a -q "Received Final Find Response (Success)" || { echo "$out" | tail -5 >&2; return 1; }
  echo "$out" | grep -a -c "Find Response: [0-9]* (Pending)" || true
}
expect_find() {
  local expected=$1 label=$2; shift 2
  local got
  got=$(find_count "$@") || fail "C-FIND $label: not successful"
  [ "$got" = "$expected" ] || fail "C-FIND $label: $got matches, expected $expected"
  ok "C-FIND $label: $got"
}

COLL=TCGA-DEMO-CT
PATIENTS=($(ls "$DATA/$COLL"))
P1=${PATIENTS[0]}
P1_STUDIES=($(ls "$DATA/$COLL/$P1"))
S1=${P1_STUDIES[0]}
S1_SERIES=($(ls "$DATA/$COLL/$P1/$S1"))
SE1=${S1_SERIES[0]}
ALL_STUDIES=$(find "$DATA/$COLL" -mindepth 2 -maxdepth 2 -type d | wc -l)
SE1_FILES=($(ls "$DATA/$COLL/$P1/$S1/$SE1"))
sop_of() { dcmdump -s +P SOPInstanceUID "$1" | sed 's/.*\[\(.*\)\].*/\1/'; }
date_of_study() { local f; f=$(find "$DATA/$COLL/$1/$2" -name '*.dcm' | head -1); dcmdump -s +P StudyDate "$f" | sed 's/.*\[\(.*\)\].*/\1/'; }

# Study Root (-S), every level, every matching type
expect_find "$ALL_STUDIES" "S STUDY universal (collection only)" -S QueryRetrieveLevel=STUDY ClinicalTrialProtocolID=$COLL StudyInstanceUID PatientID
expect_find "${#P1_STUDIES[@]}" "S STUDY single value PatientID" -S QueryRetrieveLevel=STUDY PatientID="$P1" StudyInstanceUID
expect_find "$ALL_STUDIES" "S STUDY wildcard PatientID" -S QueryRetrieveLevel=STUDY ClinicalTrialProtocolID=$COLL "PatientID=${P1%????}*" StudyInstanceUID
UIDS=$(find "$DATA/$COLL" -mindepth 2 -maxdepth 2 -type d -printf '%f\n' | head -2 | paste -sd'\\')
expect_find 2 "S STUDY UID list" -S QueryRetrieveLevel=STUDY "StudyInstanceUID=$UIDS" PatientID
D1=$(date_of_study "$P1" "$S1")
IN_RANGE=0
for p in "${PATIENTS[@]}"; do for s in $(ls "$DATA/$COLL/$p"); do d=$(date_of_study "$p" "$s"); [ "$d" -le "$D1" ] && IN_RANGE=$((IN_RANGE+1)); done; done
expect_find "$IN_RANGE" "S STUDY date range -$D1" -S QueryRetrieveLevel=STUDY ClinicalTrialProtocolID=$COLL "StudyDate=-$D1" StudyInstanceUID
expect_find "${#S1_SERIES[@]}" "S SERIES universal" -S QueryRetrieveLevel=SERIES StudyInstanceUID="$S1" SeriesInstanceUID Modality
expect_find "${#S1_SERIES[@]}" "S SERIES list Modality=CT\\MR\\SR\\OT" -S QueryRetrieveLevel=SERIES StudyInstanceUID="$S1" 'Modality=CT\MR\SR\OT\SEG' SeriesInstanceUID
expect_find "${#SE1_FILES[@]}" "S IMAGE universal" -S QueryRetrieveLevel=IMAGE StudyInstanceUID="$S1" SeriesInstanceUID="$SE1" SOPInstanceUID
SOP1=$(sop_of "$DATA/$COLL/$P1/$S1/$SE1/${SE1_FILES[0]}")
SOP2=$(sop_of "$DATA/$COLL/$P1/$S1/$SE1/${SE1_FILES[1]}")
expect_find 2 "S IMAGE SOP UID list" -S QueryRetrieveLevel=IMAGE StudyInstanceUID="$S1" SeriesInstanceUID="$SE1" "SOPInstanceUID=$SOP1\\$SOP2"
expect_find 1 "S IMAGE single SOP UID" -S QueryRetrieveLevel=IMAGE StudyInstanceUID="$S1" SeriesInstanceUID="$SE1" "SOPInstanceUID=$SOP1"
# Patient Root (-P)
expect_find 1 "P PATIENT single value" -P QueryRetrieveLevel=PATIENT PatientID="$P1" PatientName
expect_find "${#PATIENTS[@]}" "P PATIENT collection" -P QueryRetrieveLevel=PATIENT ClinicalTrialProtocolID=$COLL PatientID
expect_find "${#P1_STUDIES[@]}" "P STUDY under patient" -P QueryRetrieveLevel=STUDY PatientID="$P1" StudyInstanceUID StudyDate
expect_find "${#S1_SERIES[@]}" "P SERIES" -P QueryRetrieveLevel=SERIES PatientID="$P1" StudyInstanceUID="$S1" SeriesInstanceUID
expect_find "${#SE1_FILES[@]}" "P IMAGE" -P QueryRetrieveLevel=IMAGE PatientID="$P1" StudyInstanceUID="$S1" SeriesInstanceUID="$SE1" SOPInstanceUID
# IMAGE level carries each instance's real SOPClassUID and InstanceNumber, cached or not (issue 8 item 6).
OUT=$(findscu -v -S -aec TCIA -aet BBSCU -k QueryRetrieveLevel=IMAGE -k StudyInstanceUID="$S1" -k SeriesInstanceUID="$SE1" \
  -k SOPInstanceUID -k SOPClassUID -k InstanceNumber 127.0.0.1 "$PORT" 2>&1 | tr -d '\0')
# Both tools print a known UID by its DCMTK name (=CTImageStorage): compare that printed form.
WANT_CLASS=$(dcmdump -s +P SOPClassUID "$DATA/$COLL/$P1/$S1/$SE1/${SE1_FILES[0]}" | sed 's/.*(0008,0016) UI \([^ ]*\).*/\1/')
[ -n "$WANT_CLASS" ] && [ "$WANT_CLASS" != "(no" ] || fail "cannot read SOPClassUID of ${SE1_FILES[0]}"
N_CLASS=$(echo "$OUT" | grep -a -c -F "(0008,0016) UI $WANT_CLASS " || true)
N_NUMBER=$(echo "$OUT" | grep -a -c "(0020,0013) IS \[[0-9]" || true)
[ "$N_CLASS" = "${#SE1_FILES[@]}" ] || fail "IMAGE level: $N_CLASS of ${#SE1_FILES[@]} answers carry SOPClassUID $WANT_CLASS"
[ "$N_NUMBER" = "${#SE1_FILES[@]}" ] || fail "IMAGE level: $N_NUMBER of ${#SE1_FILES[@]} answers carry an InstanceNumber"
WANT_NUMBERS=$(for f in "${SE1_FILES[@]}"; do dcmdump -s +P InstanceNumber "$DATA/$COLL/$P1/$S1/$SE1/$f" | sed 's/.*\[\(.*\)\].*/\1/' | tr -d ' '; done | sort -n | paste -sd,)
GOT_NUMBERS=$(echo "$OUT" | grep -a "(0020,0013) IS \[" | sed 's/.*\[\(.*\)\].*/\1/' | tr -d ' ' | sort -n | paste -sd,)
[ "$GOT_NUMBERS" = "$WANT_NUMBERS" ] || fail "IMAGE level InstanceNumbers $GOT_NUMBERS, files have $WANT_NUMBERS"
ok "C-FIND IMAGE: real SOPClassUID and InstanceNumber for ${#SE1_FILES[@]} instances"
# PATIENT level is unique by PatientID (issue 8 item 6): SHARED-0007 is in two collections -> one
# answer, its NumberOfPatientRelatedStudies covering both.
expect_find 1 "P PATIENT PatientID in two collections" -P QueryRetrieveLevel=PATIENT PatientID=SHARED-0007 ClinicalTrialProtocolID
findscu -v -P -aec TCIA -aet BBSCU -k QueryRetrieveLevel=PATIENT -k PatientID=SHARED-0007 -k NumberOfPatientRelatedStudies \
  127.0.0.1 "$PORT" 2>&1 | tr -d '\0' | grep -a -q "(0020,1200) IS \[2 *\]" || fail "SHARED-0007: NumberOfPatientRelatedStudies is not 2"
ok "C-FIND PATIENT SHARED-0007 counts both collections"
# Responses carry RetrieveAETitle and QueryRetrieveLevel
findscu -v -S -aec TCIA -k QueryRetrieveLevel=STUDY -k PatientID="$P1" -k StudyInstanceUID 127.0.0.1 "$PORT" 2>&1 \
  | grep -a -q "(0008,0054) AE \[TCIA\]" || fail "RetrieveAETitle missing in C-FIND response"
ok "C-FIND responses carry RetrieveAETitle"
# Bad identifier: no QueryRetrieveLevel -> failure (A900)
if findscu -v -S -aec TCIA -k PatientID="$P1" 127.0.0.1 "$PORT" 2>&1 | grep -a -q "Final Find Response (Success)"; then
  fail "identifier without QueryRetrieveLevel accepted"
fi
ok "C-FIND without QueryRetrieveLevel refused"

# ---- C-MOVE a study into storescp: same SOP Instance UIDs, same pixel data
# md5 of the native pixel data: compressed files are decoded first with DCMTK's own tools (the
# bridge decodes for a destination that refuses the original syntax, as default storescp does).
pixels_md5() {
  local d src=$1 ts
  d=$(mktemp -d "$WORK/raw-XXXX")
  ts=$(dcmdump -s -Un +P TransferSyntaxUID "$src" | sed 's/.*\[\(.*\)\].*/\1/' | tr -d '\0 ')
  case "$ts" in
    1.2.840.10008.1.2.4.8*) dcmdjpls "$src" "$d/native.dcm"; src=$d/native.dcm ;;
    1.2.840.10008.1.2.4.*) dcmdjpeg "$src" "$d/native.dcm"; src=$d/native.dcm ;;
    1.2.840.10008.1.2.5) dcmdrle "$src" "$d/native.dcm"; src=$d/native.dcm ;;
  esac
  mkdir "$d/raw"
  dcmdump +W "$d/raw" "$src" > /dev/null
  cat "$d"/raw/*.raw | md5sum | cut -d' ' -f1
  rm -rf "$d"
}
declare -A EXPECTED
for f in $(find "$DATA/$COLL/$P1/$S1" -name '*.dcm'); do EXPECTED[$(sop_of "$f")]=$(pixels_md5 "$f"); done
movescu -S -aec TCIA -aet BBSCU -aem DEST -k QueryRetrieveLevel=STUDY -k StudyInstanceUID="$S1" 127.0.0.1 "$PORT" \
  > "$WORK/move.log" 2>&1 || fail "movescu: $(tail -3 "$WORK/move.log")"
N=$(ls "$WORK/moved" | wc -l)
[ "$N" = "${#EXPECTED[@]}" ] || fail "C-MOVE delivered $N instances, expected ${#EXPECTED[@]}"
for f in "$WORK"/moved/*; do
  sop=$(sop_of "$f")
  [ -n "${EXPECTED[$sop]:-}" ] || fail "unexpected instance $sop"
  [ "$(pixels_md5 "$f")" = "${EXPECTED[$sop]}" ] || fail "pixel data of $sop differs"
done
ok "C-MOVE STUDY: ${N} instances, same SOP Instance UIDs and pixel data"

# Patient Root C-MOVE at PATIENT level of another patient
P2=${PATIENTS[1]}
P2_COUNT=$(find "$DATA/$COLL/$P2" -name '*.dcm' | wc -l)
rm -f "$WORK"/moved/*
movescu -P -aec TCIA -aet BBSCU -aem DEST -k QueryRetrieveLevel=PATIENT -k PatientID="$P2" 127.0.0.1 "$PORT" \
  > "$WORK/move2.log" 2>&1 || fail "movescu -P: $(tail -3 "$WORK/move2.log")"
N=$(ls "$WORK/moved" | wc -l)
[ "$N" = "$P2_COUNT" ] || fail "C-MOVE PATIENT delivered $N, expected $P2_COUNT"
ok "C-MOVE PATIENT (Patient Root): $N instances"

# ---- C-GET a series
getscu -S -aec TCIA -aet BBSCU -od "$WORK/got" -k QueryRetrieveLevel=SERIES -k StudyInstanceUID="$S1" \
  -k SeriesInstanceUID="$SE1" 127.0.0.1 "$PORT" > "$WORK/get.log" 2>&1 || fail "getscu: $(tail -3 "$WORK/get.log")"
N=$(ls "$WORK/got" | wc -l)
[ "$N" = "${#SE1_FILES[@]}" ] || fail "C-GET delivered $N, expected ${#SE1_FILES[@]}"
for f in "$WORK"/got/*; do
  sop=$(sop_of "$f")
  [ "$(pixels_md5 "$f")" = "${EXPECTED[$sop]}" ] || fail "C-GET pixel data of $sop differs"
done
ok "C-GET SERIES: $N instances, same pixel data"

# ---- unknown destination -> A801
movescu -v -S -aec TCIA -aet BBSCU -aem NOWHERE -k QueryRetrieveLevel=STUDY -k StudyInstanceUID="$S1" 127.0.0.1 "$PORT" \
  > "$WORK/a801.log" 2>&1 || true
grep -a -q -i "MoveDestinationUnknown\|0xa801" "$WORK/a801.log" || fail "unknown destination: $(tail -3 "$WORK/a801.log")"
ok "C-MOVE unknown destination -> A801"

# ---- cancel: a slow (cold) download, movescu cancels after the first response
MR=RIDER-Demo-MR
MR_STUDY=$(find "$DATA/$MR" -mindepth 2 -maxdepth 2 -type d -printf '%f\n' | head -1)
curl -sf -m 10 --data "" "http://127.0.0.1:$EMU/emulator/faults?spec=getImage:slow:5:delay-ms=4000" > /dev/null || fail "cannot set emulator fault"
rm -f "$WORK"/moved/*
START=$(date +%s%N)
movescu -v -S -aec TCIA -aet BBSCU -aem DEST --cancel 1 -k QueryRetrieveLevel=STUDY -k StudyInstanceUID="$MR_STUDY" \
  127.0.0.1 "$PORT" > "$WORK/cancel.log" 2>&1 || true
MS=$(( ($(date +%s%N) - START) / 1000000 ))
grep -a -q -i "cancel" "$WORK/cancel.log" || fail "cancel: $(tail -5 "$WORK/cancel.log")"
grep -a -i "Final Move Response" "$WORK/cancel.log" | grep -a -q -i "cancel" || fail "final status is not Cancel: $(grep -a -i final "$WORK/cancel.log")"
[ "$MS" -lt 4000 ] || fail "cancel took $MS ms"
MR_TOTAL=$(find "$DATA/$MR" -path "*/$MR_STUDY/*" -name '*.dcm' | wc -l)
[ "$(ls "$WORK/moved" | wc -l)" -lt "$MR_TOTAL" ] || fail "cancelled C-MOVE still delivered all $MR_TOTAL instances"
curl -sf -m 5 -X DELETE "http://127.0.0.1:$EMU/emulator/faults" > /dev/null || true
ok "C-CANCEL during a slow download -> FE00 after $MS ms"

echo "ALL DIMSE BLACK-BOX CHECKS PASSED"
