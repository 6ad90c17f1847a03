# Inside the two-node test host (scripts/soak/host-soak.sh), in TAP:
#
# 1. The host soak.  A guest with two vNUMA nodes, each bound to its own
#    host node, runs QEMU's migration-test loop, which increments the
#    first byte of every page from 1 to 100 MiB, forever.  For
#    SOAK_MINUTES, random migrate-guest-range calls move random ranges
#    of its RAM to random host nodes with 1 to 8 workers, synchronously
#    or as jobs, a third of the jobs cancelled after a random delay.
#    Every ROUNDS moves the guest is stopped, 1-100 MiB is dumped and
#    checked (guest-ram-check: the loop's pattern must hold), and it
#    runs on.  Every reply must be a success or an error with a class
#    and a description.
# 2. Moves racing a live migration.  The guest migrates over a local
#    socket to a second QEMU while move jobs run and start on the
#    source; then back to a third QEMU while moves run on the second.
#    The pattern must hold on each side, and every move either completes
#    or is refused with an error.
set -u
. ./qmp-lib.sh

MiB=1048576
minutes=${SOAK_MINUTES:-2}
rounds=10
echo "1..6"

# A QEMU that dies must not kill this script silently: with SIGPIPE
# ignored, a write to its dead monitor fails and the reply is empty (a
# malformed reply), and whatever stops the script early says so, with
# what each QEMU printed.
trap '' PIPE
tests_done=0
qemu_errors() {
    for f in /tmp/src.err /tmp/dst.err /tmp/back.err; do
        [ -s "$f" ] && sed "s|^|# ${f#/tmp/}: |" "$f" | tail -n 20
    done
}
trap '[ "$tests_done" -ge 6 ] || { echo "Bail out! stopped after test $tests_done"; qemu_errors; }' EXIT

# QEMU runs in the background rather than with -daemonize: in the test
# host, a migration between daemonized QEMUs fails at completion with
# "Bad address", with or without moves (a plain guest too); the same
# migration between background QEMUs completes.
start_qemu() {   # start_qemu NAME [ARGS...]
    name=$1
    shift
    rm -f "/tmp/$name.sock" /tmp/mig1.sock /tmp/mig2.sock
    qmp_bootblock_guest \
        -qmp "unix:/tmp/$name.sock,server=on,wait=off" \
        "$@" >"/tmp/$name.err" 2>&1 &
    eval "pid_$name=\$!"
    tries=0
    until [ -S "/tmp/$name.sock" ]; do
        tries=$((tries + 1))
        [ "$tries" -lt 120 ] ||
            { echo "Bail out! QEMU $name did not start: $(cat /tmp/$name.err)"; exit 1; }
        sleep 0.5
    done
}

wait_socket() {
    tries=0
    until [ -S "$1" ]; do
        tries=$((tries + 1))
        [ "$tries" -lt 120 ] || { echo "Bail out! no socket $1"; exit 1; }
        sleep 0.5
    done
}

hmp() {
    qmp "{\"execute\": \"human-monitor-command\", \"arguments\": {\"command-line\": \"$1\"}}"
}

# Replies: a "return", or an "error" with a class and a description.
bad_replies=0 refused=0
reply_ok() {
    case $1 in
    *'"return"'*) return 0 ;;
    *'"error"'*'"class"'*'"desc"'*|*'"error"'*'"desc"'*'"class"'*)
        refused=$((refused + 1))
        # The kinds of refusal, without the numbers.
        echo "$1" | sed 's/.*"desc": "\([^"]*\)".*/\1/; s/0x[0-9a-f]*/N/g; s/[0-9][0-9]*/N/g' \
            >>/tmp/refusals
        return 1 ;;
    *) bad_replies=$((bad_replies + 1))
       echo "# malformed reply: $1"; return 1 ;;
    esac
}

