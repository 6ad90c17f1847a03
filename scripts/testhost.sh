#!/usr/bin/env bash
# The multi-node test host: a TCG VM with two NUMA nodes (one vCPU and
# 2 GiB each) that runs the project's QEMU inside, so that moves between
# host nodes are real even on a single-node machine.
#
#   scripts/testhost.sh PAYLOAD [FILE...]
#
# Boots Debian's bookworm-backports kernel with an initramfs made of
# busybox-static, the project's qemu-system-x86_64 with the libraries it
# links, Debian's firmware, the FILEs (copied to /payload/) and PAYLOAD,
# a shell script run as /payload/run.sh.  What the payload prints comes
# out on stdout; the exit code is the payload's.  TESTHOST_TIMEOUT
# (seconds, default 1800) bounds the whole run; TESTHOST_QEMU names
# another build of QEMU to put in (check-asan's, say).
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
cache=${XDG_CACHE_HOME:-$HOME/.cache}/numa-migrator/testhost
work=$top/build/testhost
payload=$1
shift

mkdir -p "$cache" "$work"
. "$top/scripts/deb-lib.sh"

kernel_image() {
    local pkg
    pkg=$(apt-cache depends linux-image-amd64/bookworm-backports 2>/dev/null |
          awk '/Depends: linux-image-6/ { print $2; exit }')
    [ -n "$pkg" ] || { echo "testhost: no bookworm-backports kernel" >&2; exit 1; }
    deb_extract "$pkg/bookworm-backports" './boot/vmlinuz-*' \
        "$cache/$pkg.vmlinuz" || exit 1
    echo "$cache/$pkg.vmlinuz"
}

. "$top/scripts/vm-lib.sh"
root=$work/root
vm_root_begin "$root"
vm_add_binary "$root" "${TESTHOST_QEMU:-$top/build/qemu/qemu-system-x86_64}" \
    /usr/local/bin/qemu-system-x86_64
cp -rL /usr/share/seabios "$root/usr/share/seabios"
mkdir -p "$root/usr/share/qemu"
cp -L /usr/share/qemu/kvmvapic.bin /usr/share/qemu/linuxboot_dma.bin \
    "$root/usr/share/qemu/" 2>/dev/null || true
vm_add_binary "$root" "$(command -v socat)" /usr/bin/socat
vm_add_binary "$root" "$(command -v jq)" /usr/bin/jq
vm_add_payload "$root" "$payload" "$@"
vm_root_pack "$root" "$work/initramfs.gz"

vmlinuz=$(kernel_image)
VM_TIMEOUT=${TESTHOST_TIMEOUT:-1800} vm_boot "$work/console.log" \
    qemu-system-x86_64 \
    -M pc -accel tcg,thread=multi -cpu max -smp 2 -m 4G \
    -object memory-backend-ram,id=n0,size=2G \
    -object memory-backend-ram,id=n1,size=2G \
    -numa node,nodeid=0,cpus=0,memdev=n0 \
    -numa node,nodeid=1,cpus=1,memdev=n1 \
    -kernel "$vmlinuz" -initrd "$work/initramfs.gz" \
    -append "console=ttyS0 quiet panic=-1 transparent_hugepage=madvise" \
    -name testhost,debug-threads=on \
    -nodefaults -display none -serial stdio -no-reboot
