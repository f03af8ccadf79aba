# Helpers sourced by the black-box scripts; not a test itself (tests/CMakeLists.txt registers
# only tests/blackbox/*.sh). Usage, after WORK is set:
#   source "$(dirname "${BASH_SOURCE[0]}")/common.bash"
# Gives: PIDS (append "$!" after starting each background child) and an EXIT trap that kills
# and reaps every child, then removes $WORK; free_port, wait_port, wait_http; ok,
# ensure_sample_data, start_emulator, start_storescp, wait_log (below).
PIDS=()
bb_cleanup() {
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null || true; done
  rm -rf "$WORK"
}
trap bb_cleanup EXIT

# A currently unused loopback port (racy but adequate; pure bash, no python needed). It comes
# from 10000-32767, below Linux's ephemeral range (32768-60999), so no outgoing connection can
# hold it as its local port, and never twice in one script ($WORK/.ports), so two peers started
# back to back cannot both be handed the port the first has not bound yet.
free_port() {
  local p
  while :; do
    p=$((10000 + RANDOM % 22768))
    grep -qx "$p" "$WORK/.ports" 2>/dev/null && continue
    (echo > /dev/tcp/127.0.0.1/$p) 2>/dev/null && continue
    echo "$p" >> "$WORK/.ports" 2>/dev/null || true
    echo $p
    return
  done
}

# wait_port PORT [SECONDS=10]: until 127.0.0.1:PORT accepts a connection; 1 on timeout.
wait_port() {
  for _ in $(seq $(( ${2:-10} * 10 ))); do (echo > /dev/tcp/127.0.0.1/"$1") 2>/dev/null && return 0; sleep 0.1; done
  return 1
}

# wait_http URL SECONDS: until URL answers 2xx; 1 (with a message) on timeout.
wait_http() {
  for _ in $(seq 1 $(( $2 * 10 ))); do curl -sf -o /dev/null "$1" && return 0; sleep 0.1; done
  echo "not reachable: $1" >&2; return 1
}

# The scripts' shared start-up. They use B (the build dir), DATA (the sample data) and WORK;
# each start_* appends its child to PIDS and returns 1 when it did not come up in time, e.g.
#   start_emulator --fault "getImage:truncate:100" || fail "emulator did not start"

# ok MESSAGE: a progress line with the seconds since the script started.
ok() { echo "ok: [$SECONDS s] $*"; }

# ensure_sample_data: generates $DATA with the build's tcia-emulator unless already complete.
ensure_sample_data() {
  [ -f "$DATA/.complete" ] || "$B/emulator/tcia-emulator" generate --out "$DATA" >/dev/null
}

# start_emulator [SERVE-ARGS...]: `tcia-emulator serve` over $DATA on a free loopback port,
# log in $WORK/emulator.log; sets EMU (its port); waits up to 20 s for the port.
start_emulator() {
  EMU=$(free_port)
  "$B/emulator/tcia-emulator" serve --data "$DATA" --port "$EMU" --bind 127.0.0.1 --quiet "$@" \
    > "$WORK/emulator.log" 2>&1 &
  PIDS+=($!)
  wait_port "$EMU" 20
}

# start_storescp AET DIR [STORESCP-ARGS...]: DCMTK's storescp as AE AET writing into DIR
# (created), log in $WORK/storescp-AET.log; sets STORE_PORT; waits up to 20 s for the port. When
# storescp exits before listening (the port was taken after free_port chose it), it tries another
# port, three times at most; on failure the log is printed to stderr.
start_storescp() {
  local aet=$1 dir=$2 log="$WORK/storescp-$1.log" try pid
  shift 2
  mkdir -p "$dir"
  for try in 1 2 3; do
    STORE_PORT=$(free_port)
    storescp "$@" -aet "$aet" -od "$dir" "$STORE_PORT" > "$log" 2>&1 &
    pid=$!
    PIDS+=($pid)
    for _ in $(seq 200); do
      (echo > /dev/tcp/127.0.0.1/"$STORE_PORT") 2>/dev/null && return 0
      kill -0 "$pid" 2>/dev/null || break
      sleep 0.1
    done
    kill -0 "$pid" 2>/dev/null && break   # alive but not listening after 20 s: give up
  done
  echo "storescp $aet did not start; its log:" >&2
  cat "$log" >&2 || true
  return 1
}

# wait_log FILE PATTERN [SECONDS=10]: until grep finds PATTERN (basic regex) in FILE; 1 on timeout.
wait_log() {
  for _ in $(seq $(( ${3:-10} * 10 ))); do grep -q "$2" "$1" 2>/dev/null && return 0; sleep 0.1; done
  return 1
}
