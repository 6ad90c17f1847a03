#!/usr/bin/env bash
# guest-numa, the CLI for people (tools/cli/), against real peers: every
# subcommand and every error it promises, over a bare QEMU's QMP socket
# (--qmp) and through a private libvirtd (--domain, libvirt-lib.sh).
# Prints TAP.
#
#   scripts/cli-suite.sh
#
# Peers: an idle -S QEMU with two NUMA cells (placement, moves, errors),
# an idle one with 16 GiB (a move long enough to cancel),
# a running one with the SNC booting the guest kernel (snc top), Debian's
# stock QEMU (the emulator lacks the project's commands), and a libvirt
# domain vm0 with two cells, the SNC and the guest kernel (where the
# libvirt transport's own tests, tools/qmp/qmp-libvirt-test, run too).  On a host
# with one NUMA node a move to node 0 succeeds and a move to node 1
# gives the node error.  "Not permitted" is a user who may not open the
# QMP or libvirt socket.  policy runs the engine, numa-policyd, from
# build/tools: on the SNC QEMU's socket, and on vm0 through libvirt.
set -uo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
work=$top/build/cli-suite
qemu=${QEMU_BINARY:-$top/build/qemu-system-x86_64}
kernel=${GUEST_KERNEL:-$top/build/guest-kernel/bzImage-debug}
stock=/usr/bin/qemu-system-x86_64
gn=$top/build/tools/tools/cli/guest-numa
. "$top/scripts/libvirt-lib.sh"
. "$top/scripts/vm-lib.sh"

n=0
ok() { n=$((n + 1)); echo "ok $n - $*"; }
not_ok() { n=$((n + 1)); echo "not ok $n - $*"; }
skip() { n=$((n + 1)); echo "ok $n # SKIP $*"; }

# expect WHAT RC REGEX COMMAND...: COMMAND exits RC and its output
# (stdout and stderr) matches REGEX.
expect() {
    local what=$1 want=$2 re=$3 out rc
    shift 3
    out=$(timeout 60 "$@" 2>&1)
    rc=$?
    if [ "$rc" = "$want" ] && grep -Eq -- "$re" <<<"$out"; then
        ok "$what"
    else
        not_ok "$what"
        echo "# exit $rc (want $want), output (want /$re/):"
        printf '%s\n' "$out" | sed 's/^/#   /'
    fi
}

pids=()
cleanup() {
    local p
    for p in "${pids[@]}"; do
        kill "$p" 2>/dev/null
    done
    libvirt_stop
}
trap cleanup EXIT

for f in "$qemu" "$gn"; do
    if [ ! -x "$f" ]; then
        echo "Bail out! no $f (scripts/build-qemu.sh, scripts/build-tools.sh)"
        exit 1
    fi
done

rm -rf "$work" "$work.img"
mkdir -p "$work/qmp" "$work.img"
chmod 700 "$work/qmp"
host_nodes=$(numactl --hardware | sed -n 's/^available: \([0-9]*\) nodes.*/\1/p')

# start_qemu NAME BINARY ARGS...: a QEMU with a QMP socket NAME.sock.
start_qemu() {
    local name=$1 bin=$2 sock=$work/qmp/$1.sock
    shift 2
    "$bin" -display none -nodefaults -qmp "unix:$sock,server=on,wait=off" \
        "$@" >"$work/$name.log" 2>&1 &
    pids+=($!)
    for _ in $(seq 1 100); do
        [ -S "$sock" ] && return 0
        sleep 0.1
    done
    echo "# $name did not create its QMP socket" >&2
}

# The guest only has to run: an idle busybox payload.
printf 'while :; do sleep 1; done\n' >"$work.img/idle.sh"
vm_root_begin "$work.img/root"
vm_add_payload "$work.img/root" "$work.img/idle.sh"
vm_root_pack "$work.img/root" "$work.img/initramfs.gz"

cells=(-m 256M -smp 2
       -object memory-backend-ram,id=m0,size=128M
       -object memory-backend-ram,id=m1,size=128M
       -numa node,nodeid=0,cpus=0,memdev=m0
       -numa node,nodeid=1,cpus=1,memdev=m1)
