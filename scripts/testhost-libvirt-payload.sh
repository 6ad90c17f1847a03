# Payload for the multi-node test host: a libvirtd runs there and starts
# the project's QEMU as a domain emulator (two vNUMA cells, the SNC, the
# guest kernel), and guest-numa moves the domain's cell 1 to the test
# host's node 1 and back through it (--domain): the host-level move
# through libvirt, for real.  Prints TAP.  Files (scripts/check.sh,
# run_testhost_libvirt): libvirtd, virsh, libvirt_driver_qemu.so,
# guest-numa, bzImage-debug, initramfs.gz (an idle guest),
# libvirt-share.tar.gz (libvirt's cpu_map), qemu.conf, libvirtd.conf
# and vm0.xml (libvirt-lib.sh).
n=0
ok() { n=$((n + 1)); echo "ok $n - $*"; }
not_ok() { n=$((n + 1)); echo "not ok $n - $*"; }
fail_out() {
    tail -20 /var/log/libvirt/libvirtd.log | sed 's/^/# /'
    echo "1..$n"
    exit 1
}

# What the Debian system around libvirtd would have: the QEMU driver's
# module where it is looked for, the CPU models, /var/run (where virsh
# looks for the daemon's socket), and the driver's built-in user and
# group, which it resolves at start whatever qemu.conf says.
drv=/usr/lib/x86_64-linux-gnu/libvirt/connection-driver
mkdir -p $drv /etc/libvirt /run/libvirt /var/lib/libvirt /var/cache/libvirt \
    /var/log/libvirt /usr/share/libvirt /root
mv libvirt_driver_qemu.so $drv/
tar -xzf libvirt-share.tar.gz -C /usr/share/libvirt
ln -s /run /var/run
printf 'root:x:0:0:root:/root:/bin/sh\nlibvirt-qemu:x:64055:64055::/var/lib/libvirt:/bin/false\n' >/etc/passwd
printf 'root:x:0:\nkvm:x:993:\nlibvirt-qemu:x:64055:\nlibvirt:x:994:\n' >/etc/group
# The configuration and the domain of scripts/libvirt-lib.sh.
cp qemu.conf libvirtd.conf /etc/libvirt/

t0=$(date +%s)
./libvirtd -d -f /etc/libvirt/libvirtd.conf -p /run/libvirt/libvirtd.pid
V="./virsh -q -c qemu:///system"
up=0
for _ in $(seq 1 60); do
    timeout 10 $V version >/dev/null 2>&1 && { up=1; break; }
    sleep 2
done
[ $up = 1 ] || { not_ok "libvirtd started"; fail_out; }
ok "libvirtd started ($(( $(date +%s) - t0 )) s)"

t0=$(date +%s)
if $V define vm0.xml >/dev/null && $V start vm0 >/dev/null; then
    ok "vm0 started on the project's QEMU ($(( $(date +%s) - t0 )) s)"
else
    not_ok "vm0 started on the project's QEMU"
    cat /var/log/libvirt/qemu/vm0.log 2>/dev/null | sed 's/^/# /'
    fail_out
fi
# Give the guest time to populate some of cell 1.
sleep 10

gn="./guest-numa --connect qemu:///system --domain vm0"
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
# Where the guest's first touches put cell 1 depends on where its vCPU
# threads ran: start from node 0.
expect "move cell1 0 through libvirt" "to node 0: done" $gn move cell1 0
expect "move cell1 1 --config through libvirt: pages move to node 1" \
    "pages 32768: moved [1-9][0-9]*, .* failed 0" $gn move cell1 1 --config
expect "placement through libvirt: cell 1's pages on node 1 only" \
    "^1 +ram-node1 .* 4K +1: [0-9.]+[KMG] +[0-9]" $gn placement
expect "--config: the persistent <memnode> of cell 1 is node 1" \
    "<memnode cellid='1' mode='strict' nodeset='1'/>" $V dumpxml --inactive vm0
expect "virsh metadata records cell 1 on node 1" '<cell id="1" nodeset="1"/>' \
    $V metadata vm0 https://numa-migrator.invalid/placement/1.0
expect "move cell1 0: back to node 0" "to node 0: done" $gn move cell1 0
expect "placement: cell 1's pages on node 0 only" \
    "^1 +ram-node1 .* 4K +0: [0-9.]+[KMG] +[0-9]" $gn placement
$V destroy vm0 >/dev/null 2>&1
$V undefine vm0 >/dev/null 2>&1
kill "$(cat /run/libvirt/libvirtd.pid)"
echo "1..$n"
