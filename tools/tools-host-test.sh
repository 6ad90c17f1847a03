#!/usr/bin/env bash
# The tools' argument checks and their refusal to run on a kernel
# without the page_migrate series, on the build host (TAP).  meson test
# runs it with the build directory's tools/ as $1.
set -u
bin=$1
n=0 rc=0

# expect CODE PATTERN COMMAND...: COMMAND exits CODE and prints PATTERN.
expect() {
    local code=$1 pattern=$2 out got
    shift 2
    n=$((n + 1))
    out=$("$@" 2>&1)
    got=$?
    if [ "$got" -eq "$code" ] && grep -q -- "$pattern" <<<"$out"; then
        echo "ok $n - $* (exit $got)"
    else
        echo "not ok $n - $*: exit $got, want $code and '$pattern'"
        sed 's/^/# /' <<<"$out"
        rc=1
    fi
}

if [ -e /sys/kernel/mm/page_migrate ]; then
    echo "# this kernel has the page_migrate series: no missing-series checks"
else
    lacks='lacks the page_migrate series (no /sys/kernel/mm/page_migrate)'
    expect 1 "^v: this kernel $lacks" "$bin/page_migrate/v" --pages 4
    expect 1 "^ph: this kernel $lacks" "$bin/page_migrate/ph" --pages 4
    expect 1 "^migrate-calls-bench: this kernel $lacks" \
        "$bin/bench/migrate-calls-bench" --method migrate_ph_pages
    expect 1 "^vmig: this kernel $lacks" \
        "$bin/page_migrate/vmig" $$ "$(awk -F- 'NR == 1 { print "0x" $1 }' /proc/$$/maps)" 4096 0
fi

sleep 30 & victim=$!
vmig=$bin/page_migrate/vmig
expect 2 "length 18446744073709551615 must be from 1 to this machine's memory" \
    "$vmig" $victim 0x1000 0xffffffffffffffff 0
expect 2 "length 0 must be from 1" "$vmig" $victim 0x1000 0 0
expect 2 "range 0xfffffffffffff000 + 8192 wraps around" \
    "$vmig" $victim 0xfffffffffffff000 8192 0
expect 2 "is not page aligned" "$vmig" $victim 0x1001 4096 0
expect 2 "\[0x1000, 0x2000) is not all mapped in process $victim" \
    "$vmig" $victim 0x1000 4096 0
expect 2 "bad length 'lots'" "$vmig" $victim 0x1000 lots 0
expect 2 "bad pid '0'" "$vmig" 0 0x1000 4096 0
expect 0 "example: vmig" "$vmig" --help
kill $victim

snc=$bin/snc/snc-touch
expect 2 "bad --trials 0 (a number from 1 to 100000)" "$snc" --trials 0
expect 2 "bad --sample-us 50 (a number from 100 to 1000000)" \
    "$snc" --sample-us 50
expect 2 "bad --mib -4" "$snc" --mib -4
expect 2 "bad --ms 0" "$snc" --ms 0
expect 2 "bad --reps 0" "$snc" --overhead --reps 0
expect 2 "Cannot parse integer value" "$snc" --trials ten
expect 2 "unexpected argument 'extra'" "$snc" extra
expect 0 "snc-touch --trials 10" "$snc" --help

ps=$bin/scenario/phase-shift
expect 2 "bad --seconds 0 (0 < S <= 86400)" "$ps" --seconds 0
expect 2 "bad --phase-at -1" "$ps" --phase-at -1
expect 2 "bad --period 30 (0.01 <= S <= --seconds)" "$ps" --period 30
expect 2 "bad --mib 0 (a number from 1 to 4096)" "$ps" --mib 0
expect 2 "bad --zone-size 5000 (a power of two" "$ps" --zone-size 5000
expect 2 "unexpected argument 'extra'" "$ps" extra
expect 0 "phase-shift --seconds 20 --phase-at 10" "$ps" --help

pd=$bin/policy/numa-policyd
if [ -x "$pd" ]; then
    expect 2 "^numa-policyd: --qmp SOCKET is required" "$pd"
    expect 2 "bad --mode 'fast' (off, host-only, guest-only or cooperative)" \
        "$pd" --qmp x --mode fast
    expect 2 "bad --dominance 0.5 (0.5 < R <= 1)" "$pd" --qmp x --dominance 0.5
    expect 2 "bad --settle -2 (0 to 1000)" "$pd" --qmp x --settle -2
    expect 2 "bad --placement-refresh 0 (1 to 1000)" \
        "$pd" --qmp x --placement-refresh 0
    expect 1 "cannot reach QEMU at /nonexistent.qmp: .*No such file" \
        "$pd" --qmp /nonexistent.qmp
    expect 0 "numa-policyd --qmp /tmp/vm.qmp" "$pd" --help
    qemu=${QEMU_BINARY:-$bin/../../qemu-system-x86_64}
    if [ -x "$qemu" ]; then
        sock=$(mktemp -u /tmp/tools-host-test.XXXXXX.qmp)
        "$qemu" -machine none -display none -nodefaults \
            -qmp "unix:$sock,server=on,wait=off" 2>/dev/null & qemu_pid=$!
        for _ in $(seq 50); do [ -S "$sock" ] && break; sleep 0.1; done
        expect 1 "QEMU has no snc device (start it with -device snc)" \
            "$pd" --qmp "$sock"
        kill "$qemu_pid"
        wait "$qemu_pid" 2>/dev/null
        rm -f "$sock"
    fi
fi

expect 2 "bad MAX_MIB '0'" "$bin/bench/next-touch-bench" 0
expect 2 "bad page count '0'" "$bin/page_migrate/v" --pages 0
echo "1..$n"
exit $rc
