#!/usr/bin/env bash
# Benchmark migrate-guest-range against raw move_pages, migratepages and
# memcpy, on the same guest RAM range, inside the two-node test host.
# Writes build/bench/guest-memory-move.csv and .png and prints the mean
# throughput of each method and its ratio to raw move_pages.
#
#   scripts/bench/guest-memory-move.sh     (SIZE=bytes REPS=n to change)
#
# PLACEMENT=1 instead measures where the threads run, with the guest
# running: one worker and raw move_pages with the mover's thread free,
# apart from the guest's vCPU thread and on its CPU (the comment above
# placement() in the payload); writes build/bench/guest-memory-move-
# placement.csv and -summary.csv.
#
# PROFILE=1 also profiles each method in the test host with Debian's
# perf (linux-perf from bookworm-backports, the test host kernel's
# version, downloaded once into the cache): cpu-clock samples by thread,
# binary and function, where the threads left the CPU, the CPU time the
# kernel charged them and QEMU's mover trace events, in
# build/bench/guest-memory-move-profile.csv, summarised by
# scripts/bench/mover-profile.py.  REPS=0 PROFILE=1 profiles without the
# timed moves.
set -euo pipefail

top=$(cd "$(dirname "$0")/../.." && pwd)
out=$top/build/bench
mkdir -p "$out"
"$top/scripts/build-qemu.sh" >/dev/null
"$top/scripts/build-tools.sh"

"$top/scripts/make-bootblock.sh" "$out/bootblock.img"
. "$top/scripts/bench/bench-lib.sh"

files=("$top/scripts/qmp-lib.sh" "$out/bootblock.img"
       "$top/build/tools/tools/bench/numa-move-bench" "$(command -v migratepages)")
[ "${PROFILE:-0}" = 1 ] && files+=("$(debian_perf)")
payload=$out/guest-memory-move-payload.sh
{
    echo "SIZE=${SIZE:-67108864} REPS=${REPS:-5} PROFILE=${PROFILE:-0} PLACEMENT=${PLACEMENT:-0}"
    cat "$top/scripts/bench/guest-memory-move-payload.sh"
} >"$payload"
"$top/scripts/testhost.sh" "$payload" "${files[@]}" >"$out/guest-memory-move.log"
grep '^#' "$out/guest-memory-move.log" || true
if [ "${PROFILE:-0}" = 1 ]; then
    grep '^prof-' "$out/guest-memory-move.log" >"$out/guest-memory-move-profile.csv"
    "$top/scripts/bench/mover-profile.py" "$out/guest-memory-move-profile.csv" "${SIZE:-67108864}"
    [ "${REPS:-5}" = 0 ] && exit 0
fi

name=guest-memory-move
[ "${PLACEMENT:-0}" = 1 ] && name=guest-memory-move-placement
csv=$out/$name.csv
echo "guest,backing,method,direction,rep,bytes,ns,mb_per_s" >"$csv"
grep '^csv,' "$out/guest-memory-move.log" |
    awk -F, '{ printf "%s,%s,%s,%s,%s,%s,%s,%.1f\n", $2, $3, $4, $5, $6, $7, $8,
               $7 / 1048576 / ($8 / 1e9) }' >>"$csv"

# Median MB/s per backing and method (nested TCG is noisy: single runs
# vary by 2x), and its ratio to raw move_pages' median.
summary=$out/$name-summary.csv
"$top/scripts/bench/summarize.py" "$csv" move_pages >"$summary"
column -t -s, "$summary"
[ "${PLACEMENT:-0}" = 1 ] && exit 0

gnuplot <<GP
set terminal pngcairo size 1000,520 noenhanced
set output "$out/guest-memory-move.png"
set title "$((${SIZE:-67108864} / 1048576)) MiB of guest RAM moved between host nodes (nested TCG test host)"
set style data histograms
set style histogram clustered gap 1
set style fill solid 0.8 border -1
set ylabel "median throughput / raw move_pages median"
set datafile separator ","
set key below horizontal
set xtics rotate by -15
set yrange [0:*]
set grid ytics
set arrow from graph 0, first 1 to graph 1, first 1 nohead dt 2
plot "< grep ^paused,4k, $summary | grep -v -e memcpy -e move_pages_" using 8:xtic(3) title "paused guest, 4 KiB", \\
     "< grep ^paused,thp, $summary | grep -v -e memcpy -e move_pages_" using 8 title "paused guest, THP", \\
     "< grep ^running,4k, $summary | grep -v -e memcpy -e move_pages_" using 8 title "running guest, 4 KiB", \\
     "< grep ^running,thp, $summary | grep -v -e memcpy -e move_pages_" using 8 title "running guest, THP"
GP
echo "wrote $csv, $summary and $out/guest-memory-move.png"
