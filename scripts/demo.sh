#!/usr/bin/env bash
# make demo: move a running guest's RAM between host NUMA nodes.  On a
# host with two or more NUMA nodes this runs here; on a single-node host
# it runs inside the multi-node test host (scripts/testhost.sh).
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
work=$top/build/demo
mkdir -p "$work"

# The guest: QEMU's migration-test boot sector, taken from its header.
python3 - "$top/build/qemu-src/tests/qtest/migration/i386/a-b-bootblock.h" \
    "$work/bootblock.img" <<'PY'
import re, sys
text = open(sys.argv[1]).read().split("{", 1)[1]
open(sys.argv[2], "wb").write(bytes(int(b, 16) for b in re.findall(r"0x([0-9a-fA-F]{2})", text)))
PY
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
