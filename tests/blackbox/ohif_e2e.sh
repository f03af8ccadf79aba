#!/usr/bin/env bash
# labels: slow
# Black-box: OHIF 3.13.2 (prebuilt @ohif/app dist, a peer nobody here wrote) in headless
# Chromium against the built tcia-bridge + tcia-emulator. OHIF is served from a DIFFERENT
# origin (its own port) than the bridge, so every DICOMweb call needs the bridge's CORS.
# Checks: (1) the study list shows the sample patients (DOM dump); (2) the viewer renders a CT
# slice: the viewport region of a screenshot has varied, non-blank pixels (ImageMagick
# standard deviation). The npm tarball is cached under $HOME/.cache/tcia-bridge/ohif.
# Artifacts (screenshot, DOM, logs) stay in $OHIF_E2E_OUT (default: a temp dir, printed).
# OHIF_E2E_AUTH=1 (tests/blackbox/ohif_auth_e2e.sh): the bridge runs with HTTP authentication
# (--bearer-token); curl checks the 401 without it; OHIF gets the token (a) in the viewer through
# its own `?token=` URL parameter (OHIF 3.13 Mode route: userAuthenticationService sends
# "Authorization: Bearer" on every DICOMweb request) and (b) for the study list, which OHIF 3.13
# authenticates only through an OIDC login, through a few lines in app-config.js that add the
# header to XHRs aimed at the bridge (stand-in for the IdP; the dicomweb source's
# `requestOptions.auth` is not read by OHIF 3.13's QIDO/WADO clients). See docs/security.md.
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
AUTH_ARGS=() CURL_AUTH=() TOKEN=""
if [ "${OHIF_E2E_AUTH:-0}" = 1 ]; then
  TOKEN=$(openssl rand -hex 24)
  AUTH_ARGS=(--bearer-token "$TOKEN")
  CURL_AUTH=(-H "Authorization: Bearer $TOKEN")
fi
# BRIDGE_SOURCE=idc (tests/blackbox/idc_ohif_e2e.sh): the same viewer checks over the IDC source.
if [ "${BRIDGE_SOURCE:-nbia}" = idc ]; then
  SOURCE_FLAGS=(--source idc --idc-api-url "http://127.0.0.1:$EPORT/v3" --idc-bucket-url "http://127.0.0.1:$EPORT/s3/{bucket}")
else
  SOURCE_FLAGS=(--tcia-url "$TCIA")
fi
"$BUILD/tcia-bridge" --no-dimse "${SOURCE_FLAGS[@]}" --http-port "$HPORT" --bind 127.0.0.1 --cache-dir "$WORK/cache" \
  "${AUTH_ARGS[@]}" >"$OUT/bridge.log" 2>&1 &
PIDS+=($!)
wait_http "http://127.0.0.1:$HPORT/health" 30
if [ -n "$TOKEN" ]; then
  code=$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$HPORT/dicom-web/studies?limit=1")
  [ "$code" = 401 ] || { echo "FAIL: QIDO without the token answered $code, expected 401" >&2; exit 1; }
  echo "ok   auth on: QIDO without the token -> 401"
fi
# The operator's view of the harvest: GET /status (polled with a deadline, no fixed sleep).
for _ in $(seq 600); do
  curl -sf "${CURL_AUTH[@]}" "http://127.0.0.1:$HPORT/status" | grep -q '"studyLevelComplete":true' && break
  sleep 0.1
done
curl -sf "${CURL_AUTH[@]}" "http://127.0.0.1:$HPORT/status" | grep -q '"studyLevelComplete":true' \
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

# Auth on: first without any token OHIF's study list must stay empty (the bridge answers 401),
# then with the token (see the header) it must list every study.
if [ -n "$TOKEN" ]; then
  chrome --dump-dom "http://127.0.0.1:$SPORT/" >"$OUT/studylist-no-token.html"
  if grep -q "TCGA-DM-0001" "$OUT/studylist-no-token.html"; then echo "FAIL: study list without a token shows patients" >&2; exit 1; fi
  echo "ok   auth on: OHIF without a token lists no study"
fi
if [ -n "$TOKEN" ]; then
  # Study list only (see the header): what an OIDC login would give OHIF, for XHRs to the bridge.
  cat >>"$WORK/app-config.js" <<JS
(function () {
  const root = 'http://127.0.0.1:$HPORT/', open = XMLHttpRequest.prototype.open, send = XMLHttpRequest.prototype.send;
  XMLHttpRequest.prototype.open = function (method, url) { this.__bridge = String(url).startsWith(root); return open.apply(this, arguments); };
  XMLHttpRequest.prototype.send = function () {
    if (this.__bridge && location.pathname === '/') this.setRequestHeader('Authorization', 'Bearer $TOKEN');
    return send.apply(this, arguments);
  };
})();
JS
fi
# 4. Study list.
chrome --dump-dom "http://127.0.0.1:$SPORT/" >"$OUT/studylist.html"
# Every study the bridge lists for OHIF's own query must be a row (by its description).
curl -sf "${CURL_AUTH[@]}" "http://127.0.0.1:$HPORT/dicom-web/studies?limit=101&offset=0&fuzzymatching=false&includefield=00081030,00080060,00080090,00100030" \
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
# IDC's index has no PatientName (docs/idc.md): on that source OHIF's list shows no names.
if [ "${BRIDGE_SOURCE:-nbia}" != idc ]; then
  grep -q "TCGA-DM-0001" "$OUT/studylist.html" || { echo "FAIL: study list lacks patient TCGA-DM-0001" >&2; exit 1; }
fi
if grep -q "Restricted-Demo\|RESTR-0001" "$OUT/studylist.html"; then echo "FAIL: restricted patient listed" >&2; exit 1; fi
echo "ok   restricted collection not listed"

# 5. Viewer: a CT slice must be drawn in the viewport.
VIEWER_URL="http://127.0.0.1:$SPORT/viewer?StudyInstanceUIDs=$CT_STUDY"
[ -z "$TOKEN" ] || VIEWER_URL="$VIEWER_URL&token=$TOKEN"   # OHIF's own token parameter, no shim
chrome --screenshot="$OUT/viewer.png" "$VIEWER_URL" >/dev/null
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
