# labels: slow
# A short mixed load (issue 9, "Faults and load as tests"): bench/load_mix.sh for 10 s against the
# built tcia-bridge and tcia-emulator, loopback only -- 16 DIMSE associations (12 C-FIND via
# bench_cfind_load or findscu, 2 movescu --repeat into storescp --ignore, 2 getscu --repeat) and
# 64 HTTP clients (wrk: OHIF's QIDO study list, series QIDO, WADO-RS series metadata, frames).
# Passes when nothing failed (0 errors: every C-FIND/C-MOVE/C-GET final status Success, every HTTP
# answer 2xx, no socket error) and the bridge's peak RSS (VmHWM) stays under 200 MB.
# bench/run --only load runs the same for 60 s (rows 9a-9e).
set -euo pipefail
B=${BRIDGE_BINARY_DIR:?set BRIDGE_BINARY_DIR}
S=${BRIDGE_SOURCE_DIR:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
DATA=${DATA:-$B/sample-data}
export TCP_NODELAY=1
WORK=$(mktemp -d /tmp/load-mixed-XXXXXX)
source "$(dirname "${BASH_SOURCE[0]}")/common.bash"
ensure_sample_data

rc=0
J=$(timeout 300 bash "$S/bench/load_mix.sh" --build "$B" --work "$WORK" --data "$DATA" --seconds 10 \
      --dimse 16 --http 64 --max-rss-mb 200) || rc=$?
echo "$J"
python3 - "$J" <<'PY'
import json, sys
j = json.loads(sys.argv[1])
assert "error" not in j, j
print("errors %(errors)s; HTTP %(http_requests)s requests (%(http_rps)s/s); C-FIND %(cfind)s, C-MOVE %(cmove)s, "
      "C-GET %(cget)s; peak RSS %(peak_rss_mb)s MB" % j)
assert j["errors"] == 0, j["error_detail"]
assert j["http_requests"] > 0 and j["cfind"] > 0 and j["cmove"] > 0 and j["cget"] > 0, j
assert j["peak_rss_mb"] < 200, j
PY
[ "$rc" = 0 ] || { echo "FAIL: load_mix.sh exited $rc" >&2; tail -20 "$WORK/logs/bridge.log" >&2; exit 1; }
echo PASS
