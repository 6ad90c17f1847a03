#!/usr/bin/env bash
# Benchmark migrate-on-next-touch in the 2-node guest: one guest boot runs
# next-touch-bench (tools/bench/) twice, once with a toucher thread on
# node 1 and once with --one-thread (the thread that populated and marked
# the buffer moves to node 1 and touches it).  Each run measures
#   - the marking cost, madvise(MADV_MIGRATE_NEXT_TOUCH), beside
#     mprotect(PROT_NONE) on the same range;
#   - the next-touch cost per page (the touch alone);
#   - move_pages' base and per-page cost;
#   - throughput against buffer size, 4 KiB to MAX_MIB MiB, for next-touch
#     (with the kernel's batch window, with windows of 1 and 64 pages, and
#     on THPs from 2 MiB), move_pages (also on THPs), mbind(MPOL_MF_MOVE),
#     a userspace mprotect+SIGSEGV next-touch and memcpy;
#   - then, in the same boot, marking against mprotect(PROT_NONE) in turn
#     on a 16 MiB and a 1 MiB buffer (next-touch-loop --marking,
#     MARKING_SECS each, 10 by default): the two calls alternate on the
#     same populated buffer, so the host's noise hits both alike.
# Writes docs/bench/next-touch.csv and next-touch-1t.csv, next-touch.png
# and next-touch-1t.png (gnuplot) and next-touch-summary.txt (fits and
# ratios against the goals, for both setups).
#
#   scripts/bench/next-touch.sh            (MAX_MIB=16 by default)
#
# Runs the kernel users run, build/guest-kernel/bzImage from
# guest-kernel/build.sh (GUEST_KERNEL selects another one); builds the
# static benchmark with scripts/build-tools.sh --static.
# The guest runs under TCG: every number is emulated, compare ratios only.
set -euo pipefail

top=$(cd "$(dirname "$0")/../.." && pwd)
max_mib=${MAX_MIB:-16}
marking_secs=${MARKING_SECS:-10}
export GUEST_KERNEL=${GUEST_KERNEL:-$top/build/guest-kernel/bzImage}
work=$top/build/bench/next-touch
docs=$top/docs/bench
mkdir -p "$work" "$docs"

"$top/scripts/build-tools.sh" --static
bench=$top/build/tools-static/tools/bench/next-touch-bench
loop=$top/build/tools-static/tools/bench/next-touch-loop

cat >"$work/payload.sh" <<PAYLOAD
echo 0 >/proc/sys/kernel/numa_balancing
# THPs only where asked for (nexttouch_thp): the other curves compare
# base-page moves.
echo madvise >/sys/kernel/mm/transparent_hugepage/enabled
uname -v
echo "next_touch_batch_pages \$(cat /proc/sys/vm/next_touch_batch_pages)"
grep MemFree /sys/devices/system/node/node*/meminfo
rc=0
./next-touch-bench $max_mib >/tmp/nt.csv || rc=1
./next-touch-bench --one-thread $max_mib >/tmp/nt-1t.csv || rc=1
./next-touch-loop --marking 4k $marking_secs || rc=1
./next-touch-loop --marking --pages 256 4k $marking_secs || rc=1
echo BEGIN-CSV
cat /tmp/nt.csv
echo END-CSV
echo BEGIN-CSV-1T
cat /tmp/nt-1t.csv
echo END-CSV-1T
grep -E '^(nexttouch|numa_pages_migrated|pgmigrate|thp_migration)' /proc/vmstat
exit \$rc
PAYLOAD

start=$(date +%s)
GUEST_TIMEOUT=${GUEST_TIMEOUT:-3000} "$top/scripts/guest-run.sh" 2 \
    "$work/payload.sh" "$bench" "$loop" | tee "$work/run.log"
echo "next-touch.sh: guest run took $(( $(date +%s) - start )) s"

for setup in "" -1T; do
    out=$docs/next-touch${setup,,}.csv
    {
        echo "kind,method,pages,bytes,ns,mbps,moved"
        sed -n "/^BEGIN-CSV$setup\r\?\$/,/^END-CSV$setup\r\?\$/p" "$work/run.log" |
            grep -v -e '^BEGIN-CSV' -e '^END-CSV' | tr -d '\r'
    } >"$out"
done

# Fits, and ratios against the goals (docs/benchmarks.md).
for setup in "" -1t; do
    csv=$docs/next-touch$setup.csv
    if [ -z "$setup" ]; then
        echo "== toucher thread on node 1, marker on node 0"
    else
        echo "== one thread: populates and marks on node 0, touches on node 1"
    fi
    python3 - "$csv" <<'PY'
