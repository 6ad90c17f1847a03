#!/usr/bin/env bash
# The scenario: an application whose memory is spread round robin over
# the guest's NUMA nodes, and which changes its behaviour half way.  A
# guest with NODES vNUMA nodes and the SNC runs tools/scenario/
# phase-shift (one thread per node, each on its own data, all of it
# interleaved over the nodes: 1/NODES local; at PHASE_AT seconds every
# thread switches to the next thread's data), while one way of placing
# memory works on it:
#
#   none         nothing moves
#   autonuma     the guest kernel's NUMA balancing (numa_balancing=1)
#   next-touch   the application marks its data MADV_MIGRATE_NEXT_TOUCH
#                at the start and at the phase change
#   guest-only, host-only, cooperative
#                the policy engine (numa-policyd) in that mode, moving
#                for real.  host-only runs with the guest's SNC driver
#                told to stop serving, as an unmodified guest would be.
#
#   scripts/scenario.sh [--mode MODE] [--nodes N] [--seconds S]
#                       [--phase-at S] [--mib MIB] [--period-ms MS]
#                       [--out DIR]
#
# Output in DIR (default build/scenario/MODE): workload.csv (the
# workload's ground truth: each second, the fraction of the data that
# each thread works on that sits on its node, from move_pages(2)),
# engine.csv (the engine's periods), guest.log and, on stdout, one
# summary line per phase:
#
#   phase 0: 25% -> 98% local; 95% after 2.1 s (2 periods); 48.0 MiB moved
#
# Exit code: 0 when the guest ran the workload and its console stayed
# clean, 1 otherwise, 2 on a usage error.  GUEST_KERNEL picks the guest
# kernel (default: the debug one, as guest-run.sh).
set -uo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
mode=cooperative nodes=4 seconds=40 phase_at=20 mib=16 period_ms=1000
out=
engine=${NUMA_POLICYD:-$top/build/tools/tools/policy/numa-policyd}
workload=${PHASE_SHIFT:-$top/build/guest-kernel/tools/phase-shift}

usage() {
    sed -n '2,/^set -uo/p' "$0" | sed '$d; s/^# \{0,1\}//' >&2
    exit 2
}

while [ $# -gt 0 ]; do
    case $1 in
    --mode) mode=$2 ;;
    --nodes) nodes=$2 ;;
    --seconds) seconds=$2 ;;
    --phase-at) phase_at=$2 ;;
    --mib) mib=$2 ;;
    --period-ms) period_ms=$2 ;;
    --out) out=$2 ;;
    -h|--help) usage ;;
    *) echo "scenario: unknown option '$1'" >&2; usage ;;
    esac
    shift 2 || usage
done
case $mode in
none|autonuma|next-touch|guest-only|host-only|cooperative) ;;
*) echo "scenario: bad --mode '$mode'" >&2; exit 2 ;;
esac
case $nodes in 2|4) ;; *) echo "scenario: --nodes must be 2 or 4" >&2; exit 2 ;; esac
out=${out:-$top/build/scenario/$mode}
rm -rf "$out"
mkdir -p "$out"
for f in "$engine" "$workload"; do
    if [ ! -x "$f" ]; then
        echo "scenario: $f is missing: build it first" >&2
        exit 1
    fi
done
sock=$out/qmp.sock

