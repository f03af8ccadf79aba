#!/usr/bin/env bash
# Observability black-box test: the built tcia-bridge in front of the built tcia-emulator, seen by
# peers nobody here wrote: a real Prometheus (Debian `prometheus`) scrapes /metrics and its API
# shows the target up and bridge metrics present; `promtool check metrics` accepts the text;
# DCMTK echoscu/findscu/movescu drive DIMSE; curl drives DICOMweb. Checks along the way: one log
# file gets JSON lines from every component with request/association ids and no patient names;
# the audit file records each query and retrieve; SIGHUP adds a C-MOVE peer without a restart;
# a bad config is refused naming the key; --version prints the CMake project version.
set -euo pipefail
B=${BRIDGE_BINARY_DIR:?set BRIDGE_BINARY_DIR}
S=${BRIDGE_SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}
DATA=${DATA:-$B/sample-data}
export TCP_NODELAY=1
WORK=$(mktemp -d /tmp/observability-bb-XXXXXX)
source "$(dirname "${BASH_SOURCE[0]}")/common.bash"
fail() {
  echo "FAIL: $*" >&2
  for f in bridge.out bridge.log prometheus.log; do echo "--- $f" >&2; tail -20 "$WORK/$f" >&2 2>/dev/null || true; done
  exit 1
}
# poll SECONDS COMMAND...: until COMMAND succeeds; 1 on timeout.
poll() {
  local deadline=$((SECONDS + $1)); shift
  until "$@" >/dev/null 2>&1; do [ $SECONDS -lt $deadline ] || return 1; sleep 0.2; done
}
command -v prometheus >/dev/null && command -v promtool >/dev/null || fail "prometheus/promtool not installed (scripts/install-deps.sh)"
ensure_sample_data

# ---- --version and configuration errors naming the key
project_version=$(sed -n 's/^project(tcia_bridge VERSION \([0-9.]*\).*/\1/p' "$S/CMakeLists.txt")
[ "$("$B/tcia-bridge" --version)" = "tcia-bridge $project_version" ] || fail "--version: $("$B/tcia-bridge" --version)"
ok "--version prints $project_version"
echo '{"log": {"format": "yaml"}}' > "$WORK/bad.json"
if "$B/tcia-bridge" --config "$WORK/bad.json" > "$WORK/bad.out" 2>&1; then fail "bad config accepted"; fi
grep -q 'config.log.format: must be' "$WORK/bad.out" || fail "bad config message: $(cat "$WORK/bad.out")"
echo '{"dimse": {"port": 9000}, "web": {"port": 9000}}' > "$WORK/bad2.json"
if "$B/tcia-bridge" --config "$WORK/bad2.json" > "$WORK/bad2.out" 2>&1; then fail "port clash accepted"; fi
grep -q 'config.web.port: same address and port' "$WORK/bad2.out" || fail "port clash message: $(cat "$WORK/bad2.out")"
ok "bad configurations refused naming the key"

start_emulator || fail "emulator did not start"

start_storescp NEWPACS "$WORK/moved" || fail "storescp did not start"
NEW=$STORE_PORT

DIMSE=$(free_port); HTTP=$(free_port)
write_config() {  # write_config PEERS_JSON
  cat > "$WORK/bridge.json" <<JSON
{
  "tcia": {"baseUrl": "http://127.0.0.1:$EMU/nbia-api/services/v4", "maxRetries": 0},
  "dimse": {"aeTitle": "TCIA", "port": $DIMSE, "peers": $1},
  "web": {"port": $HTTP},
  "cache": {"directory": "$WORK/cache"},
  "log": {"level": "debug", "sink": "file", "file": "$WORK/bridge.log", "format": "json",
          "levels": {"dcmtk": "warn"}},
  "audit": {"file": "$WORK/audit.jsonl"}
}
JSON
}
write_config '{}'
"$B/tcia-bridge" --config "$WORK/bridge.json" > "$WORK/bridge.out" 2>&1 &
BRIDGE=$!
PIDS+=($BRIDGE)
wait_http "http://127.0.0.1:$HTTP/health" 30 || fail "bridge did not start"
ok "bridge up (DIMSE $DIMSE, HTTP $HTTP)"

