#!/usr/bin/env bash
# The emulator's IDC face walked the way API.md section 2 tells a radiology client to (issue 12
# item 4), with curl and DCMTK's dcmdump, peers nobody here wrote: page /v3/sql for every series,
# list each series prefix with ListObjectsV2 (max-keys=3, following NextContinuationToken, skipping
# the zero-byte "<uuid>/" key), Range-GET the first 64 KiB of every .dcm (206 or 200), read its
# SOPInstanceUID with dcmdump, and require the set to equal NBIA's getSOPInstanceUIDs for the same
# series from the same emulator. Then the S3 error and fault answers as curl sees them.
set -euo pipefail
B=${BRIDGE_BINARY_DIR:?set BRIDGE_BINARY_DIR}
DATA=${DATA:-$B/sample-data}
WORK=$(mktemp -d /tmp/idc-emulator-XXXXXX)
source "$(dirname "${BASH_SOURCE[0]}")/common.bash"
fail() { echo "FAIL: $*" >&2; tail -15 "$WORK/emulator.log" >&2 || true; exit 1; }
ensure_sample_data

start_emulator || fail "emulator did not start"
BASE=http://127.0.0.1:$EMU

# 1. Snapshot the index with LIMIT/OFFSET pages of 5 rows (API.md 2, "Without Arrow" (b)).
: > "$WORK/series.tsv"
offset=0
while :; do
  curl -sf -X POST "$BASE/v3/sql" -H 'Content-Type: application/json' \
    -d "{\"sql\":\"SELECT SeriesInstanceUID, aws_bucket, crdc_series_uuid, instanceCount FROM index ORDER BY SeriesInstanceUID LIMIT 5 OFFSET $offset\"}" \
    > "$WORK/page.json" || fail "/v3/sql page at offset $offset"
  n=$(/usr/bin/python3 -c 'import json,sys
d=json.load(open(sys.argv[1]))
for r in d["rows"]: print(r["SeriesInstanceUID"], r["aws_bucket"], r["crdc_series_uuid"], r["instanceCount"], sep="\t")
print(len(d["rows"]), file=sys.stderr)' "$WORK/page.json" 2>&1 >> "$WORK/series.tsv")
  [ "$n" -lt 5 ] && break
  offset=$((offset + 5))
done
SERIES=$(wc -l < "$WORK/series.tsv")
[ "$SERIES" -ge 10 ] || fail "only $SERIES series in /v3/sql"
ok "/v3/sql: $SERIES series in $((offset / 5 + 1)) pages"

# 2-3. Per series: list, range-read the headers, compare SOPInstanceUIDs with NBIA.
pages=0 objects=0
while IFS=$'\t' read -r uid bucket uuid count; do
  : > "$WORK/keys"
  token=""
  while :; do
    args=(-G "$BASE/s3/$bucket/" --data list-type=2 --data-urlencode "prefix=$uuid/" --data max-keys=3)
    [ -n "$token" ] && args+=(--data-urlencode "continuation-token=$token")
    curl -sf "${args[@]}" > "$WORK/list.xml" || fail "ListObjectsV2 ${args[*]}"
    pages=$((pages + 1))
    grep -o '<Key>[^<]*</Key>' "$WORK/list.xml" | sed 's/<[^>]*>//g' >> "$WORK/keys" || true
    grep -q '<IsTruncated>true</IsTruncated>' "$WORK/list.xml" || break
    token=$(grep -o '<NextContinuationToken>[^<]*' "$WORK/list.xml" | sed 's/<[^>]*>//')
    [ -n "$token" ] || fail "truncated page without NextContinuationToken"
  done
  grep '\.dcm$' "$WORK/keys" > "$WORK/dcm" || true
  [ "$(wc -l < "$WORK/dcm")" = "$count" ] || fail "$uid: $(wc -l < "$WORK/dcm") .dcm keys, instanceCount $count"
  sort -c "$WORK/keys" 2>/dev/null || LC_ALL=C sort -c "$WORK/keys" || fail "$uid: keys not in key order"
  : > "$WORK/idc-sops"
  while read -r key; do
    code=$(curl -s -o "$WORK/head.dcm" -w '%{http_code}' -H 'Range: bytes=0-65535' "$BASE/s3/$bucket/$key")
    [ "$code" = 206 ] || [ "$code" = 200 ] || fail "$key: HTTP $code"
    # header only: stop before (7FE0,0010), which a 64 KiB head may cut (API.md 2, step 2)
    dcmdump -q +sb 7fe0,0010 +P SOPInstanceUID "$WORK/head.dcm" | sed 's/.*\[\(.*\)\].*/\1/' >> "$WORK/idc-sops"
    objects=$((objects + 1))
  done < "$WORK/dcm"
  curl -sf "$BASE/nbia-api/services/v1/getSOPInstanceUIDs?SeriesInstanceUID=$uid" |
    grep -o '"SOPInstanceUID":"[^"]*"' | sed 's/.*:"\(.*\)"/\1/' | sort > "$WORK/nbia-sops"
  sort -o "$WORK/idc-sops" "$WORK/idc-sops"
  cmp -s "$WORK/idc-sops" "$WORK/nbia-sops" || fail "$uid: SOPInstanceUIDs from S3 differ from NBIA's"
  last_bucket=$bucket last_uuid=$uuid
done < "$WORK/series.tsv"
ok "ListObjectsV2: $pages pages of <= 3 keys; $objects objects range-read, SOPInstanceUIDs equal NBIA's per series"

# 4. Errors and faults as curl sees them.
bucket=$last_bucket uuid=$last_uuid
key=$(head -1 "$WORK/dcm")
size=$(curl -sfI "$BASE/s3/$bucket/$key" | tr -d '\r' | sed -n 's/^Content-Length: //Ip') || fail "HEAD $key"
[ -n "$size" ] || fail "HEAD $key: no Content-Length"
# The bytes themselves: the whole object's MD5 is its ETag, and a range from inside it (at an
# odd offset, across the body's first 64 KiB) is exactly that slice of the whole.
etag=$(curl -sfI "$BASE/s3/$bucket/$key" | tr -d '\r"' | sed -n 's/^ETag: //Ip')
curl -sf -o "$WORK/whole.dcm" "$BASE/s3/$bucket/$key" || fail "GET $key"
[ "$(stat -c %s "$WORK/whole.dcm")" = "$size" ] || fail "GET $key: $(stat -c %s "$WORK/whole.dcm") bytes, Content-Length $size"
[ "$(md5sum < "$WORK/whole.dcm" | cut -d' ' -f1)" = "$etag" ] || fail "GET $key: MD5 differs from ETag $etag"
code=$(curl -s -o "$WORK/mid.bin" -w '%{http_code}' -H "Range: bytes=1001-$((size / 2))" "$BASE/s3/$bucket/$key")
[ "$code" = 206 ] || fail "mid-object range: HTTP $code"
# (cmp skips and limits itself: `tail | head` died of SIGPIPE now and then under pipefail)
[ "$(stat -c %s "$WORK/mid.bin")" = $((size / 2 - 1000)) ] || fail "mid-object range: $(stat -c %s "$WORK/mid.bin") bytes, expected $((size / 2 - 1000))"
cmp -s -i 1001:0 -n $((size / 2 - 1000)) "$WORK/whole.dcm" "$WORK/mid.bin" || fail "mid-object range: bytes differ"
ok "GET $key: $size bytes, MD5 = ETag; Range bytes=1001-$((size / 2)) is that slice"
code=$(curl -s -o "$WORK/err.xml" -w '%{http_code}' -H "Range: bytes=$size-" "$BASE/s3/$bucket/$key")
[ "$code" = 416 ] && grep -q '<Code>InvalidRange</Code>' "$WORK/err.xml" || fail "unsatisfiable range: $code"
code=$(curl -s -o "$WORK/err.xml" -w '%{http_code}' "$BASE/s3/$bucket/$uuid/missing.dcm")
[ "$code" = 404 ] && grep -q '<Code>NoSuchKey</Code>' "$WORK/err.xml" || fail "missing key: $code"
curl -sf -X POST "$BASE/emulator/faults?spec=GetObject:503:1" > /dev/null
code=$(curl -s -o "$WORK/err.xml" -w '%{http_code}' "$BASE/s3/$bucket/$key")
[ "$code" = 503 ] && grep -q '<Code>SlowDown</Code>' "$WORK/err.xml" || fail "SlowDown fault: $code"
curl -sf -X POST "$BASE/emulator/faults?spec=GetObject:truncate:1" > /dev/null
set +e
curl -s -o /dev/null "$BASE/s3/$bucket/$key"
rc=$?
set -e
[ "$rc" = 18 ] || [ "$rc" = 56 ] || fail "truncated object: curl exit $rc (want 18 or 56)"
curl -sf -o /dev/null "$BASE/s3/$bucket/$key" || fail "object after the faults"
ok "416 InvalidRange, 404 NoSuchKey, 503 SlowDown, truncated body (curl exit $rc), then whole again"
