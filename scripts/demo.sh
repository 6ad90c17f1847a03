#!/usr/bin/env bash
# make demo: the whole story in two acts.
#
#  1. The guest level.  A 4-node guest with the Scalable Node Controller
#     runs an application whose data is spread round robin over its
#     nodes (25% local) and which changes its behaviour half way.  The
#     policy engine, in cooperative mode, reads the SNC's counts every
#     second and asks the guest's SNC driver to move the hot zones to
#     the nodes that touch them: locality rises, falls at the phase
#     change, and recovers (scripts/scenario.sh).
#  2. The host level.  A running guest's RAM moves between host NUMA
#     nodes, live (migrate-guest-range).  On a host with two or more
#     NUMA nodes this runs here; on a single-node host it runs inside
#     the multi-node test host (scripts/testhost.sh).
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
work=$top/build/demo
mkdir -p "$work"

printf '=== Act 1: the guest level: the engine against a phase change\n\n'
echo "A 4-node guest runs phase-shift: 4 threads, one per node, each on"
echo "16 MiB of its own data, all of it interleaved over the 4 nodes; at"
echo "20 s every thread switches to the next thread's data.  numa-policyd"
echo "runs in cooperative mode with 1 s SNC periods (about 2 minutes)."
echo
"$top/scripts/scenario.sh" --mode cooperative --nodes 4 --seconds 40 \
    --phase-at 20 --out "$work/scenario"
echo
echo "Each second, the workload's ground truth (move_pages status of the"
echo "data each thread works on):"
awk -F, 'NR == 1 { for (i = 1; i <= NF; i++) if ($i == "local_total") c = i; next }
         { printf "  t=%5.1f s  phase %d  %5.1f%% local  %s\n", $1, $2, $c * 100,
                  substr("########################################", 1, int($c * 40 + 0.5)) }' \
    "$work/scenario/workload.csv"

printf '\n=== Act 2: the host level: moving a running guest between host nodes\n\n'
"$top/scripts/make-bootblock.sh" "$work/bootblock.img"
cp "$top/scripts/qmp-lib.sh" "$top/scripts/demo-payload.sh" "$work/"

nodes=$(numactl --hardware 2>/dev/null | awk '/^available:/ { print $2 }')
if [ "${nodes:-1}" -ge 2 ]; then
    cd "$work" && QEMU=$top/build/qemu-system-x86_64 sh ./demo-payload.sh
else
    echo "This host has one NUMA node: running this act inside a TCG test host"
    echo "with two NUMA nodes (about a minute)."
    TESTHOST_TIMEOUT=600 "$top/scripts/testhost.sh" "$work/demo-payload.sh" \
        "$work/bootblock.img" "$work/qmp-lib.sh"
fi
