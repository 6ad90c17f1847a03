#!/usr/bin/env bash
# Run every test suite and print one summary line over all of them:
# "N passed, N failed[, N skipped]".  Exits non-zero on any failure.
#
# Each suite writes TAP; a suite that stops early (a crash, a timeout,
# a failed build) counts its missing tests, or itself, as failed.
set -uo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
out=$top/build/test-results
rm -rf "$out"
mkdir -p "$out"

total_pass=0 total_fail=0 total_skip=0

# count_tap FILE RC: add FILE's TAP results to the totals.
count_tap() {
    local file=$1 rc=$2 pass fail skip plan ran
    pass=$(grep -cE '^ok [0-9]+' "$file" | tr -d ' ')
    skip=$(grep -E '^ok [0-9]+' "$file" | grep -c '# SKIP' | tr -d ' ')
    fail=$(grep -cE '^not ok [0-9]+' "$file" | tr -d ' ')
    pass=$((pass - skip))
    plan=$(sed -n 's/^1\.\.\([0-9][0-9]*\).*/\1/p' "$file" | awk '{ s += $1 } END { print s + 0 }')
    ran=$((pass + skip + fail))
    if [ "$ran" -lt "$plan" ]; then
        fail=$((fail + plan - ran))
    fi
    if [ "$rc" -ne 0 ] && [ "$fail" -eq 0 ]; then
        fail=1
    fi
    printf '%-28s %3d passed, %d failed, %d skipped (%s)\n' \
        "$(basename "$file" .tap)" "$pass" "$fail" "$skip" \
        "${file#"$top"/}"
    total_pass=$((total_pass + pass))
    total_fail=$((total_fail + fail))
    total_skip=$((total_skip + skip))
}

# suite NAME COMMAND...: run a suite, keep its TAP, count it.
suite() {
    local name=$1 rc start
    shift
    start=$(date +%s)
    echo "== $name"
    "$@" >"$out/$name.tap" 2>"$out/$name.log"
    rc=$?
    # Failures and skips, each failure with the diagnostics that follow
    # it (up to 15 lines), so that a CI log shows why.
    awk '/^(not ok|Bail out)/ { print; diag = 15; next }
         /^#/ && diag > 0 { print; diag--; next }
         { diag = 0 }
         /# SKIP/ { print }' "$out/$name.tap" | head -60
    count_tap "$out/$name.tap" "$rc"
    echo "   ($(( $(date +%s) - start )) s)"
}

# The tools' own tests on this host: the guest programs' library and
# its system-call lookup, the tools' argument checks, the policy
# engine's decisions on snapshots of QMP replies, and the shared QMP
# client and the policy's parser against the project's QEMU.
unit_tests=("$top"/build/tools/tools/lib/numa-util-test
            "$top"/build/tools/tools/lib/page-migrate-sysfs-test
            "$top"/build/tools/tools/policy/policy-test
            "$top"/build/tools/tools/qmp/qmp-client-test
            "$top"/build/tools/tools/policy/policy-qmp-test)

run_unit_tests() {
    local t rc=0
    for t in "${unit_tests[@]}"; do
        QEMU_BINARY="$top/build/qemu-system-x86_64" "$t" --tap || rc=1
    done
    "$top/tools/tools-host-test.sh" "$top/build/tools/tools" || rc=1
    return $rc
}

# The mover's qtests run on this host and again in the multi-node test
# host; the SNC's need no host NUMA nodes and run here only.
qtests=("$top"/build/qemu/tests/qtest/guest-memory-move-test)
host_qtests=("${qtests[@]}" "$top"/build/qemu/tests/qtest/snc-test)

run_host_qtests() {
    local t rc=0
    cd "$top/build/qemu" || return 1
    for t in "${host_qtests[@]}"; do
        QTEST_QEMU_BINARY=./qemu-system-x86_64 "$t" --tap -k || rc=1
    done
    return $rc
}

run_testhost_qtests() {
    "$top/scripts/testhost.sh" "$top/scripts/testhost-qtests.sh" "${qtests[@]}"
}

# guest-numa's host-level moves between the test host's two nodes.
run_testhost_cli() {
    "$top/scripts/testhost.sh" "$top/scripts/testhost-cli.sh" \
        "$top/build/tools/tools/cli/guest-numa"
}