import csv, sys
fit, t, mb, cost = {}, {}, {}, {}
for r in csv.DictReader(open(sys.argv[1])):
    if r["kind"] == "cost":
        cost[(r["method"], int(r["pages"]))] = float(r["ns"])
    if r["kind"] == "fit":
        fit[r["method"]] = (float(r["ns"]), float(r["mbps"]))
    elif r["kind"] == "tput":
        k = (r["method"], int(r["bytes"]))
        t[k], mb[k] = float(r["ns"]), float(r["mbps"])
sizes = sorted({b for _, b in t})
cols = ("nexttouch", "nexttouch1", "nexttouch64", "nexttouch_thp",
        "move_pages", "move_pages_thp", "mbind", "usernt", "memcpy")
print("fits (TCG guest, emulated): ns = base + per_page * pages")
for m, (a, b) in fit.items():
    print(f"  {m:10s} base {a:9.0f} ns   per page {b:9.1f} ns")
if "mark" in fit and "mprotect" in fit:
    print(f"  marking / mprotect per page: {fit['mark'][1] / fit['mprotect'][1]:.2f}x")
print("  marking / mprotect, medians at " + ", ".join(
    f"{p} pages {cost[('mark', p)] / cost[('mprotect', p)]:.2f}x"
    for p in sorted({p for m, p in cost if m == "mark"})
    if ("mprotect", p) in cost and p >= 64))
print("\nthroughput, MB/s (next-touch = madvise + touch; nexttouch1/64: "
      "window of 1/64 pages)")
print(f"  {'bytes':>10s} " + " ".join(f"{c[:10]:>10s}" for c in cols) +
      " | mp/nt  nt/nt1  thp/nt")
def r(a, b):
    return f"{a / b:6.2f}" if a and b else "     -"
for b in sizes:
    print(f"  {b:10d} " + " ".join(f"{mb.get((m, b), 0):10.1f}" for m in cols) +
          f" | {r(t.get(('move_pages', b)), t.get(('nexttouch', b)))}"
          f" {r(mb.get(('nexttouch', b)), mb.get(('nexttouch1', b)))}"
          f" {r(mb.get(('nexttouch_thp', b)), mb.get(('nexttouch', b)))}")
def ratio(b):
    return t[("move_pages", b)] / t[("nexttouch", b)]
print("\ngoals")
print(f"  1 page: next-touch {ratio(sizes[0]):.2f}x faster than move_pages (goal >= 10x)")
small = [ratio(b) for b in sizes if b <= 16 * 4096]
print(f"  <= 16 pages: {min(small):.2f}x to {max(small):.2f}x (goal >= 5x)")
big = [b for b in sizes if b >= 1 << 20]
if big:
    v = [mb[("nexttouch", b)] / mb[("move_pages", b)] for b in big]
    print(f"  >= 1 MiB: {min(v):.2f}x to {max(v):.2f}x move_pages' throughput (goal >= 1.5x)")
thp = [mb[("nexttouch_thp", b)] / mb[("nexttouch", b)] for b in sizes
       if ("nexttouch_thp", b) in mb]
if thp:
    print(f"  THP next-touch: {min(thp):.2f}x to {max(thp):.2f}x the 4 KiB next-touch throughput (goal >= 3x)")
lo = min(t[("usernt", b)] / t[("nexttouch", b)] for b in sizes)
print(f"  vs userspace next-touch: >= {lo:.2f}x faster at every size (goal >= 3x)")
PY
    echo
    gnuplot <<GP
set terminal png size 900,600 noenhanced
set output "${csv%.csv}.png"
set datafile separator ","
set logscale x 2
set logscale y
set format x "%.0b %BB"
set xlabel "buffer size"
set ylabel "MB/s (TCG guest, emulated)"
set title "Migration throughput, node 0 -> node 1 (2-node guest, non-debug kernel${setup:+, one thread})"
set key top left
plot for [m in "nexttouch nexttouch1 nexttouch_thp move_pages mbind usernt memcpy"] \
    "< grep '^tput,".m.",' $csv" using 4:6 with linespoints title m
GP
done | tee "$docs/next-touch-summary.txt"

# Marking and mprotect(PROT_NONE) in turn on one buffer (the goal of
# docs/benchmarks.md compares them on the same range).
tr -d '\r' <"$work/run.log" | awk '
    /^# phase 4k-marking(-256)? end:/ {
        for (i = 1; i <= NF; i++) {
            if ($i == "madvise") m = $(i + 1)
            if ($i == "mprotect") p = $(i + 1)
        }
        if (!hdr++)
            print "== marking, madvise() and mprotect(PROT_NONE) in turn on one buffer"
        printf "  %s: marking %.1f against mprotect %.1f ns per page: %.2fx (goal <= 1.1x)\n",
               $3 == "4k-marking" ? "16 MiB" : "1 MiB", m, p, m / p
    }' | tee -a "$docs/next-touch-summary.txt"
echo "next-touch.sh: wrote docs/bench/next-touch{,-1t}.{csv,png} and docs/bench/next-touch-summary.txt"
