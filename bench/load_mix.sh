#!/usr/bin/env bash
# bench/load_mix.sh -- a bounded mixed load on ONE tcia-bridge, loopback only (issue 9, "Faults
# and load as tests"). Used by bench/run (step `load`, rows 9a-9e) and, shorter, by
# tests/blackbox/load_mixed.sh.
#
# Usage: bench/load_mix.sh --build DIR --work DIR [--data DIR] [--seconds 60] [--dimse 16]
#                          [--http 64] [--max-rss-mb N] [--max-growth-mb N]
#   --build DIR       build tree with tcia-bridge, emulator/tcia-emulator (bench/bench_cfind_load optional)
#   --work DIR        cache, logs and results (created; the cache is emptied first)
#   --data DIR        emulator data set (default: generated into WORK/data)
#   --seconds N       load duration (default 60)
#   --dimse N         concurrent DIMSE associations (default 16): N/8 C-MOVE loops, N/8 C-GET
#                     loops (movescu/getscu --repeat on one association, into storescp --ignore /
#                     getscu --ignore), the rest C-FIND STUDY (bench_cfind_load threads, one
#                     association each; findscu loops when it is not built)
#   --http N          concurrent HTTP clients (default 64): wrk -c N rotating over QIDO (the OHIF
#                     study list, series of a study), WADO-RS series metadata and frames of the
#                     small series
#   --max-rss-mb N    exit 1 when the bridge's peak RSS (VmHWM) exceeds N MB
#   --max-growth-mb N exit 1 when its RSS grows more than N MB between the first and last 10 s
#                     (peak VmRSS of the last 10 s minus peak VmRSS of the first 10 s)
#
# Prints ONE JSON line on stdout: {"seconds","errors","http_requests","http_rps","http_errors",
# "cfind","cmove","cget","dimse_ops","dimse_rps","dimse_errors","peak_rss_mb","rss_first10_mb",
# "rss_last10_mb","rss_growth_mb","series"}; exit 0 when errors == 0 and the bounds hold.
# The "small series" are the emulator's public image series of at most 12 instances; the catalog is
# harvested first (`tcia-bridge sync`) so the OHIF study list is answered. The bridge allows
# dimse+8 associations: the move/get loops reconnect between runs, and the server may still count
# the previous association for a moment. Every process started here is stopped on exit (trap, by
# PID); every loop ends at the deadline; TCP_NODELAY=1 for every DIMSE process.
set -uo pipefail

BUILD="" WORK="" DATA="" DURATION=60 DIMSE=16 HTTP=64 MAX_RSS="" MAX_GROWTH=""
while [[ $# -gt 0 ]]; do
  case $1 in
    --build) BUILD=$2; shift 2 ;;
    --work) WORK=$2; shift 2 ;;
    --data) DATA=$2; shift 2 ;;
    --seconds) DURATION=$2; shift 2 ;;
    --dimse) DIMSE=$2; shift 2 ;;
    --http) HTTP=$2; shift 2 ;;
    --max-rss-mb) MAX_RSS=$2; shift 2 ;;
    --max-growth-mb) MAX_GROWTH=$2; shift 2 ;;
    -h|--help) sed -n '2,/^set -uo/p' "$0" | sed '$d' | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "load_mix.sh: unknown argument '$1'" >&2; exit 2 ;;
  esac
done
[[ -n $BUILD && -n $WORK ]] || { echo "load_mix.sh: --build and --work are required" >&2; exit 2; }
export TCP_NODELAY=1
EMULATOR=$BUILD/emulator/tcia-emulator
BRIDGE=$BUILD/tcia-bridge
CFIND_LOAD=$BUILD/bench/bench_cfind_load
LOGS=$WORK/logs
mkdir -p "$LOGS"
log() { printf '[load %s] %s\n' "$(date -u +%H:%M:%S)" "$*" >&2; }
die() { log "$*"; echo "{\"error\": \"$*\"}"; exit 1; }
for tool in storescp movescu getscu findscu wrk curl python3; do
  command -v $tool >/dev/null || die "$tool is not installed"
