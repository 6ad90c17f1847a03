#!/usr/bin/env bash
# Benchmark the page_migrate system calls, migrate_virt_addr_range(2) and
# migrate_ph_pages(2), against move_pages(2) inside the 2-node guest
# (TCG: the times are emulated, compare ratios, not absolute values).
# Writes docs/bench/migrate-calls.csv (every move), ...-summary.csv
# (median per method and size, base and per-page cost) and
# docs/bench/migrate-calls.png.
#
#   scripts/bench/migrate-calls.sh     (REPS=n MAX_BYTES=b to change)
#
# Needs guest-kernel/build.sh --debug (GUEST_KERNEL picks another image);
# builds the static benchmark and migstat (tools/bench, tools/page_migrate)
# with scripts/build-tools.sh --static.
set -euo pipefail

top=$(cd "$(dirname "$0")/../.." && pwd)
out=$top/docs/bench
work=$top/build/bench
mkdir -p "$out" "$work"
"$top/scripts/build-tools.sh" --static
tools=$top/build/tools-static/tools

payload=$work/migrate-calls-payload.sh
{
    echo "REPS=${REPS:-5} MAX_BYTES=${MAX_BYTES:-67108864}"
    cat "$top/scripts/bench/migrate-calls-payload.sh"
} >"$payload"
"$top/scripts/guest-run.sh" 2 "$payload" "$tools/bench/migrate-calls-bench" \
    "$tools/page_migrate/migstat" >"$work/migrate-calls.log"
grep '^#' "$work/migrate-calls.log" || true

csv=$out/migrate-calls.csv
sed -n 's/^csv,//p' "$work/migrate-calls.log" >"$csv"
summary=$out/migrate-calls-summary.csv
python3 - "$csv" >"$summary" <<'PY'
import csv, statistics, sys
rows = list(csv.DictReader(open(sys.argv[1])))
med = {}
for m in sorted({r["method"] for r in rows}):
    for b in sorted({int(r["bytes"]) for r in rows if r["method"] == m}):
        ns = [int(r["ns"]) for r in rows if r["method"] == m and int(r["bytes"]) == b]
        med[m, b] = statistics.median(ns)
sizes = sorted({b for _, b in med})
methods = ["migrate_virt_addr_range", "migrate_ph_pages", "move_pages"]
print("method,bytes,pages,median_ns,ns_per_page,mb_per_s,ratio_vs_move_pages")
for m in methods:
    for b in sizes:
        if (m, b) not in med:
            continue
        ns, pages = med[m, b], b // 4096
        ratio = med["move_pages", b] / ns if ("move_pages", b) in med else 0
        print(f"{m},{b},{pages},{ns:.0f},{ns / pages:.0f},"
              f"{b / 1048576 / (ns / 1e9):.1f},{ratio:.2f}")
# Base and per-page cost: least-squares line through the medians.
for m in methods:
    pts = [(b // 4096, med[m, b]) for b in sizes if (m, b) in med]
    if len(pts) < 2:
        continue
    n = len(pts)
    sx = sum(p for p, _ in pts); sy = sum(t for _, t in pts)
    sxx = sum(p * p for p, _ in pts); sxy = sum(p * t for p, t in pts)
    slope = (n * sxy - sx * sy) / (n * sxx - sx * sx)
    print(f"# {m}: base {med[m, sizes[0]]:.0f} ns (1 page), "
          f"per page {slope:.0f} ns (fit over {n} sizes)")
PY
column -t -s, "$summary" | grep -v '^#'
grep '^#' "$summary"

gnuplot <<GP
set terminal pngcairo size 1000,560 noenhanced
set output "$out/migrate-calls.png"
set title "Page migration calls, 2-node guest under TCG (emulated times)"
set datafile separator ","
set logscale x 2
set xlabel "buffer size (KiB)"
set ylabel "median throughput (MB/s)"
set key top left
set grid
plot "< grep ^migrate_virt_addr_range, $summary" using (\$2/1024):6 with linespoints title "migrate_virt_addr_range", \\
     "< grep ^migrate_ph_pages, $summary" using (\$2/1024):6 with linespoints title "migrate_ph_pages", \\
     "< grep ^move_pages, $summary" using (\$2/1024):6 with linespoints title "move_pages"
GP
echo "wrote $csv, $summary and $out/migrate-calls.png"
