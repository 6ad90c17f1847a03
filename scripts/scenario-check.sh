#!/usr/bin/env bash
# The scenario in make check, in TAP: a short cooperative run of
# scripts/scenario.sh in a NODES-node guest (default 4).  The engine
# must drive the guest's SNC driver through the mailbox so that the
# workload's own ground truth (move_pages status) passes 95% local
# before and after the phase change.  The periods each phase took are
# printed; how fast is for the benchmark (scripts/bench/scenario.sh),
# not a test.
#
#   scripts/scenario-check.sh [NODES]
set -uo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
nodes=${1:-4}
out=$top/build/scenario-check/$nodes-nodes
seconds=36 phase_at=18

mkdir -p "$(dirname "$out")"
echo "1..6"
"$top/scripts/scenario.sh" --mode cooperative --nodes "$nodes" \
    --seconds "$seconds" --phase-at "$phase_at" --out "$out" \
    >"$out.log" 2>&1
rc=$?
sed 's/^/# /' "$out.log" | grep -v '^# ok\|^# 1\.\.' | tail -n 12

ok() {
    local n=$1 what=$2
    shift 2
    if "$@"; then
        echo "ok $n - $what"
    else
        echo "not ok $n - $what"
    fi
}

ok 1 "the $nodes-node guest ran the workload under the engine, console clean" \
    [ "$rc" -eq 0 ]

# The workload's CSV: locality of the data each thread works on.
col() { awk -F, -v name="$1" 'NR == 1 { for (i = 1; i <= NF; i++) if ($i == name) print i; exit }' "$out/workload.csv"; }
lt=$(col local_total)
starts_spread() {
    awk -F, -v c="$lt" -v n="$nodes" 'NR == 2 { exit !($c <= 1.5 / n) }' \
        "$out/workload.csv"
}
ok 2 "the data starts spread round robin (about 1/$nodes local)" starts_spread

reaches() {
    grep -q "^phase $1: .* 95% after" "$out/summary.txt"
}
ok 3 "before the phase change, locality passes 95%" reaches 0

# After the change, each thread works on the data the engine moved to
# the previous thread's node: locality falls, then recovers.
falls_then_recovers() {
    awk -F, -v c="$lt" '$2 == 1 && !seen++ { exit !($c < 0.9) }' \
        "$out/workload.csv" && reaches 1
}
ok 4 "after the phase change locality falls, then passes 95% again" \
    falls_then_recovers

# The guest lever did the work: requests completed, none refused, and
# the mode register said cooperative while the guest served.
guest_lever_used() {
    awk -F, 'NR == 1 { for (i = 1; i <= NF; i++) c[$i] = i; next }
             { done = $c["requests_done"]; failed = $c["requests_failed"]
               if ($c["mode"] == "cooperative" && $c["guest_serving"]) coop++ }
             END { printf "# engine: %d guest requests done, %d failed, %d cooperative periods\n", done, failed, coop
                   exit !(done > 0 && failed == 0 && coop > 0) }' "$out/engine.csv"
}
ok 5 "the engine moved the zones through the guest's mailbox" guest_lever_used

# No zone moves back and forth: within a phase, a zone moves once.
no_ping_pong() {
    awk -F, -v phase_at="$phase_at" '
        NR == 1 { for (i = 1; i <= NF; i++) c[$i] = i; next }
        {
            p = $c["period"] > phase_at ? 1 : 0
            n = split($c["decisions"], d, " ")
            for (i = 1; i <= n; i++) {
                split(d[i], z, "[:>]")
                if (++moves[p, z[2]] == 2) twice++
            }
        }
        END { printf "# zones moved twice in one phase: %d\n", twice; exit twice > 0 }' \
        "$out/engine.csv"
}
ok 6 "no zone moves twice within a phase" no_ping_pong
