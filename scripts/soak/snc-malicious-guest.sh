#!/bin/bash
# Malicious-guest soak for the SNC device: run snc-test's
# /snc/fuzz/random-registers for minutes instead of seconds.  The qtest
# accelerator plays the guest and writes seeded random values of random
# sizes to every offset of BAR0 (the mailbox included) and BAR2, while
# QMP posts hints and the "guest" completes them with garbage.  The test
# asserts that QMP keeps answering, that the guest-error log stays within
# its rate limit and that the device works after a reset.
#
# Usage: scripts/soak/snc-malicious-guest.sh [SECONDS [SEED]]
#   SECONDS defaults to 300, SEED to the current time.  Needs
#   scripts/build-qemu.sh to have built build/qemu.
set -euo pipefail

top=$(cd "$(dirname "$0")/../.." && pwd)
bld=$top/build/qemu
seconds=${1:-300}
seed=${2:-$(date +%s)}

if [[ ! -x $bld/tests/qtest/snc-test || ! -x $bld/qemu-system-x86_64 ]]; then
    echo "snc-malicious-guest: build QEMU first (scripts/build-qemu.sh)" >&2
    exit 1
fi

log=$(mktemp)
trap 'rm -f "$log"' EXIT
echo "snc-malicious-guest: ${seconds} s, seed ${seed}"
rc=0
(cd "$bld" &&
    SNC_FUZZ_SECONDS=$seconds SNC_FUZZ_SEED=$seed \
    QTEST_QEMU_BINARY=./qemu-system-x86_64 \
    tests/qtest/snc-test --tap -p /x86_64/snc/fuzz/random-registers) \
    >"$log" 2>&1 || rc=$?
cat "$log"
summary=$(grep -E '^# [0-9]+ accesses' "$log" || true)
if [[ $rc -ne 0 || -z $summary ]]; then
    echo "snc-malicious-guest: FAILED (exit $rc), seed ${seed}" >&2
    exit 1
fi
accesses=$(sed -E 's/^# ([0-9]+) accesses.*/\1/' <<<"$summary")
echo "snc-malicious-guest: PASS: ${accesses} accesses in ${seconds} s" \
     "($((accesses / seconds)) per second), seed ${seed}"
