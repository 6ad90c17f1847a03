#!/usr/bin/env bash
# libvirt drives the project's QEMU: a private libvirtd (libvirt-lib.sh)
# defines and starts a TCG domain with NODES vNUMA cells, the snc device
# and the project's guest kernel, with <emulator> set to
# build/qemu-system-x86_64.  Then every recipe of the user guide's
# "From libvirt" section runs verbatim, through virsh and the guest-numa
# CLI (build/tools), against it: the project's commands, their events
# awaited with `virsh qemu-monitor-event`, and a save and restore and a
# managed save that must keep the SNC's counters and a moved cell's
# placement.  Prints TAP.
#
#   scripts/libvirt-suite.sh [NODES]
#
# Recipes are the fenced blocks that follow a marker line
#   <!-- recipe: NAME; expect: REGEX[; one-node: REGEX] -->
# in docs/user-guide.md.  A recipe passes when its output, errors
# included, matches REGEX (grep -E); on a host with a single NUMA node the
# one-node REGEX, if given, is what it must print instead (a refused
# move to node 1, say).
set -uo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
nodes=${1:-2}
work=$top/build/libvirt-suite
. "$top/scripts/libvirt-lib.sh"
. "$top/scripts/vm-lib.sh"

for f in "$top/build/qemu-system-x86_64" "$top/build/tools/tools/cli/guest-numa"; do
    if [ ! -x "$f" ]; then
        echo "Bail out! no $f (scripts/build-qemu.sh, scripts/build-tools.sh)"
        exit 1
    fi
done

n=0
ok() { n=$((n + 1)); echo "ok $n - $*"; }
not_ok() { n=$((n + 1)); echo "not ok $n - $*"; }
check() {
    local what=$1 out
    shift
    if out=$("$@" 2>&1); then
        ok "$what"
    else
        not_ok "$what"
        printf '%s\n' "$out" | sed 's/^/# /'
    fi
}

cleanup() {
    libvirt_stop
}
trap cleanup EXIT

host_nodes=$(numactl --hardware | sed -n 's/^available: \([0-9]*\) nodes.*/\1/p')

# The guest only has to run: an idle busybox payload.
mkdir -p "$work.img"
idle=$work.img/idle.sh
printf 'while :; do sleep 1; done\n' >"$idle"
vm_root_begin "$work.img/root"
vm_add_payload "$work.img/root" "$idle"
vm_root_pack "$work.img/root" "$work.img/initramfs.gz"

start=$(date +%s.%N)
if ! libvirt_start "$work"; then
    echo "Bail out! libvirtd did not start"
    exit 1
fi
secs=$(echo "$(date +%s.%N) - $start" | bc)
ok "libvirtd started (${secs%???????} s)"

# virsh and guest-numa as the recipes call them, against the private
# daemon.
virsh() { command virsh -c "$LIBVIRT_URI" "$@"; }
export LIBVIRT_DEFAULT_URI=$LIBVIRT_URI
export PATH=$top/build/tools/tools/cli:$PATH

domain_xml() {
    libvirt_domain_xml vm0 "$nodes" 1024 4 "$top/build/qemu-system-x86_64" \
        "$top/build/guest-kernel/bzImage-debug" "$work.img/initramfs.gz" \
        "$work/console.log"
}

domain_xml >"$work/vm0.xml"
check "domain defined with $nodes vNUMA cells" virsh define "$work/vm0.xml"
check "domain started on the project's QEMU" virsh start vm0

# The guest must see its cells (it needs ACPI for that).
seen=0
for _ in $(seq 1 300); do
    if grep -q "NUMA nodes" "$work/console.log" 2>/dev/null; then
        seen=1
        break
    fi
    sleep 1
done
want="0-$((nodes - 1))"
[ "$nodes" -eq 1 ] && want=0
if [ "$seen" = 1 ] && tr -d '\r' <"$work/console.log" | grep -c "NUMA nodes $want\$" >/dev/null; then
    ok "the guest booted and sees NUMA nodes $want"
else
    not_ok "the guest booted and sees NUMA nodes $want (see ${work#"$top"/}/console.log)"
fi

# recipes: NAME, EXPECT, ONE-NODE-EXPECT and the file holding the block,
# separated by the ASCII unit separator (fields may be empty).
recipes() {
    awk -v dir="$work/recipes" '
        /^<!-- recipe: / {
            line = $0
            sub(/^<!-- recipe: */, "", line); sub(/ *-->.*$/, "", line)
            n = split(line, f, /; */)
            name = f[1]; expect = ""; one = ""
            for (i = 2; i <= n; i++) {
                if (f[i] ~ /^expect: /) { expect = substr(f[i], 9) }
                if (f[i] ~ /^one-node: /) { one = substr(f[i], 11) }
            }
            want = 1; next
        }
        want && /^```/ { inblock = 1; want = 0; file = dir "/" name ".sh"
                         printf "" > file; next }
        inblock && /^```/ { inblock = 0; close(file)
                            print name "\037" expect "\037" one "\037" file; next }
        inblock { print >> file }
    ' "$top/docs/user-guide.md"
}

