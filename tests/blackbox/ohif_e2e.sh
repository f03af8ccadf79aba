#!/usr/bin/env bash
# labels: slow
# Black-box: OHIF 3.13.2 (prebuilt @ohif/app dist, a peer nobody here wrote) in headless
# Chromium against the built tcia-bridge + tcia-emulator. OHIF is served from a DIFFERENT
# origin (its own port) than the bridge, so every DICOMweb call needs the bridge's CORS.
# Checks: (1) the study list shows the sample patients (DOM dump); (2) the viewer renders a CT
# slice: the viewport region of a screenshot has varied, non-blank pixels (ImageMagick
# standard deviation). The npm tarball is cached under $HOME/.cache/tcia-bridge/ohif.
# Artifacts (screenshot, DOM, logs) stay in $OHIF_E2E_OUT (default: a temp dir, printed).
set -euo pipefail
BUILD=${BRIDGE_BINARY_DIR:?}
SRC=${BRIDGE_SOURCE_DIR:?}
CACHE=${TCIA_BRIDGE_CACHE:-$HOME/.cache/tcia-bridge}/ohif
OUT=${OHIF_E2E_OUT:-$(mktemp -d /tmp/ohif-e2e.XXXXXX)}
WORK=$(mktemp -d)
VERSION=3.13.2
CT_STUDY=1.2.826.0.1.3680043.10.1234.1.1   # TCGA-DM-0001, CT CHEST W CONTRAST (sample data)
DEADLINE=$(( $(date +%s) + 600 ))           # the whole test stops itself after 10 minutes
source "$(dirname "${BASH_SOURCE[0]}")/common.bash"
remaining() { echo $(( DEADLINE - $(date +%s) )); }
mkdir -p "$OUT" "$CACHE"
echo "artifacts: $OUT"

# 1. OHIF dist from the npm tarball (cached between runs).
DIST="$CACHE/$VERSION/package/dist"
if [ ! -f "$DIST/index.html" ]; then
  if [ ! -f "$CACHE/ohif-app-$VERSION.tgz" ]; then
    (cd "$CACHE" && timeout 600 npm pack "@ohif/app@$VERSION" --silent >/dev/null)
  fi
  rm -rf "$CACHE/$VERSION" && mkdir -p "$CACHE/$VERSION"
  tar xzf "$CACHE/ohif-app-$VERSION.tgz" -C "$CACHE/$VERSION"
fi

# 2. Emulator and a bridge started as a service would be: empty cache directory, no `sync`.
# OHIF's work list asks /studies with no filter: answered from the harvest the bridge runs by
# itself on start (issue 8); until it is done such answers carry a Warning: 299.
EPORT=$(free_port)
"$BUILD/emulator/tcia-emulator" serve --data "$BUILD/sample-data" --port "$EPORT" --bind 127.0.0.1 >"$OUT/emulator.log" 2>&1 &
PIDS+=($!)
wait_http "http://127.0.0.1:$EPORT/nbia-api/services/v4/getCollectionValues" 20
TCIA="http://127.0.0.1:$EPORT/nbia-api/services/v4"
HPORT=$(free_port)
"$BUILD/tcia-bridge" --no-dimse --tcia-url "$TCIA" --http-port "$HPORT" --bind 127.0.0.1 --cache-dir "$WORK/cache" \
  >"$OUT/bridge.log" 2>&1 &
PIDS+=($!)
wait_http "http://127.0.0.1:$HPORT/health" 30
# The operator's view of the harvest: GET /status (polled with a deadline, no fixed sleep).
for _ in $(seq 600); do
  curl -sf "http://127.0.0.1:$HPORT/status" | grep -q '"studyLevelComplete":true' && break
  sleep 0.1
done
curl -sf "http://127.0.0.1:$HPORT/status" | grep -q '"studyLevelComplete":true' \
  || { echo "the harvest did not reach the study level within 60 s" >&2; curl -s "http://127.0.0.1:$HPORT/status" >&2; exit 1; }

