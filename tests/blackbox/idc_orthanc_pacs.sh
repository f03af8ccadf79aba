#!/usr/bin/env bash
# labels: slow
# Black-box: orthanc_pacs.sh (Orthanc as the PACS: C-ECHO, C-FIND, C-MOVE through its REST API)
# with the bridge on --source idc, i.e. metadata from the emulator's /v3, instances from /s3.
BRIDGE_SOURCE=idc exec bash "$(dirname "${BASH_SOURCE[0]}")/orthanc_pacs.sh"
