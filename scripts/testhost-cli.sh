# Payload for the multi-node test host (scripts/testhost.sh
# scripts/testhost-cli.sh build/tools/tools/cli/guest-numa): guest-numa
# moves a two-cell guest's cell between the test host's two nodes, the
# host-level move of the CLI for real.  Prints TAP.
# The guest's QEMU is reached through its QMP socket (--qmp); the same
# through a libvirtd in the test host is scripts/testhost-libvirt-payload.sh.
n=0
ok() { n=$((n + 1)); echo "ok $n - $*"; }
not_ok() { n=$((n + 1)); echo "not ok $n - $*"; }

# Preallocated, so that each cell has pages on both nodes to move.
/usr/local/bin/qemu-system-x86_64 -M pc -accel tcg -m 256M -smp 2 \
    -nodefaults -display none -S \
    -object memory-backend-ram,id=ram-node0,size=128M,prealloc=on \
    -object memory-backend-ram,id=ram-node1,size=128M,prealloc=on \
    -numa node,nodeid=0,cpus=0,memdev=ram-node0 \
    -numa node,nodeid=1,cpus=1,memdev=ram-node1 \
    -qmp unix:/tmp/vm0.qmp,server=on,wait=off &
qemu=$!
for _ in $(seq 1 100); do
    [ -S /tmp/vm0.qmp ] && break
    sleep 0.2
done
gn="./guest-numa --qmp /tmp/vm0.qmp"

# expect WHAT REGEX COMMAND...: COMMAND exits 0 and prints REGEX.
expect() {
    what=$1 re=$2
    shift 2
    out=$("$@" 2>&1)
    rc=$?
    printf '%s\n' "$out" | sed 's/^/# /'
    if [ "$rc" = 0 ] && printf '%s\n' "$out" | grep -Eq -- "$re"; then
        ok "$what"
    else
        not_ok "$what (exit $rc)"
    fi
}

expect "placement before: the cells on both nodes" "^total 256M: " $gn placement
expect "move cell1 1: pages move to test-host node 1" \
    "pages 32768: moved [1-9][0-9]*, .* failed 0" $gn move cell1 1 --workers 2
expect "placement: all of cell 1 on node 1" "^1 +ram-node1 .* 1: 128M " \
    $gn placement
expect "move cell1 0 --json: every page back to node 0" '"moved" : 32768' \
    $gn --json move cell1 0
expect "placement: all of cell 1 on node 0" "^1 +ram-node1 .* 0: 128M " \
    $gn placement
kill $qemu
wait $qemu
echo "1..$n"
