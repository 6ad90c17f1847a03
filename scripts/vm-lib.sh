# Shared by the test host and the guest runner: build a busybox initramfs
# around a payload, boot it, and get the payload's exit code back.
#
#   . vm-lib.sh
#   vm_root_begin DIR              busybox-static, /init, empty /payload
#   vm_add_binary DIR BIN DEST     BIN and every library ldd names
#   vm_add_payload DIR SCRIPT FILE...
#   vm_root_pack DIR OUT.gz
#   vm_boot LOG QEMU-COMMAND...    boot; print the console (kernel lines
#                                  dropped) and return the payload's code
#
# /init mounts proc, sys, devtmpfs and a tmpfs /tmp, runs
# /payload/run.sh from /payload and powers off.  VM_TIMEOUT (seconds,
# default 1800) bounds a boot.

vm_root_begin() {
    rm -rf "$1"
    mkdir -p "$1"/{bin,dev,proc,sys,tmp,payload,usr/bin,usr/share}
    cp /bin/busybox "$1/bin/busybox"
    cat >"$1/init" <<'INIT'
#!/bin/busybox sh
/bin/busybox --install -s /bin
export PATH=/bin:/usr/bin:/usr/local/bin
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev
mount -t tmpfs tmp /tmp
echo "vm: $(nproc) CPUs, NUMA nodes $(cat /sys/devices/system/node/online)"
cd /payload && sh ./run.sh
rc=$?
# On a line of its own, in one write: a process the payload left behind
# may still be writing to the console.
echo
echo "vm: payload exit code $rc"
poweroff -f
INIT
    chmod +x "$1/init"
}

vm_add_binary() {
    local root=$1 bin=$2 dest=$3 lib
    mkdir -p "$root$(dirname "$dest")"
    cp -L "$bin" "$root$dest"
    strip --strip-unneeded "$root$dest" 2>/dev/null || true
    for lib in $(ldd "$bin" 2>/dev/null |
                 awk '/=> \// { print $3 } /^[ \t]*\/lib/ { print $1 }'); do
        if [ ! -e "$root$lib" ]; then
            mkdir -p "$root$(dirname "$lib")"
            cp -L "$lib" "$root$lib"
        fi
    done
}

vm_add_payload() {
    local root=$1 script=$2 f
    shift 2
    for f in "$@"; do
        if [ "$(head -c4 "$f" | tail -c3)" = ELF ]; then
            vm_add_binary "$root" "$f" "/payload/$(basename "$f")"
        else
            cp -L "$f" "$root/payload/"
        fi
    done
    cp "$script" "$root/payload/run.sh"
}

vm_root_pack() {
    (cd "$1" && find . | cpio -o -H newc --quiet | gzip -1) >"$2"
}

vm_boot() {
    local log=$1 rc qemu_rc
    shift
    {
        timeout "${VM_TIMEOUT:-1800}" "$@" </dev/null |
            stdbuf -oL tr -d '\r' | tee "$log" | grep --line-buffered -v '^\['
        qemu_rc=${PIPESTATUS[0]}
    } || true
    # Anywhere in a line: a late message of a payload's process (QEMU's
    # "terminating on signal") can share the console line.
    rc=$(sed -n 's/.*vm: payload exit code \([0-9]*\)$/\1/p' "$log" | tail -n1)
    if [ -z "$rc" ]; then
        case $qemu_rc in
        124) echo "vm: QEMU ran out of time (${VM_TIMEOUT:-1800} s)" >&2 ;;
        129|1[3-9][0-9]|2[0-9][0-9])
            echo "vm: QEMU died of signal $((qemu_rc - 128))" \
                 "($(kill -l $((qemu_rc - 128)) 2>/dev/null || echo ?))" >&2 ;;
        0) ;;
        *) echo "vm: QEMU exited with status $qemu_rc" >&2 ;;
        esac
        echo "vm: the payload did not finish (see $log)" >&2
        return 1
    fi
    return "$rc"
}
