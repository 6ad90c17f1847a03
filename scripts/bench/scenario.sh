#!/usr/bin/env bash
# Benchmark the scenario (scripts/scenario.sh): the same 4-node guest and
# phase-change workload under every way of placing its memory, in one
# run, one case after the other:
#
#   none, autonuma (numa_balancing=1), next-touch (the application marks
#   its data at the start and at the phase change), and the policy
#   engine in guest-only, host-only (an unmodified guest: its SNC driver
#   does not serve) and cooperative modes.
#
# Under TCG there is no remote-access penalty, so the measure is
# locality over time: the workload's own ground truth, each second, of
# the data each thread works on (move_pages status).  Writes
# docs/bench/scenario.csv (case,time_s,phase,local_total),
# docs/bench/scenario.png (gnuplot: one line per case) and
# docs/bench/scenario-summary.txt: per case and phase, the time to 95%
# local, the bytes moved against the minimum, the engine's CPU use, and
# the ratio against AutoNUMA.
#
#   scripts/bench/scenario.sh     (SECONDS_RUN=180 PHASE_AT=90 by default)
#
# Uses the non-debug guest kernel (build/guest-kernel/bzImage, from
# guest-kernel/build.sh) when it exists, for timings without the debug
# options; CASES overrides the list.  REPORT_ONLY=1 runs nothing and
# writes the summary and the plot again from the last run's files.
# When AutoNUMA does not reach 95% in a phase, the ratio against it is a
# lower bound: ">N", from the seconds it ran in that phase.
set -euo pipefail

top=$(cd "$(dirname "$0")/../.." && pwd)
seconds=${SECONDS_RUN:-180}
phase_at=${PHASE_AT:-90}
mib=${MIB:-16}
cases=${CASES:-"none autonuma next-touch guest-only host-only cooperative"}
work=$top/build/bench/scenario
docs=$top/docs/bench
mkdir -p "$work" "$docs"
if [ -z "${GUEST_KERNEL:-}" ] && [ -e "$top/build/guest-kernel/bzImage" ]; then
    export GUEST_KERNEL=$top/build/guest-kernel/bzImage
fi
echo "scenario bench: kernel ${GUEST_KERNEL:-$top/build/guest-kernel/bzImage-debug}," \
     "$seconds s per case, phase change at $phase_at s, $mib MiB per thread"

csv=$docs/scenario.csv
[ -n "${REPORT_ONLY:-}" ] && cases_run= || cases_run=$cases
[ -n "$cases_run" ] && echo "case,time_s,phase,local_total" >"$csv"
for c in $cases_run; do
    start=$(date +%s)
    "$top/scripts/scenario.sh" --mode "$c" --nodes 4 --seconds "$seconds" \
        --phase-at "$phase_at" --mib "$mib" --out "$work/$c" |
        sed "s/^/$c: /"
    echo "$c: run took $(( $(date +%s) - start )) s"
    awk -F, -v c="$c" 'NR == 1 { for (i = 1; i <= NF; i++) if ($i == "local_total") l = i; next }
                       { print c "," $1 "," $2 "," $l }' \
        "$work/$c/workload.csv" >>"$csv"
done

python3 - "$csv" "$work" "$phase_at" "$mib" <<'PY' | tee "$docs/scenario-summary.txt"
import csv, os, sys

path, work, phase_at, mib = sys.argv[1], sys.argv[2], float(sys.argv[3]), int(sys.argv[4])
rows = {}
for r in csv.DictReader(open(path)):
    rows.setdefault(r["case"], []).append(
        (float(r["time_s"]), int(r["phase"]), float(r["local_total"])))

# The least any placement must move: in phase 0, the 3/4 of the data
# that starts away from its thread; in phase 1, all of it.
nodes = 4
minimum = {0: nodes * mib * (nodes - 1) / nodes, 1: nodes * mib}

def to95(series, phase):
    start = phase_at if phase else 0.0
    for t, p, l in series:
        if p == phase and l >= 0.95:
            return t - start
    return None

def engine(case):
    f = os.path.join(work, case, "engine.csv")
    if not os.path.exists(f):
        return None
    moved = {0: 0, 1: 0}
    cpu, n = 0.0, 0
    for r in csv.DictReader(open(f)):
        p = 1 if int(r["period"]) > phase_at else 0
        moved[p] += int(r["bytes_moved"])
        cpu += float(r["cpu_ms"])
        n += 1
    return moved, cpu / max(n, 1)

auto = {p: to95(rows.get("autonuma", []), p) for p in (0, 1)}
# Without a time to 95%, AutoNUMA's time is at least its phase's length.
auto_ran = {p: max([t - (phase_at if p else 0.0)
                    for t, q, _ in rows.get("autonuma", []) if q == p],
                   default=None) for p in (0, 1)}
print("case,phase,start_local,end_local,s_to_95,vs_autonuma,"
      "mib_moved,moved_vs_minimum,engine_cpu_ms_per_period")
for case, series in rows.items():
    e = engine(case)
    for p in (0, 1):
        s = [x for x in series if x[1] == p]
        if not s:
            continue
        t = to95(series, p)
        ratio = ""
        if t is not None and auto[p] is not None and t > 0:
            ratio = "%.1f" % (auto[p] / t)
        elif t is not None and auto_ran[p] and t > 0:
            ratio = ">%.0f" % (auto_ran[p] / t)
        moved = vs = cpu = ""
        if e:
            moved = "%.1f" % (e[0][p] / 2**20)
            vs = "%.2f" % (e[0][p] / 2**20 / minimum[p])
            cpu = "%.2f" % e[1]
        print("%s,%d,%.3f,%.3f,%s,%s,%s,%s,%s" % (
            case, p, s[0][2], s[-1][2],
            "%.1f" % t if t is not None else "never", ratio, moved, vs, cpu))
PY

gnuplot <<GP
set terminal pngcairo size 1000,560
set output "$docs/scenario.png"
set datafile separator ","
set title "Locality over time, 4-node TCG guest, phase change at $phase_at s"
set xlabel "time since the workload started (s)"
set ylabel "fraction of the touched data on the toucher's node"
set yrange [0:1.05]
set key bottom right
set arrow from $phase_at, graph 0 to $phase_at, graph 1 nohead dt 2
plot for [c in "$cases"] "< grep '^".c.",' $csv" using 2:4 with lines lw 2 title c
GP
echo "wrote $csv, $docs/scenario.png and $docs/scenario-summary.txt"
