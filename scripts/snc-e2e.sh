#!/usr/bin/env bash
# End-to-end test of the Scalable Node Controller with real guest code:
# boot the project's guest kernel with NODES virtual NUMA nodes and an
# snc device, and run snc-touch in it (one thread per node touching its
# own buffer; the device's hottest zones per node must be that buffer's).
#
#   scripts/snc-e2e.sh NODES [snc-touch arguments]
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
nodes=$1
shift
args=$top/build/guest-run/snc-args-$nodes
mkdir -p "$(dirname "$args")"
echo "$*" >"$args"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cp "$args" "$tmp/snc-args"
GUEST_QEMU_ARGS="-device snc" exec "$top/scripts/guest-run.sh" "$nodes" \
    "$top/scripts/snc-guest.sh" "$top/build/tools/tools/snc/snc-touch" "$tmp/snc-args"
