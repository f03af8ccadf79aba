#!/usr/bin/env bash
# TLS on both faces, with peers nobody here wrote: a throw-away CA, server, client and rogue
# certificates made with openssl at test time; DICOMweb over HTTPS checked with curl and
# openssl s_client (TLS 1.2+, BCP 195 suites only, client certificate required with --tls-ca);
# DICOM TLS checked with DCMTK echoscu/findscu (+tls ... +cf CA) and movescu (no TLS options in
# DCMTK 3.6.7: through tests/support/tls_tunnel.py; the storescp destination stays plain); Chromium headless against HTTPS trusting exactly the server key (SPKI pin, see
# docs/security.md "Testing with Chromium"), and refusing it without the pin.
set -euo pipefail
B=${BRIDGE_BINARY_DIR:?set BRIDGE_BINARY_DIR}
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
DATA=${DATA:-$B/sample-data}
export TCP_NODELAY=1
WORK=$(mktemp -d /tmp/tls-bb-XXXXXX)
source "$(dirname "${BASH_SOURCE[0]}")/common.bash"
LOGS=()
fail() { echo "FAIL: $*" >&2; for l in "${LOGS[@]}"; do echo "--- $l" >&2; tail -20 "$l" >&2 || true; done; exit 1; }
DEADLINE=$(( $(date +%s) + 600 ))
ensure_sample_data

# ---- certificates (2048-bit RSA, valid 2 days)
cd "$WORK"
openssl req -x509 -newkey rsa:2048 -nodes -keyout ca.key -out ca.pem -days 2 -subj "/CN=tcia-bridge test CA" 2>/dev/null
issue() {  # name subject extendedKeyUsage [san]
  openssl req -newkey rsa:2048 -nodes -keyout "$1.key" -out "$1.csr" -subj "$2" 2>/dev/null
  { echo "basicConstraints=CA:FALSE"; echo "extendedKeyUsage=$3"; [ -z "${4:-}" ] || echo "subjectAltName=$4"; } > "$1.ext"
  openssl x509 -req -in "$1.csr" -CA ca.pem -CAkey ca.key -CAcreateserial -out "$1.pem" -days 2 -extfile "$1.ext" 2>/dev/null
}
issue server "/CN=127.0.0.1" serverAuth "IP:127.0.0.1,DNS:localhost"
issue client "/CN=BBSCU" clientAuth
# A client certificate from a CA the bridge does not trust.
openssl req -x509 -newkey rsa:2048 -nodes -keyout rogue.key -out rogue.pem -days 2 -subj "/CN=ROGUE" 2>/dev/null
ok "throw-away CA, server, client and rogue certificates"

# ---- emulator, plain storescp as C-MOVE destination
start_emulator || fail "emulator did not start"
TCIA="http://127.0.0.1:$EMU/nbia-api/services/v4"
start_storescp DEST moved || fail "storescp did not start"
DEST=$STORE_PORT

# start_bridge LOG ARGS...: starts the bridge, waits for its "listening" line.
start_bridge() {
  local log=$1; shift
  LOGS+=("$WORK/$log")
  "$B/tcia-bridge" --tcia-url "$TCIA" --cache-dir "$WORK/cache-$log" --destination "DEST=127.0.0.1:$DEST" "$@" > "$log" 2>&1 &
  PIDS+=($!)
  for _ in $(seq 300); do grep -q "listening on" "$log" 2>/dev/null && return 0; kill -0 "${PIDS[-1]}" 2>/dev/null || break; sleep 0.1; done
  fail "bridge did not start: $(cat "$log")"
}
port_of() { grep -o "$2 listening on [a-z:/]*127.0.0.1:[0-9]*" "$1" | head -1 | sed 's/.*://'; }