done
[[ -x $EMULATOR && -x $BRIDGE ]] || die "tcia-bridge / tcia-emulator not built in $BUILD"

PIDS=()
cleanup() {
  local p
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done
  for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null; done
}
trap cleanup EXIT
trap 'exit 130' INT TERM
free_port() { python3 -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])'; }
wait_http() { local end=$((SECONDS + $2)); while ((SECONDS < end)); do curl -sf -o /dev/null --max-time 5 "$1" && return 0; sleep 0.2; done; return 1; }
wait_tcp() { local end=$((SECONDS + $2)); while ((SECONDS < end)); do (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0; sleep 0.1; done; return 1; }

# --- emulator, catalog, destination, bridge ----------------------------------------------------
if [[ -z $DATA ]]; then
  DATA=$WORK/data
  [[ -e $DATA/.complete ]] || "$EMULATOR" generate --out "$DATA" >"$LOGS/generate.log" 2>&1 || die "generate failed"
fi
EMU=$(free_port)
"$EMULATOR" serve --data "$DATA" --port "$EMU" --bind 127.0.0.1 --quiet >"$LOGS/emulator.log" 2>&1 &
PIDS+=($!)
EMU_URL=http://127.0.0.1:$EMU/nbia-api/services/v4
wait_http "$EMU_URL/getCollectionValues" 60 || die "emulator did not answer"
CACHE=$WORK/cache
rm -rf "$CACHE"
timeout 300 "$BRIDGE" sync --tcia-url "$EMU_URL" --cache-dir "$CACHE" >"$LOGS/sync.log" 2>&1 || die "tcia-bridge sync failed (logs/sync.log)"

DEST=$(free_port)
storescp --ignore -aet DEST "$DEST" >"$LOGS/storescp.log" 2>&1 &
PIDS+=($!)
wait_tcp "$DEST" 30 || die "storescp did not start"

DPORT=$(free_port)
HPORT=$(free_port)
# All $HTTP clients come from 127.0.0.1, like clients behind one reverse proxy: the per-client
# connection cap (web.maxConnectionsPerClient, 32) would refuse most of them, so it is lifted
# here exactly as docs/limits.md tells a proxied deployment to.
cat >"$WORK/load.json" <<EOF
{ "dimse": { "maxAssociations": $((DIMSE + 8)) }, "web": { "maxConnectionsPerClient": 0 } }
EOF
"$BRIDGE" --config "$WORK/load.json" --tcia-url "$EMU_URL" --aet TCIA --dimse-port "$DPORT" --http-port "$HPORT" \
  --bind 127.0.0.1 --cache-dir "$CACHE" --destination "DEST=127.0.0.1:$DEST" >"$LOGS/bridge.log" 2>&1 &
BRIDGE_PID=$!
PIDS+=($BRIDGE_PID)
BASE=http://127.0.0.1:$HPORT
wait_tcp "$DPORT" 60 && wait_http "$BASE/health" 60 || die "tcia-bridge did not start (logs/bridge.log)"

# --- the small series and the HTTP request mix --------------------------------------------------
python3 - "$EMU_URL" "$BASE" "$WORK" <<'PY' || die "could not list the small series"
import json, sys, urllib.parse, urllib.request
emu, base, work = sys.argv[1:4]
get = lambda url, accept="application/json": json.loads(urllib.request.urlopen(
    urllib.request.Request(url, headers={"Accept": accept}), timeout=60).read() or b"[]")
series = []
for c in get(emu + "/getCollectionValues"):
    for s in get(emu + "/getSeries?Collection=" + urllib.parse.quote(c["Collection"])):
        if 0 < int(s.get("ImageCount", 0)) <= 12 and s.get("Modality") != "SR":  # frames need pixels
            series.append((s["StudyInstanceUID"], s["SeriesInstanceUID"], int(s["ImageCount"])))
series.sort(key=lambda x: x[1])
series = series[:8]
if not series:
    sys.exit("no small series")
with open(work + "/series.txt", "w") as f:
    for st, se, n in series:
        f.write("%s %s %d\n" % (st, se, n))
ohif = "/dicom-web/studies?limit=101&offset=0&fuzzymatching=false&includefield=00081030,00080060,00080090,00100030"
reqs = [(ohif, "application/dicom+json")]
for st, se, n in series:
    reqs.append(("/dicom-web/studies/%s/series" % st, "application/dicom+json"))
    reqs.append(("/dicom-web/studies/%s/series/%s/metadata" % (st, se), "application/dicom+json"))
    inst = get(base + "/dicom-web/studies/%s/series/%s/instances" % (st, se), "application/dicom+json")
    if inst:
        sop = inst[0]["00080018"]["Value"][0]
        reqs.append(("/dicom-web/studies/%s/series/%s/instances/%s/frames/1" % (st, se, sop),
                     'multipart/related; type="application/octet-stream"'))
with open(work + "/requests.txt", "w") as f:
    for p, a in reqs:
        f.write(p + "\t" + a + "\n")
lua = ["requests = {}"]
for p, a in reqs:
    lua.append("table.insert(requests, wrk.format(\"GET\", %s, {[\"Accept\"] = %s}))" % (json.dumps(p), json.dumps(a)))
lua.append("counter = 0")
lua.append("request = function() counter = counter + 1; return requests[(counter % #requests) + 1] end")
open(work + "/mix.lua", "w").write("\n".join(lua) + "\n")
PY
mapfile -t SERIES < "$WORK/series.txt"
log "${#SERIES[@]} small series; $(wc -l < "$WORK/requests.txt") HTTP request kinds"
# Warm-up: every request once (the cold downloads happen here), each must answer 200.
while IFS=$'\t' read -r path accept; do
  code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 120 -H "Accept: $accept" "$BASE$path")
  [[ $code == 200 ]] || die "warm-up $path answered $code"