start_qemu idle "$qemu" -machine pc -accel tcg -S "${cells[@]}"
start_qemu snc "$qemu" -machine pc -accel tcg "${cells[@]}" \
    -device snc,id=snc0,period-ms=500 -serial "file:$work/snc-console.log" \
    -kernel "$kernel" -initrd "$work.img/initramfs.gz" \
    -append "console=ttyS0 loglevel=4"
start_qemu stock "$stock" -machine none
# 16 GiB that nothing populated: a move's walk takes long enough (about
# 0.4 s) to be cancelled while it runs.
start_qemu big "$qemu" -machine pc -accel tcg -S -m 16G
idle=(--qmp "$work/qmp/idle.sock")
node1_err='node.* 1 is not an online host NUMA node'

# ---- usage -----------------------------------------------------------
expect "no command: usage error" 2 "no command" "$gn" "${idle[@]}"
expect "no transport: usage error" 2 "one of --qmp" "$gn" placement
expect "both transports: usage error" 2 "one of --qmp" \
    "$gn" "${idle[@]}" --domain vm0 placement
expect "unknown command: usage error" 2 "unknown command 'frob'" \
    "$gn" "${idle[@]}" frob
expect "bad size: usage error" 2 "bad SIZE '12Q'" \
    "$gn" "${idle[@]}" move 0 12Q 0
expect "bad node: usage error" 2 "bad NODE 'x'" "$gn" "${idle[@]}" move 0 64M x
expect "an option of another command: usage error" 2 "go with move" \
    "$gn" "${idle[@]}" placement --workers 2
expect "--config needs --domain: usage error" 2 "needs cellN and --domain" \
    "$gn" "${idle[@]}" move cell0 0 --config
expect "--help names the commands, examples and exit codes" 0 \
    "5  not permitted" "$gn" --help
expect "--help: examples" 0 "guest-numa --domain vm0 move cell1 0 --config" \
    "$gn" --help
expect "--help: policy and its exit codes" 0 "policy ends with the engine's" \
    "$gn" --help
expect "policy --json: usage error" 2 "--json does not go with policy" \
    "$gn" "${idle[@]}" --json policy
expect "policy: an option of the engine's, not guest-numa's (engine: 2)" 2 \
    "^numa-policyd: .*frob" "$gn" "${idle[@]}" policy --mode frob
mkdir -p "$work/alone"
cp "$gn" "$work/alone/guest-numa"
expect "policy without numa-policyd anywhere (1)" 1 "no numa-policyd beside" \
    env PATH=/usr/bin:/bin "$work/alone/guest-numa" "${idle[@]}" policy

# ---- connection errors -----------------------------------------------
expect "no QMP socket: cannot connect (3)" 3 "No such file or directory" \
    "$gn" --qmp "$work/qmp/none.sock" placement
expect "the emulator lacks the project's commands: placement (4)" 4 \
    "lacks the project's commands" "$gn" --qmp "$work/qmp/stock.sock" placement
expect "the emulator lacks the project's commands: move (4)" 4 \
    "migrate-guest-range has not been found" \
    "$gn" --qmp "$work/qmp/stock.sock" move 0 64M 0
expect "the emulator lacks the project's commands: snc top (4)" 4 \
    "query-snc-counters has not been found" \
    "$gn" --qmp "$work/qmp/stock.sock" snc top
expect "the emulator lacks the project's commands: policy (4)" 4 \
    "query-snc-counters has not been found" \
    "$gn" --qmp "$work/qmp/stock.sock" policy --periods 1
expect "a user who may not open the QMP socket: not permitted (5)" 5 \
    "Permission denied" setpriv --reuid=65534 --regid=65534 --clear-groups \
    "$gn" "${idle[@]}" placement

# ---- placement and moves over --qmp ------------------------------------
expect "placement: a table with cells, backends and sizes in units" 0 \
    "^1 +m1 +m1 +0x0*8000000 +128M +4K " "$gn" "${idle[@]}" placement
expect "placement ADDR SIZE with units" 0 "total 64M" \
    "$gn" "${idle[@]}" placement 64M 64M
expect "placement --json" 0 '"not-populated-bytes" : 268435456' \
    "$gn" "${idle[@]}" --json placement
expect "move ADDR SIZE NODE with units and workers" 0 \
    "job .* to node 0: done" "$gn" "${idle[@]}" move 0x100000 64M 0 --workers 2
expect "move cell0 0: the whole cell, with the completion counts" 0 \
    "pages 32768: moved 0, already there [0-9]+, not populated [0-9]+, failed 0" \
    "$gn" "${idle[@]}" move cell0 0
