#!/usr/bin/env bash
# HTTP authentication of DICOMweb, black-box, with curl as the client: secrets hashed with stock
# tools (sha256sum for a bearer token, `openssl kdf ... PBKDF2` for a Basic password), one token
# from --bearer-token, one from the environment (tokenEnv). Checks 401 + WWW-Authenticate + CORS +
# JSON without credentials, open preflight and public paths, each credential kind, and that a
# token's collection grant (and only it) shows the restricted collection.
set -euo pipefail
B=${BRIDGE_BINARY_DIR:?set BRIDGE_BINARY_DIR}
DATA=${DATA:-$B/sample-data}
WORK=$(mktemp -d /tmp/auth-bb-XXXXXX)
source "$(dirname "${BASH_SOURCE[0]}")/common.bash"
fail() { echo "FAIL: $*" >&2; echo "--- bridge log" >&2; tail -20 "$WORK/bridge.log" >&2 || true; exit 1; }
ensure_sample_data
cd "$WORK"

start_emulator || fail "emulator did not start"

FLAG_TOKEN=$(openssl rand -hex 24)
RESEARCH_TOKEN=$(openssl rand -hex 24)
RESEARCH_SHA=$(printf %s "$RESEARCH_TOKEN" | sha256sum | cut -d' ' -f1)
ENV_TOKEN=$(openssl rand -hex 24)
PW='correct horse battery staple'
SALT=$(openssl rand -hex 8)
KDF=$(openssl kdf -keylen 32 -kdfopt digest:SHA256 -kdfopt "pass:$PW" -kdfopt "salt:$SALT" -kdfopt iter:100000 PBKDF2)
cat > bridge.json <<JSON
{
  "tcia": { "tokenUrl": "http://127.0.0.1:$EMU/nbia-api/oauth/token", "username": "emulator-user", "password": "emulator-password" },
  "access": { "restrictedCollections": ["Restricted-Demo"] },
  "auth": {
    "enabled": true,
    "bearerTokens": [
      { "name": "research", "sha256": "$RESEARCH_SHA", "collections": ["Restricted-Demo"] },
      { "name": "pipeline", "tokenEnv": "BB_PIPELINE_TOKEN" }
    ],
    "basicUsers": [ { "name": "alice", "pbkdf2": "pbkdf2-sha256\$100000\$$SALT\$$KDF" } ]
  }
}
JSON
grep -q "$RESEARCH_TOKEN" bridge.json && fail "the config holds a token in clear"
BB_PIPELINE_TOKEN=$ENV_TOKEN "$B/tcia-bridge" --config bridge.json --tcia-url "http://127.0.0.1:$EMU/nbia-api/services/v4" \
  --no-dimse --http-port 0 --cache-dir "$WORK/cache" --bearer-token "$FLAG_TOKEN" > bridge.log 2>&1 &
PIDS+=($!)
wait_log bridge.log "listening on" 30 || true
PORT=$(grep -o 'listening on http://127.0.0.1:[0-9]*' bridge.log | sed 's/.*://') || true
[ -n "$PORT" ] || fail "bridge did not start"
grep -q "authentication required" bridge.log || fail "start line does not say authentication is on"
BASE="http://127.0.0.1:$PORT"
Q="$BASE/dicom-web/studies?PatientID=TCGA-DM-0001"
ok "bridge with auth on at $BASE"

# No credentials: 401, challenge, CORS, JSON.
code=$(curl -sS -m 30 -D h401 -o b401 -w '%{http_code}' -H 'Origin: http://viewer.example' "$Q")
[ "$code" = 401 ] || fail "no credentials: HTTP $code"
grep -qi '^WWW-Authenticate: Bearer realm="tcia-bridge"' h401 || fail "no Bearer challenge: $(cat h401)"
grep -qi '^WWW-Authenticate: Basic realm="tcia-bridge"' h401 || fail "no Basic challenge"
grep -qi '^Access-Control-Allow-Origin: \*' h401 || fail "401 without CORS"
grep -q '"error":"unauthenticated"' b401 || fail "401 body: $(cat b401)"
ok "no credentials -> 401, WWW-Authenticate (Bearer, Basic), CORS, JSON body"
code=$(curl -sS -m 30 -o /dev/null -w '%{http_code}' -X OPTIONS -H 'Origin: http://viewer.example' \
  -H 'Access-Control-Request-Method: GET' -H 'Access-Control-Request-Headers: authorization' "$Q")
[ "$code" = 204 ] || fail "preflight: HTTP $code"
for p in / /health; do
  code=$(curl -sS -m 30 -o /dev/null -w '%{http_code}' "$BASE$p"); [ "$code" = 200 ] || fail "public $p: HTTP $code"
done
code=$(curl -sS -m 30 -o /dev/null -w '%{http_code}' "$BASE/wado?requestType=WADO&studyUID=1&seriesUID=1&objectUID=1")
[ "$code" = 401 ] || fail "WADO-URI without credentials: HTTP $code"
ok "preflight 204, / and /health open, WADO-URI 401"

# /status: liveness for anyone (monitoring without a token), details only with credentials.
[ "$(curl -sS -m 30 -w ' %{http_code}' "$BASE/status")" = '{"status":"ok"} 200' ] || fail "anonymous /status: $(curl -sS -m 30 "$BASE/status" | head -c 200)"
curl -sS -m 30 "$BASE/" | grep -q '<h2>Connect</h2>' && fail "anonymous landing page shows the DIMSE connection details"
curl -sf -m 30 -H "Authorization: Bearer $FLAG_TOKEN" "$BASE/status" | jq -e 'has("collections") and has("dimse")' >/dev/null \
  || fail "authenticated /status lacks the details"
ok "/status: {\"status\":\"ok\"} without credentials, full document with a token"

expect() {  # label expected-code curl-args...
  local label=$1 want=$2; shift 2
  local code; code=$(curl -sS -m 60 -o body.json -w '%{http_code}' "$@" "$Q")
  [ "$code" = "$want" ] || fail "$label: HTTP $code, expected $want ($(head -c 200 body.json))"
  if [ "$want" = 200 ]; then grep -q '1.2.826.0.1.3680043.10.1234.1.1' body.json || fail "$label: study missing"; fi
  ok "$label -> $want"
}
expect "--bearer-token" 200 -H "Authorization: Bearer $FLAG_TOKEN"
expect "token from the environment (tokenEnv)" 200 -H "Authorization: Bearer $ENV_TOKEN"
expect "token hashed in config" 200 -H "Authorization: Bearer $RESEARCH_TOKEN"
expect "the hash used as a token" 401 -H "Authorization: Bearer $RESEARCH_SHA"
expect "unknown token" 401 -H "Authorization: Bearer $(openssl rand -hex 24)"
expect "Basic user (PBKDF2 from openssl kdf)" 200 -u "alice:$PW"
expect "Basic wrong password" 401 -u "alice:wrong"

# Collection scope per principal: only the research token sees the restricted collection.
R="$BASE/dicom-web/studies?StudyInstanceUID=1.2.826.0.1.3680043.10.1234.1.9"
curl -sf -m 60 -H "Authorization: Bearer $RESEARCH_TOKEN" "$R" | grep -q '1.2.826.0.1.3680043.10.1234.1.9' \
  || fail "granted token does not see the restricted study"
curl -sf -m 60 -H "Authorization: Bearer $FLAG_TOKEN" "$R" | grep -q '1.2.826.0.1.3680043.10.1234.1.9' \
  && fail "--bearer-token (default scope) sees the restricted study"
ok "restricted collection: visible to the granted token only"
echo "ALL HTTP AUTH BLACK-BOX CHECKS PASSED"
