#!/usr/bin/env bash
# Profile the project's QEMU from the host while the 2-node TCG guest
# moves 16 MiB buffers by next-touch, first on THPs and then on 4 KiB
# pages (tools/bench/next-touch-loop, SECONDS each): where the emulator's
# time goes, and why a THP move costs more than 512 base pages' in this
# guest.  Uses the host's perf (linux-perf); prints each phase's
# throughput and the share of QEMU's samples in the softmmu TLB's slow
# path, and writes docs/bench/next-touch-tcg-profile.txt.
#
#   scripts/bench/next-touch-tcg-profile.sh      (SECONDS_PHASE=25 by default)
#
# Runs build/guest-kernel/bzImage (GUEST_KERNEL selects another one).
set -euo pipefail

top=$(cd "$(dirname "$0")/../.." && pwd)
secs=${SECONDS_PHASE:-25}
work=$top/build/bench/next-touch-tcg-profile
out=$top/docs/bench/next-touch-tcg-profile.txt
export GUEST_KERNEL=${GUEST_KERNEL:-$top/build/guest-kernel/bzImage}
command -v perf >/dev/null || { echo "needs perf (linux-perf)" >&2; exit 1; }
rm -rf "$work"
mkdir -p "$work"
"$top/scripts/build-tools.sh" --static

cat >"$work/payload.sh" <<PAYLOAD
echo 0 >/proc/sys/kernel/numa_balancing
echo madvise >/sys/kernel/mm/transparent_hugepage/enabled
./next-touch-loop thp $secs || exit 1
./next-touch-loop 4k $secs || exit 1
grep -E '^(thp_migration_|nexttouch_migrated)' /proc/vmstat
PAYLOAD
console=$top/build/guest-run/2-node/console.log
rm -f "$console"
"$top/scripts/guest-run.sh" 2 "$work/payload.sh" \
    "$top/build/tools-static/tools/bench/next-touch-loop" >"$work/guest.log" 2>&1 &
guest=$!

# Each phase: QEMU's samples over most of it, from its start marker.
for phase in thp 4k; do
    until grep -q "# phase $phase start" "$console" 2>/dev/null; do
        kill -0 "$guest" 2>/dev/null || { cat "$work/guest.log"; exit 1; }
        sleep 0.2
    done
    qemu=$(pgrep -n -f "qemu-system-x86_64.*$(basename "$GUEST_KERNEL")")
    perf record -q -F 499 -e cpu-clock -p "$qemu" -o "$work/$phase.data" \
        -- sleep $((secs * 3 / 5)) 2>/dev/null
done
wait "$guest"

{
    echo "# next-touch of 16 MiB buffers in the 2-node TCG guest, $(date -u +%F)"
    grep -h '^# phase .* end\|^thp_migration_\|^nexttouch_migrated' "$console"
    for phase in thp 4k; do
        echo
        echo "## QEMU during the $phase phase: top functions"
        perf report -i "$work/$phase.data" --stdio --no-children --sort sym \
            --percent-limit 1.5 2>/dev/null | grep -v '^#' | grep -v '^$' | head -15
        # The softmmu TLB's slow path: a miss in the main TLB, served from
        # the victim TLB or by a page walk.
        perf report -i "$work/$phase.data" --stdio --no-children --sort sym \
            2>/dev/null |
            awk '$3 ~ /^(victim_tlb_hit|mmu_lookup1?|atomic_mmu_lookup|tlb_fill_align|x86_cpu_tlb_fill|helper_(ld|st)[a-z]*_mmu)$/ {
                     sub("%", "", $1); s += $1 }
                 END { printf "softmmu slow path: %.1f%% of QEMU samples\n", s }'
    done
} | tee "$out"
