#!/usr/bin/env bash
# The guest kernel's stress, in TAP: tools/soak/next-touch-stress in a
# NODES-node guest (default 4) on the debug kernel (DEBUG_VM,
# PROVE_LOCKING) for SECONDS (default 600): four threads mark, write,
# check, fork, mremap, munmap, mprotect, collapse and split huge pages
# of their regions while another thread calls migrate_ph_pages() and
# migrate_virt_addr_range() on them.  The data must stay intact and the
# console clean (no WARN, BUG, oops or lockdep report).
#
#   scripts/guest-stress.sh [SECONDS] [NODES]
#
# GUEST_KERNEL selects another image (scripts/guest-run.sh);
# STRESS_ARGS adds options (--seed X).  Needs
# guest-kernel/build-selftests.sh (the static guest program).
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
seconds=${1:-600} nodes=${2:-4}
work=$top/build/guest-stress
prog=$top/build/guest-kernel/tools/next-touch-stress
mkdir -p "$work"
if [ ! -x "$prog" ]; then
    echo "Bail out! $prog is missing: run guest-kernel/build-selftests.sh"
    exit 1
fi
cat >"$work/payload.sh" <<PAYLOAD
#!/bin/sh
./next-touch-stress --seconds $seconds --threads 4 --pages 1024 ${STRESS_ARGS:-}
rc=\$?
# What next-touch did meanwhile: marks, and the faults that moved pages.
grep -E '^(nexttouch_|thp_(collapse|split)_)' /proc/vmstat | tr '\n' ' ' |
    sed 's/^/# vmstat: /; s/ \$/\n/'
exit \$rc
PAYLOAD
GUEST_TIMEOUT=$((seconds + 900)) "$top/scripts/guest-run.sh" "$nodes" \
    "$work/payload.sh" "$prog"