# A libvirtd in the test host, and guest-numa moving a domain's cell
# between its two nodes through it.
run_testhost_libvirt() {
    local w=$top/build/testhost-libvirt
    . "$top/scripts/vm-lib.sh"
    rm -rf "$w" && mkdir -p "$w"
    printf 'while :; do sleep 1; done\n' >"$w/idle.sh"
    vm_root_begin "$w/root"
    vm_add_payload "$w/root" "$w/idle.sh"
    vm_root_pack "$w/root" "$w/initramfs.gz"
    tar -czf "$w/libvirt-share.tar.gz" -C /usr/share/libvirt cpu_map
    . "$top/scripts/libvirt-lib.sh"
    libvirt_conf "$w"
    libvirt_domain_xml vm0 2 256 2 /usr/local/bin/qemu-system-x86_64 \
        /payload/bzImage-debug /payload/initramfs.gz /tmp/vm0-console.log \
        >"$w/vm0.xml"
    "$top/scripts/testhost.sh" "$top/scripts/testhost-libvirt-payload.sh" \
        /usr/sbin/libvirtd /usr/bin/virsh \
        /usr/lib/x86_64-linux-gnu/libvirt/connection-driver/libvirt_driver_qemu.so \
        "$top/build/tools/tools/cli/guest-numa" \
        "$top/build/guest-kernel/bzImage-debug" "$w/initramfs.gz" \
        "$w/libvirt-share.tar.gz" "$w/qemu.conf" "$w/libvirtd.conf" \
        "$w/vm0.xml"
}

# The guest kernel with 2 and 4 virtual NUMA nodes in the project's QEMU:
# its selftests, and a console free of WARN, BUG and lockdep reports.
run_guest_selftests() {
    "$top/scripts/guest-run.sh" "$1" "$top/scripts/guest-selftests.sh" \
        "$top"/build/guest-kernel/selftests/*
}

# The SNC end to end: real guest threads on each node, the device's view.
run_snc_e2e() {
    "$top/scripts/snc-e2e.sh" "$1" --trials 10
}

# The seed's demo tools (ph, v, vmig + victim, migstat) in the guest.
run_page_migrate_tools() {
    "$top/scripts/guest-run.sh" 2 "$top/scripts/page-migrate-tools-payload.sh" \
        "$top"/build/guest-kernel/tools/*
}

suite snc-regs "$top/scripts/check-snc-regs.py"
suite unit run_unit_tests
suite qtest-host run_host_qtests
# 60 s of generated QMP commands (scripts/qmp-fuzz.py) against the
# regular build: every reply a success or a classed error, no crash,
# no hang.  The latency bound is loose here, since the CI host is
# shared; docs/reliability.md has the long run under ASan with 100 ms.
suite qmp-fuzz "$top/scripts/qmp-fuzz.py" --tap --seconds 60 \
    --qemu "$top/build/qemu/qemu-system-x86_64" --latency-ms 1000
# 60 s of QEMU's generic-fuzz on the SNC's registers, mailbox and
# matrix (scripts/fuzz-snc.sh: clang 16, libFuzzer, ASan); the build is
# part of the suite.  docs/reliability.md has the long campaign.
suite fuzz-snc "$top/scripts/fuzz-snc.sh" 60
suite guest-2-nodes run_guest_selftests 2
suite guest-4-nodes run_guest_selftests 4
suite page-migrate-tools run_page_migrate_tools
# One minute of the guest kernel's stress: next-touch marks and the
# migration calls against fork, mremap, munmap, mprotect and THP
# (scripts/guest-stress.sh; docs/reliability.md has the long runs).
suite stress-4-nodes "$top/scripts/guest-stress.sh" 60 4
suite snc-2-nodes run_snc_e2e 2
suite snc-4-nodes run_snc_e2e 4
# The SNC mailbox with the guest's driver: snc-guest-migrate of a guest
# buffer, bad ranges, the serving switch, a flood of requests.
suite snc-mailbox-2-nodes "$top/scripts/snc-mailbox-e2e.sh" 2
suite snc-mailbox-4-nodes "$top/scripts/snc-mailbox-e2e.sh" 4
# The policy engine on a live 4-node guest with the SNC: numa-policyd
# against the phase-shift workload, dry run in guest-only mode, then
# host-only (scripts/policy-e2e.sh).
suite policy-4-nodes "$top/scripts/policy-e2e.sh"
# The host lever after a vCPU re-pin, inside the two-node test host.
suite policy-testhost "$top/scripts/policy-testhost.sh"
# The scenario: the engine, cooperative, drives the guest's SNC driver
# through the workload's phase change (scripts/scenario-check.sh).
suite scenario-4-nodes "$top/scripts/scenario-check.sh" 4
# One minute of random moves with the guest's RAM checked, then moves
# racing a live migration and back, in the test host (the 30-minute
# soak is scripts/soak/host-soak.sh 30).
suite soak-testhost "$top/scripts/soak/host-soak.sh" 1
suite libvirt-2-nodes "$top/scripts/libvirt-suite.sh" 2
suite cli "$top/scripts/cli-suite.sh"
suite cli-testhost run_testhost_cli
suite libvirt-testhost run_testhost_libvirt
suite qtest-testhost run_testhost_qtests

summary="$total_pass passed, $total_fail failed"
[ "$total_skip" -gt 0 ] && summary="$summary, $total_skip skipped"
echo "$summary"
[ "$total_fail" -eq 0 ]
