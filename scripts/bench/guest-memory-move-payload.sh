# Benchmark payload for the two-node test host: move the same guest RAM
# range between host nodes 0 and 1 with each method, for 4 KiB pages and
# for transparent huge pages, and print one CSV line per move:
#   csv,guest,backing,method,direction,rep,bytes,ns
# Methods: migrate-guest-range with 1 and 2 workers, one raw move_pages
# call over the range (numa-move-bench), migratepages on the whole QEMU
# process; and memcpy of the same size between nodes, for reference.
# Each case runs twice: with the guest paused (-S), and with it running
# (bootblock.img keeps writing to every page), so that every method moves
# live memory, as the product does.
set -e
. ./qmp-lib.sh

SIZE=${SIZE:-67108864}
REPS=${REPS:-3}
sock=/tmp/bench-qmp.sock

field() { sed -n "s/.*$1=\([0-9]*\).*/\1/p"; }

# bench ARGS...: run numa-move-bench, print its ns; fail if it failed.
bench() {
    r=$(./numa-move-bench "$@") || { echo "numa-move-bench $* failed" >&2; exit 1; }
    echo "$r" | field ns
}

run_vm() {
    qemu-system-x86_64 -M pc -accel tcg -m "$((SIZE / 1048576))M" -nodefaults -display none \
        -drive file=bootblock.img,format=raw $([ "$guest" = paused ] && echo -S) \
        -object "memory-backend-ram,id=m0,size=$SIZE,host-nodes=0,policy=bind,prealloc=on" \
        -numa node,memdev=m0 -serial none \
        -qmp "unix:$sock,server=on,wait=off" -daemonize -pidfile /tmp/bench.pid
    qmp_open "$sock"
    pid=$(cat /tmp/bench.pid)
    hva=$(qmp_hmp "info ramblock" | awk '$1 == "m0" { print $(NF - 1) }')
}

stop_vm() {
    qmp '{"execute": "quit"}' >/dev/null || true
    qmp_close
    while kill -0 "$pid" 2>/dev/null; do sleep 0.1; done
}

# assert_on NODE: all of the guest's RAM sits on NODE, or fail.
assert_on() {
    qmp '{"execute": "query-guest-memory-placement"}' |
        jq -e ".return.nodes | length == 1 and .[0].node == $1" >/dev/null ||
        { echo "guest RAM is not all on node $1 after a move" >&2; exit 1; }
}

# guest_range BACKING REP NODE WORKERS
guest_range() {
    ns=$(qmp "{\"execute\": \"migrate-guest-range\", \"arguments\": {\"addr\": 0, \"size\": $SIZE, \"node\": $3, \"workers\": $4}}" |
         jq -e -r '.return.stats | select(.moved == .pages) | .["duration-ns"]') ||
        { echo "migrate-guest-range to node $3 did not move every page" >&2; exit 1; }
    echo "csv,$guest,$1,migrate-guest-range-w$4,to$3,$2,$SIZE,$ns"
}

for guest in paused running; do
for backing in 4k thp; do
    if [ "$backing" = thp ]; then
        echo always >/sys/kernel/mm/transparent_hugepage/enabled
    else
        echo never >/sys/kernel/mm/transparent_hugepage/enabled
    fi
    run_vm
    echo "# $guest $backing: QEMU pid $pid, m0 at $hva, $(grep AnonHugePages /proc/$pid/smaps_rollup)"
    for rep in $(seq 1 "$REPS"); do
        for w in 1 2; do
            guest_range "$backing" "$rep" 1 "$w"
            guest_range "$backing" "$rep" 0 "$w"
        done
        for node in 1 0; do
            ns=$(bench move-pages "$pid" "$hva" "$SIZE" "$node")
            assert_on "$node"
            echo "csv,$guest,$backing,move_pages,to$node,$rep,$SIZE,$ns"
        done
        ns=$(bench time ./migratepages "$pid" 0 1)
        assert_on 1
        echo "csv,$guest,$backing,migratepages,to1,$rep,$SIZE,$ns"
        ns=$(bench time ./migratepages "$pid" 1 0)
        assert_on 0
        echo "csv,$guest,$backing,migratepages,to0,$rep,$SIZE,$ns"
        ns=$(bench memcpy "$SIZE" 0 1)
        echo "csv,$guest,$backing,memcpy,to1,$rep,$SIZE,$ns"
    done
    echo "# $guest $backing after: $(grep AnonHugePages /proc/$pid/smaps_rollup)"
    stop_vm
done
done