# ---- traffic on both faces
echoscu -aec TCIA 127.0.0.1 "$DIMSE" || fail "echoscu"
FIRST=$(find "$DATA" -name '*.dcm' -print -quit)
tag() { dcmdump +P "$1" "$FIRST" | head -1 | sed 's/.*\[\(.*\)\].*/\1/'; }
STUDY=$(tag StudyInstanceUID); PATIENT=$(tag PatientID)
[ -n "$STUDY" ] && [ -n "$PATIENT" ] || fail "no study in the sample data"
findscu -S -aec TCIA -aet BBSCU -k QueryRetrieveLevel=STUDY -k PatientID="$PATIENT" -k StudyInstanceUID -k PatientName \
  127.0.0.1 "$DIMSE" > "$WORK/find.log" 2>&1 || fail "findscu: $(tail -3 "$WORK/find.log")"
curl -sf -o /dev/null -H 'Accept: application/dicom+json' \
  "http://127.0.0.1:$HTTP/dicom-web/studies?PatientID=$PATIENT&includefield=PatientName" || fail "QIDO"
curl -sf -o "$WORK/study.multipart" -H 'Accept: multipart/related; type="application/dicom"' \
  "http://127.0.0.1:$HTTP/dicom-web/studies/$STUDY" || fail "WADO-RS study"
ok "C-ECHO, C-FIND, QIDO-RS, WADO-RS answered"

# ---- SIGHUP: a new C-MOVE peer without a restart
if movescu -S -aec TCIA -aet BBSCU -aem NEWPACS -k QueryRetrieveLevel=STUDY -k StudyInstanceUID="$STUDY" \
  127.0.0.1 "$DIMSE" > "$WORK/move-before.log" 2>&1; then fail "C-MOVE to a peer not yet configured succeeded"; fi
grep -q "Move Destination Unknown\|MoveDestinationUnknown\|a801" "$WORK/move-before.log" || fail "expected A801: $(tail -3 "$WORK/move-before.log")"
write_config "{\"NEWPACS\": \"127.0.0.1:$NEW\"}"
kill -HUP "$BRIDGE"
poll 30 grep -q 'configuration reloaded' "$WORK/bridge.log" || fail "no reload line in the log"
kill -0 "$BRIDGE" || fail "bridge died on SIGHUP"
movescu -S -aec TCIA -aet BBSCU -aem NEWPACS -k QueryRetrieveLevel=STUDY -k StudyInstanceUID="$STUDY" \
  127.0.0.1 "$DIMSE" > "$WORK/move.log" 2>&1 || fail "C-MOVE after SIGHUP: $(tail -3 "$WORK/move.log")"
moved=$(find "$WORK/moved" -type f | wc -l)
[ "$moved" -gt 0 ] || fail "nothing arrived at the new peer"
ok "SIGHUP added peer NEWPACS; C-MOVE stored $moved instances there, bridge pid unchanged"

# ---- /metrics: promtool accepts it, with the families of every component
curl -sf "http://127.0.0.1:$HTTP/metrics" > "$WORK/metrics.txt" || fail "/metrics"
promtool check metrics < "$WORK/metrics.txt" > "$WORK/promtool.log" 2>&1 || fail "promtool: $(cat "$WORK/promtool.log")"
for m in 'tcia_bridge_http_requests_total{route="wado-study",method="GET",status="200"}' \
         'tcia_bridge_dimse_operations_total{operation="C-FIND",status="0000"}' \
         'tcia_bridge_dimse_operations_total{operation="C-MOVE",status="0000"}' \
         'tcia_bridge_tcia_requests_total{endpoint=' 'tcia_bridge_tcia_request_duration_seconds_bucket{' \
         'tcia_bridge_cache_stores_total ' 'tcia_bridge_config_reloads_total{result="ok"} 1' \
         'tcia_bridge_audit_events_total{'; do
  grep -qF "$m" "$WORK/metrics.txt" || fail "/metrics lacks $m"