# 4096 zones of 256 KiB in the 1 GiB guest.  Each region's pages on a
# node are contiguous but for the zone they share with the next region;
# the engine moves such a zone whole, to its dominant toucher, so the
# smaller the zones, the fewer pages end on the wrong node (512 KiB
# zones left about 5% there).
zones=4096 zone_size=262144
args="--seconds $seconds --phase-at $phase_at --period 1 --mib $mib --zone-size $zone_size"
balancing=0
case $mode in
autonuma) balancing=1 ;;
next-touch) args="$args --next-touch" ;;
esac
cat >"$out/payload.sh" <<PAYLOAD
#!/bin/sh
echo $balancing >/proc/sys/kernel/numa_balancing
# An unmodified guest: the SNC driver stops serving the host's requests.
if [ "$mode" = host-only ]; then
    for f in /sys/bus/pci/drivers/snc/*/serve; do
        [ -e "\$f" ] && echo 0 >"\$f"
    done
fi
./phase-shift $args
PAYLOAD
GUEST_QEMU_ARGS="-device snc,id=snc0,zones=$zones -qmp unix:$sock,server=on,wait=off" \
GUEST_TIMEOUT=$((seconds + 600)) "$top/scripts/guest-run.sh" "$nodes" \
    "$out/payload.sh" "$workload" >"$out/guest.log" 2>&1 &
guest=$!

# The workload's t = 0 is its CSV header: the engine starts then.
for _ in $(seq 1200); do
    grep -q '^time_s,phase' "$out/guest.log" && break
    kill -0 "$guest" 2>/dev/null || break
    sleep 0.25
done
engine_rc=0
case $mode in
guest-only|host-only|cooperative)
    if grep -q '^time_s,phase' "$out/guest.log"; then
        "$engine" --qmp "$sock" --mode "$mode" --period-ms "$period_ms" \
            --periods $((seconds * 1000 / period_ms)) \
            --csv "$out/engine.csv" >"$out/engine.out" \
            2>"$out/engine.err" &
        engine_pid=$!
    fi
    ;;
esac
wait "$guest"
guest_rc=$?
if [ -n "${engine_pid:-}" ]; then
    # The guest is gone: the engine ends on its own (QEMU went away).
    wait "$engine_pid"
    engine_rc=$?
fi

grep -E '^[0-9.]+,[01],' "$out/guest.log" >"$out/workload.rows"
{ grep -m1 '^time_s,phase' "$out/guest.log"; cat "$out/workload.rows"; } \
    >"$out/workload.csv"
rm -f "$out/workload.rows"

# One line per phase, from the workload's ground truth and the engine's
# bytes moved: locality at the phase's first and last rows, and how
# long after the phase began it first reached 95%.
awk -F, -v period="$period_ms" -v phase_at="$phase_at" -v engine="$out/engine.csv" '
    BEGIN {
        # Bytes the engine moved, by the second in which it moved them.
        if ((getline line < engine) > 0) {
            n = split(line, h, ",")
            for (i = 1; i <= n; i++) col[h[i]] = i
            while ((getline line < engine) > 0) {
                split(line, f, ",")
                moved[f[col["sequence"]]] += f[col["bytes_moved"]]
            }
        }
    }
    NR == 1 { for (i = 1; i <= NF; i++) if ($i == "local_total") lt = i; next }
    {
        p = $2; t = $1; l = $lt
        start = p ? phase_at : 0
        if (!(p in first)) first[p] = l
        last[p] = l
        if (!(p in reached) && l >= 0.95) reached[p] = t - start
    }
    END {
        for (e in moved) {
            # SNC period e ends about e periods after t = 0.
            pp = (e * period / 1000 > phase_at) ? 1 : 0
            bytes[pp] += moved[e]
        }
        for (p = 0; p <= 1; p++) {
            if (!(p in first)) continue
            printf "phase %d: %.0f%% -> %.0f%% local; ", p, first[p] * 100, last[p] * 100
            if (p in reached)
                printf "95%% after %.1f s (%d periods)", reached[p], int(reached[p] * 1000 / period + 0.999)
            else
                printf "95%% not reached"
            if (engine_rows || (p in bytes)) printf "; %.1f MiB moved", bytes[p] / 1048576
            printf "\n"
        }
    }' "$out/workload.csv" | tee "$out/summary.txt"

if [ -s "$out/engine.err" ]; then
    sed 's/^/# engine: /' "$out/engine.err" | grep -v 'zone .*: ' | head -10
fi
[ "$guest_rc" -eq 0 ] || echo "scenario: the guest run failed (see ${out#"$top"/}/guest.log)" >&2
[ "$engine_rc" -eq 0 ] || [ "$engine_rc" -eq 1 ] ||
    echo "scenario: the engine exited $engine_rc (see ${out#"$top"/}/engine.err)" >&2
[ "$guest_rc" -eq 0 ]
