#!/usr/bin/env bash
# Boot the project's guest kernel in the project's QEMU (TCG) with NODES
# virtual NUMA nodes (4 vCPUs and 1 GiB spread evenly over them) and run
# a payload from a busybox initramfs.
#
#   scripts/guest-run.sh NODES PAYLOAD [FILE...]
#
# Prints the payload's output, then one more TAP line, "ok/not ok -
# guest console clean", which fails on any kernel WARN, BUG, oops or
# lockdep report.  Exits non-zero if the payload failed or the console
# was not clean.  GUEST_KERNEL selects the image (default: the debug one);
# GUEST_QEMU_ARGS adds QEMU options (for instance "-device snc").
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
nodes=$1 payload=$2
shift 2
case $nodes in 1|2|4) ;; *) echo "guest-run: NODES must be 1, 2 or 4" >&2; exit 2 ;; esac
kernel=${GUEST_KERNEL:-$top/build/guest-kernel/bzImage-debug}
work=$top/build/guest-run/$nodes-node
mkdir -p "$work"

. "$top/scripts/vm-lib.sh"
vm_root_begin "$work/root"
vm_add_payload "$work/root" "$payload" "$@"
vm_root_pack "$work/root" "$work/initramfs.gz"

cpus_per_node=$((4 / nodes))
numa=()
for n in $(seq 0 $((nodes - 1))); do
    numa+=(-object "memory-backend-ram,id=m$n,size=$((1024 / nodes))M"
           -numa "node,nodeid=$n,memdev=m$n,cpus=$((n * cpus_per_node))-$(((n + 1) * cpus_per_node - 1))")
done

rc=0
VM_TIMEOUT=${GUEST_TIMEOUT:-1200} vm_boot "$work/console.log" \
    "$top/build/qemu-system-x86_64" -M pc -accel tcg,thread=multi -cpu max \
    -smp 4 -m 1G "${numa[@]}" \
    ${GUEST_QEMU_ARGS:-} \
    -kernel "$kernel" -initrd "$work/initramfs.gz" \
    -append "console=ttyS0 panic=-1 loglevel=4" \
    -nodefaults -display none -serial stdio -no-reboot || rc=$?

bad='WARNING:|BUG:|Oops|Kernel panic|possible circular locking|possible recursive locking|inconsistent lock state|suspicious RCU usage|INFO: task .* blocked'
if grep -E "$bad" "$work/console.log" >&2; then
    echo "not ok 1 - guest console clean ($nodes nodes): see ${work#"$top"/}/console.log"
    rc=1
else
    echo "ok 1 - guest console clean ($nodes nodes)"
fi
echo "1..1"
exit "$rc"
