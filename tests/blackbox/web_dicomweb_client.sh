#!/usr/bin/env bash
# Black-box: the npm dicomweb-client@0.11.3 (a peer nobody here wrote) against the built
# tcia-bridge (DICOMweb only) in front of the built tcia-emulator: searchForStudies,
# searchForSeries, retrieveSeriesMetadata, retrieveInstanceFrames, retrieveInstance,
# searchForInstances. npm packages go to a cache dir outside the repo (reused between runs).
set -euo pipefail
BUILD=${BRIDGE_BINARY_DIR:?}
SRC=${BRIDGE_SOURCE_DIR:?}
CACHE=${TCIA_BRIDGE_CACHE:-$HOME/.cache/tcia-bridge}/dicomweb-client
WORK=$(mktemp -d)
source "$(dirname "${BASH_SOURCE[0]}")/common.bash"

# 1. The npm peer (cached).
mkdir -p "$CACHE"
if [ ! -f "$CACHE/node_modules/dicomweb-client/package.json" ] || [ ! -f "$CACHE/node_modules/xhr2/package.json" ]; then
  cp "$SRC/tests/web/package.json" "$CACHE/package.json"
  (cd "$CACHE" && timeout 300 npm install --no-audit --no-fund --loglevel=error >/dev/null)
fi


# 2. Emulator + bridge on loopback.
EPORT=$(free_port)
"$BUILD/emulator/tcia-emulator" serve --data "$BUILD/sample-data" --port "$EPORT" --bind 127.0.0.1 >"$WORK/emulator.log" 2>&1 &
PIDS+=($!)
wait_http "http://127.0.0.1:$EPORT/nbia-api/services/v4/getCollectionValues" 20
HPORT=$(free_port)
# BRIDGE_SOURCE=idc (tests/blackbox/idc_dicomweb_client.sh): the same checks over the IDC source.
if [ "${BRIDGE_SOURCE:-nbia}" = idc ]; then
  SOURCE_FLAGS=(--source idc --idc-api-url "http://127.0.0.1:$EPORT/v3" --idc-bucket-url "http://127.0.0.1:$EPORT/s3/{bucket}")
else
  SOURCE_FLAGS=(--tcia-url "http://127.0.0.1:$EPORT/nbia-api/services/v4")
fi
"$BUILD/tcia-bridge" --no-dimse "${SOURCE_FLAGS[@]}" --http-port "$HPORT" \
  --bind 127.0.0.1 --cache-dir "$WORK/cache" >"$WORK/bridge.log" 2>&1 &
PIDS+=($!)
wait_http "http://127.0.0.1:$HPORT/health" 30 || { cat "$WORK/bridge.log"; exit 1; }

# 3. The checks (two patients: explicit LE CT, JPEG-LS MR).
status=0
for patient in TCGA-DM-0001 RIDER-D-1001; do
  NODE_PATH="$CACHE/node_modules" timeout 120 node "$SRC/tests/web/dicomweb-client-check.cjs" \
    "http://127.0.0.1:$HPORT/dicom-web" "$patient" || status=1
done
if [ $status -ne 0 ]; then
  echo "--- bridge log"; tail -50 "$WORK/bridge.log"
fi
exit $status