done < "$WORK/requests.txt"

# --- the load ---------------------------------------------------------------------------------
NMOVE=$((DIMSE / 8)); NGET=$((DIMSE / 8)); ((NMOVE < 1)) && NMOVE=1; ((NGET < 1)) && NGET=1
NFIND=$((DIMSE - NMOVE - NGET)); ((NFIND < 1)) && NFIND=1
END=$(( $(date +%s) + DURATION ))
series_args() { local st se n; read -r st se n <<< "${SERIES[$1 % ${#SERIES[@]}]}"; echo "-k StudyInstanceUID=$st -k SeriesInstanceUID=$se"; }
move_loop() {  # one association per run, 5 C-MOVEs per association, until the deadline
  local i=$1 k=0
  while (( $(date +%s) < END )); do
    # shellcheck disable=SC2046
    timeout 120 movescu -v -S -aec TCIA -aet "LOADM$i" -aem DEST -to 30 -ta 30 -td 60 --repeat 5 \
      -k QueryRetrieveLevel=SERIES $(series_args $((i + k))) 127.0.0.1 "$DPORT" >>"$LOGS/move$i.log" 2>&1 \
      || echo "RUN FAILED rc=$?" >>"$LOGS/move$i.log"
    k=$((k + 1))
  done
}
get_loop() {
  local i=$1 k=0
  while (( $(date +%s) < END )); do
    # shellcheck disable=SC2046
    timeout 120 getscu -v -S -aec TCIA -aet "LOADG$i" --ignore -to 30 -ta 30 -td 60 --repeat 5 \
      -k QueryRetrieveLevel=SERIES $(series_args $((i + k + 3))) 127.0.0.1 "$DPORT" >>"$LOGS/get$i.log" 2>&1 \
      || echo "RUN FAILED rc=$?" >>"$LOGS/get$i.log"
    k=$((k + 1))
  done
}
find_loop() {  # fallback without bench_cfind_load: findscu --repeat on one association
  local i=$1
  while (( $(date +%s) < END )); do
    timeout 120 findscu -v -S -aec TCIA -aet "LOADF$i" --repeat 50 -k QueryRetrieveLevel=STUDY -k StudyInstanceUID \
      -k PatientID 127.0.0.1 "$DPORT" >>"$LOGS/find$i.log" 2>&1 || echo "RUN FAILED rc=$?" >>"$LOGS/find$i.log"
  done
}
rss_sampler() {  # "t VmRSS VmHWM" (kB) every 0.5 s until the deadline + 1 s
  python3 - "$BRIDGE_PID" "$END" "$WORK/rss.tsv" <<'PY'
import sys, time
pid, end, out = int(sys.argv[1]), float(sys.argv[2]), sys.argv[3]
t0 = time.time()
with open(out, "w") as f:
    while time.time() <= end + 1:
        try:
            status = open("/proc/%d/status" % pid).read()
        except OSError:
            break
        v = {l.split(":")[0]: l.split()[1] for l in status.splitlines() if l.startswith(("VmRSS:", "VmHWM:"))}
        f.write("%.1f %s %s\n" % (time.time() - t0, v.get("VmRSS", ""), v.get("VmHWM", "")))
        f.flush()
        time.sleep(0.5)
PY
}
: >"$WORK/rss.tsv"
rm -f "$LOGS"/move*.log "$LOGS"/get*.log "$LOGS"/find*.log
log "load: $NFIND C-FIND + $NMOVE C-MOVE + $NGET C-GET associations, $HTTP HTTP clients, $DURATION s"
LOADERS=()
rss_sampler & LOADERS+=($!)
if [[ -x $CFIND_LOAD ]]; then
  "$CFIND_LOAD" --threads "$NFIND" --seconds "$DURATION" --max-queries 10000000 --aec TCIA --aet LOADF --warmup 1 \
    127.0.0.1 "$DPORT" >"$WORK/cfind.json" 2>"$LOGS/cfind.err" & LOADERS+=($!)