checks=0 checked_bytes=0 corrupt=0
check_ram() {    # check_ram WHERE
    hmp stop >/dev/null
    rm -f /tmp/dump
    r=$(qmp "{\"execute\": \"pmemsave\", \"arguments\": {\"val\": $MiB, \"size\": $((99 * MiB)), \"filename\": \"/tmp/dump\"}}")
    reply_ok "$r" || echo "# pmemsave: $r"
    hmp cont >/dev/null
    if out=$(./guest-ram-check /tmp/dump 2>&1); then
        checks=$((checks + 1))
        checked_bytes=$((checked_bytes + 99 * MiB))
    else
        corrupt=$((corrupt + 1))
        echo "# $1: $out"
    fi
    rm -f /tmp/dump
}

wait_loop() {
    qmp_wait_bootblock || { echo "Bail out! the guest's loop did not start"; exit 1; }
}

# One random move: sync or job, sometimes cancelled.  Sizes from 4 KiB
# to 64 MiB, anywhere in the 256 MiB of RAM (ranges over the 640 KiB
# hole are refused with an error, which counts as a refusal).
moves=0 jobs=0 cancels=0 serial=0 force_job=0
random_move() {
    pages=$(( (RANDOM % 16384) + 1 ))
    [ $((RANDOM % 4)) -eq 0 ] && pages=$((pages % 64 + 1))
    addr=$(( (RANDOM % 65536) * 4096 ))
    [ $((addr + pages * 4096)) -le $((256 * MiB)) ] ||
        addr=$((256 * MiB - pages * 4096))
    node=$((RANDOM % 2)) workers=$((RANDOM % 8 + 1))
    args="\"addr\": $addr, \"size\": $((pages * 4096)), \"node\": $node, \"workers\": $workers"
    if [ "$force_job" -eq 1 ] || [ $((RANDOM % 2)) -eq 0 ]; then
        serial=$((serial + 1))
        r=$(qmp "{\"execute\": \"migrate-guest-range\", \"arguments\": {$args, \"job-id\": \"soak$serial\"}}")
        if reply_ok "$r"; then
            jobs=$((jobs + 1))
            if [ "$force_job" -eq 0 ] && [ $((RANDOM % 3)) -eq 0 ]; then
                usleep $((RANDOM % 500000))
                r=$(qmp "{\"execute\": \"job-cancel\", \"arguments\": {\"id\": \"soak$serial\"}}")
                # A job that already ended cannot be cancelled: an error.
                reply_ok "$r" && cancels=$((cancels + 1))
            fi
        fi
    else
        r=$(qmp "{\"execute\": \"migrate-guest-range\", \"arguments\": {$args}}")
        reply_ok "$r" && moves=$((moves + 1))
    fi
}

# Wait for every soak job to end, then dismiss nothing: they auto-dismiss.
drain_jobs() {
    tries=0
    while qmp '{"execute": "query-jobs"}' | grep -q '"type": "guest-memory-move"'; do
        tries=$((tries + 1))
        [ "$tries" -lt 600 ] || { echo "# jobs still running after 300 s"; return 1; }
        usleep 500000
    done
}

# 1: the soak
start_qemu src
qmp_open /tmp/src.sock
wait_loop
end=$(( $(date +%s) + minutes * 60 ))
i=0
while [ "$(date +%s)" -lt "$end" ]; do
    random_move
    i=$((i + 1))
    if [ $((i % rounds)) -eq 0 ]; then
        drain_jobs
        check_ram soak
    fi
done
drain_jobs
check_ram soak
moved_bytes=$(grep -o '"bytes-moved": [0-9]*' "$QMP_EVENTS" 2>/dev/null |
              awk '{ s += $2 } END { print s + 0 }')
echo "# soak: $minutes min, $i moves tried: $moves sync and $jobs jobs done or running, $cancels cancelled, $refused refused with an error"
echo "# soak: $((moved_bytes / MiB)) MiB moved by jobs, $checks checks of 99 MiB ($((checked_bytes / MiB)) MiB checked), $corrupt corrupted"
sort /tmp/refusals 2>/dev/null | uniq -c | sort -rn | sed 's/^/# refused: /'
ok() {
    n=$1 what=$2
    shift 2
    tests_done=$n
    if diag=$("$@"); then
        echo "ok $n - $what"
    else
        echo "not ok $n - $what"
        [ -z "$diag" ] || echo "$diag"
        qemu_errors
    fi
}
soak_intact() { [ "$corrupt" -eq 0 ] && [ "$checks" -ge 2 ]; }
ok 1 "soak: the guest's RAM is intact after every round ($checks checks)" \
    soak_intact
