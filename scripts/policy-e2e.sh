#!/usr/bin/env bash
# The policy engine against a live guest, in TAP: the 4-node guest with
# the SNC runs tools/scenario/phase-shift (four threads, one per node,
# on data interleaved over all nodes, switching to the next thread's
# data at PHASE_AT seconds) while numa-policyd watches it through QMP:
#   - in guest-only mode with --dry-run, from the workload's start: its
#     decisions must send each region's zones to its toucher's node, and
#     after the phase change to the new toucher's node (the zones come
#     from the workload's pagemap, the decisions from the real counts);
#   - then for a few periods in host-only mode, moving for real: on this
#     host every guest node's RAM and vCPUs share a host node, so there
#     must be no host move, while the hot zones' backing is known.
#
#   scripts/policy-e2e.sh
#
# Needs build/tools (numa-policyd), build/guest-kernel/tools/phase-shift
# (guest-kernel/build-selftests.sh) and the guest kernel (GUEST_KERNEL).
set -uo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
work=$top/build/policy-e2e
engine=${NUMA_POLICYD:-$top/build/tools/tools/policy/numa-policyd}
workload=${PHASE_SHIFT:-$top/build/guest-kernel/tools/phase-shift}
seconds=30 phase_at=10 dry_periods=18 host_periods=4
sock=$work/qmp.sock

rm -rf "$work"
mkdir -p "$work"
echo "1..6"
for f in "$engine" "$workload"; do
    if [ ! -x "$f" ]; then
        echo "Bail out! $f is missing: build it first"
        exit 1
    fi
done

cat >"$work/payload.sh" <<PAYLOAD
#!/bin/sh
./phase-shift --seconds $seconds --phase-at $phase_at --period 1
PAYLOAD
GUEST_QEMU_ARGS="-device snc,id=snc0 -qmp unix:$sock,server=on,wait=off" \
GUEST_TIMEOUT=300 "$top/scripts/guest-run.sh" 4 "$work/payload.sh" \
    "$workload" >"$work/guest.log" 2>&1 &
guest=$!

# The workload's t = 0 is its CSV header.
for _ in $(seq 600); do
    grep -q '^time_s,phase' "$work/guest.log" && break
    kill -0 "$guest" 2>/dev/null || break
    sleep 0.5
done
if ! grep -q '^time_s,phase' "$work/guest.log"; then
    echo "Bail out! the workload did not start (see ${work#"$top"/}/guest.log)"
    kill "$guest" 2>/dev/null
    exit 1
fi

"$engine" --qmp "$sock" --period-ms 1000 --mode guest-only --dry-run \
    --periods "$dry_periods" --csv "$work/guest-only.csv" \
    >"$work/guest-only.out" 2>"$work/guest-only.err"
dry_rc=$?
"$engine" --qmp "$sock" --mode host-only --periods "$host_periods" \
    --csv "$work/host-only.csv" \
    >"$work/host-only.out" 2>"$work/host-only.err"
host_rc=$?
wait "$guest"
guest_rc=$?

ok() {
    local n=$1 what=$2
    shift 2
    if "$@"; then
        echo "ok $n - $what"
    else
        echo "not ok $n - $what"
    fi
}

# 1: the guest and the workload
ok 1 "the 4-node guest ran phase-shift with the SNC, console clean" \
    [ "$guest_rc" -eq 0 ]
grep -v '^ok\|^1\.\.' "$work/guest.log" | grep -v '^# region' |
    sed 's/^/# guest: /' | head -40

# 2: the counters' locality before the phase, per node: the data is
# interleaved over 4 nodes, so each node's touches are about 1/4 local.
counter_locality() {
    awk -F, -v last="$phase_at" '
        NR == 1 { for (i = 1; i <= NF; i++) if ($i ~ /^local_/) col[i] = 1; next }
        $1 >= 3 && $1 <= last - 2 {
            for (i in col) if ($i < 0.10 || $i > 0.45) bad++
            rows++
        }
        END { exit !(rows >= 3 && !bad) }' "$work/guest-only.csv"
}
ok 2 "the counters show each node about 25% local before the phase" \
    counter_locality

# The zones of each region, from the workload (a zone belongs to the
# region holding most of its 128 pages), and the engine's decisions.
awk '/^# region/ {
        for (i = 4; i <= NF; i++) { split($i, zp, ":"); if (zp[2] >= 64) print zp[1], $3 }
     }' "$work/guest.log" >"$work/zones"
awk '/^period / { p = $2 }
     / would move guest zone / {
        print p, $5, $11, $13 + 0
     }' "$work/guest-only.out" >"$work/decisions"
# decisions: PERIOD ZONE TARGET TOUCHER
check_decisions() {
    awk -v want="$1" '
        NR == FNR { region[$1] = $2; majority[$2]++; next }
        ($2 in region) {
            r = region[$2]
            if ($3 == r) first++
            else if ($3 == (r + 3) % 4) {
                if (!seen[$2]++) follow[r]++
                if (!p1 || $1 < p1) p1 = $1
            }
            else wrong++
        }
        END {
            if (want == "first") {
                printf "# decisions: %d for the first phase, %d wrong\n", first, wrong
                exit !(first > 0 && !wrong)
            }
            # About 3/4 of a region zones lie outside the new
            # toucher node: at least half of those must be named.
            for (r = 0; r < 4; r++) {
                printf "# region %d (%d zones): %d zones sent to node %d after the phase\n",
                    r, majority[r], follow[r], (r + 3) % 4
                if (follow[r] * 8 < majority[r] * 3) short++
            }
            # The engine starts once the workload has printed its
            # header, a fraction of a second later (more on a loaded
            # host), so the phase begins within the engine period
            # phase_at or before: a decision in that period may follow
            # it, one in an earlier period would come too soon.
            printf "# first decision after the phase: period %d (phase at %d s)\n", p1, '"$phase_at"'
            exit !(!short && p1 >= '"$phase_at"')
        }' "$work/zones" "$work/decisions"
}
ok 3 "guest-only dry run: every zone goes to the node of its toucher" \
    check_decisions first
ok 4 "after the phase the decisions send each region's zones to the new toucher's node" \
    check_decisions follow

# 5: host-only, moving: no host move on a single-node host, and the
# hot zones' backing known and equal to their vCPUs' host node.
check_host_only() {
    awk -F, '
        NR == 1 { for (i = 1; i <= NF; i++) c[$i] = i; next }
        {
            rows++
            if ($c["moves_host"] || $c["jobs_started"]) bad++
            if (!$c["hot_zones"] || $c["backed_near_vcpus"] != $c["hot_zones"]) bad++
            hot += $c["hot_zones"]
        }
        END {
            printf "# host-only: %d periods, %d hot zones in all, %d bad\n", rows, hot, bad
            exit !(rows >= '"$host_periods"' && !bad)
        }' "$work/host-only.csv"
}
ok 5 "host-only on a single-node host: no host move, every hot zone on its vCPUs' node" \
    check_host_only
[ "$host_rc" -eq 0 ] || echo "# host-only run exited $host_rc"

# 6: both runs ended cleanly and reported their CPU time.
cpu_reported() {
    [ "$dry_rc" -eq 0 ] && [ "$host_rc" -eq 0 ] &&
        grep -h 'ms of CPU per period' "$work/guest-only.err" \
            "$work/host-only.err" >/dev/null
}
ok 6 "the engine ran its periods and reported its CPU use" cpu_reported
grep -h 'ms of CPU per period\|guest lever' "$work/guest-only.err" \
    "$work/host-only.err" | sed 's/^/# /'
