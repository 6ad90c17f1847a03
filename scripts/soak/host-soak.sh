#!/usr/bin/env bash
# The host soak and the live-migration race, inside the two-node test
# host (scripts/soak/host-soak-payload.sh says what they do).
#
#   scripts/soak/host-soak.sh [MINUTES]
#
# MINUTES of random moves (default 30; make check runs 1).  Prints TAP
# and the counts: moves, jobs, cancels, refusals, bytes moved, bytes
# checked, corrupted checks.
set -euo pipefail

top=$(cd "$(dirname "$0")/../.." && pwd)
minutes=${1:-30}
work=$top/build/host-soak
mkdir -p "$work"
"$top/scripts/make-bootblock.sh" "$work/bootblock.img"
{ echo "SOAK_MINUTES=$minutes"; cat "$top/scripts/soak/host-soak-payload.sh"; } \
    >"$work/payload.sh"
TESTHOST_TIMEOUT=$((minutes * 60 + 1200)) "$top/scripts/testhost.sh" \
    "$work/payload.sh" "$work/bootblock.img" "$top/scripts/qmp-lib.sh" \
    "$top/build/tools/tools/soak/guest-ram-check"
