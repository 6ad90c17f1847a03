#!/usr/bin/env bash
# Profile the test host's emulator from the host while, inside the test
# host, the guest runs and its RAM is moved back and forth for SECONDS
# by migrate-guest-range with one worker, then for SECONDS by raw
# move_pages from another process, the movers on the test host's CPU 1
# and the guest's vCPU thread on its CPU 0 (TCG_PROFILE in
# guest-memory-move-payload.sh).  The moving CPU is the test host's
# "CPU 1/TCG" thread: where its emulated time goes with each mover,
# by function of the emulator.
# Uses the host's perf (linux-perf); writes
# docs/bench/mover-tcg-profile.txt (OUT to change).
#
#   scripts/bench/mover-tcg-profile.sh     (SECONDS_PHASE=30 by default)
set -euo pipefail

top=$(cd "$(dirname "$0")/../.." && pwd)
secs=${SECONDS_PHASE:-30}
work=$top/build/bench/mover-tcg-profile
out=${OUT:-$top/docs/bench/mover-tcg-profile.txt}
command -v perf >/dev/null || { echo "needs perf (linux-perf)" >&2; exit 1; }
rm -rf "$work"
mkdir -p "$work"
"$top/scripts/build-qemu.sh" >/dev/null
"$top/scripts/build-tools.sh"
"$top/scripts/make-bootblock.sh" "$top/build/bench/bootblock.img"

{
    echo "SIZE=67108864 REPS=0 PROFILE=0 PLACEMENT=0 TCG_PROFILE=$secs"
    cat "$top/scripts/bench/guest-memory-move-payload.sh"
} >"$work/payload.sh"
console=$top/build/testhost/console.log
rm -f "$console"
"$top/scripts/testhost.sh" "$work/payload.sh" "$top/scripts/qmp-lib.sh" \
    "$top/build/bench/bootblock.img" \
    "$top/build/tools/tools/bench/numa-move-bench" >"$work/testhost.log" 2>&1 &
testhost=$!

# Each phase: the emulator's samples over most of it, from its start.
for phase in mover raw; do
    until grep -q "# phase $phase start" "$console" 2>/dev/null; do
        kill -0 "$testhost" 2>/dev/null || { cat "$work/testhost.log"; exit 1; }
        sleep 0.2
    done
    qemu=$(pgrep -n -f "qemu-system-x86_64.*-name testhost")
    perf record -q -F 499 -e cpu-clock -p "$qemu" -o "$work/$phase.data" \
        -- sleep $((secs * 3 / 5)) 2>/dev/null
done
wait "$testhost"

# shares DATA: where the samples of the test host's CPU 1 went, by
# function of the emulator; "[translated code]" is the guest's code as
# TCG translated it (anonymous executable memory, no symbol).
shares() {
    perf script -i "$1" -F comm,tid,ip,sym 2>/dev/null |
        awk '$1 == "CPU" && $2 == "1/TCG" {
                 s = $NF
                 if (s == "[unknown]") s = ($4 ~ /^7f/) ? "[translated code]" : "[unknown]"
                 n[s]++; t++
             }
             END { for (k in n) if (100 * n[k] / t >= 0.3) printf "%6.1f%%  %s\n", 100 * n[k] / t, k
                   printf "%6d samples of CPU 1/TCG\n", t }' | sort -k1,1nr
}

{
    echo "# 64 MiB of a running guest's RAM moved back and forth in the test host, $(date -u +%F)"
    echo "# the guest's vCPU thread on the test host's CPU 0, the movers on its CPU 1"
    grep -h '^# phase .*\(end\|CPU 1\)' "$console"
    for phase in mover raw; do
        echo
        echo "## the $phase phase: samples by thread of the test host's emulator"
        perf report -i "$work/$phase.data" --stdio --no-children --sort comm \
            2>/dev/null | grep -v '^#' | grep -v '^$' | head -4
        echo "## the $phase phase: CPU 1/TCG (the movers' CPU), by function (0.3% and more)"
        shares "$work/$phase.data"
    done
} | tee "$out"
