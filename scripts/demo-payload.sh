# make demo's main job, run where there are two host NUMA nodes: boot a
# small guest that keeps writing to its RAM, then move part of that RAM
# to the other host node while it runs, and show the placement before
# and after.  Needs qemu-system-x86_64, socat and jq on PATH, and
# bootblock.img (a guest that increments a byte in every page of
# 1-100 MiB, forever) in the current directory.
set -e
. ./qmp-lib.sh

QEMU=${QEMU:-qemu-system-x86_64}
sock=/tmp/numa-migrator-demo.sock
MiB=1048576

echo "Starting a 256 MiB guest whose RAM is bound to host node 0;"
echo "it writes to every page from 1 MiB to 100 MiB, over and over."
"$QEMU" -M pc -accel tcg -m 256M -nodefaults -display none -serial none \
    -object memory-backend-ram,id=ram0,size=256M,host-nodes=0,policy=bind \
    -numa node,memdev=ram0 -drive file=bootblock.img,format=raw \
    -device snc,id=snc0,period-ms=1000 \
    -qmp "unix:$sock,server=on,wait=off" -daemonize -pidfile /tmp/demo.pid
qmp_open "$sock"
if ! qmp_wait_bootblock; then
    echo "the guest's loop did not start within 5 minutes" >&2
    exit 1
fi

step() { printf '\n=== %s\n' "$*"; }

step "Which guest RAM is hot?  The Scalable Node Controller counts touches"
qmp '{"execute": "snc-control", "arguments": {"action": "start"}}' >/dev/null
qmp_wait_event SNC_PERIOD_END | jq -Mc .data
qmp '{"execute": "query-snc-counters", "arguments": {"top": 5}}' |
    jq -Mr '.return[0] |
            "   \(.zones) zones of \(."zone-size" / 1024) KiB;" +
            " hottest for node 0:",
             (.nodes[0].top[] | "   zone \(.zone) at \(.addr / 1048576) MiB: \(.count) touches")'
echo "   (the guest's loop runs from 1 to 100 MiB)"
qmp '{"execute": "snc-control", "arguments": {"action": "stop"}}' >/dev/null

step "Placement before: info guest-memory-placement"
qmp_hmp "info guest-memory-placement"

step "Move guest RAM 32-96 MiB to host node 1 while the guest writes to it"
cmd="{\"execute\": \"migrate-guest-range\", \"arguments\": {\"addr\": $((32 * MiB)), \"size\": $((64 * MiB)), \"node\": 1}}"
echo "-> $cmd"
reply=$(qmp "$cmd")
echo "<- $reply"
echo "$reply" | jq -Mr '.return.stats | "   moved \(.moved) pages, \(.["already-on-node"]) already there, \(.["not-populated"]) not populated, \(.failed) failed, \(.["bytes-moved"] / 1048576) MiB in \(.["duration-ns"] / 1000000 | floor) ms"'

step "Placement after"
qmp_hmp "info guest-memory-placement"

step "Move the whole backend to node 1 as a job with 2 workers"
qmp '{"execute": "migrate-guest-range", "arguments": {"addr": 0, "size": 268435456, "node": 1, "job-id": "demo", "workers": 2}}'
qmp '{"execute": "query-jobs"}' | jq -Mc '.return[] | {id, type, status, "current-progress", "total-progress"}' || true
qmp_wait_event GUEST_MEMORY_MOVE_COMPLETED | jq -Mc '.data | {"job-id", cancelled, moved: .stats.moved, failed: .stats.failed}'
echo "query-memdev now says:"
qmp '{"execute": "query-memdev"}' | jq -Mc '.return[] | {id, policy, "host-nodes"}'

step "Placement at the end"
qmp_hmp "info guest-memory-placement"
echo
echo "The guest is $(qmp '{"execute": "query-status"}' | jq -Mr .return.status) throughout."
qmp '{"execute": "quit"}' >/dev/null || true
qmp_close