done
ok "promtool check metrics passes ($(grep -vc '^#' "$WORK/metrics.txt") samples)"
curl -sf "http://127.0.0.1:$HTTP/ready" | grep -q '"ready"' || fail "/ready"
ok "/ready"

# ---- a real Prometheus scrapes the bridge
PROM=$(free_port)
cat > "$WORK/prometheus.yml" <<YML
global: {scrape_interval: 1s, scrape_timeout: 1s, evaluation_interval: 1s}
scrape_configs:
  - job_name: tcia-bridge
    static_configs: [{targets: ["127.0.0.1:$HTTP"]}]
YML
prometheus --config.file="$WORK/prometheus.yml" --web.listen-address="127.0.0.1:$PROM" \
  --storage.tsdb.path="$WORK/prom-data" > "$WORK/prometheus.log" 2>&1 &
PIDS+=($!)
wait_http "http://127.0.0.1:$PROM/-/ready" 60 || fail "prometheus did not start"
target_up() { curl -sf "http://127.0.0.1:$PROM/api/v1/targets" | grep -q '"health":"up"'; }
poll 90 target_up || fail "prometheus target not up: $(curl -s "http://127.0.0.1:$PROM/api/v1/targets")"
has_metric() {
  curl -sf "http://127.0.0.1:$PROM/api/v1/query" --data-urlencode 'query=tcia_bridge_dimse_operations_total{operation="C-MOVE"}' \
    | grep -q '"operation":"C-MOVE"'
}
poll 60 has_metric || fail "prometheus has no tcia_bridge_dimse_operations_total"
ok "Prometheus $(prometheus --version 2>&1 | head -1 | awk '{print $3}') scrapes the bridge: target up, tcia_bridge_dimse_operations_total present"

# ---- one log sink: every component, with ids, no patient names
grep -q '"logger":"bridge.tcia.http","context":"h-[0-9]*","message":"GET /nbia-api/services/v4/' "$WORK/bridge.log" \
  || fail "no TCIA request line with a request id"
grep -q '"logger":"bridge.dimse.[a-z]*","context":"a-[0-9]*"' "$WORK/bridge.log" || fail "no DIMSE line with an association id"
grep -q '"logger":"bridge.web","context":"h-[0-9]*"' "$WORK/bridge.log" || fail "no web line with a request id"
grep -q '"logger":"bridge.app"' "$WORK/bridge.log" || fail "no app line"
NAME=$(tag PatientName)
if [ -n "$NAME" ] && grep -qF "$NAME" "$WORK/bridge.log"; then fail "patient name $NAME in the operational log"; fi
ok "log: $(wc -l < "$WORK/bridge.log") JSON lines from tcia, dimse, web, app with request/association ids, no patient names"

# ---- audit trail
grep -q '"event":"Query","eventId":"110112".*"interface":"dimse","principal":"BBSCU"' "$WORK/audit.jsonl" || fail "no DIMSE Query audit"
grep -q '"event":"Query".*"interface":"dicomweb"' "$WORK/audit.jsonl" || fail "no QIDO audit"
grep -q '"event":"DICOM Instances Transferred".*"interface":"dicomweb".*"target":"wado-study"' "$WORK/audit.jsonl" || fail "no WADO audit"
grep -q "\"event\":\"DICOM Instances Transferred\".*\"destination\":\"NEWPACS\".*\"status\":\"0000\",\"instances\":$moved" "$WORK/audit.jsonl" \
  || fail "no C-MOVE audit with $moved instances: $(grep NEWPACS "$WORK/audit.jsonl")"
grep -q '"outcome":8.*"destination":"NEWPACS","status":"A801"' "$WORK/audit.jsonl" || fail "refused C-MOVE not audited"
ok "audit: $(wc -l < "$WORK/audit.jsonl") lines; sample: $(grep NEWPACS "$WORK/audit.jsonl" | tail -1)"
echo "sample log line: $(grep bridge.tcia.http "$WORK/bridge.log" | head -1)"
