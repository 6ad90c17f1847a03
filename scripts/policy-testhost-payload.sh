# The host lever after a vCPU re-pin, run inside the two-node test host
# (scripts/policy-testhost.sh), in TAP.  A guest with two vNUMA nodes,
# each bound to its own host node, runs a loop on its vCPU 0 that writes
# to guest node 0's RAM (1 to 100 MiB).  numa-policyd runs host-only
# with 1 s periods.  At first vCPU 0 runs on host node 0, where its RAM
# is: nothing moves.  Then vCPU 0's thread is re-pinned to host node 1:
# the engine must move the hot zones' backing to host node 1, and the
# periods that took are printed.
set -u
. ./qmp-lib.sh

MiB=1048576
periods=18 repin_at=5
echo "1..5"

qmp_bootblock_guest \
    -device snc,id=snc0,zones=64 \
    -qmp unix:/tmp/engine.sock,server=on,wait=off \
    -qmp unix:/tmp/test.sock,server=on,wait=off \
    -daemonize -pidfile /tmp/qemu.pid 2>/tmp/qemu.err ||
    { echo "Bail out! QEMU did not start: $(cat /tmp/qemu.err)"; exit 1; }
qmp_open /tmp/test.sock

# vCPU i's thread on host CPU i, which is host node i.
tid() {
    qmp '{"execute": "query-cpus-fast"}' |
        jq -r ".return[] | select(.\"cpu-index\" == $1) | .\"thread-id\""
}
tid0=$(tid 0) tid1=$(tid 1)
taskset -p 1 "$tid0" >/dev/null && taskset -p 2 "$tid1" >/dev/null
echo "# vCPU threads $tid0 and $tid1 on host nodes 0 and 1"

qmp_wait_bootblock || { echo "Bail out! the guest's loop did not start"; exit 1; }

./numa-policyd --qmp /tmp/engine.sock --mode host-only --period-ms 1000 \
    --periods "$periods" --csv /tmp/engine.csv --timeout 120 \
    >/tmp/engine.out 2>/tmp/engine.err &
engine=$!

rows() {
    if [ -e /tmp/engine.csv ]; then
        grep -c '^[0-9]' /tmp/engine.csv
    else
        echo 0
    fi
}
sequence() {
    qmp '{"execute": "query-snc-counters", "arguments": {"top": 1}}' |
        jq '.return[0].sequence'
}
tries=0
while [ "$(rows)" -lt "$repin_at" ] && kill -0 "$engine" 2>/dev/null; do
    tries=$((tries + 1))
    [ "$tries" -lt 600 ] || break
    sleep 0.5
done
taskset -p 2 "$tid0" >/dev/null
repin=$(rows) repin_seq=$(sequence)
echo "# vCPU 0 re-pinned to host node 1 after engine period $repin (SNC period $repin_seq)"
wait "$engine"
engine_rc=$?

ok() {
    n=$1 what=$2
    shift 2
    if "$@"; then echo "ok $n - $what"; else echo "not ok $n - $what"; fi
}

ran_all() { [ "$engine_rc" -eq 0 ] && [ "$(rows)" -ge "$periods" ]; }
ok 1 "the engine ran its $periods periods (exit code $engine_rc)" ran_all
[ "$engine_rc" -eq 0 ] || sed 's/^/# engine: /' /tmp/engine.err | tail -5

# engine.csv: every column by name.
col() { head -n1 /tmp/engine.csv | tr ',' '\n' | grep -n "^$1\$" | cut -d: -f1; }
c_hot=$(col hot_zones) c_near=$(col backed_near_vcpus)
c_host=$(col moves_host) c_done=$(col jobs_done) c_moved=$(col bytes_moved)
c_started=$(col jobs_started)

before_repin_quiet() {
    awk -F, -v r="$repin" -v h="$c_hot" -v n="$c_near" -v m="$c_host" '
        NR > 1 && $1 < r { rows++; if ($m > 0 || $n != $h || $h == 0) bad++ }
        END { exit !(rows >= 2 && !bad) }' /tmp/engine.csv
}
ok 2 "before the re-pin every hot zone is backed near its vCPU and nothing moves" \
    before_repin_quiet

# The first period after the re-pin in which every hot zone is backed
# on host node 1 again, once the moves are done.
follow=$(awk -F, -v r="$repin" -v s="$repin_seq" -v h="$c_hot" -v n="$c_near" \
              -v d="$c_done" -v st="$c_started" '
    NR > 1 && $1 > r && $d > 0 && $d == $st && $h > 0 && $n == $h {
        print $2 - s; exit
    }' /tmp/engine.csv)
echo "# the hot zones were back near vCPU 0 after ${follow:-never} SNC periods"
ok 3 "after the re-pin the host lever moves the hot zones to host node 1" \
    [ -n "$follow" ]

on1=$(qmp "{\"execute\": \"query-guest-memory-placement\", \"arguments\": {\"addr\": $MiB, \"size\": $((99 * MiB))}}" |
      jq '[.return.blocks[].nodes[] | select(.node == 1) | .bytes] | add // 0')
echo "# $((on1 / MiB)) MiB of guest RAM 1-100 MiB on host node 1"
ok 4 "query-guest-memory-placement puts the guest's working set on host node 1" \
    [ "$on1" -ge $((90 * MiB)) ]

moved=$(awk -F, -v m="$c_moved" 'NR > 1 { s += $m } END { print s + 0 }' /tmp/engine.csv)
echo "# the engine moved $((moved / MiB)) MiB"
moved_bounded() { [ "$moved" -gt 0 ] && [ "$moved" -le $((128 * MiB)) ]; }
ok 5 "the engine moved no more than guest node 0's RAM" moved_bounded

sed 's/^/# /' /tmp/engine.csv | cut -c1-150 | head -n $((periods + 1))
qmp '{"execute": "quit"}' >/dev/null
qmp_close
