#!/bin/sh
# Guest payload of scripts/bench/snc.sh: for each sample interval, the
# overhead of counting on a memory-bound loop, then the top-k accuracy.
echo always >/sys/kernel/mm/transparent_hugepage/enabled 2>/dev/null
. ./snc-bench-args
for us in $INTERVALS; do
    ./snc-touch --overhead --mib "$MIB" --reps "$REPS" --passes "$PASSES" \
        --sample-us "$us"
    ./snc-touch --trials "$TRIALS" --ms "$PERIOD_MS" --sample-us "$us" |
        grep -v '^# trial'
done
