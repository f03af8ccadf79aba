#!/bin/sh
# The container image's entry point: the offline demo. Generates the emulator's sample archive
# (once, into the cache volume), serves it as "TCIA" inside the container, and runs the bridge
# against it. Inside the container the bridge listens on all of the container's addresses so
# that `docker run -p 127.0.0.1:8080:8080 -p 127.0.0.1:11112:11112 IMAGE` reaches it; the
# emulator stays on the container's loopback. Extra arguments go to tcia-bridge.
set -eu
CACHE=${TCIA_BRIDGE_CACHE:-/var/cache/tcia-bridge}
DATA=$CACHE/sample-data
[ -f "$DATA/.complete" ] || tcia-emulator generate --out "$DATA"
tcia-emulator serve --data "$DATA" --port 8899 --bind 127.0.0.1 &
EMULATOR=$!
trap 'kill $EMULATOR 2>/dev/null || true' EXIT INT TERM
run_bridge() {
    tcia-bridge --config /usr/share/doc/tcia-bridge/emulator.json --bind 0.0.0.0 \
        --cache-dir "$CACHE/bridge" "$@"
}
run_bridge "$@"