# ================= bridge A: TLS only, client certificates required (--tls-ca)
# Short ACSE timeout: bounds the TLS handshake of a silent client (checked below).
echo '{"dimse": {"acseTimeoutSeconds": 5}}' > a.json
start_bridge a.log --config a.json --http-port off --dimse-port off --https-port 0 --dicom-tls-port 0 \
  --tls-cert server.pem --tls-key server.key --tls-ca ca.pem
HTTPS=$(port_of a.log DICOMweb); DTLS=$(port_of a.log "DICOM TLS")
[ -n "$HTTPS" ] && [ -n "$DTLS" ] || fail "ports not printed: $(cat a.log)"
grep -q "DIMSE listening on\|listening on http://" a.log && fail "a plain listener was opened with --http-port off / --dimse-port off"
ok "bridge A: HTTPS on $HTTPS, DICOM TLS on $DTLS, no plain listener"

COLL=TCGA-DEMO-CT
P1=$(ls "$DATA/$COLL" | head -1)
S1=$(ls "$DATA/$COLL/$P1" | head -1)
S1_COUNT=$(find "$DATA/$COLL/$P1/$S1" -name '*.dcm' | wc -l)
URL="https://127.0.0.1:$HTTPS/dicom-web/studies?PatientID=$P1"

# HTTPS with curl: CA-verified server, client certificate presented.
code=$(curl -v -sS -m 30 -o studies.json -w '%{http_code}' --cacert ca.pem --cert client.pem --key client.key "$URL" 2>curl-a.err) \
  || fail "curl with client certificate: exit $?"
[ "$code" = 200 ] || fail "curl with client certificate: HTTP $code"
grep -q "$S1" studies.json || fail "QIDO over HTTPS lacks study $S1"
grep -q "\"https://127.0.0.1:$HTTPS/dicom-web/studies/" studies.json || fail "RetrieveURL is not https: $(head -c 300 studies.json)"
ok "curl --cacert --cert: QIDO 200 over HTTPS, RetrieveURL https://"
if curl -sS -m 30 -o /dev/null --cacert ca.pem "$URL" 2>curl-nocert.err; then fail "HTTPS answered a client without certificate"; fi
ok "curl without client certificate refused ($(head -c 80 curl-nocert.err))"
if curl -sS -m 30 -o /dev/null --cacert ca.pem --cert rogue.pem --key rogue.key "$URL" 2>/dev/null; then fail "HTTPS accepted a certificate from an untrusted CA"; fi
ok "curl with an untrusted client certificate refused"
if curl -sS -m 30 -o /dev/null "$URL" 2>/dev/null; then fail "curl trusted the throw-away server certificate without --cacert"; fi
ok "curl without --cacert refuses the server certificate (it really is ours)"

# Protocol floor and suites (openssl s_client as the peer; SECLEVEL=0 so the refusal is the bridge's).
s_client() { timeout 20 openssl s_client -connect "127.0.0.1:$1" -servername localhost -CAfile ca.pem \
  -cert client.pem -key client.key "${@:2}" </dev/null 2>&1; }
# s_client prints "New, <protocol>, Cipher is <suite>" for a finished handshake, "(NONE)" otherwise.
BCP195='New, TLSv1.2, Cipher is (ECDHE|DHE)-(RSA|ECDSA)-AES(128|256)-GCM-SHA(256|384)'
for port in "$HTTPS" "$DTLS"; do
  out=$(s_client "$port" -tls1_2) || true
  grep -Eq "$BCP195" <<<"$out" || fail "port $port: no TLS 1.2 handshake with a BCP 195 suite: $(echo "$out" | grep -a 'Cipher is')"
  out=$(s_client "$port" -tls1_1 -cipher 'DEFAULT:@SECLEVEL=0') || true
  grep -q "Cipher is (NONE)" <<<"$out" || fail "port $port accepted TLS 1.1: $(echo "$out" | grep -a 'Cipher is')"
  out=$(s_client "$port" -tls1_2 -cipher 'AES128-SHA:@SECLEVEL=0') || true
  grep -q "Cipher is (NONE)" <<<"$out" || fail "port $port accepted non-BCP 195 suite AES128-SHA: $(echo "$out" | grep -a 'Cipher is')"
