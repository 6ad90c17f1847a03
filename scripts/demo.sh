#!/usr/bin/env bash
# make demo: move a running guest's RAM between host NUMA nodes.  On a
# host with two or more NUMA nodes this runs here; on a single-node host
# it runs inside the multi-node test host (scripts/testhost.sh).
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
work=$top/build/demo
mkdir -p "$work"

"$top/scripts/make-bootblock.sh" "$work/bootblock.img"
cp "$top/scripts/qmp-lib.sh" "$top/scripts/demo-payload.sh" "$work/"

nodes=$(numactl --hardware 2>/dev/null | awk '/^available:/ { print $2 }')
if [ "${nodes:-1}" -ge 2 ]; then
    cd "$work" && QEMU=$top/build/qemu-system-x86_64 sh ./demo-payload.sh
else
    echo "This host has one NUMA node: running the demo inside a TCG test host"
    echo "with two NUMA nodes (about a minute)."
    TESTHOST_TIMEOUT=600 "$top/scripts/testhost.sh" "$work/demo-payload.sh" \
        "$work/bootblock.img" "$work/qmp-lib.sh"
fi
