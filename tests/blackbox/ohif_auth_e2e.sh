#!/usr/bin/env bash
# labels: slow
# OHIF 3.13.2 in headless Chromium against the bridge with HTTP authentication on
# (--bearer-token): the study list and the viewer work with the token, QIDO without it is 401.
# The whole scenario is ohif_e2e.sh with OHIF_E2E_AUTH=1 (see its header for how OHIF gets the token).
OHIF_E2E_AUTH=1 exec bash "$(dirname "${BASH_SOURCE[0]}")/ohif_e2e.sh"
