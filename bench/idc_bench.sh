# bench/idc_bench.sh -- bench/run step `idc` (issue 12, "Done when"): the IDC source's figures,
# each against a baseline measured in the same run. Sourced by bench/run (uses its helpers:
# put/put_runs/na/note, spawn/stop, timed_move, dest_start, STORESCU, wait_http/wait_tcp, bridge_hwm_mb,
# median/calc/since/now, and its variables EMULATOR, BRIDGE, DATA, SE, ST, IMAGES, ports).
#
# Rows (bench/lib/table.py, 12a-12e):
#  12a  cold C-MOVE of the 300-slice series from a bridge on `--source idc` (pointed at the
#       emulator's /v3 and /s3/{bucket}) into storescp, fresh bridge + empty cache each run,
#       against the limit max(download, send):
#         download = curl ListObjectsV2 of the series prefix + `curl --parallel --parallel-max K`
#                    of the listed objects (K = the bridge's bound on object GETs in flight),
#         send     = storescu alone of the same files into the same storescp.
#  12f  the limit's two tools at once, with no bridge: the same listing + parallel download while
#       storescu sends the same files (information: what the 12a limit's own tools reach when they
#       share the machine, as a bridge's two jobs must); 12g is 12a's cold C-MOVE against it.
#  12b  C-MOVE request -> first file at storescp; baseline: ListObjectsV2 + one object GET
#       (curl) + storescu's first file (association + one C-STORE).
#  12c  harvest on start of the 1,000,000-series synthetic IDC index (`tcia-emulator serve
#       --idc-synthetic`): bridge start -> GET /status "complete":true; baseline: the same
#       /v3/sql pages read back to back without parsing or storing (idc_measure.py
#       harvest-replay).
#  12d  bridge start -> study level complete (`studyLevelComplete`), same baseline (info).
#  12e  peak RSS (VmHWM) of the bridge during that harvest; goal < 150 MB as for NBIA (6d).
# Repeated figures are medians of N_RUNS (--runs); IDC_HARVEST_RUNS (environment) overrides the
# number of harvest runs (each reads ~330 pages of 10,000 rows: minutes on a loaded machine).

IDC_MEASURE=(python3 "$LIB/idc_measure.py")

# The bridge's bound on object GETs in flight per series: idc.maxParallelGets (default in
# bridge/common/Config.h; the bench runs the bridge on its defaults).
idc_parallel_bound() {
  local k
  k=$(grep -oE 'int maxParallelGets = [0-9]+' "$REPO/bridge/common/Config.h" | grep -oE '[0-9]+$')
  echo "${k:-8}"
}

idc_bridge_start() {  # idc_bridge_start CACHE_DIR API_URL BUCKET_TEMPLATE: fresh bridge on --source idc
  local cache=$1 api=$2 bucket=$3
  stop bridge
  spawn bridge env TCP_NODELAY=1 "$BRIDGE" --source idc --idc-api-url "$api" --idc-bucket-url "$bucket" \
    --tcia-url "http://127.0.0.1:1/nbia-api/services/v4" --aet TCIA \
    --dimse-port "$BR_DIMSE" --http-port "$BR_HTTP" --bind 127.0.0.1 --cache-dir "$cache" \
    --destination "DEST0=127.0.0.1:${DEST_PORT[0]}"
  wait_tcp "$BR_DIMSE" 60 bridge && wait_tcp "$BR_HTTP" 30 bridge
}

