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
# (seconds, default 1800) bounds the whole run.
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
cache=${XDG_CACHE_HOME:-$HOME/.cache}/numa-migrator/testhost
work=$top/build/testhost
payload=$1
shift

mkdir -p "$cache" "$work"

kernel_image() {
    local pkg deb
    pkg=$(apt-cache depends linux-image-amd64/bookworm-backports 2>/dev/null |
          awk '/Depends: linux-image-6/ { print $2; exit }')
    [ -n "$pkg" ] || { echo "testhost: no bookworm-backports kernel" >&2; exit 1; }
    if [ ! -e "$cache/$pkg.vmlinuz" ]; then
        rm -rf "$cache/dl" && mkdir -p "$cache/dl"
        (cd "$cache/dl" && apt-get download -q "$pkg/bookworm-backports" >/dev/null 2>&1)
        deb=$(ls "$cache"/dl/*.deb)
        dpkg-deb --fsys-tarfile "$deb" | tar -x -O --wildcards './boot/vmlinuz-*' \
            >"$cache/$pkg.vmlinuz.tmp"
        mv "$cache/$pkg.vmlinuz.tmp" "$cache/$pkg.vmlinuz"
        rm -rf "$cache/dl"
    fi
    echo "$cache/$pkg.vmlinuz"
}

# Copy a binary and every library it links, keeping their paths.
add_binary() {
    local bin=$1 dest=$2 lib
    mkdir -p "$root$(dirname "$dest")"
    cp -L "$bin" "$root$dest"
    strip --strip-unneeded "$root$dest" 2>/dev/null || true
    for lib in $(ldd "$bin" | awk '/=> \// { print $3 } /^[ \t]*\/lib/ { print $1 }'); do
        if [ ! -e "$root$lib" ]; then
            mkdir -p "$root$(dirname "$lib")"
            cp -L "$lib" "$root$lib"
        fi
    done
}

root=$work/root
rm -rf "$root"
mkdir -p "$root"/{bin,dev,proc,sys,tmp,payload,usr/share}
cp /bin/busybox "$root/bin/busybox"
add_binary "$top/build/qemu/qemu-system-x86_64" /usr/local/bin/qemu-system-x86_64
cp -rL /usr/share/seabios "$root/usr/share/seabios"
mkdir -p "$root/usr/share/qemu"
cp -L /usr/share/qemu/kvmvapic.bin /usr/share/qemu/linuxboot_dma.bin \
    "$root/usr/share/qemu/" 2>/dev/null || true
add_binary "$(command -v socat)" /usr/bin/socat
add_binary "$(command -v jq)" /usr/bin/jq

for f in "$@"; do
    if [ "$(head -c4 "$f" | tail -c3)" = ELF ]; then
        add_binary "$f" "/payload/$(basename "$f")"
    else
        cp -L "$f" "$root/payload/"
    fi
done
cp "$payload" "$root/payload/run.sh"

cat >"$root/init" <<'INIT'
#!/bin/busybox sh
/bin/busybox --install -s /bin
export PATH=/bin:/usr/bin:/usr/local/bin
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev
mount -t tmpfs tmp /tmp
echo "testhost: $(nproc) CPUs, NUMA nodes $(cat /sys/devices/system/node/online)"
cd /payload && sh ./run.sh
echo "testhost: payload exit code $?"
poweroff -f
INIT
chmod +x "$root/init"
(cd "$root" && find . | cpio -o -H newc --quiet | gzip -1) >"$work/initramfs.gz"

vmlinuz=$(kernel_image)
log=$work/console.log
timeout "${TESTHOST_TIMEOUT:-1800}" qemu-system-x86_64 \
    -M pc -accel tcg,thread=multi -cpu max -smp 2 -m 4G \
    -object memory-backend-ram,id=n0,size=2G \
    -object memory-backend-ram,id=n1,size=2G \
    -numa node,nodeid=0,cpus=0,memdev=n0 \
    -numa node,nodeid=1,cpus=1,memdev=n1 \
    -kernel "$vmlinuz" -initrd "$work/initramfs.gz" \
    -append "console=ttyS0 quiet panic=-1 transparent_hugepage=madvise" \
    -nodefaults -display none -serial stdio -no-reboot </dev/null |
    stdbuf -oL tr -d '\r' | tee "$log" | grep --line-buffered -v '^\[' || true

rc=$(sed -n 's/^testhost: payload exit code \([0-9]*\)$/\1/p' "$log" | tail -n1)
if [ -z "$rc" ]; then
    echo "testhost: the payload did not finish (see $log)" >&2
    exit 1
fi
exit "$rc"
