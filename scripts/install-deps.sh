#!/usr/bin/env bash
# Installs every Debian package the bridge needs to build, run and test.
# Usage: scripts/install-deps.sh [--build-only]
#   --build-only  only what building and running the bridge needs (no test peers).
set -euo pipefail
BUILD_PKGS=(build-essential cmake ninja-build ccache pkg-config
  libdcmtk-dev dcmtk libpoco-dev libjsoncpp-dev libboost-test-dev libarchive-dev
  libsqlite3-dev libpq-dev ca-certificates curl)
TEST_PKGS=(orthanc orthanc-dicomweb wrk hyperfine chromium iproute2 util-linux imagemagick dicom3tools
  debootstrap systemd dpkg-dev)
TEST_PKGS+=(prometheus)  # tests/blackbox/observability.sh: a real Prometheus scrapes /metrics; promtool
# Node.js and npm come with the machine (nodesource nodejs bundles npm; Debian's npm conflicts with it).
command -v npm >/dev/null || TEST_PKGS+=(nodejs npm)
want=("${BUILD_PKGS[@]}")
[ "${1:-}" = "--build-only" ] || want+=("${TEST_PKGS[@]}")
missing=()
for p in "${want[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  SUDO=""; [ "$(id -u)" = 0 ] || SUDO=sudo
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq
  # orthanc's postinst tries to start a service; policy-rc.d refusing it is fine.
  $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