expect "move --json prints GUEST_MEMORY_MOVE_COMPLETED's data" 0 \
    '"already-on-node" : ' "$gn" "${idle[@]}" --json move cell1 0 --job-id j1
if [ "$host_nodes" -eq 1 ]; then
    expect "move to node 1 on a one-node host: QEMU's node error (1)" 1 \
        "$node1_err" "$gn" "${idle[@]}" move cell1 1
else
    expect "move cell1 1" 0 "to node 1: done" "$gn" "${idle[@]}" move cell1 1
fi
expect "move a range that is not RAM: QEMU's range error (1)" 1 \
    "migrate-guest-range: .*(RAM|range)" "$gn" "${idle[@]}" move 16G 64M 0
expect "move an unaligned size: QEMU's error names it (1)" 1 \
    "migrate-guest-range: .*size" "$gn" "${idle[@]}" move 0 1000 0
expect "move workers out of range: QEMU's error names them (1)" 1 \
    "'workers' must be between 1 and 8" \
    "$gn" "${idle[@]}" move 0 64M 0 --workers 9
expect "move cell5: the guest has no such node (1)" 1 "no NUMA node 5" \
    "$gn" "${idle[@]}" move cell5 0
expect "move --detach prints the job id" 0 "^d1$" \
    "$gn" "${idle[@]}" move cell0 0 --detach --job-id d1
expect "move --cancel of an unknown job: QEMU's error names it (1)" 1 \
    "move --cancel nope: job-cancel: Job not found" \
    "$gn" "${idle[@]}" move --cancel nope
expect "move --cancel JOB cancels a running move" 0 \
    "job c1 to node 0: cancelled" sh -c "
        '$gn' --qmp '$work/qmp/big.sock' move 0 16G 0 --detach --job-id c1 &&
        '$gn' --qmp '$work/qmp/big.sock' move --cancel c1"
expect "--detach and --wait: usage error" 2 "exclude each other" \
    "$gn" "${idle[@]}" move cell0 0 --detach --wait
expect "a progress bar on a terminal" 0 \
    "bar \[#{40}\] 100% 128M/128M" script -qec \
    "'$gn' --qmp '$work/qmp/idle.sock' move cell0 0 --job-id bar" /dev/null
expect "no progress bar when piped" 0 "^job p1 to node 0: done" sh -c \
    "'$gn' --qmp '$work/qmp/idle.sock' move cell0 0 --job-id p1 2>&1 | head -1"

# ---- snc top over --qmp ------------------------------------------------
expect "snc top without an SNC (1)" 1 "no SNC" "$gn" "${idle[@]}" snc top
"$gn" --qmp "$work/qmp/snc.sock" snc top --once >/dev/null 2>&1
printf '{"execute":"qmp_capabilities"}\n{"execute":"snc-control","arguments":{"action":"start"}}\n' |
    timeout 5 socat - "UNIX-CONNECT:$work/qmp/snc.sock" >/dev/null 2>&1
expect "snc top, piped: one shot, the hottest zones per node" 0 \
    "node 1: [0-9]+ touches" "$gn" --qmp "$work/qmp/snc.sock" snc top -n 3
expect "snc top --count 2: refreshes at SNC_PERIOD_END" 0 "^2$" sh -c \
    "'$gn' --qmp '$work/qmp/snc.sock' snc top --count 2 -n 1 | grep -c '^snc0:'"
expect "snc top on a terminal: a live view, redrawn at each period" 0 "^2$" \
    sh -c "script -qec \"'$gn' --qmp '$work/qmp/snc.sock' snc top --count 2 -n 1\" /dev/null |
           grep -c \"$(printf '\033')\[2J\""
expect "--json output is JSON: move, move --detach, placement, snc top" 0 \
    "^valid 4$" sh -c "
    n=0
    for cmd in 'move cell0 0 --job-id js' 'move cell0 0 --detach --job-id jd' \
               placement; do
        '$gn' --qmp '$work/qmp/idle.sock' --json \$cmd |
            python3 -c 'import json, sys; json.load(sys.stdin)' && n=\$((n + 1))
    done
    '$gn' --qmp '$work/qmp/snc.sock' --json snc top |
        python3 -c 'import json, sys; json.load(sys.stdin)' && n=\$((n + 1))
    echo valid \$n"
