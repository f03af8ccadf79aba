#!/usr/bin/env bash
# labels: slow
# Black-box: ohif_e2e.sh (OHIF in headless Chromium: work list, viewer, rendered pixels) against a
# bridge on --source idc, i.e. metadata from the emulator's /v3 and instances from its /s3 buckets.
BRIDGE_SOURCE=idc exec bash "$(dirname "${BASH_SOURCE[0]}")/ohif_e2e.sh"
