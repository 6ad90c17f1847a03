# QMP from POSIX sh (busybox included): one session over a pair of FIFOs.
#
#   . qmp-lib.sh
#   qmp_open /path/to/qmp.sock
#   qmp '{"execute": "query-status"}'     # prints the reply line
#   qmp_hmp 'info guest-memory-placement' # prints HMP output
#   qmp_bootblock_guest -qmp ... &       # the boot-sector guest, 2 nodes
#   qmp_wait_bootblock                    # the boot-sector guest runs
#   qmp_close
#
# Events that arrive before a reply are appended to $QMP_EVENTS.

qmp_open() {
    QMP_DIR=$(mktemp -d)
    QMP_EVENTS=$QMP_DIR/events
    mkfifo "$QMP_DIR/in" "$QMP_DIR/out"
    socat "UNIX-CONNECT:$1" - <"$QMP_DIR/in" >"$QMP_DIR/out" &
    QMP_PID=$!
    exec 3>"$QMP_DIR/in" 4<"$QMP_DIR/out"
    read -r _greeting <&4
    qmp '{"execute": "qmp_capabilities"}' >/dev/null
}

qmp() {
    echo "$1" >&3
    while read -r line <&4; do
        case $line in
        *'"event"'*) printf '%s\n' "$line" >>"$QMP_EVENTS" ;;
        *) printf '%s\n' "$line"; return 0 ;;
        esac
    done
    return 1
}

# qmp_wait_event NAME: wait for an event, print it.
qmp_wait_event() {
    if grep -q "\"$1\"" "$QMP_EVENTS" 2>/dev/null; then
        grep "\"$1\"" "$QMP_EVENTS" | head -n1
        return 0
    fi
    while read -r line <&4; do
        case $line in
        *"\"$1\""*) printf '%s\n' "$line"; return 0 ;;
        esac
    done
    return 1
}

qmp_hmp() {
    qmp "{\"execute\": \"human-monitor-command\", \"arguments\": {\"command-line\": \"$1\"}}" |
        jq -Mr '.return // .error.desc'
}

# qmp_bootblock_guest ARGS...: run the project's QEMU (on PATH) with the
# guest of scripts/make-bootblock.sh (bootblock.img in the current
# directory) in two vNUMA nodes of 128 MiB, guest node N bound to host
# node N, one vCPU each, plus ARGS.  Runs in the foreground.
qmp_bootblock_guest() {
    qemu-system-x86_64 -M pc -accel tcg -m 256M -smp 2 \
        -nodefaults -display none -serial none \
        -object memory-backend-ram,id=m0,size=128M,host-nodes=0,policy=bind \
        -object memory-backend-ram,id=m1,size=128M,host-nodes=1,policy=bind \
        -numa node,nodeid=0,cpus=0,memdev=m0 \
        -numa node,nodeid=1,cpus=1,memdev=m1 \
        -drive file=bootblock.img,format=raw,if=ide "$@"
}

# qmp_wait_bootblock: wait (up to 5 minutes) until the guest of
# scripts/make-bootblock.sh, which increments the first byte of every
# page from 1 to 100 MiB, has covered that range once: the byte below
# 100 MiB is nonzero.  The firmware alone can take a while under TCG.
qmp_wait_bootblock() {
    _tries=0
    until qmp_hmp "xp /1bx $((100 * 1048576 - 4096))" |
            grep -q ': 0x\(0[1-9a-f]\|[1-9a-f]\)'; do
        _tries=$((_tries + 1))
        [ "$_tries" -lt 300 ] || return 1
        sleep 1
    done
}

qmp_close() {
    exec 3>&- 4<&-
    kill "$QMP_PID" 2>/dev/null || true
    wait "$QMP_PID" 2>/dev/null || true
    rm -rf "$QMP_DIR"
}
