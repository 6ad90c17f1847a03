#!/usr/bin/env bash
# Benchmark migrate-on-next-touch in the 2-node guest: one guest boot runs
# next-touch-bench (tools/bench/), which measures
#   - the marking cost, madvise(MADV_MIGRATE_NEXT_TOUCH), beside
#     mprotect(PROT_NONE) on the same range;
#   - the next-touch cost per page (the touch alone);
#   - move_pages' base and per-page cost;
#   - throughput against buffer size, 4 KiB to MAX_MIB MiB, for next-touch,
#     move_pages, mbind(MPOL_MF_MOVE), a userspace mprotect+SIGSEGV
#     next-touch and memcpy.
# Writes docs/bench/next-touch.csv, docs/bench/next-touch.png (gnuplot) and
# docs/bench/next-touch-summary.txt (fits and ratios against the goals).
#
#   scripts/bench/next-touch.sh            (MAX_MIB=256 by default)
#
# Needs build/guest-kernel/bzImage-debug from guest-kernel/build.sh --debug;
# builds the static benchmark with scripts/build-tools.sh --static.
# The guest runs under TCG: every number is emulated, compare ratios only.
set -euo pipefail

top=$(cd "$(dirname "$0")/../.." && pwd)
max_mib=${MAX_MIB:-256}
work=$top/build/bench/next-touch
docs=$top/docs/bench
mkdir -p "$work" "$docs"

"$top/scripts/build-tools.sh" --static
bench=$top/build/tools-static/tools/bench/next-touch-bench

cat >"$work/payload.sh" <<PAYLOAD
echo 0 >/proc/sys/kernel/numa_balancing
# 4 KiB pages only: the throughput curves compare base-page moves.
echo never >/sys/kernel/mm/transparent_hugepage/enabled
grep MemFree /sys/devices/system/node/node*/meminfo
./next-touch-bench $max_mib >/tmp/nt.csv
rc=\$?
echo BEGIN-CSV
cat /tmp/nt.csv
echo END-CSV
grep -E '^(nexttouch|numa_pages_migrated|pgmigrate)' /proc/vmstat
exit \$rc
PAYLOAD

start=$(date +%s)
GUEST_TIMEOUT=${GUEST_TIMEOUT:-3000} "$top/scripts/guest-run.sh" 2 \
    "$work/payload.sh" "$bench" | tee "$work/run.log"
echo "next-touch.sh: guest run took $(( $(date +%s) - start )) s"

{
    echo "kind,method,pages,bytes,ns,mbps,moved"
    sed -n '/^BEGIN-CSV/,/^END-CSV/p' "$work/run.log" | grep -v -e BEGIN-CSV -e END-CSV | tr -d '\r'
} >"$docs/next-touch.csv"

csv=$docs/next-touch.csv
# Fits, and ratios against the goals (docs/benchmarks.md).
python3 - "$csv" <<'PY' | tee "$docs/next-touch-summary.txt"
import csv, sys
fit, t, mb = {}, {}, {}
for r in csv.DictReader(open(sys.argv[1])):
    if r["kind"] == "fit":
        fit[r["method"]] = (float(r["ns"]), float(r["mbps"]))
    elif r["kind"] == "tput":
        k = (r["method"], int(r["bytes"]))
        t[k], mb[k] = float(r["ns"]), float(r["mbps"])
sizes = sorted({b for _, b in t})
print("fits (TCG guest, emulated): ns = base + per_page * pages")
for m, (a, b) in fit.items():
    print(f"  {m:10s} base {a:9.0f} ns   per page {b:9.1f} ns")
print("\nthroughput, MB/s (next-touch = madvise + touch)")
print(f"  {'bytes':>10s} {'nexttouch':>10s} {'move_pages':>10s} {'mbind':>10s}"
      f" {'usernt':>10s} {'memcpy':>10s} | mp/nt  usernt/nt  (time ratios)")
for b in sizes:
    print(f"  {b:10d} " + " ".join(f"{mb.get((m, b), 0):10.1f}" for m in
          ("nexttouch", "move_pages", "mbind", "usernt", "memcpy")) +
          f" | {t[('move_pages', b)] / t[('nexttouch', b)]:5.2f}"
          f"  {t[('usernt', b)] / t[('nexttouch', b)]:9.2f}")
small = [t[("move_pages", b)] / t[("nexttouch", b)] for b in sizes if b <= 16 * 4096]
big = sizes[-1]
lo = min(t[("usernt", b)] / t[("nexttouch", b)] for b in sizes)
print("\ngoals")
print(f"  next-touch vs move_pages, buffers <= 16 pages: {min(small):.2f}x to "
      f"{max(small):.2f}x faster (goal >= 5x)")
print(f"  next-touch vs move_pages at {big >> 20} MiB: "
      f"{mb[('nexttouch', big)] / mb[('move_pages', big)]:.2f}x the throughput (goal >= 1x)")
print(f"  next-touch vs userspace next-touch: >= {lo:.2f}x faster at every size (goal >= 3x)")
PY

gnuplot <<GP
set terminal png size 900,600 noenhanced
set output "$docs/next-touch.png"
set datafile separator ","
set logscale x 2
set logscale y
set format x "%.0b %BB"
set xlabel "buffer size"
set ylabel "MB/s (TCG guest, emulated)"
set title "Migration throughput, node 0 -> node 1 (2-node guest, 4 KiB pages)"
set key top left
plot for [m in "nexttouch move_pages mbind usernt memcpy"] \
    "< grep '^tput,".m.",' $csv" using 4:6 with linespoints title m
GP
echo "next-touch.sh: wrote ${csv#"$top"/}, docs/bench/next-touch.png, docs/bench/next-touch-summary.txt"
