# Helpers sourced by the black-box scripts; not a test itself (tests/CMakeLists.txt registers
# only tests/blackbox/*.sh). Usage, after WORK is set:
#   source "$(dirname "${BASH_SOURCE[0]}")/common.bash"
# Gives: PIDS (append "$!" after starting each background child) and an EXIT trap that kills
# and reaps every child, then removes $WORK; free_port, wait_port, wait_http.
PIDS=()
bb_cleanup() {
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null || true; done
  rm -rf "$WORK"
}
trap bb_cleanup EXIT

# A currently unused loopback port (racy but adequate; pure bash, no python needed).
free_port() {
  local p
  while :; do
    p=$((20000 + RANDOM % 40000))
    (echo > /dev/tcp/127.0.0.1/$p) 2>/dev/null || { echo $p; return; }
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
