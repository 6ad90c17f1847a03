#!/usr/bin/env bash
# Benchmark migrate-guest-range against raw move_pages, migratepages and
# memcpy, on the same guest RAM range, inside the two-node test host.
# Writes build/bench/guest-memory-move.csv and .png and prints the mean
# throughput of each method and its ratio to raw move_pages.
#
#   scripts/bench/guest-memory-move.sh     (SIZE=bytes REPS=n to change)
set -euo pipefail

top=$(cd "$(dirname "$0")/../.." && pwd)
out=$top/build/bench
mkdir -p "$out"
"$top/scripts/build-qemu.sh" >/dev/null
"$top/scripts/build-tools.sh"

payload=$out/guest-memory-move-payload.sh
{
    echo "SIZE=${SIZE:-67108864} REPS=${REPS:-3}"
    cat "$top/scripts/bench/guest-memory-move-payload.sh"
} >"$payload"
"$top/scripts/testhost.sh" "$payload" "$top/scripts/qmp-lib.sh" \
    "$top/build/tools/numa-move-bench" "$(command -v migratepages)" |
    tee "$out/guest-memory-move.log" | grep '^#' || true

csv=$out/guest-memory-move.csv
echo "backing,method,direction,rep,bytes,ns,mb_per_s" >"$csv"
grep '^csv,' "$out/guest-memory-move.log" |
    awk -F, '{ printf "%s,%s,%s,%s,%s,%s,%.1f\n", $2, $3, $4, $5, $6, $7,
               $6 / 1048576 / ($7 / 1e9) }' >>"$csv"

# Mean MB/s per backing and method, and the ratio to raw move_pages.
summary=$out/guest-memory-move-summary.csv
awk -F, 'NR > 1 { s[$1","$2] += $7; n[$1","$2]++ }
    END { for (k in s) printf "%s,%.1f\n", k, s[k] / n[k] }' "$csv" |
    sort >"$summary.tmp"
awk -F, 'NR == FNR { if ($2 == "move_pages") base[$1] = $3; next }
    { printf "%s,%s,%.1f,%.2f\n", $1, $2, $3, $3 / base[$1] }' \
    "$summary.tmp" "$summary.tmp" >"$summary"
rm -f "$summary.tmp"
echo "backing,method,mean_mb_per_s,ratio_to_move_pages"
cat "$summary"

gnuplot <<GP
set terminal pngcairo size 900,500 noenhanced
set output "$out/guest-memory-move.png"
set title "Moving $((${SIZE:-67108864} / 1048576)) MiB of guest RAM between host nodes (nested TCG test host)"
set style data histograms
set style histogram clustered gap 1
set style fill solid 0.8 border -1
set ylabel "MB/s (mean of both directions, ${REPS:-3} reps)"
set datafile separator ","
set key top left
set yrange [0:*]
plot "< grep ^4k, $summary" using 3:xtic(2) title "4 KiB pages", \
     "< grep ^thp, $summary" using 3 title "THP"
GP
echo "wrote $csv, $summary and $out/guest-memory-move.png"