# They run in order, in one scratch directory (the save recipes keep
# files there for the restore ones).
mkdir -p "$work/recipes" "$work/scratch"
nrecipes=0
while IFS=$'\037' read -r name expect one file; do
    nrecipes=$((nrecipes + 1))
    [ "$host_nodes" -eq 1 ] && [ -n "$one" ] && expect=$one
    out=$( (cd "$work/scratch" && . "$file") 2>&1)
    rc=$?
    if grep -Eq -- "$expect" <<<"$out"; then
        ok "recipe $name"
    else
        not_ok "recipe $name (exit $rc, output not matching /$expect/)"
        printf '%s\n' "$out" | sed 's/^/# /' | head -20
    fi
done < <(recipes)
[ "$nrecipes" -gt 0 ] || not_ok "the user guide has libvirt recipes"

# A domain as libvirt and virt-install write it by default must start on
# the project's QEMU too: the default memory balloon and USB controller
# (not named in the XML, so libvirt adds them), a USB tablet,
# virtio-serial with the guest agent's channel, a virtio disk and NIC,
# and a VNC display with its VGA adapter (on 127.0.0.1, libvirt's
# default listen address).
defaults_xml() {
    cat <<XML
<domain type='qemu'>
  <name>vm-$1</name>
  <memory unit='MiB'>256</memory>
  <vcpu>1</vcpu>
  <os>
    <type arch='x86_64' machine='$1'>hvm</type>
    <kernel>$top/build/guest-kernel/bzImage-debug</kernel>
    <initrd>$work.img/initramfs.gz</initrd>
    <cmdline>console=ttyS0 loglevel=4</cmdline>
  </os>
  <features><acpi/><apic/></features>
  <devices>
    <emulator>$top/build/qemu-system-x86_64</emulator>
    <disk type='file' device='disk'>
      <driver name='qemu' type='raw'/>
      <source file='$work/disk.img'/>
      <target dev='vda' bus='virtio'/>
    </disk>
    <interface type='user'><model type='virtio'/></interface>
    <controller type='virtio-serial' index='0'/>
    <channel type='unix'>
      <target type='virtio' name='org.qemu.guest_agent.0'/>
    </channel>
    <input type='tablet' bus='usb'/>
    <graphics type='vnc' port='-1' autoport='yes'/>
    <video><model type='vga'/></video>
    <serial type='file'><source path='$work/console-$1.log'/></serial>
  </devices>
</domain>
XML
}

truncate -s 16M "$work/disk.img"
for machine in pc q35; do
    defaults_xml "$machine" >"$work/vm-$machine.xml"
    if ! out=$(virsh define "$work/vm-$machine.xml" 2>&1 &&
               virsh start "vm-$machine" 2>&1); then
        not_ok "a default $machine domain starts"
        printf '%s\n' "$out" | sed 's/^/# /'
        continue
    fi
    ok "a default $machine domain starts"
    info=$(virsh qemu-monitor-command "vm-$machine" --hmp 'info qtree' 2>&1)
    printf '%s\n' "$info" >"$work/qtree-$machine.txt"
    missing=
    for dev in virtio-balloon virtio-serial virtserialport virtio-blk \
               virtio-net usb-tablet VGA; do
        grep -q "dev: $dev" <<<"$info" || missing="$missing $dev"
    done
    case $machine in
    pc) usb=piix3-usb-uhci ;;
    q35) usb=qemu-xhci ;;
    esac
    grep -q "dev: $usb" <<<"$info" || missing="$missing $usb"
    if [ -z "$missing" ]; then
        ok "the default $machine domain has its balloon, USB, serial, disk, NIC and VGA"
    else
        not_ok "the default $machine domain lacks:$missing"
    fi
    out=$(virsh qemu-monitor-command "vm-$machine" \
              '{"execute": "query-guest-memory-placement"}' 2>&1)
    if grep -q '"return"' <<<"$out"; then
        ok "the project's commands answer in the default $machine domain"
    else
        not_ok "the project's commands answer in the default $machine domain"
        printf '%s\n' "$out" | sed 's/^/# /'
    fi
    virsh destroy "vm-$machine" >/dev/null 2>&1
    virsh undefine "vm-$machine" >/dev/null 2>&1
done

check "domain destroyed" virsh destroy vm0
check "domain undefined" virsh undefine vm0
libvirt_stop
if pgrep -f "$work/vm0" >/dev/null || pgrep -f "$work/run/libvirtd" >/dev/null; then
    not_ok "nothing left running"
else
    ok "nothing left running"
fi
trap - EXIT
echo "1..$n"
