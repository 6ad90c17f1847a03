#!/usr/bin/env bash
# Benchmark the Scalable Node Controller under TCG, in one guest boot
# with 2 virtual NUMA nodes: for each TLB sample interval,
#  - overhead: a memory-bound loop (one thread per node, MIB MiB each,
#    PASSES passes) run with counting stopped and started, alternately,
#    REPS times each; the median of the on/off ratios of each pair, both
#    of the host CPU time QEMU used for the run (robust against other
#    load on the host) and of the guest's wall-clock time;
#  - accuracy: TRIALS periods of snc-touch, each SAMPLES sample intervals
#    long (at least 300 ms); the share of node-trials whose top-k zones
#    are exactly the touched buffer's.
# Writes build/bench/snc-overhead.csv, snc-accuracy.csv, snc-summary.csv
# and snc.png.
#
#   scripts/bench/snc.sh   (INTERVALS="100 1000 ..." MIB= PASSES= REPS=
#                           TRIALS= SAMPLES=)
set -euo pipefail

top=$(cd "$(dirname "$0")/../.." && pwd)
out=$top/build/bench
mkdir -p "$out"
intervals=${INTERVALS:-"1000 5000 20000 100000"}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cat >"$tmp/snc-bench-args" <<ARGS
INTERVALS="$intervals" MIB=${MIB:-64} PASSES=${PASSES:-60} REPS=${REPS:-9}
TRIALS=${TRIALS:-10} SAMPLES=${SAMPLES:-10}
ARGS
console=$top/build/guest-run/2-node/console.log
rm -f "$console"
name=snc-bench-$$
"$top/scripts/bench/snc-cpu-monitor.py" "$console" "$name" "$out/snc-cpu.csv" &
monitor=$!
GUEST_QEMU_ARGS="-device snc -name $name" \
    GUEST_KERNEL=${GUEST_KERNEL:-$top/build/guest-kernel/bzImage-debug} \
    "$top/scripts/guest-run.sh" 2 "$top/scripts/bench/snc-payload.sh" \
    "$top/build/tools/tools/snc/snc-touch" "$tmp/snc-bench-args" >"$out/snc.log" || true
wait "$monitor"

echo "sample_us,rep,counting,seconds" >"$out/snc-overhead.csv"
grep '^csv,overhead,[0-9]' "$out/snc.log" | cut -d, -f3- >>"$out/snc-overhead.csv"
echo "sample_us,period_ms,trials,matched,match_pct,cross_max,free_max,background_max,fills_per_page_min" \
    >"$out/snc-accuracy.csv"
grep '^# csv,accuracy,' "$out/snc.log" | cut -d, -f3- >>"$out/snc-accuracy.csv"

python3 - "$out" <<'PY' >"$out/snc-summary.csv"
import csv, statistics, sys
out = sys.argv[1]
def load(name, column):
    runs = {}
    for r in csv.DictReader(open(f"{out}/{name}")):
        runs.setdefault(int(r["sample_us"]), {"on": [], "off": []})[r["counting"]].append(float(r[column]))
    return runs


def overhead(runs, us):
    off, on = runs[us]["off"], runs[us]["on"]
    # Pairs ran back to back: their ratio cancels slow drifts in load.
    return (statistics.median(b / a for a, b in zip(off, on)) - 1) * 100


runs = load("snc-overhead.csv", "seconds")
cpu = load("snc-cpu.csv", "cpu_seconds")
acc = {int(r["sample_us"]): r for r in csv.DictReader(open(f"{out}/snc-accuracy.csv"))}
print("sample_us,cpu_off_median_s,cpu_on_median_s,overhead_cpu_pct,"
      "overhead_wall_pct,topk_match_pct,trials,fills_per_page_min")
for us in sorted(runs):
    a = acc.get(us, {})
    print(f"{us},{statistics.median(cpu[us]['off']):.2f},"
          f"{statistics.median(cpu[us]['on']):.2f},{overhead(cpu, us):.1f},"
          f"{overhead(runs, us):.1f},{float(a.get('match_pct', 'nan')):.1f},"
          f"{a.get('trials', 0)},{a.get('fills_per_page_min', 'nan')}")
PY
column -t -s, "$out/snc-summary.csv"

gnuplot <<GP
set terminal pngcairo size 900,480 noenhanced
set output "$out/snc.png"
set title "SNC under TCG, 2-node guest: cost and accuracy against the TLB sample interval"
set datafile separator ","
set logscale x
set xlabel "sample interval (us)"
set ylabel "overhead on a memory-bound loop (%)"
set y2label "top-k zones matching ground truth (%)"
set y2range [0:105]
set ytics nomirror
set y2tics
set key below horizontal
plot "$out/snc-summary.csv" using 1:4 skip 1 with linespoints lw 2 title "overhead, host CPU time (median of pairs)", \
     "" using 1:5 skip 1 with linespoints lw 1 dt 2 title "overhead, guest wall time", \
     "" using 1:6 skip 1 axes x1y2 with linespoints lw 2 title "top-k accuracy"
GP
echo "snc bench: $out/snc-summary.csv, $out/snc.png"