done
ok "both ports: TLS 1.2 with a BCP 195 suite; TLS 1.1 and AES128-SHA refused"

# DICOM TLS with DCMTK.
TLSARGS=(+tls client.key client.pem +cf ca.pem)
echoscu -aec TCIA -aet BBSCU "${TLSARGS[@]}" 127.0.0.1 "$DTLS" > echo.log 2>&1 || fail "echoscu +tls: $(tail -3 echo.log)"
ok "echoscu +tls (client certificate, server verified against the CA): C-ECHO"
if timeout 60 echoscu -aec TCIA -aet BBSCU 127.0.0.1 "$DTLS" > echo-plain.log 2>&1; then fail "plain echoscu succeeded on the TLS port"; fi
ok "plain echoscu on the TLS port fails"
if timeout 60 echoscu -aec TCIA -aet BBSCU +tls rogue.key rogue.pem +cf ca.pem 127.0.0.1 "$DTLS" > echo-rogue.log 2>&1; then
  fail "echoscu with an untrusted client certificate succeeded"; fi
ok "echoscu with an untrusted client certificate refused"
if timeout 60 echoscu -aec TCIA -aet BBSCU +tls client.key client.pem +cf rogue.pem 127.0.0.1 "$DTLS" > echo-untrusted.log 2>&1; then
  fail "echoscu accepted the server without trusting its CA"; fi
ok "echoscu not trusting the CA refuses the server"
out=$(findscu -v -S -aec TCIA -aet BBSCU "${TLSARGS[@]}" -k QueryRetrieveLevel=STUDY -k PatientID="$P1" -k StudyInstanceUID \
  127.0.0.1 "$DTLS" 2>&1 | tr -d '\0') || fail "findscu +tls: $(echo "$out" | tail -3)"
grep -a -q "Received Final Find Response (Success)" <<<"$out" || fail "findscu +tls not successful: $(echo "$out" | tail -3)"
grep -a -q "$S1" <<<"$out" || fail "findscu +tls did not return study $S1"
ok "findscu +tls: C-FIND finds study $S1"
# DCMTK 3.6.7's movescu and getscu have no TLS options: movescu goes through a TLS client tunnel
# (tests/support/tls_tunnel.py: OpenSSL via Python ssl, client certificate, CA-verified server).
TUN=$(free_port)
python3 "$HERE/../support/tls_tunnel.py" "$TUN" "$DTLS" ca.pem client.pem client.key --seconds 300 \
  > tunnel.log 2>&1 &
PIDS+=($!)
LOGS+=("$WORK/tunnel.log")
for _ in $(seq 200); do grep -q '^ready' tunnel.log 2>/dev/null && break; sleep 0.1; done
grep -q '^ready' tunnel.log || fail "TLS tunnel did not start"
# movescu while 8 echoscu +tls negotiate at the same time: TLS negotiations run side by side
# (each on its own thread, outside dcmnet's accept lock; docs/security.md), none may fail.
ECHO_PIDS=()
for i in $(seq 8); do
  timeout 120 echoscu -ta 60 -aec TCIA -aet "BURST$i" "${TLSARGS[@]}" 127.0.0.1 "$DTLS" > "burst$i.log" 2>&1 &
  ECHO_PIDS+=($!)
done
timeout 180 movescu -S -aec TCIA -aet BBSCU -aem DEST -k QueryRetrieveLevel=STUDY -k StudyInstanceUID="$S1" \
  127.0.0.1 "$TUN" > move.log 2>&1 || fail "movescu through TLS: $(tail -3 move.log)"
