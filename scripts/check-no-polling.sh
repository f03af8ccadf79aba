#!/usr/bin/env bash
# Regression guard for issue 11 "no polling loop remains" (docs/cancellation.md): fails when a
# sleep (std::this_thread::sleep_for / usleep / nanosleep / sleep) appears in the product's code
# (bridge/ dimse/ web/ app/) on a line that does not carry the marker
#   // polling-guard: <why this sleep is not a wait on a stop flag>
# A wait belongs on a condition variable / stop_token (RequestContext::wait, waitFor, sleepFor)
# or on poll(2) with an eventfd, so that whoever stops the work wakes it. Usage:
#   scripts/check-no-polling.sh [SOURCE_DIR]
set -euo pipefail
root=${1:-$(cd "$(dirname "$0")/.." && pwd)}
cd "$root"
hits=$(grep -rn -E '(sleep_for|usleep|nanosleep)[[:space:]]*\(|(^|[^_[:alnum:]:.>])sleep[[:space:]]*\(' \
         --include='*.cpp' --include='*.h' bridge dimse web app | grep -v 'polling-guard:' || true)
if [[ -n "$hits" ]]; then
  echo "FAIL: sleeps without a 'polling-guard:' reason (wait on RequestContext / poll+eventfd instead):" >&2
  echo "$hits" >&2
  exit 1
fi
allowed=$(grep -rn -E 'polling-guard:' --include='*.cpp' --include='*.h' bridge dimse web app | wc -l)
echo "ok: no unmarked sleep in bridge/ dimse/ web/ app/ ($allowed marked)"
