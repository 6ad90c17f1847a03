#!/bin/sh
# Guest payload of scripts/bench/snc.sh: for each sample interval, the
# overhead of counting on a memory-bound loop, then the top-k accuracy.
echo always >/sys/kernel/mm/transparent_hugepage/enabled 2>/dev/null
. ./snc-bench-args
for us in $INTERVALS; do
    ./snc-touch --overhead --mib "$MIB" --reps "$REPS" --passes "$PASSES" \
        --sample-us "$us"
    # Periods of SAMPLES sample intervals (at least 300 ms).
    ms=$((us * SAMPLES / 1000))
    [ "$ms" -ge 300 ] || ms=300
    ./snc-touch --trials "$TRIALS" --ms "$ms" --sample-us "$us" |
        grep -v '^# trial'
done