for i in $(seq 8); do wait "${ECHO_PIDS[$((i-1))]}" || fail "echoscu +tls #$i next to movescu: $(tail -3 "burst$i.log")"; done
N=$(ls moved | wc -l)
[ "$N" = "$S1_COUNT" ] || fail "C-MOVE over TLS delivered $N instances, expected $S1_COUNT"
ok "movescu over DICOM TLS (tunnel): C-MOVE delivered $N instances to a plain storescp, 8 echoscu +tls alongside"
# A silent client on the TLS port holds nobody up (its handshake waits on its own thread, dropped
# after the ACSE timeout, 5 s here): the next association is served at once.
exec 7<>/dev/tcp/127.0.0.1/"$DTLS"
START=$(date +%s)
echoscu -to 90 -ta 90 -aec TCIA -aet BBSCU "${TLSARGS[@]}" 127.0.0.1 "$DTLS" > echo2.log 2>&1 || fail "echoscu after a silent connection: $(tail -3 echo2.log)"
WAITED=$(( $(date +%s) - START ))
exec 7>&-
[ "$WAITED" -lt 45 ] || fail "a silent TLS connection held the next association for $WAITED s"
ok "a silent connection on the TLS port delayed the next association by $WAITED s (not held up by it)"

# ================= bridge B: HTTPS without client certificates, plain HTTP too; Chromium
start_bridge b.log --no-dimse --http-port 0 --https-port 0 --tls-cert server.pem --tls-key server.key
HTTPS_B=$(grep -o 'listening on https://127.0.0.1:[0-9]*' b.log | sed 's/.*://')
HTTP_B=$(grep -o 'listening on http://127.0.0.1:[0-9]*' b.log | sed 's/.*://')
[ -n "$HTTPS_B" ] && [ -n "$HTTP_B" ] || fail "bridge B ports: $(cat b.log)"
curl -sf -m 30 --cacert ca.pem -o /dev/null "https://localhost:$HTTPS_B/health" || fail "curl --cacert (no client cert) against bridge B"
curl -sf -m 30 -o /dev/null "http://127.0.0.1:$HTTP_B/health" || fail "plain HTTP next to HTTPS"
ok "bridge B: HTTPS without client certificates and plain HTTP side by side"

SPKI=$(openssl x509 -in server.pem -pubkey -noout | openssl pkey -pubin -outform der | openssl dgst -sha256 -binary | base64)
chrome() {
  local t=$(( DEADLINE - $(date +%s) )); [ "$t" -gt 10 ] || fail "time limit reached"; [ "$t" -gt 120 ] && t=120
  timeout "$t" chromium --headless --no-sandbox --disable-gpu --disable-quic --no-first-run --disable-background-networking \
    --disable-component-update --disable-sync --user-data-dir="$(mktemp -d "$WORK/chrome.XXXXXX")" \
    --virtual-time-budget=10000 "$@" 2>>chromium.log || true
}
chrome --ignore-certificate-errors-spki-list="$SPKI" --dump-dom "https://127.0.0.1:$HTTPS_B/" > landing.html
grep -q "TCIA Data Usage Policy" landing.html || fail "Chromium (server key pinned) did not load the HTTPS landing page: $(head -c 300 landing.html)"
chrome --ignore-certificate-errors-spki-list="$SPKI" --dump-dom "https://127.0.0.1:$HTTPS_B/dicom-web/studies?PatientID=$P1" > qido.html
grep -q "$S1" qido.html || fail "Chromium did not get the QIDO JSON over HTTPS: $(head -c 300 qido.html)"
ok "Chromium headless over HTTPS (SPKI pin): landing page and QIDO JSON"
chrome --dump-dom "https://127.0.0.1:$HTTPS_B/" > unpinned.html
grep -q "TCIA Data Usage Policy" unpinned.html && fail "Chromium loaded the page without trusting the certificate"
ok "Chromium without the pin refuses the throw-away certificate"

echo "ALL TLS BLACK-BOX CHECKS PASSED"
