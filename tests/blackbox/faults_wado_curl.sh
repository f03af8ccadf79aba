#!/usr/bin/env bash
# WADO-RS series retrieve under a persistent TCIA fault, seen by curl (issue 9): the built
# tcia-bridge in front of the built tcia-emulator whose getImage keeps being cut halfway
# ("truncate"). Some instances arrive, the rest cannot: curl must see a transfer error (the
# chunked stream aborted, exit 18 or 56), never a clean end with the closing multipart delimiter.
# Without the fault the same request ends cleanly with every instance, byte-identical to the
# emulator's files (transfer-syntax=*: as stored).
set -euo pipefail
B=${BRIDGE_BINARY_DIR:?set BRIDGE_BINARY_DIR}
DATA=${DATA:-$B/sample-data}
WORK=$(mktemp -d /tmp/faults-wado-XXXXXX)
source "$(dirname "${BASH_SOURCE[0]}")/common.bash"
fail() { echo "FAIL: $*" >&2; tail -15 "$WORK/bridge.log" >&2 || true; exit 1; }
ensure_sample_data

STUDY=1.2.826.0.1.3680043.10.1234.1.1
SERIES=1.2.826.0.1.3680043.10.1234.2.1
SERIES_DIR=$(find "$DATA" -type d -name "$SERIES" | head -1)
N=$(ls "$SERIES_DIR"/*.dcm | wc -l)

start_emulator --fault "getImage:truncate:100" || fail "emulator did not start"
HTTP=$(free_port)
"$B/tcia-bridge" --tcia-url "http://127.0.0.1:$EMU/nbia-api/services/v4" --no-dimse --http-port "$HTTP" \
  --cache-dir "$WORK/cache" > "$WORK/bridge.log" 2>&1 &
PIDS+=($!)
wait_http "http://127.0.0.1:$HTTP/health" 60 || fail "bridge did not start"
URL="http://127.0.0.1:$HTTP/dicom-web/studies/$STUDY/series/$SERIES"
ACCEPT='multipart/related; type="application/dicom"; transfer-syntax=*'

rc=0
curl -sS --max-time 120 -H "Accept: $ACCEPT" -D "$WORK/cut.headers" -o "$WORK/cut.body" "$URL" 2> "$WORK/cut.err" || rc=$?
grep -q "^HTTP/1.1 200" "$WORK/cut.headers" || fail "expected the stream to start (some instances arrive first): $(head -1 "$WORK/cut.headers")"
[ "$rc" = 18 ] || [ "$rc" = 56 ] || fail "curl exit $rc on a series with missing instances: the body ended cleanly ($(cat "$WORK/cut.err"))"
BOUNDARY=$(sed -n 's/^Content-Type:.*boundary=\([^;[:space:]]*\).*/\1/Ip' "$WORK/cut.headers" | tr -d '\r')
[ -n "$BOUNDARY" ] || fail "no multipart boundary"
grep -a -q -- "--$BOUNDARY--" "$WORK/cut.body" && fail "closing delimiter sent although instances are missing"
parts=$(grep -a -c -- "^--$BOUNDARY" "$WORK/cut.body" || true)
[ "$parts" -lt "$N" ] || fail "$parts parts arrived: the fault did not cut the series"
ok "persistent getImage truncate: curl exit $rc ($(tr -d '\n' < "$WORK/cut.err")), $parts of $N parts, no closing delimiter"

curl -sf -X DELETE "http://127.0.0.1:$EMU/emulator/faults" > /dev/null
curl -sS --fail --max-time 120 -H "Accept: $ACCEPT" -D "$WORK/whole.headers" -o "$WORK/whole.body" "$URL" \
  || fail "the series without the fault"
BOUNDARY=$(sed -n 's/^Content-Type:.*boundary=\([^;[:space:]]*\).*/\1/Ip' "$WORK/whole.headers" | tr -d '\r')
grep -a -q -- "--$BOUNDARY--" "$WORK/whole.body" || fail "no closing delimiter on the whole series"
# Every emulator file appears byte for byte in the body.
python3 - "$WORK/whole.body" "$SERIES_DIR" "$N" <<'PY'
import glob, sys
body = open(sys.argv[1], "rb").read()
files = sorted(glob.glob(sys.argv[2] + "/*.dcm"))
missing = [f for f in files if open(f, "rb").read() not in body]
assert len(files) == int(sys.argv[3]) and not missing, "not in the body: %s" % missing
PY
ok "without the fault: all $N instances byte-identical, closing delimiter present"
echo PASS