ok 2 "soak: every reply was a success or an error with class and description" \
    [ "$bad_replies" -eq 0 ]

# 2: live migration with moves running, and back
# Jobs of 64 MiB with one worker each, so that they outlast the start
# of the migration.
big_jobs() {
    for n in 0 1 2; do
        serial=$((serial + 1))
        r=$(qmp "{\"execute\": \"migrate-guest-range\", \"arguments\": {\"addr\": $(( (n * 64 + 1) * MiB )), \"size\": $((63 * MiB)), \"node\": $(( (n + $1) % 2 )), \"workers\": 1, \"job-id\": \"soak$serial\"}}")
        reply_ok "$r" && jobs=$((jobs + 1))
    done
}
# migrate_racing NAME SOCKET PARITY WHAT: start QEMU NAME waiting for
# the guest on SOCKET, start big jobs, migrate while random moves run,
# and go on with NAME's monitor.
migrate_racing() {
    start_qemu "$1" -incoming "unix:$2"
    wait_socket "$2"
    big_jobs "$3"
    # The loop dirties all 99 MiB every sweep: under TCG a migration
    # converges only with a downtime that covers one sweep.
    qmp '{"execute": "migrate-set-parameters", "arguments": {"downtime-limit": 20000, "max-bandwidth": 4294967296}}' >/dev/null
    r=$(qmp "{\"execute\": \"migrate\", \"arguments\": {\"uri\": \"unix:$2\"}}")
    reply_ok "$r" || echo "# migrate to $1: $r"
    during=0
    while qmp '{"execute": "query-migrate"}' | grep -q '"status": "\(setup\|active\|device\|pre-switchover\)"'; do
        random_move
        during=$((during + 1))
    done
    status=$(qmp '{"execute": "query-migrate"}' | grep -o '"status": "[a-z-]*"' | head -n1)
    still=$(qmp '{"execute": "query-jobs"}' | grep -o '"type": "guest-memory-move"' | wc -l)
    echo "# move jobs still running when the migration ended: $still"
    echo "# migration $4: $status, $during moves tried during it"
    migrate_info=
    [ "$status" = '"status": "completed"' ] ||
        migrate_info=$(qmp '{"execute": "query-migrate"}')
    drain_jobs
    corrupt_before=$corrupt
    if [ "$status" != '"status": "completed"' ]; then
        # The source runs on; the destination has exited or is dropped.
        eval "kill \$pid_$1" 2>/dev/null
        return
    fi
    qmp '{"execute": "quit"}' >/dev/null
    qmp_close
    qmp_open "/tmp/$1.sock"
}
migrated_ok() {
    [ "$status" = '"status": "completed"' ] && [ "$corrupt" -eq "$corrupt_before" ] ||
        { echo "# migration $status, $((corrupt - corrupt_before)) corrupted checks"
          [ -z "$migrate_info" ] || echo "# query-migrate: $migrate_info"
          false; }
}

migrate_racing dst /tmp/mig1.sock 1 "to the second QEMU"
check_ram "after the first migration"
ok 3 "a live migration with moves running on the source: RAM intact on the destination" \
    migrated_ok

migrate_racing back /tmp/mig2.sock 0 "back to a third QEMU"
wait_loop
check_ram "after the migration back"
ok 4 "and back, with moves running on the destination: RAM intact" migrated_ok

# The guest still runs its loop after both migrations: a later check
# sees it moved on.
first=$(hmp "xp /1bx $MiB" | grep -o ': 0x[0-9a-f]*')
sleep 2
second=$(hmp "xp /1bx $MiB" | grep -o ': 0x[0-9a-f]*')
echo "# first byte at 1 MiB: $first, then $second"
ok 5 "the guest runs on after both migrations" [ "$first" != "$second" ]
ok 6 "every reply during the migrations was a success or an error" \
    [ "$bad_replies" -eq 0 ]
qmp '{"execute": "quit"}' >/dev/null
qmp_close
