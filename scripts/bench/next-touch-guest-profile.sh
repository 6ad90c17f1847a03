#!/usr/bin/env bash
# Profile the 2-node TCG guest from inside while it moves buffers of
# 4 KiB pages from node 0 to node 1, by next-touch and by one
# move_pages(2) call, 16 MiB buffers and then 1-page ones, and marks a
# 16 MiB buffer with madvise() and with mprotect() in turn (tools/bench/
# next-touch-loop, SECONDS each): where the guest kernel's time goes in
# each method, and how much of it is work that both must do.  Uses Debian's perf (linux-perf from bookworm-backports,
# downloaded once into the cache) with cpu-clock samples of every CPU, by
# thread and function; writes docs/bench/next-touch-guest-profile.txt
# (OUT to change).
#
#   scripts/bench/next-touch-guest-profile.sh   (SECONDS_PHASE=20 by default)
#
# Runs build/guest-kernel/bzImage; GUEST_KERNEL selects another image and
# SYSTEM_MAP its System.map (default build/linux-release/System.map).
set -euo pipefail

top=$(cd "$(dirname "$0")/../.." && pwd)
secs=${SECONDS_PHASE:-20}
hz=499
work=$top/build/bench/next-touch-guest-profile
out=${OUT:-$top/docs/bench/next-touch-guest-profile.txt}
export GUEST_KERNEL=${GUEST_KERNEL:-$top/build/guest-kernel/bzImage}
system_map=${SYSTEM_MAP:-$top/build/linux-release/System.map}
rm -rf "$work"
mkdir -p "$work"
"$top/scripts/build-tools.sh" --static
. "$top/scripts/bench/bench-lib.sh"

# For each method: the samples of the bench's threads, counted by
# thread (the main thread populates and marks, the other one moves) and
# instruction address.  The release kernel has no kallsyms: the
# addresses are resolved here, from the build's System.map.
cat >"$work/payload.sh" <<PAYLOAD
echo 0 >/proc/sys/kernel/numa_balancing
echo madvise >/sys/kernel/mm/transparent_hugepage/enabled
echo -1 >/proc/sys/kernel/perf_event_paranoid
for pages in 4096 1; do
for method in "" --move-pages; do
    ./perf record -q -a -F $hz -e cpu-clock -o /tmp/perf.data -- \\
        ./next-touch-loop \$method --pages \$pages 4k $secs || exit 1
    kind=4k\${method:+-move-pages}
    [ \$pages = 4096 ] || kind=\$kind-\$pages
    ./perf script -i /tmp/perf.data -F comm,pid,tid,ip 2>/dev/null |
        awk -v kind=\$kind '
            { sub("/", " ") }
            \$1 == "next-touch-loop" || \$1 == "nt-mover" {
                n[(\$2 == \$3 ? "main" : "mover") " " \$4]++ }
            END { for (k in n) print "prof", kind, k, n[k] }'
done
done
./perf record -q -a -F $hz -e cpu-clock -o /tmp/perf.data -- \\
    ./next-touch-loop --marking 4k $secs || exit 1
./perf script -i /tmp/perf.data -F comm,pid,tid,ip 2>/dev/null |
    awk '{ sub("/", " ") }
         \$1 == "next-touch-loop" { n["main " \$4]++ }
         END { for (k in n) print "prof 4k-marking", k, n[k] }'
grep -E '^(nexttouch_migrated|pgmigrate_success)' /proc/vmstat
PAYLOAD
"$top/scripts/guest-run.sh" 2 "$work/payload.sh" \
    "$top/build/tools-static/tools/bench/next-touch-loop" "$(debian_perf)" \
    >"$work/guest.log" 2>&1 || { tail -n 30 "$work/guest.log"; exit 1; }

{
    echo "# 16 MiB of 4 KiB pages moved from node 0 to node 1 in the 2-node TCG guest,"
    echo "# $(basename "$GUEST_KERNEL"), cpu-clock at $hz Hz, $(date -u +%F)."
    grep -h '^# phase .* end\|^nexttouch_migrated\|^pgmigrate_success' "$work/guest.log"
    "$top/scripts/bench/next-touch-guest-profile.py" "$work/guest.log" $hz \
        "$system_map"
} | tee "$out"
