#!/usr/bin/env bash
# Fuzz the SNC device with QEMU's generic-fuzz target (libFuzzer, clang
# 16, ASan): every register of BAR0 (the counters' control, the mailbox
# at 0x800-0xfff), the counter matrix of BAR2, the PCI configuration
# space, and virtual time stepped between accesses so that periods end
# and the sampler runs.  Prints TAP; the executions are in the last
# comment line.
#
#   scripts/fuzz-snc.sh [--no-build] [SECONDS] [-- LIBFUZZER-ARGS...]
#
# SECONDS (default 60) bounds the run; libFuzzer arguments after "--"
# add to it (-runs=1000000 stops after a million inputs, -jobs=N runs N
# processes).  The corpus stays in build/fuzz-snc/corpus, so a second
# run starts where the first one stopped; a crash leaves its input in
# build/fuzz-snc/ (crash-*, leak-*, timeout-*), which
#
#   QEMU_FUZZ_ARGS=... QEMU_FUZZ_OBJECTS=... \
#       build/qemu-fuzz/qemu-fuzz-x86_64 --fuzz-target=generic-fuzz FILE
#
# replays (the two variables are printed at the start).
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
build=1
if [ "${1:-}" = --no-build ]; then
    build=
    shift
fi
seconds=60
if [ $# -gt 0 ] && [ "$1" != -- ]; then
    seconds=$1
    shift
fi
[ "${1:-}" = -- ] && shift

work=$top/build/fuzz-snc
fuzzer=$top/build/qemu-fuzz/qemu-fuzz-x86_64
mkdir -p "$work/corpus"

echo "1..2"
if [ -n "$build" ] && ! "$top/scripts/build-qemu.sh" --fuzz \
        >"$work/build.log" 2>&1; then
    sed 's/^/# /' "$work/build.log" | tail -20
    echo "not ok 1 - build/qemu-fuzz/qemu-fuzz-x86_64 builds"
    echo "not ok 2 - # SKIP no fuzzer"
    exit 1
fi

# generic-fuzz adds -m 512M: two nodes of 256 MiB, as the qtests have.
export QEMU_FUZZ_ARGS="-M pc -nodefaults -smp 2
 -object memory-backend-ram,id=m0,size=256M
 -object memory-backend-ram,id=m1,size=256M
 -numa node,nodeid=0,memdev=m0,cpus=0
 -numa node,nodeid=1,memdev=m1,cpus=1
 -device snc,id=snc0"
QEMU_FUZZ_ARGS=$(echo $QEMU_FUZZ_ARGS)
# The two BARs' regions, and the device itself for its config space.
export QEMU_FUZZ_OBJECTS="snc-regs snc-matrix snc"
# libFuzzer's leak check after every input whose mallocs and frees do
# not balance (QEMU's reset frees some memory later, by RCU) scans the
# whole heap: it took 90 % of the time, 31 inputs/s against 300.  Leaks
# are check-asan's job (every qtest under LeakSanitizer); here ASan
# and UBSan catch bad accesses and undefined behaviour.
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=0}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
echo "# QEMU_FUZZ_ARGS='$QEMU_FUZZ_ARGS'"
echo "# QEMU_FUZZ_OBJECTS='$QEMU_FUZZ_OBJECTS'"

rc=0
rm -f "$work"/fuzz-[0-9]*.log     # each of -jobs=N's jobs writes its own
(cd "$work" && "$fuzzer" --fuzz-target=generic-fuzz \
    -max_total_time="$seconds" -artifact_prefix="$work/" \
    -close_fd_mask=1 -print_final_stats=1 -detect_leaks=0 "$@" corpus) \
    >"$work/fuzz.log" 2>&1 || rc=$?

logs=("$work/fuzz.log")
for f in "$work"/fuzz-[0-9]*.log; do
    [ -e "$f" ] && logs+=("$f")
done
runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "${logs[@]}" |
       awk '{ s += $1 } END { print s + 0 }')
secs=$(sed -n 's/^Done [0-9]* runs in \([0-9]*\) second.*/\1/p' \
       "${logs[@]}" | sort -n | tail -n1)
if [ "$rc" -eq 0 ] && ! grep -qE 'ERROR: (AddressSanitizer|LeakSanitizer)|runtime error:|==ERROR' \
        "${logs[@]}"; then
    echo "ok 1 - generic-fuzz of the SNC: no crash, hang or sanitizer report"
else
    grep -hE 'ERROR|runtime error|SUMMARY|Test unit written|^    #' \
        "${logs[@]}" | head -30 | sed 's/^/# /'
    echo "not ok 1 - generic-fuzz of the SNC: exit $rc, see $work/fuzz.log"
fi
if [ "$runs" -gt 0 ]; then
    echo "ok 2 - $runs executions in ${secs:-?} s"
else
    tail -20 "$work/fuzz.log" | sed 's/^/# /'
    echo "not ok 2 - no execution: see $work/fuzz.log"
fi
cov=$(grep -hoE 'cov: [0-9]+ ft: [0-9]+' "${logs[@]}" | tail -n1)
echo "# executions: $runs; $cov; corpus $(ls "$work/corpus" | wc -l) inputs"
[ "$rc" -eq 0 ] && [ "$runs" -gt 0 ]