# idc_wait_harvest SECONDS T0: polls GET /status; sets IDC_ST (study level) and IDC_DONE (complete)
# as seconds since T0 ("" when not reached).
idc_wait_harvest() {
  local end=$(( $(date +%s) + $1 )) t0=$2 body
  IDC_ST=""; IDC_DONE=""
  while (( $(date +%s) < end )) && alive bridge; do
    body=$(curl -sf --max-time 10 "http://127.0.0.1:$BR_HTTP/status" 2>/dev/null) || body=""
    if [[ -z $IDC_ST && $body == *'"studyLevelComplete":true'* ]]; then IDC_ST=$(since "$t0"); fi
    if [[ $body == *'"complete":true'* ]]; then IDC_DONE=$(since "$t0"); [[ -n $IDC_ST ]] || IDC_ST=$IDC_DONE; return 0; fi
    sleep 0.2
  done
  return 1
}

# --- 12a, 12b: cold C-MOVE of the 300-slice series from the IDC face -------------------------
# The baseline's runs and the bridge's cold moves are interleaved pair by pair, as rows 1a-1b are
# (bench/run, baseline_run): pair r is baseline r then bridge r for odd r, bridge r then baseline r
# for even r, so the machine's drift over the runs favours neither side of the ratio.
idc_move_rows() {
  local keys=(idc_move_cold_s idc_move_limit_s idc_move_first_s idc_first_floor_s idc_both_s) k why=""
  [[ $HAVE_EMU == 1 ]] || why=$EMU_WHY
  [[ -n $why || $HAVE_BRIDGE == 1 ]] || why=$BRIDGE_WHY
  [[ -n $why || -z $DEST_WHY ]] || why=$DEST_WHY
  [[ -n $why || -n $SE ]] || why="no large series"
  if [[ -n $why ]]; then for k in "${keys[@]}"; do na "$k" "$why"; done; return; fi
  IDC_API="http://127.0.0.1:$EMU_PORT/v3"; IDC_TMPL="http://127.0.0.1:$EMU_PORT/s3/{bucket}"
  local L bucket uuid d=$WORK/idc-baseline
  if ! L=$("${IDC_MEASURE[@]}" locate --api "$IDC_API" --series "$SE" 2>"$WORK/logs/idc-locate.err"); then
    why="the emulator's /v3/sql does not locate $SE: $(head -c 150 "$WORK/logs/idc-locate.err")"
    for k in "${keys[@]}"; do na "$k" "$why"; done; return
  fi
  bucket=$(jget "$L" aws_bucket); uuid=$(jget "$L" crdc_series_uuid)
  IDC_K=$(idc_parallel_bound)
  IDC_BASE=${IDC_TMPL/\{bucket\}/$bucket}
  IDC_LISTURL="$IDC_BASE/?list-type=2&prefix=$uuid%2F&max-keys=1000"
  # Warm-up: the object list and one whole download, so both sides read the emulator's files
  # from the page cache.
  "${IDC_MEASURE[@]}" object-urls --bucket-url "$IDC_TMPL" --bucket "$bucket" --prefix "$uuid/" >"$WORK/logs/idc-urls.txt" 2>"$WORK/logs/idc-urls.err" ||
    { why="ListObjectsV2 of $bucket/$uuid/ failed: $(head -c 150 "$WORK/logs/idc-urls.err")"; for k in "${keys[@]}"; do na "$k" "$why"; done; return; }
  IDC_NOBJ=$(wc -l <"$WORK/logs/idc-urls.txt")
  rm -rf "$d"; mkdir -p "$d/files"
  idc_curl_cfg "$WORK/logs/idc-urls.txt" "$d/files" >"$d/curl.cfg"
  curl -sS -f --parallel --parallel-max "$IDC_K" -K "$d/curl.cfg" >/dev/null 2>"$WORK/logs/idc-curl-warm.err"
  put label_12a "$IDC_NOBJ objects, K=$IDC_K"

  IDC_BWHY=""; IDC_DLS=(); IDC_SENDS=(); IDC_LIMITS=(); IDC_FLOORS=(); IDC_BOTH=()
  IDC_CWHY=""; IDC_CTS=(); IDC_CFS=(); IDC_HS=(); IDC_CPU=()
  local r
  for r in $(seq "$N_COLD"); do
    if ((r % 2 == 1)); then idc_baseline_run "$r"; idc_cold_run "$r" || break
    else idc_cold_run "$r" || break; idc_baseline_run "$r"; fi
  done
  stop storescp0
  stop bridge
  discard "$d"
  recv_cleanup "$WORK/cache-idc"
  if ((${#IDC_LIMITS[@]} == 0)); then
    na idc_move_limit_s "$IDC_BWHY"; na idc_first_floor_s "$IDC_BWHY"; na idc_both_s "$IDC_BWHY"
  else
    put_runs idc_move_limit_s "${IDC_LIMITS[@]}"
    if ((${#IDC_FLOORS[@]})); then put_runs idc_first_floor_s "${IDC_FLOORS[@]}"; else na idc_first_floor_s "curl -w time_total failed"; fi
    if ((${#IDC_BOTH[@]})); then put_runs idc_both_s "${IDC_BOTH[@]}"; else na idc_both_s "download + storescu at once did not complete (logs/idc-both*.storescu.log)"; fi
    note idc_base "IDC baseline, median of ${#IDC_LIMITS[@]} (each run paired with a cold C-MOVE run, interleaved): ListObjectsV2 + curl --parallel --parallel-max $IDC_K of the $IDC_NOBJ objects $(median "${IDC_DLS[@]}") s (runs ${IDC_DLS[*]}), storescu alone $(median "${IDC_SENDS[@]}") s (runs ${IDC_SENDS[*]}); limit = max(download, storescu) per run. K = idc.maxParallelGets (bridge default). First-file floor = curl ListObjectsV2 time + one object GET + storescu's first file."
  fi
  if ((${#IDC_CTS[@]})); then
    put_runs idc_move_cold_s "${IDC_CTS[@]}"; put_runs idc_move_first_s "${IDC_CFS[@]}"
    note idc_move "IDC cold C-MOVE, median of ${#IDC_CTS[@]} (fresh tcia-bridge --source idc + empty cache each, catalog of the emulator data harvested first: ${IDC_HS[*]:-?} s): runs ${IDC_CTS[*]} s; first file ${IDC_CFS[*]} s; CPU ticks (10 ms) bridge/storescp/emulator per move: ${IDC_CPU[*]:-n/a}."
  else
    na idc_move_cold_s "$IDC_CWHY"; na idc_move_first_s "$IDC_CWHY"
  fi
}

# idc_baseline_run R: one baseline run (list + parallel curl, then storescu alone); on failure
# IDC_BWHY says why and later runs are skipped.
idc_baseline_run() {
  [[ -z $IDC_BWHY ]] || return 1
  local r=$1 d=$WORK/idc-baseline t0 dl send first n J lt gt
  stop bridge  # idle, but its series' fsync pass may still be writing back: not beside the baseline
  discard "$d/files"; mkdir -p "$d/files"
  # Download: listing (every page; one for 300 keys) + the objects, K in flight.
  t0=$(now)
  if ! curl -sS -f -o "$d/list.xml" "$IDC_LISTURL" 2>>"$WORK/logs/idc-curl.err"; then IDC_BWHY="curl ListObjectsV2 failed"; return 1; fi
  grep -o '<Key>[^<]*</Key>' "$d/list.xml" | sed -e 's/<Key>//' -e 's/<\/Key>//' | grep -v '/$' |
    sed "s|^|$IDC_BASE/|" >"$d/urls.txt"
  idc_curl_cfg "$d/urls.txt" "$d/files" >"$d/curl.cfg"
  if ! curl -sS -f --parallel --parallel-max "$IDC_K" -K "$d/curl.cfg" 2>>"$WORK/logs/idc-curl.err"; then IDC_BWHY="curl --parallel failed (logs/idc-curl.err)"; return 1; fi
  dl=$(since "$t0")
  n=$(find "$d/files" -name '*.dcm' | wc -l)
  ((n == IDC_NOBJ)) || { IDC_BWHY="curl fetched $n of $IDC_NOBJ objects"; return 1; }
  # First-file floor: one listing + one object (curl's own timers) ...
  lt=$(curl -sS -f -o /dev/null -w '%{time_total}' "$IDC_LISTURL" 2>>"$WORK/logs/idc-curl.err") || lt=""
  gt=$(curl -sS -f -o /dev/null -w '%{time_total}' "$(head -1 "$d/urls.txt")" 2>>"$WORK/logs/idc-curl.err") || gt=""
  # ... and storescu alone of the same files.
  dest_start 0 "$WORK/recv/idc-baseline" || { IDC_BWHY="storescp did not start"; return 1; }
  "${MEASURE[@]}" timed-move --dest "$WORK/recv/idc-baseline" --expect "$n" --timeout 600 --log "$WORK/logs/idc-baseline$r.storescu.log" \
      -- "${STORESCU[@]}" "$d/files" \
      >"$WORK/logs/idc-baseline$r.json" 2>>"$WORK/logs/idc-baseline.err" || { IDC_BWHY="storescu failed (logs/idc-baseline$r.storescu.log)"; return 1; }
  stop storescp0
  J=$(head -1 "$WORK/logs/idc-baseline$r.json")
  send=$(jget "$J" total_s); first=$(jget "$J" first_file_s)
  # Both tools at once, with no bridge (row 12f): the same listing + parallel download (into a
  # second directory) while storescu sends the files of the first -- the limit's two jobs sharing
  # the two cores, as they must inside any bridge (which adds an MD5 per object, the cache write
  # and the DICOM header parse, and sends from memory instead of files).
  local both="" nb nr
  if dest_start 0 "$WORK/recv/idc-both"; then
    discard "$d/both"; mkdir -p "$d/both"
    idc_curl_cfg "$d/urls.txt" "$d/both" >"$d/both.cfg"
    t0=$(now)
    { curl -sS -f -o /dev/null "$IDC_LISTURL" && curl -sS -f --parallel --parallel-max "$IDC_K" -K "$d/both.cfg"; } 2>>"$WORK/logs/idc-curl.err" &
    local cpid=$!
    "${STORESCU[@]}" "$d/files" \
      >"$WORK/logs/idc-both$r.storescu.log" 2>&1 && wait "$cpid" && both=$(since "$t0")
    wait "$cpid" 2>/dev/null
    nb=$(find "$d/both" -name '*.dcm' | wc -l); nr=$(find "$WORK/recv/idc-both" -type f | wc -l)
    if [[ -n $both ]] && ((nb == n && nr == n)); then IDC_BOTH+=("$both")
    else note idc_both "run $r: download + storescu at once incomplete ($nb downloaded, $nr received of $n)"; both=""; fi
    stop storescp0
    recv_cleanup "$WORK/recv/idc-both"
  fi
  log "idc baseline $r: list + curl --parallel-max $IDC_K $dl s, storescu $send s ($n files); both at once ${both:-n/a} s; list $lt s, one GET $gt s, storescu first file $first s"
  IDC_DLS+=("$dl"); IDC_SENDS+=("$send")
  IDC_LIMITS+=("$(calc "($dl > $send) ? $dl : $send")")
  [[ -n $lt && -n $gt && -n $first ]] && IDC_FLOORS+=("$(calc "$lt + $gt + $first")")
  recv_cleanup "$WORK/recv/idc-baseline"
  discard "$d/files" "$d/both"
}

# idc_cold_run R: one cold C-MOVE from a fresh bridge on --source idc and an empty cache; non-zero
# (IDC_CWHY set) when the bridge did not start, which ends the runs.
idc_cold_run() {
  local r=$1 t0
  stop bridge  # the previous run's, which may still be writing its cache
  discard "$WORK/cache-idc"  # the previous run's (bench/run: discard)
  t0=$(now)
  if ! idc_bridge_start "$WORK/cache-idc" "$IDC_API" "$IDC_TMPL"; then
    IDC_CWHY="tcia-bridge --source idc did not start (logs/bridge.log: $(tail -c 200 "$WORK/logs/bridge.log" | tr '\n|' '  '))"; return 1
  fi
  # The (small) emulator catalog is harvested first, so the move measures the instance path
  # (S3 listing + object GETs + C-STOREs), not a harvest running beside it.
  if idc_wait_harvest 120 "$t0"; then IDC_HS+=("$IDC_DONE"); else note idc_harvest_small "the IDC harvest of the emulator data did not complete within 120 s before run $r"; fi
  log "bridge (idc): cold C-MOVE of $SE ($r/$N_COLD)"
  local b0 e0
  b0=$(cpu_ticks bridge); e0=$(cpu_ticks emulator)
  if timed_move "idc_move_cold$r" 0 "$WORK/recv/idc-cold" "$IMAGES" TCIA "$BR_DIMSE" "$SE" "$ST"; then
    IDC_CTS+=("$(jget "$J" total_s)"); IDC_CFS+=("$(jget "$J" first_file_s)")
    # CPU the move cost each process (storescp was started for this move): 2 cores bound the move
    # from below by their sum / 2.
    local b1 s1 e1
    b1=$(cpu_ticks bridge); s1=$(cpu_ticks storescp0); e1=$(cpu_ticks emulator)
    local bd="?" ed="?"
    [[ -n $b0 && -n $b1 ]] && bd=$((b1 - b0))
    [[ -n $e0 && -n $e1 ]] && ed=$((e1 - e0))
    IDC_CPU+=("$bd/${s1:-?}/$ed")
    log "bridge (idc) cold move: $J"
  else
    IDC_CWHY="C-MOVE incomplete: $J (logs/idc_move_cold$r.movescu.log)"
  fi
  cp "$WORK/logs/bridge.log" "$WORK/logs/idc-bridge-move$r.log" 2>/dev/null
  stop storescp0
  recv_cleanup "$WORK/recv/idc-cold"
  return 0
}

# idc_curl_cfg URL_FILE OUT_DIR: a curl config fetching each URL into OUT_DIR/<n>.dcm.
idc_curl_cfg() {
  awk -v dir="$2" '{printf "url = \"%s\"\noutput = \"%s/%05d.dcm\"\n", $0, dir, NR}' "$1"
}

# --- 12c-12e: harvest of the 1,000,000-series synthetic IDC index ------------------------------
idc_harvest_rows() {
  local keys=(idc_harvest_s idc_harvest_study_s idc_harvest_rss_mb idc_replay_s) k why=""
  [[ $SKIP_SYN == 0 ]] || why="skipped (--skip-synthetic)"
  [[ -n $why || -x $EMULATOR ]] || why=$EMU_WHY
  [[ -n $why || $HAVE_BRIDGE == 1 ]] || why=$BRIDGE_WHY
  if [[ -n $why ]]; then for k in "${keys[@]}"; do na "$k" "$why"; done; return; fi
  local sd=$WORK/synthetic
  if [[ $REGEN == 1 || ! -e $sd/.complete ]]; then
    rm -rf "$sd"
    log "generating the synthetic catalog (100000 studies x 10 series)"
    timeout 1800 "$EMULATOR" generate --out "$sd" --synthetic-studies 100000 --series-per-study 10 \
      >"$WORK/logs/generate-synthetic.log" 2>&1 || { for k in "${keys[@]}"; do na "$k" "generate failed"; done; return; }
  fi
  local api="http://127.0.0.1:$SYN_PORT/v3" t0
  t0=$(now)
  spawn synemu "${EMU_PIN[@]}" "$EMULATOR" serve --data "$sd" --port "$SYN_PORT" --bind 127.0.0.1 --quiet --idc-synthetic
  if ! wait_http "$api/version" 900 synemu; then
    for k in "${keys[@]}"; do na "$k" "emulator --idc-synthetic did not answer (logs/synemu.log)"; done; stop synemu; return
  fi
  local nser
  nser=$(curl -sf --max-time 120 -H 'Content-Type: application/json' -d '{"sql":"SELECT count(*) AS n FROM index"}' "$api/sql" |
    python3 -c 'import json,sys; r=json.load(sys.stdin)["rows"][0]; print(r["n"] if isinstance(r,dict) else r[0])' 2>/dev/null)
  log "emulator --idc-synthetic up after $(since "$t0") s: ${nser:-?} series in /v3/sql's index"
  put label_12c "${nser:-?} series"
  local runs=${IDC_HARVEST_RUNS:-$N_RUNS} r J
  local hs=() ss=() rss=() reps=() hwm cache=$WORK/cache-idc-harvest
  for r in $(seq "$runs"); do
    # Baseline: the same pages, read back to back (one keep-alive connection, no parsing).
    if J=$("${IDC_MEASURE[@]}" harvest-replay --api "$api" --max-seconds 3600 2>"$WORK/logs/idc-replay$r.err"); then
      reps+=("$(jget "$J" seconds)"); log "idc harvest replay $r: $J"
    else
      log "idc harvest replay $r failed: $(head -c 200 "$WORK/logs/idc-replay$r.err")"
    fi
    rm -rf "$cache"; mkdir -p "$cache"
    log "tcia-bridge --source idc: harvest on start of the synthetic index ($r/$runs)"
    t0=$(now)
    if ! idc_bridge_start "$cache" "$api" "http://127.0.0.1:$SYN_PORT/s3/{bucket}"; then
      why="tcia-bridge --source idc did not start"; break
    fi
    idc_wait_harvest 3600 "$t0"
    hwm=$(bridge_hwm_mb)
    cp "$WORK/logs/bridge.log" "$WORK/logs/idc-bridge-harvest$r.log" 2>/dev/null
    log "idc harvest $r: study level ${IDC_ST:-?} s, complete ${IDC_DONE:-?} s, VmHWM ${hwm:-?} MB"
    [[ -n $IDC_ST ]] && ss+=("$IDC_ST")
    [[ -n $IDC_DONE ]] && hs+=("$IDC_DONE")
    [[ -n $hwm ]] && rss+=("$hwm")
    stop bridge
    recv_cleanup "$cache"
    [[ -n $IDC_DONE ]] || { why="harvest not complete within 1 h (logs/idc-bridge-harvest$r.log)"; break; }
  done
  stop synemu
  if ((${#hs[@]})); then put_runs idc_harvest_s "${hs[@]}"; else na idc_harvest_s "${why:-harvest not complete}"; fi
  if ((${#ss[@]})); then put_runs idc_harvest_study_s "${ss[@]}"; else na idc_harvest_study_s "${why:-study level not complete}"; fi
  if ((${#rss[@]})); then put_runs idc_harvest_rss_mb "${rss[@]}"; else na idc_harvest_rss_mb "no VmHWM"; fi
  if ((${#reps[@]})); then put_runs idc_replay_s "${reps[@]}"; else na idc_replay_s "harvest replay failed (logs/idc-replay1.err)"; fi
  note idc_harvest "IDC harvest on start of the synthetic index (${nser:-?} series, emulator --idc-synthetic, SQLite behind /v3/sql): fresh bridge + empty cache each run; complete ${hs[*]:-?} s, study level ${ss[*]:-?} s, VmHWM ${rss[*]:-?} MB (sampled at completion). Baseline: the same /v3/sql pages (patients, studies, series per collection; 10,000 rows each) read back to back on one connection without parsing: ${reps[*]:-?} s."
}

idc_rows() {
  idc_move_rows
  idc_harvest_rows
}
