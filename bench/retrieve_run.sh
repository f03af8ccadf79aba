#!/bin/bash
# Figures of the retrieval engine (issue #5): peak RSS of 4 concurrent cold retrievals of the
# large series (goal < 150 MB), time to first instance cold/warm, with fast and slow consumers.
# Needs a build tree with tcia-emulator and bench_retrieve_rss:
#   ninja -C BUILD tcia-emulator bench_retrieve_rss && bench/retrieve_run.sh BUILD [WORKDIR]
set -euo pipefail
build=${1:?usage: bench/retrieve_run.sh BUILD_DIR [WORK_DIR]}
work=${2:-/tmp/tcia-bridge-bench-retrieve}
mkdir -p "$work"
[ -f "$work/data/.complete" ] || "$build/emulator/tcia-emulator" generate --out "$work/data" --large >/dev/null
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
"$build/emulator/tcia-emulator" serve --data "$work/data" --port "$port" --bind 127.0.0.1 --quiet 2>"$work/emulator.log" &
emulator=$!
trap 'kill $emulator 2>/dev/null; wait $emulator 2>/dev/null || true' EXIT
for _ in $(seq 100); do curl -sf "http://127.0.0.1:$port/emulator/stats" >/dev/null && break; sleep 0.1; done
url="http://127.0.0.1:$port/nbia-api/services/v4"
echo "== fast consumers"
"$build/bench/bench_retrieve_rss" --url "$url" --concurrency 4
echo "== slow consumers (30 ms per instance: instances are read back from the cache)"
"$build/bench/bench_retrieve_rss" --url "$url" --concurrency 4 --consumer-delay-ms 30
