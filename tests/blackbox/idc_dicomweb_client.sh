#!/usr/bin/env bash
# Black-box: web_dicomweb_client.sh (npm dicomweb-client against the built bridge) with the
# bridge on --source idc, i.e. metadata from the emulator's /v3 and instances from its /s3 buckets.
BRIDGE_SOURCE=idc exec bash "$(dirname "${BASH_SOURCE[0]}")/web_dicomweb_client.sh"
