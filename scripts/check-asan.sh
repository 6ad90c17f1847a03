#!/usr/bin/env bash
# Build QEMU with AddressSanitizer (LeakSanitizer on) and
# UndefinedBehaviorSanitizer into build/qemu-asan, then run every
# project qtest under it; on a one-node host, the qtests that need two
# host nodes then run under it in the two-node test host
# (scripts/testhost.sh).
# A test passes only if it passes and neither
# QEMU nor the test program reports anything: any sanitizer report, a
# leak included, fails the run.  Prints TAP per qtest and a summary;
# exits non-zero on any failure or report.  Not part of "make check"
# (the CI time budget); see docs/reliability.md for times and results.
#
#   scripts/check-asan.sh [--no-build] [QTEST-PATH-FILTER]
set -uo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
bld=$top/build/qemu-asan
out=$top/build/asan-results
build=1
if [ "${1:-}" = --no-build ]; then
    build=0
    shift
fi
filter=${1:-}

if [ "$build" = 1 ]; then
    start=$(date +%s)
    "$top/scripts/build-qemu.sh" --asan || exit 1
    echo "check-asan: build $(( $(date +%s) - start )) s"
fi

rm -rf "$out"
mkdir -p "$out"
# Each process writes its reports to its own file (log_path.PID), so a
# report from QEMU, which the qtest starts and whose stderr it may not
# show, is never missed.  halt_on_error=0 lets a run show every report.
asan_opts=detect_leaks=1:halt_on_error=0:abort_on_error=0:detect_stack_use_after_return=0:fast_unwind_on_malloc=0
ubsan_opts=print_stacktrace=1:halt_on_error=0
export ASAN_OPTIONS="$asan_opts:log_path=$out/asan"
export UBSAN_OPTIONS="$ubsan_opts:log_path=$out/ubsan"
export LSAN_OPTIONS="suppressions=$top/scripts/lsan-suppressions.txt:print_suppressions=0"
report_re='ERROR: (Address|Leak)Sanitizer|runtime error:'

# tally WHAT TAP EXIT START: print a qtest run's results; a failed test
# or a non-zero exit fails the whole run.
rc=0
tally() {
    local pass skip fail
    pass=$(grep -cE '^ok [0-9]+' "$2")
    skip=$(grep -cE '^ok [0-9]+.*# SKIP' "$2")
    fail=$(grep -cE '^not ok [0-9]+' "$2")
    echo "check-asan: $1: $((pass - skip)) passed, $fail failed," \
         "$skip skipped, exit $3, $(( $(date +%s) - $4 )) s"
    grep -E '^not ok' "$2"
    [ "$3" -eq 0 ] && [ "$fail" -eq 0 ] || rc=1
}

cd "$bld" || exit 1
for t in tests/qtest/guest-memory-move-test tests/qtest/snc-test; do
    name=$(basename "$t")
    start=$(date +%s)
    args=(--tap -k)
    [ -n "$filter" ] && args+=(-p "$filter")
    QTEST_QEMU_BINARY=./qemu-system-x86_64 "./$t" "${args[@]}" \
        >"$out/$name.tap" 2>"$out/$name.log"
    tally "$name" "$out/$name.tap" $? "$start"
done

# The qtests that need two host NUMA nodes skip on a one-node host: run
# them under the same build in the two-node test host, where the
# sanitizers write to the console (kept as a report file like the
# others).  Not with a filter.
if [ -z "$filter" ] && [ "$(numactl --hardware | sed -n 's/^available: \([0-9]*\) nodes.*/\1/p')" -lt 2 ]; then
    start=$(date +%s)
    cat >"$out/qtest-env" <<ENV
export ASAN_OPTIONS=$asan_opts
export UBSAN_OPTIONS=$ubsan_opts
export LSAN_OPTIONS=suppressions=/payload/lsan-suppressions.txt:print_suppressions=0
QTEST_ARGS="-p /x86_64/guest-memory/multinode -p /x86_64/guest-memory/multinode/backend"
ENV
    TESTHOST_QEMU=$bld/qemu-system-x86_64 TESTHOST_TIMEOUT=${TESTHOST_TIMEOUT:-3600} \
        "$top/scripts/testhost.sh" "$top/scripts/testhost-qtests.sh" \
        "$bld/tests/qtest/guest-memory-move-test" "$out/qtest-env" \
        "$top/scripts/lsan-suppressions.txt" \
        >"$out/testhost.tap" 2>"$out/testhost.log"
    tally "guest-memory-move-test in the test host" "$out/testhost.tap" $? \
        "$start"
    cat "$out/testhost.tap" "$out/testhost.log" |
        grep -E -A40 "$report_re" >"$out/asan.testhost" ||
        rm -f "$out/asan.testhost"
fi

# The log files also take ASan's warning about swapcontext(), which
# QEMU's coroutines use; only errors, leaks and UB count as reports.
reports=$(grep -lE "$report_re" "$out"/asan.* "$out"/ubsan.* 2>/dev/null |
          sort)
if [ -n "$reports" ]; then
    echo "check-asan: sanitizer reports:"
    for f in $reports; do
        echo "== $f"
        head -60 "$f"
    done
    rc=1
else
    echo "check-asan: no sanitizer report, no leak"
fi
exit $rc
