#!/usr/bin/env bash
# The policy-testhost suite: numa-policyd's host lever inside the
# two-node test host, after a vCPU re-pin (scripts/policy-testhost-payload.sh).
#
#   scripts/policy-testhost.sh
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
work=$top/build/policy-testhost
engine=${NUMA_POLICYD:-$top/build/tools/tools/policy/numa-policyd}
mkdir -p "$work"
"$top/scripts/make-bootblock.sh" "$work/bootblock.img"
TESTHOST_TIMEOUT=${TESTHOST_TIMEOUT:-900} "$top/scripts/testhost.sh" \
    "$top/scripts/policy-testhost-payload.sh" "$work/bootblock.img" \
    "$top/scripts/qmp-lib.sh" "$engine"