# 3. OHIF on another origin, configured per toolchain.md 5.
SPORT=$(free_port)
sed -e "s#https://d14fa38qiwhyfd.cloudfront.net/dicomweb#http://127.0.0.1:$HPORT/dicom-web#g" \
    -e "s#staticWado: true#staticWado: false#" -e "s#supportsWildcard: true#supportsWildcard: false#" \
    "$DIST/app-config.js" >"$WORK/app-config.js"
grep -q "127.0.0.1:$HPORT/dicom-web" "$WORK/app-config.js" || { echo "app-config.js did not take the bridge URL" >&2; exit 1; }
node "$SRC/tests/web/ohif-static-server.cjs" "$DIST" "$WORK/app-config.js" "$SPORT" >"$OUT/static.log" 2>&1 &
PIDS+=($!)
wait_http "http://127.0.0.1:$SPORT/" 20

chrome() {  # extra args...
  local t; t=$(remaining); [ "$t" -gt 10 ] || { echo "time limit reached" >&2; exit 1; }
  [ "$t" -gt 150 ] && t=150
  timeout "$t" chromium --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
    --disable-background-networking --disable-component-update --disable-sync \
    --user-data-dir="$(mktemp -d "$WORK/chrome.XXXXXX")" --window-size=1400,900 --virtual-time-budget=30000 "$@" \
    2>>"$OUT/chromium.log"
}

# 4. Study list.
chrome --dump-dom "http://127.0.0.1:$SPORT/" >"$OUT/studylist.html"
# Every study the bridge lists for OHIF's own query must be a row (by its description).
curl -sf "http://127.0.0.1:$HPORT/dicom-web/studies?limit=101&offset=0&fuzzymatching=false&includefield=00081030,00080060,00080090,00100030" \
  >"$OUT/qido-studies.json"
python3 - "$OUT/qido-studies.json" "$OUT/studylist.html" <<'PY' || exit 1
import html, json, re, sys
studies = json.load(open(sys.argv[1]))
dom = html.unescape(re.sub(r"<[^>]+>", " ", open(sys.argv[2], encoding="utf-8").read()))
missing = [s["00081030"]["Value"][0] for s in studies
           if "Value" in s.get("00081030", {}) and s["00081030"]["Value"][0] not in dom]
if len(studies) < 5 or missing:
    print(f"FAIL: {len(studies)} studies from QIDO; rows missing from the study list: {missing}", file=sys.stderr)
    sys.exit(1)
print(f"ok   study list shows all {len(studies)} studies")
PY
grep -q "TCGA-DM-0001" "$OUT/studylist.html" || { echo "FAIL: study list lacks patient TCGA-DM-0001" >&2; exit 1; }
if grep -q "Restricted-Demo\|RESTR-0001" "$OUT/studylist.html"; then echo "FAIL: restricted patient listed" >&2; exit 1; fi
echo "ok   restricted collection not listed"

# 5. Viewer: a CT slice must be drawn in the viewport.
chrome --screenshot="$OUT/viewer.png" "http://127.0.0.1:$SPORT/viewer?StudyInstanceUIDs=$CT_STUDY" >/dev/null
[ -s "$OUT/viewer.png" ] || { echo "FAIL: no screenshot" >&2; exit 1; }
# Viewport region (right of the study browser, below the toolbar); a blank or uniform
# viewport has a standard deviation near 0.
read -r sd colors < <(/usr/bin/convert "$OUT/viewer.png" -crop 600x400+450+250 +repage -colorspace Gray \
  -format "%[fx:standard_deviation] %k\n" info:)
echo "viewport region: standard deviation $sd, $colors grey levels"
python3 -c "import sys; sys.exit(0 if float('$sd') > 0.05 and int('$colors') > 8 else 1)" \
  || { echo "FAIL: viewport looks blank (sd=$sd, colors=$colors)" >&2; exit 1; }
echo "ok   OHIF viewer rendered the CT study ($OUT/viewer.png)"
# Keep artifacts only when asked for (OHIF_E2E_OUT) or on failure (this line is not reached).
[ -n "${OHIF_E2E_OUT:-}" ] || rm -rf "$OUT"