else
  for i in $(seq "$NFIND"); do find_loop "$i" & LOADERS+=($!); done
fi
for i in $(seq "$NMOVE"); do move_loop "$i" & LOADERS+=($!); done
for i in $(seq "$NGET"); do get_loop "$i" & LOADERS+=($!); done
wrk -t2 -c"$HTTP" -d"${DURATION}s" --timeout 10s -s "$WORK/mix.lua" "$BASE" >"$LOGS/wrk.log" 2>&1 & LOADERS+=($!)
PIDS+=("${LOADERS[@]}")
for p in "${LOADERS[@]}"; do wait "$p"; done
kill -0 "$BRIDGE_PID" 2>/dev/null || die "tcia-bridge died under load (logs/bridge.log)"
HWM_KB=$(awk '/^VmHWM:/{print $2}' "/proc/$BRIDGE_PID/status")

# --- results ------------------------------------------------------------------------------------
python3 - "$WORK" "$LOGS" "$DURATION" "$HWM_KB" "$NFIND" "${#SERIES[@]}" <<'PY'
import glob, json, os, re, sys
work, logs, duration, hwm_kb, nfind, nseries = sys.argv[1], sys.argv[2], float(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5]), int(sys.argv[6])
def read(p):
    try:
        return open(p, errors="replace").read()
    except OSError:
        return ""
errors_detail = []
# HTTP (wrk)
w = read(logs + "/wrk.log")
m = re.search(r"(\d+) requests in", w); http_requests = int(m.group(1)) if m else 0
m = re.search(r"Requests/sec:\s*([\d.]+)", w); http_rps = float(m.group(1)) if m else 0.0
http_errors = 0
m = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", w)
if m:
    http_errors += sum(int(x) for x in m.groups()); errors_detail.append("wrk socket errors " + m.group(0))
m = re.search(r"Non-2xx or 3xx responses: (\d+)", w)
if m:
    http_errors += int(m.group(1)); errors_detail.append("wrk " + m.group(0))
if http_requests == 0:
    http_errors += 1; errors_detail.append("wrk made no request")
# C-FIND
cfind = 0; dimse_errors = 0
cj = read(work + "/cfind.json").strip()
if cj:
    j = json.loads(cj.splitlines()[0]); cfind = int(j.get("queries", 0)); f = int(j.get("failed", 0))
    dimse_errors += f
    if f: errors_detail.append("C-FIND failed %d" % f)
    if cfind == 0: dimse_errors += 1; errors_detail.append("no C-FIND completed")
