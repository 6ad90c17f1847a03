# A private libvirtd for tests: the monolithic daemon from Debian's
# bookworm-backports libvirt, in its own mount namespace, with its own
# configuration, state, cache and runtime directories bind-mounted over
# the system's, so that nothing it does is seen by (or left for) any
# other libvirt on the machine.  virsh reaches it through its socket.
#
#   . libvirt-lib.sh
#   libvirt_start WORKDIR     start the daemon; sets LIBVIRT_URI, VIRSH
#   $VIRSH list --all         talk to it
#   libvirt_stop              destroy and undefine every domain, stop it
#   libvirt_domain_xml ...    a TCG test domain (see below)
#
# The QEMU capability cache survives in ~/.cache/numa-migrator/libvirt,
# so only the first start after a QEMU rebuild probes the binary (about
# 8 s; a warm start takes well under a second).

# libvirt_conf DIR: write the daemon's qemu.conf and libvirtd.conf
# into DIR.
libvirt_conf() {
    cat >"$1/qemu.conf" <<'CONF'
user = "root"
group = "root"
security_driver = "none"
stdio_handler = "file"
dynamic_ownership = 0
CONF
    cat >"$1/libvirtd.conf" <<'CONF'
unix_sock_rw_perms = "0700"
auth_unix_rw = "none"
auth_unix_ro = "none"
log_outputs = "3:file:/var/log/libvirt/libvirtd.log"
CONF
}

libvirt_start() {
    local work=$1 cache d
    cache=${XDG_CACHE_HOME:-$HOME/.cache}/numa-migrator/libvirt
    LIBVIRT_WORK=$work
    rm -rf "$work"
    mkdir -p "$work"/etc "$work"/run "$work"/lib "$work"/log "$cache"
    # qemu.conf: no dedicated user, no security driver and no virtlogd,
    # which this package set does not have; libvirt must not chown the
    # project's files.
    libvirt_conf "$work/etc"
    for d in /run/libvirt /var/lib/libvirt /var/cache/libvirt /var/log/libvirt; do
        [ -d "$d" ] || mkdir -p "$d"
    done
    unshare -m --propagation private sh -c "
        mount --bind '$work/etc' /etc/libvirt &&
        mount --bind '$work/run' /run/libvirt &&
        mount --bind '$work/lib' /var/lib/libvirt &&
        mount --bind '$cache' /var/cache/libvirt &&
        mount --bind '$work/log' /var/log/libvirt &&
        exec libvirtd -d -f /etc/libvirt/libvirtd.conf \
            -p /run/libvirt/libvirtd.pid" || return 1
    LIBVIRT_URI="qemu:///system?socket=$work/run/libvirt-sock"
    VIRSH="virsh -q -c $LIBVIRT_URI"
    # The daemon answers once its drivers are up (the QEMU driver probes
    # the emulators it knows of first).
    for _ in $(seq 1 300); do
        $VIRSH version >/dev/null 2>&1 && return 0
        sleep 0.1
    done
    echo "libvirt: the daemon did not answer; see $work/log/libvirtd.log" >&2
    return 1
}

libvirt_stop() {
    local dom pid
    [ -n "${LIBVIRT_WORK:-}" ] || return 0
    for dom in $($VIRSH list --all --name 2>/dev/null); do
        $VIRSH destroy "$dom" >/dev/null 2>&1 || true
        $VIRSH undefine "$dom" --nvram >/dev/null 2>&1 ||
            $VIRSH undefine "$dom" >/dev/null 2>&1 || true
    done
    pid=$(cat "$LIBVIRT_WORK/run/libvirtd.pid" 2>/dev/null)
    if [ -n "$pid" ]; then
        kill "$pid" 2>/dev/null || true
        for _ in $(seq 1 100); do
            kill -0 "$pid" 2>/dev/null || break
            sleep 0.1
        done
        kill -9 "$pid" 2>/dev/null || true
    fi
    LIBVIRT_WORK=
}

# libvirt_domain_xml NAME NODES MEM_MIB VCPUS QEMU KERNEL INITRD CONSOLE:
# print a TCG domain NAME with NODES vNUMA cells sharing MEM_MIB and
# VCPUS evenly, <emulator> QEMU, the kernel and initramfs given, its
# serial console in the file CONSOLE, and the snc device (period 1 s,
# or $SNC_PERIOD_MS) through <qemu:commandline>.  ACPI is on, or the
# guest sees one node.
libvirt_domain_xml() {
    local name=$1 nodes=$2 mem=$3 vcpus=$4 qemu=$5 kernel=$6 initrd=$7
    local console=$8 cells='' i cmem cpn
    cmem=$((mem / nodes)) cpn=$((vcpus / nodes))
    for i in $(seq 0 $((nodes - 1))); do
        cells+="<cell id='$i' cpus='$((i * cpn))-$(((i + 1) * cpn - 1))' memory='$cmem' unit='MiB'/>"
    done
    cat <<XML
<domain type='qemu' xmlns:qemu='http://libvirt.org/schemas/domain/qemu/1.0'>
  <name>$name</name>
  <memory unit='MiB'>$mem</memory>
  <vcpu>$vcpus</vcpu>
  <os>
    <type arch='x86_64' machine='pc'>hvm</type>
    <kernel>$kernel</kernel>
    <initrd>$initrd</initrd>
    <cmdline>console=ttyS0 loglevel=4</cmdline>
  </os>
  <features><acpi/></features>
  <cpu mode='custom' match='exact'><model fallback='allow'>qemu64</model>
    <numa>$cells</numa>
  </cpu>
  <devices>
    <emulator>$qemu</emulator>
    <controller type='usb' model='none'/>
    <serial type='file'><source path='$console'/></serial>
    <memballoon model='none'/>
  </devices>
  <qemu:commandline>
    <qemu:arg value='-device'/>
    <qemu:arg value='snc,id=snc0,period-ms=${SNC_PERIOD_MS:-1000}'/>
  </qemu:commandline>
</domain>
XML
}