expect "snc top --json" 0 '"zone-size" : ' \
    "$gn" --qmp "$work/qmp/snc.sock" --json snc top -n 1
expect "snc top --period MS configures the SNC" 0 "\(250 ms\)" \
    "$gn" --qmp "$work/qmp/snc.sock" snc top --period 250 --once

# ---- policy over --qmp -------------------------------------------------
expect "policy without an SNC: the engine's error (1)" 1 \
    "numa-policyd: QEMU has no snc device" \
    "$gn" "${idle[@]}" policy --periods 1
expect "policy: the engine on the QEMU's socket, its options passed on" 0 \
    "^period 2 sequence" "$gn" --qmp "$work/qmp/snc.sock" policy \
    --mode host-only --dry-run --periods 2 --period-ms 500

# ---- through libvirt (--domain) ----------------------------------------
start=$(date +%s.%N)
if ! libvirt_start "$work/libvirt"; then
    echo "Bail out! libvirtd did not start"
    exit 1
fi
ok "libvirtd started ($(printf '%.1f' "$(echo "$(date +%s.%N) - $start" | bc)") s)"
dom=(--connect "$LIBVIRT_URI" --domain vm0)
SNC_PERIOD_MS=500 libvirt_domain_xml vm0 2 256 2 "$qemu" "$kernel" \
    "$work.img/initramfs.gz" "$work/vm0-console.log" >"$work/vm0.xml"
expect "--domain: a daemon that is not there (3)" 3 "cannot connect" \
    "$gn" --connect "qemu:///system?socket=$work/none" --domain vm0 placement
expect "--domain: no such domain (3)" 3 "domain nope not found" \
    "$gn" --connect "$LIBVIRT_URI" --domain nope placement
$VIRSH define "$work/vm0.xml" >/dev/null
expect "--domain: the domain is not running (3)" 3 "domain vm0 is not running" \
    "$gn" "${dom[@]}" placement
$VIRSH start vm0 >/dev/null
expect "--domain: a user who may not open libvirt's socket (5)" 5 \
    "Permission denied" setpriv --reuid=65534 --regid=65534 --clear-groups \
    "$gn" "${dom[@]}" placement
expect "--domain placement: libvirt's ram-nodeN cells" 0 \
    "^1 +ram-node1 " "$gn" "${dom[@]}" placement
expect "--domain move cell0 0 --config, with the progress bar" 0 \
    "vm0c0 \[#{40}\] 100% 128M/128M" script -qec \
    "'$gn' $(printf '%q ' "${dom[@]}")move cell0 0 --config --workers 2 --job-id vm0c0" /dev/null
expect "--config: the persistent <numatune> has the cell's memnode" 0 \
    "<memnode cellid='0' mode='strict' nodeset='0'/>" \
    $VIRSH dumpxml --inactive vm0
expect "the live definition's <numatune> is unchanged (libvirt did not move)" \
    1 "^$" sh -c "$VIRSH dumpxml vm0 | grep memnode"
expect "virsh metadata shows the live placement" 0 \
    '<cell id="0" nodeset="0"/>' \
    $VIRSH metadata vm0 https://numa-migrator.invalid/placement/1.0
expect "--domain move cell1 0 --config" 0 "to node 0: done" \
    "$gn" "${dom[@]}" move cell1 0 --config
expect "the metadata keeps the earlier cell's placement" 0 \
    '<cell id="0" nodeset="0"/>' \
    $VIRSH metadata vm0 https://numa-migrator.invalid/placement/1.0
expect "the metadata has the second cell's placement" 0 \
    '<cell id="1" nodeset="0"/>' \
    $VIRSH metadata vm0 https://numa-migrator.invalid/placement/1.0
expect "--config: the persistent <numatune> has both cells' memnodes" 0 \
    "<memnode cellid='1' mode='strict' nodeset='0'/>" \
    $VIRSH dumpxml --inactive vm0
if [ "$host_nodes" -eq 1 ]; then
    expect "--domain move cell1 1 on a one-node host: the node error (1)" 1 \
        "$node1_err" "$gn" "${dom[@]}" move cell1 1 --config
    expect "a failed move leaves the definition alone" 0 \
        "<memnode cellid='1' mode='strict' nodeset='0'/>" \
        $VIRSH dumpxml --inactive vm0
