#!/usr/bin/env bash
# Kill -9 of the bridge mid-work, then a restart on the same cache directory (issue 9, "Faults
# and load as tests"). The built tcia-bridge in front of the built tcia-emulator, driven by
# DCMTK's movescu / storescp / findscu (none written here):
#  1. a cold C-MOVE of a 10-instance series, slowed by the emulator's "slow" fault, is killed
#     (SIGKILL) after a few instances reached storescp: the series is not complete in the cache;
#     after a restart on the same cache the next C-MOVE succeeds with all 10 instances, pixel
#     data equal to the emulator's files, and TCIA was asked again (nothing partial served);
#  2. a cached instance file cut in half while the bridge is down (a torn write) is never sent:
#     the next C-MOVE still delivers 10 intact instances;
#  3. `tcia-bridge sync`, its getSeries calls slowed, is killed after the first collection was
#     stored; the next sync skips what was finished, harvests the rest, and the served catalog
#     answers an all-collections C-FIND with exactly the emulator's public studies.
# "The harvest" is today's `tcia-bridge sync`; once serve mode harvests in the background, step 3
# can kill `tcia-bridge` serving instead (same polling on the progress, same checks).
set -euo pipefail
B=${BRIDGE_BINARY_DIR:?set BRIDGE_BINARY_DIR}
DATA=${DATA:-$B/sample-data}
export TCP_NODELAY=1
WORK=$(mktemp -d /tmp/faults-kill9-XXXXXX)
source "$(dirname "${BASH_SOURCE[0]}")/common.bash"
fail() { echo "FAIL: $*" >&2; for l in "$WORK"/*.log; do echo "--- $l" >&2; tail -15 "$l" >&2; done; exit 1; }

ensure_sample_data

STUDY=1.2.826.0.1.3680043.10.1234.1.1
SERIES=1.2.826.0.1.3680043.10.1234.2.1  # TCGA-DEMO-CT, CT 10 x 64x64, Explicit VR LE
SERIES_DIR=$(find "$DATA" -type d -name "$SERIES" | head -1)
[ -d "$SERIES_DIR" ] || fail "series $SERIES not in $DATA"
N=$(ls "$SERIES_DIR"/*.dcm | wc -l)

start_emulator || fail "emulator did not start"
EMU_URL=http://127.0.0.1:$EMU
fault() { curl -sf -X DELETE "$EMU_URL/emulator/faults" >/dev/null; [ -z "${1:-}" ] || curl -sf -X POST -H "Content-Length: 0" "$EMU_URL/emulator/faults?spec=$1" >/dev/null; }
get_images() { curl -sf "$EMU_URL/emulator/stats" | python3 -c 'import json,sys; print(json.load(sys.stdin)["endpoints"].get("getImage",0))'; }

RECV=$WORK/recv
start_storescp DEST "$RECV" || fail "storescp did not start"
DEST=$STORE_PORT

PORT=$(free_port)
BRIDGE_PID=""
start_bridge() {  # start_bridge CACHE_DIR: serve on $PORT, DIMSE only
  "$B/tcia-bridge" --tcia-url "$EMU_URL/nbia-api/services/v4" --aet TCIA --dimse-port "$PORT" --no-web \
    --cache-dir "$1" --destination "DEST=127.0.0.1:$DEST" >> "$WORK/bridge.log" 2>&1 &
  BRIDGE_PID=$!
  PIDS+=($BRIDGE_PID)
  wait_port "$PORT" 60 || fail "bridge did not listen on $PORT"
}
kill9_bridge() { kill -9 "$BRIDGE_PID"; wait "$BRIDGE_PID" 2>/dev/null || true; }
move() {  # move LOG: C-MOVE the series into storescp; movescu's exit status
  movescu -v -S -aec TCIA -aet BBSCU -aem DEST -to 60 -ta 60 -td 120 -k QueryRetrieveLevel=SERIES \
    -k StudyInstanceUID=$STUDY -k SeriesInstanceUID=$SERIES 127.0.0.1 "$PORT" > "$1" 2>&1
}
pixels_md5() { local d; d=$(mktemp -d "$WORK/raw-XXXX"); dcmdump +W "$d" "$1" > /dev/null; cat "$d"/*.raw | md5sum | cut -d' ' -f1; rm -rf "$d"; }
sop_of() { dcmdump -s +P SOPInstanceUID "$1" | sed 's/.*\[\(.*\)\].*/\1/'; }
declare -A WANT
for f in "$SERIES_DIR"/*.dcm; do WANT[$(sop_of "$f")]=$(pixels_md5 "$f"); done
check_received() {  # every file in RECV is one of the series' instances, intact; prints the count
  local n=0 f sop
  declare -A seen=()
  for f in "$RECV"/*; do
    [ -f "$f" ] || continue
    sop=$(sop_of "$f")
    [ -n "${WANT[$sop]:-}" ] || fail "unexpected SOP Instance UID $sop in $f"
    [ -z "${seen[$sop]:-}" ] || fail "$sop received twice"
    seen[$sop]=1
    [ "$(pixels_md5 "$f")" = "${WANT[$sop]}" ] || fail "pixel data of $sop differs from the emulator's file"
    n=$((n + 1))
  done
  echo $n
}

# ---- 1. kill -9 in the middle of a cold C-MOVE
CACHE=$WORK/cache
start_bridge "$CACHE"
ok "bridge on 127.0.0.1:$PORT, cache $CACHE"
fault "getImage:slow:1:delay-ms=12000"  # ~1 s between the ZIP entries
move "$WORK/move-killed.log" &
MOVE_PID=$!
for _ in $(seq 600); do [ "$(ls "$RECV" | wc -l)" -ge 3 ] && break; sleep 0.1; done
got=$(ls "$RECV" | wc -l)
[ "$got" -ge 3 ] || fail "no instances arrived before the kill"
[ "$got" -lt "$N" ] || fail "the whole series arrived before the kill (slow fault not effective)"
kill9_bridge
wait "$MOVE_PID" || true  # movescu 3.6.7 exits 0 even when the association was aborted
grep -q "Final Move Response (Success)" "$WORK/move-killed.log" && fail "movescu saw Success although the bridge was killed"
ok "bridge killed (SIGKILL) after $got of $N instances"
[ ! -e "$CACHE/instances/$SERIES/complete" ] || fail "the partial series is marked complete in the cache"
cached=$(ls "$CACHE/instances/$SERIES" 2>/dev/null | grep -c '\.dcm$' || true)
ok "cache after the kill: $cached instance files, series not complete"
got=$(check_received); ok "the $got instances that arrived before the kill are intact"

fault ""
rm -rf "${RECV:?}"/*
before=$(get_images)
start_bridge "$CACHE"
move "$WORK/move-after-restart.log" || fail "C-MOVE after the restart: $(tail -3 "$WORK/move-after-restart.log")"
got=$(check_received)
[ "$got" = "$N" ] || fail "after the restart: $got of $N instances"
[ "$(get_images)" -gt "$before" ] || fail "the partial series was served from the cache without asking TCIA"
grep -q "Received Final Move Response (Success)" "$WORK/move-after-restart.log" || fail "final C-MOVE status is not Success"
# The marker follows the fsync pass, which starts once the C-MOVE's last C-STORE was sent: poll.
for _ in $(seq 300); do [ -e "$CACHE/instances/$SERIES/complete" ] && break; sleep 0.1; done
[ -e "$CACHE/instances/$SERIES/complete" ] || fail "series not complete in the cache 30 s after a whole C-MOVE"
ok "after restart on the same cache: C-MOVE delivered $got/$N intact instances, status Success"

# ---- 2. a torn cache file (cut while the bridge is down) is never sent
kill9_bridge
victim=$(ls "$CACHE/instances/$SERIES"/*.dcm | head -1)
truncate -s $(( $(stat -c %s "$victim") / 2 )) "$victim"
rm -rf "${RECV:?}"/*
before=$(get_images)
start_bridge "$CACHE"
move "$WORK/move-torn.log" || fail "C-MOVE with a torn cache file: $(tail -3 "$WORK/move-torn.log")"
got=$(check_received)
[ "$got" = "$N" ] || fail "with a torn cache file: $got of $N instances"
[ "$(get_images)" -gt "$before" ] || fail "the torn instance was not fetched again"
ok "torn cache file $(basename "$victim"): detected, fetched again, $got/$N intact"
kill "$BRIDGE_PID"; wait "$BRIDGE_PID" 2>/dev/null || true

# ---- 3. kill -9 in the middle of a harvest (tcia-bridge sync), then resume
SYNC_CACHE=$WORK/sync-cache
COLLECTIONS=$(curl -sf "$EMU_URL/nbia-api/services/v4/getCollectionValues" | python3 -c 'import json,sys; print(len(json.load(sys.stdin)))')
[ "$COLLECTIONS" -ge 3 ] || fail "expected at least 3 public collections, got $COLLECTIONS"
fault "getSeries:slow:20:delay-ms=2000"
"$B/tcia-bridge" sync --tcia-url "$EMU_URL/nbia-api/services/v4" --cache-dir "$SYNC_CACHE" > "$WORK/sync-killed.out" 2> "$WORK/sync-killed.log" &
SYNC_PID=$!
PIDS+=($SYNC_PID)
wait_log "$WORK/sync-killed.log" "sync: 1/$COLLECTIONS collections" 60 || true
grep -q "sync: 1/$COLLECTIONS collections" "$WORK/sync-killed.log" || fail "sync showed no finished collection"
kill -9 "$SYNC_PID"; wait "$SYNC_PID" 2>/dev/null || true
grep -q "collections harvested" "$WORK/sync-killed.out" && fail "sync finished before the kill"
ok "sync killed (SIGKILL) after 1 of $COLLECTIONS collections"
fault ""
"$B/tcia-bridge" sync --tcia-url "$EMU_URL/nbia-api/services/v4" --cache-dir "$SYNC_CACHE" > "$WORK/sync-resumed.out" 2> "$WORK/sync-resumed.log" \
  || fail "resumed sync failed: $(cat "$WORK/sync-resumed.out")"
line=$(grep "collections harvested" "$WORK/sync-resumed.out")
harvested=$(sed 's/^sync: \([0-9]*\) collections harvested, \([0-9]*\) skipped.*/\1/' <<< "$line")
skipped=$(sed 's/^sync: \([0-9]*\) collections harvested, \([0-9]*\) skipped.*/\2/' <<< "$line")
[ "$skipped" -ge 1 ] || fail "resumed sync skipped nothing: $line"
[ $((harvested + skipped)) = "$COLLECTIONS" ] || fail "resumed sync: $line"
ok "resumed sync: $line"
# The catalog now answers an all-collections C-FIND (refused as too broad unless every
# collection is harvested) with exactly the emulator's public studies.
start_bridge "$SYNC_CACHE"
want=$(find "$DATA" -mindepth 3 -maxdepth 3 -type d -not -path "*/Restricted-Demo/*" | wc -l)
out=$(findscu -v -S -aec TCIA -aet BBSCU -k QueryRetrieveLevel=STUDY -k StudyInstanceUID -k "PatientName=*" 127.0.0.1 "$PORT" 2>&1 | tr -d '\0')
echo "$out" | grep -a -q "Received Final Find Response (Success)" || fail "broad C-FIND on the resumed catalog: $(echo "$out" | tail -3)"
n=$(echo "$out" | grep -a -c "Find Response: [0-9]* (Pending)" || true)
[ "$n" = "$want" ] || fail "broad C-FIND on the resumed catalog: $n studies, expected $want"
ok "broad C-FIND on the resumed catalog: $n studies (= the emulator's public studies)"
echo "PASS"