else:
    for p in glob.glob(logs + "/find*.log"):
        t = read(p); cfind += t.count("Received Final Find Response (Success)")
        bad = len(re.findall(r"Received Final Find Response \((?!Success)", t)) + t.count("RUN FAILED")
        dimse_errors += bad
    if cfind == 0: dimse_errors += 1; errors_detail.append("no C-FIND completed")
# C-MOVE
cmove = 0
for p in glob.glob(logs + "/move*.log"):
    t = read(p); cmove += t.count("Received Final Move Response (Success)")
    bad = len(re.findall(r"Received Final Move Response \((?!Success)", t)) + t.count("RUN FAILED") + \
          len(re.findall(r"^E: ", t, re.M))
    if bad: errors_detail.append("%s: %d errors" % (os.path.basename(p), bad))
    dimse_errors += bad
if cmove == 0: dimse_errors += 1; errors_detail.append("no C-MOVE completed")
# C-GET (DcmSCU: "Received C-GET Response (Success)" ends each C-GET)
cget = 0
for p in glob.glob(logs + "/get*.log"):
    t = read(p); cget += len(re.findall(r"Received C-GET Response \(Success\)", t))
    bad = len(re.findall(r"Received C-GET Response \((?!Success|Pending)", t)) + t.count("RUN FAILED") + \
          len(re.findall(r"^E: ", t, re.M))
    if bad: errors_detail.append("%s: %d errors" % (os.path.basename(p), bad))
    dimse_errors += bad
if cget == 0: dimse_errors += 1; errors_detail.append("no C-GET completed")
# RSS
rows = []
for line in read(work + "/rss.tsv").splitlines():
    parts = line.split()
    if len(parts) == 3 and parts[1] and parts[2]:
        rows.append((float(parts[0]), int(parts[1]) / 1024.0, int(parts[2]) / 1024.0))
# Growth = peak RSS of the last 10 s minus peak RSS of the first 10 s (peaks: the first samples
# are still the ramp-up from the idle bridge, which a mean would count as growth).
first = [r for t, r, h in rows if t <= 10.0]
last = [r for t, r, h in rows if t >= rows[-1][0] - 10.0] if rows else []
peak = lambda xs: max(xs) if xs else 0.0
out = {
    "seconds": duration, "errors": http_errors + dimse_errors,
    "http_requests": http_requests, "http_rps": round(http_rps, 1), "http_errors": http_errors,
    "cfind": cfind, "cmove": cmove, "cget": cget, "dimse_ops": cfind + cmove + cget,
    "dimse_rps": round((cfind + cmove + cget) / duration, 1), "dimse_errors": dimse_errors,
    "cfind_associations": nfind,
    "peak_rss_mb": round(hwm_kb / 1024.0, 1), "rss_first10_mb": round(peak(first), 1),
    "rss_last10_mb": round(peak(last), 1), "rss_growth_mb": round(peak(last) - peak(first), 1),
    "rss_samples": len(rows), "series": nseries, "error_detail": "; ".join(errors_detail)[:400],
}
print(json.dumps(out))
json.dump(out, open(work + "/load.json.out", "w"))
PY
RESULT=$(cat "$WORK/load.json.out" 2>/dev/null) || die "no result"
read -r ERRS PEAK GROWTH < <(python3 -c 'import json,sys; j=json.loads(sys.argv[1]); print(j["errors"], j["peak_rss_mb"], j["rss_growth_mb"])' "$RESULT")
rc=0
[[ $ERRS == 0 ]] || { log "errors under load: $ERRS"; rc=1; }
if [[ -n $MAX_RSS ]] && awk -v a="$PEAK" -v b="$MAX_RSS" 'BEGIN{exit !(a > b)}'; then log "peak RSS $PEAK MB > $MAX_RSS MB"; rc=1; fi
if [[ -n $MAX_GROWTH ]] && awk -v a="$GROWTH" -v b="$MAX_GROWTH" 'BEGIN{exit !(a > b)}'; then log "RSS growth $GROWTH MB > $MAX_GROWTH MB"; rc=1; fi
exit $rc