fi
$VIRSH qemu-monitor-command vm0 '{"execute":"snc-control","arguments":{"action":"start"}}' >/dev/null
expect "--domain snc top --count 2: events through libvirt" 0 "^2$" sh -c \
    "'$gn' $(printf '%q ' "${dom[@]}")snc top --count 2 -n 1 | grep -c '^snc0:'"
expect "--domain --json placement" 0 '"memdev" : "ram-node0"' \
    "$gn" "${dom[@]}" --json placement

# policy through libvirt: guest-numa serves QMP to the engine on a
# private socket and runs each of its commands through the domain.
expect "--domain policy: the engine runs on the domain through libvirt" 0 \
    "^period 3 sequence" "$gn" "${dom[@]}" policy --mode host-only \
    --periods 3 --csv "$work/policy.csv"
# Columns 5 and 6: the hot zones (from query-snc-counters) and the
# placement reads (query-guest-memory-placement) of each period.
expect "--domain policy: the engine read counts and placement through libvirt" \
    0 "^3 periods, [1-3] with hot zones and placement reads$" \
    awk -F, 'NR > 1 { n++; if ($5 > 0 && $6 > 0) hot++ }
             END { printf "%d periods, %d with hot zones and placement reads\n", n, hot }' \
    "$work/policy.csv"
expect "--domain policy on a terminal: the engine's live view" 0 "^2$" \
    sh -c "script -qec \"'$gn' $(printf '%q ' "${dom[@]}")policy --dry-run --periods 2\" /dev/null |
           grep -c \"$(printf '\033')\[H\""
expect "--domain policy: the engine's error comes back (engine: 1)" 1 \
    "^numa-policyd: no snc device named 'nope'" \
    "$gn" "${dom[@]}" policy --device nope --periods 1
expect "--domain policy: SIGTERM ends the engine cleanly, nothing left" 0 \
    "^rc 0, engine gone, socket gone$" sh -c "
    '$gn' $(printf '%q ' "${dom[@]}")policy --dry-run >'$work/policy-term.log' 2>&1 &
    pid=\$!
    sleep 3
    engine=\$(pgrep -P \$pid)
    sock=\$(ps -o args= -p \$engine | sed -n 's/.*--qmp \\([^ ]*\\).*/\\1/p')
    [ -S \"\$sock\" ] || echo no socket \$sock
    kill -TERM \$pid
    wait \$pid
    rc=\$?
    kill -0 \$engine 2>/dev/null && e=running || e=gone
    [ -e \"\$(dirname \"\$sock\")\" ] && d=left || d=gone
    echo \"rc \$rc, engine \$e, socket \$d\""

# The transport itself, at the QMP level (tools/qmp/qmp-libvirt-test),
# against this daemon: vm0 runs, vm1 is only defined.
libvirt_domain_xml vm1 1 128 1 "$qemu" "$kernel" "$work.img/initramfs.gz" \
    "$work/vm1-console.log" >"$work/vm1.xml"
$VIRSH define "$work/vm1.xml" >/dev/null
tap=$(QMP_LIBVIRT_URI=$LIBVIRT_URI QMP_LIBVIRT_DOMAIN=vm0 \
      QMP_LIBVIRT_STOPPED=vm1 timeout 60 \
      "$top/build/tools/tools/qmp/qmp-libvirt-test" --tap 2>&1)
rc=$?
results=0
while read -r line; do
    if [[ $line =~ ^ok\ [0-9]+\ (.*)\ \#\ SKIP ]]; then
        skip "qmp-libvirt-test ${BASH_REMATCH[1]}"
    elif [[ $line =~ ^ok\ [0-9]+\ (.*)$ ]]; then
        ok "qmp-libvirt-test ${BASH_REMATCH[1]}"
    elif [[ $line =~ ^not\ ok\ [0-9]+\ (.*)$ ]]; then
        not_ok "qmp-libvirt-test ${BASH_REMATCH[1]}"
    else
        continue
    fi
    results=$((results + 1))
done <<<"$tap"
if [ "$rc" != 0 ] || [ "$results" != 6 ]; then
    not_ok "qmp-libvirt-test ran its 6 tests to the end (exit $rc)"
    printf '%s\n' "$tap" | grep -v '^ok' | sed 's/^/# /'
fi

echo "1..$n"
