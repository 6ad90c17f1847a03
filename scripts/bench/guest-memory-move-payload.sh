# Benchmark payload for the two-node test host: move the same guest RAM
# range between host nodes 0 and 1 with each method, for 4 KiB pages and
# for transparent huge pages, and print one CSV line per move:
#   csv,guest,backing,method,direction,rep,bytes,ns
# Methods: migrate-guest-range with 1 and 2 workers, one raw move_pages
# call over the range (numa-move-bench), migratepages on the whole QEMU
# process; and memcpy of the same size between nodes, for reference.
# With the guest paused, move_pages_self and move_pages_remote then time
# one move_pages call on a buffer of the same size in a plain process,
# made by that process itself and by another one, in turn.
# Each case runs twice: with the guest paused (-S), and with it running
# (bootblock.img keeps writing to every page), so that every method moves
# live memory, as the product does.
# With PROFILE=1 (and ./perf, Debian's, among the files), each case then
# moves the range there and back once more per method under a
# system-wide "perf record" and prints where the CPU time went: samples
# by thread ("prof-comm,"), by thread and binary ("prof-dso,") and by
# thread and function ("prof-sym,"), where the method's threads waited:
# their switches off the CPU by call chain ("prof-wait,"), and QEMU's
# guest_memory_move_* trace events, time-stamped ("prof-trace,").
set -e
. ./qmp-lib.sh

SIZE=${SIZE:-67108864}
REPS=${REPS:-3}
sock=/tmp/bench-qmp.sock

# field NAME: the value of NAME=VALUE in numa-move-bench's line.
field() {
    awk -v k="$1=" '{ for (i = 1; i <= NF; i++)
                          if (index($i, k) == 1) print substr($i, length(k) + 1) }'
}

# bench ARGS...: run numa-move-bench, print its ns; fail if it failed.
bench() {
    r=$(./numa-move-bench "$@") || { echo "numa-move-bench $* failed" >&2; exit 1; }
    echo "$r" | field ns
}

# profile NAME CMD...: run CMD under a system-wide perf record.  CMD
# prints "WALL_NS CPU_NS" per move; profile prints their sums
# ("prof-time,", "prof-cpu,") and the samples.  The sampling event is
# cpu-clock, the test host's TCG CPU having no PMU; samples get lost
# there, so the CPU times come from the kernel's accounting instead.
profile() {
    name=$1
    shift
    HOME=/tmp ./perf record -q -a -g -e cpu-clock -F 1000 --no-buildid-cache \
        -o /tmp/perf.data 2>/dev/null &
    perf_pid=$!
    HOME=/tmp ./perf record -q -a -g -e sched:sched_switch --no-buildid-cache \
        -o /tmp/switch.data 2>/dev/null &
    switch_pid=$!
    sleep 1
    traced=$(wc -l </tmp/qemu-trace.log)
    "$@" >/tmp/profile.out
    tail -n +"$((traced + 1))" /tmp/qemu-trace.log |
        sed "s/^/prof-trace,$guest,$backing,$name,/"
    kill -INT "$perf_pid" "$switch_pid"
    wait "$perf_pid" || true
    wait "$switch_pid" || true
    echo "# profile $guest $backing $name"
    # Where the method's threads left the CPU: the first three frames
    # under the scheduler's own, counted over every switch.
    HOME=/tmp ./perf script -i /tmp/switch.data -F comm,ip,sym 2>/dev/null |
        awk -v case="$guest,$backing,$name" '
            /^[^ \t]/ { comm = $1; n = 0; key = ""; next }
            NF == 0 { if (key != "" && (comm ~ /^pool-/ || comm == "numa-move-bench"))
                          count[comm " " key]++
                      key = ""; next }
            { f = $2; if (f ~ /^(__)?schedule|^io_schedule|^preempt_schedule|_cond_resched/) next
              if (n++ < 3) key = key (key == "" ? "" : " <- ") f }
            END { for (k in count) print "prof-wait," case "," count[k] "," k }' |
        sort -t, -k5 -nr | head -n 8
    awk -v case="$guest,$backing,$name" '{ w += $1; c += $2 }
        END { print "prof-time," case "," w; print "prof-cpu," case "," c }' \
        /tmp/profile.out
    for sort in comm comm,dso comm,sym; do
        HOME=/tmp ./perf report -i /tmp/perf.data --stdio -n --no-children \
            -g none --sort "$sort" --percent-limit 0.5 2>/dev/null |
            awk -v tag="prof-${sort#comm,}" -v case="$guest,$backing,$name" \
                'NF && $1 !~ /^#/ { print tag "," case "," $0 }'
    done
}

# pool_cpu: "TID NS" for each of QEMU's thread pool threads, NS the CPU
# time the kernel charged it (schedstat).
pool_cpu() {
    for t in /proc/"$pid"/task/*; do
        case $(cat "$t/comm" 2>/dev/null) in
        pool-*) echo "${t##*/} $(cut -d' ' -f1 "$t/schedstat")" ;;
        esac
    done
}

# pool_cpu_since FILE: the CPU time QEMU's pool threads took since
# "pool_cpu >FILE", in ns.
pool_cpu_since() {
    pool_cpu | awk 'NR == FNR { b[$1] = $2; next }
                    { d += $2 - ($1 in b ? b[$1] : 0) } END { print d }' "$1" -
}

# pin PREFIX MASK: bind QEMU's threads whose names start with PREFIX to
# the CPUs of MASK.
pin() {
    for t in /proc/"$pid"/task/*; do
        case $(cat "$t/comm") in
        "$1"*) taskset -p "$2" "${t##*/}" >/dev/null ;;
        esac
    done
}

# One move there and back with each method, for profile.
move_w() {
    for node in 1 0; do
        pool_cpu >/tmp/cpu.before
        ns=$(guest_range "$backing" 0 "$node" "$1" | cut -d, -f8)
        echo "$ns $(pool_cpu_since /tmp/cpu.before)"
    done
}
move_raw() {
    for node in 1 0; do
        r=$(./numa-move-bench move-pages "$pid" "$hva" "$SIZE" "$node") || exit 1
        echo "$(echo "$r" | field ns) $(echo "$r" | field cpu_ns)"
        assert_on "$node"
    done
}

run_vm() {
    trace=
    [ "${PROFILE:-0}" = 1 ] &&
        trace="-trace enable=guest_memory_move_* -D /tmp/qemu-trace.log -msg timestamp=on"
    # shellcheck disable=SC2086
    qemu-system-x86_64 -M pc -accel tcg -m "$((SIZE / 1048576))M" -nodefaults -display none \
        -name bench,debug-threads=on $trace \
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
# The reply is parsed only once the command has returned: jq started
# beside it, as a pipeline would, takes a CPU from the mover while it
# loads (a fifth of a 64 MiB move's time in this nested TCG host).
guest_range() {
    reply=$(qmp "{\"execute\": \"migrate-guest-range\", \"arguments\": {\"addr\": 0, \"size\": $SIZE, \"node\": $3, \"workers\": $4}}")
    ns=$(echo "$reply" |
         jq -e -r '.return.stats | select(.moved == .pages) | .["duration-ns"]') ||
        { echo "migrate-guest-range to node $3 did not move every page: $reply" >&2; exit 1; }
    echo "csv,$guest,$1,migrate-guest-range-w$4,to$3,$2,$SIZE,$ns"
}

# PLACEMENT=1: does the mover trail raw move_pages with the guest
# running (4 KiB pages) because of where the threads run?  The test
# host has one vCPU per node, and the scheduler does not look across
# nodes for an idle CPU when it wakes a thread, so the mover's thread
# may share a CPU with the busy vCPU thread.  Each repetition moves the
# range with one worker and with raw move_pages three ways: threads
# where the scheduler puts them ("free"), the vCPU thread on CPU 0 and
# the mover (QEMU's pool threads, or numa-move-bench) on CPU 1
# ("apart"), and all of them on CPU 0 ("shared").  The placement goes
# in the CSV's backing column.
placement() {
    guest=running
    echo never >/sys/kernel/mm/transparent_hugepage/enabled
    run_vm
    # A first move there and back creates the pool's threads.
    guest_range 4k 0 1 1 >/dev/null
    guest_range 4k 0 0 1 >/dev/null
    for rep in $(seq 1 "$REPS"); do
        for how in free:0x3:0x3 apart:0x1:0x2 shared:0x1:0x1; do
            where=${how%%:*} cpus=${how#*:}
            vcpu=${cpus%:*} mover=${cpus#*:}
            pin "CPU " "$vcpu"
            pin pool "$mover"
            guest_range "4k-$where" "$rep" 1 1
            guest_range "4k-$where" "$rep" 0 1
            for node in 1 0; do
                ns=$(taskset "$mover" ./numa-move-bench move-pages "$pid" "$hva" "$SIZE" "$node" | field ns)
                assert_on "$node"
                echo "csv,$guest,4k-$where,move_pages,to$node,$rep,$SIZE,$ns"
            done
        done
    done
    stop_vm
}

# thread_ticks: "TID<tab>COMM (CPU n)<tab>user+system ticks" for every
# thread of the test host, n the CPU it last ran on.
thread_ticks() {
    for t in /proc/[0-9]*/task/[0-9]*; do
        st=$(cat "$t/stat" 2>/dev/null) || continue
        # The fields after the comm, which may hold spaces.
        rest=${st##*) }
        # shellcheck disable=SC2086
        set -- $rest
        printf '%s\t%s (CPU %s)\t%s\n' "${t##*/}" "$(cat "$t/comm" 2>/dev/null)" \
            "${37}" "$((${12} + ${13}))"
    done
}

# TCG_PROFILE=SECS: with the guest running, the vCPU thread on CPU 0 and
# the movers on CPU 1, move the range back and forth for SECS seconds
# with one worker, then for SECS seconds with raw move_pages, between
# "# phase NAME start" and "# phase NAME end" lines that
# scripts/bench/mover-tcg-profile.sh profiles the test host's emulator
# by, from the host.
tcg_profile() {
    guest=running
    echo never >/sys/kernel/mm/transparent_hugepage/enabled
    run_vm
    guest_range 4k 0 1 1 >/dev/null
    guest_range 4k 0 0 1 >/dev/null
    pin "CPU " 0x1
    pin pool 0x2
    for phase in mover raw; do
        echo "# phase $phase start"
        end=$(($(date +%s) + TCG_PROFILE)) moves=0 ns=0 cpu=0
        pool_cpu >/tmp/cpu.before
        grep -hE '^(cpu1|TLB|CAL)' /proc/stat /proc/interrupts >/tmp/stat.before
        thread_ticks >/tmp/ticks.before
        while [ "$(date +%s)" -lt "$end" ]; do
            for node in 1 0; do
                if [ $phase = mover ]; then
                    n=$(guest_range 4k 0 "$node" 1 | cut -d, -f8)
                else
                    r=$(taskset 0x2 ./numa-move-bench move-pages "$pid" "$hva" "$SIZE" "$node")
                    n=$(echo "$r" | field ns)
                    cpu=$((cpu + $(echo "$r" | sed -n 's/.*cpu_ns=\([0-9]*\).*/\1/p')))
                fi
                moves=$((moves + 1)) ns=$((ns + n))
            done
        done
        if [ $phase = mover ]; then
            cpu=$(pool_cpu_since /tmp/cpu.before)
        fi
        # The movers' CPU time: QEMU's pool threads, or numa-move-bench.
        echo "# phase $phase end: $moves moves of $((SIZE >> 20)) MiB," \
             "$((moves * (SIZE >> 20) * 1000 / (ns / 1000000))) MB/s," \
             "the movers on a CPU $((cpu / (ns / 100))).$((cpu * 10 / (ns / 100) % 10))% of the moves' time"
        # What else CPU 1 did: its user, system, irq and softirq ticks,
        # and the TLB shootdowns and function calls each CPU took.
        grep -hE '^(cpu1|TLB|CAL)' /proc/stat /proc/interrupts >/tmp/stat.after
        awk -v phase="$phase" '
            NR == FNR { for (i = 2; i <= NF; i++) b[$1 FS i] = $i; next }
            $1 ~ /cpu1$/ { printf "# phase %s: CPU 1 ticks user %d nice %d system %d idle %d irq %d softirq %d\n",
                               phase, $2 - b[$1 FS 2], $3 - b[$1 FS 3], $4 - b[$1 FS 4],
                               $5 - b[$1 FS 5], $7 - b[$1 FS 7], $8 - b[$1 FS 8] }
            $1 ~ /(TLB|CAL):$/ { printf "# phase %s: %s CPU 0 %d, CPU 1 %d\n", phase, $1,
                                     $2 - b[$1 FS 2], $3 - b[$1 FS 3] }' \
            /tmp/stat.before /tmp/stat.after
        # The threads that took the most CPU time in the phase.
        thread_ticks >/tmp/ticks.after
        awk -v phase="$phase" -F'\t' 'NR == FNR { b[$1] = $3; next }
            { d = $3 - (($1 in b) ? b[$1] : 0); if (d > 0) print d "\t" $2 }' \
            /tmp/ticks.before /tmp/ticks.after | sort -nr | head -n 14 |
            awk -v phase="$phase" -F'\t' '{ printf "# phase %s: %d ticks user+system: %s\n", phase, $1, $2 }'
    done
    stop_vm
}

if [ "${PLACEMENT:-0}" = 1 ]; then
    placement
    exit 0
fi
if [ "${TCG_PROFILE:-0}" != 0 ]; then
    tcg_profile
    exit 0
fi

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
        # The three methods compared take turns at going first: what ran
        # just before a move (memcpy, say, which frees 128 MiB) changes
        # its time.
        for i in 0 1 2; do
            case $(( (rep + i) % 3 )) in
            0|1) w=$(( (rep + i) % 3 + 1 ))
                 guest_range "$backing" "$rep" 1 "$w"
                 guest_range "$backing" "$rep" 0 "$w" ;;
            2) for node in 1 0; do
                   r=$(./numa-move-bench move-pages "$pid" "$hva" "$SIZE" \
                       "$node") || exit 1
                   assert_on "$node"
                   at="to$node,$rep,$SIZE"
                   echo "csv,$guest,$backing,move_pages,$at,$(echo "$r" | field ns)"
                   # The status query that the mover makes before each
                   # batch, over the same pages (see numa-move-bench).
                   echo "csv,$guest,$backing,move_pages_query,$at,$(echo "$r" |
                       field query_ns)"
               done ;;
            esac
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
    if [ "$guest" = paused ] && [ "$REPS" -gt 0 ]; then
        # move_pages on two buffers of plain processes: one moved by its
        # own process, as QEMU's mover moves QEMU's RAM, one by another
        # process, as the raw baseline moves it.
        ./numa-move-bench self-remote "$SIZE" "$REPS" >/tmp/self-remote.csv ||
            { echo "numa-move-bench self-remote failed" >&2; exit 1; }
        sed "s/^\([a-z]*\),\(to[01]\),\([0-9]*\),/csv,$guest,$backing,move_pages_\1,\2,\3,$SIZE,/" \
            /tmp/self-remote.csv
    fi
    if [ "${PROFILE:-0}" = 1 ]; then
        # An unprofiled pair of moves first, so that the first profiled
        # method does not pay alone for the first use of the target
        # node's free pages (with REPS=0, nothing has moved yet).
        move_raw >/dev/null
        profile migrate-guest-range-w1 move_w 1
        profile migrate-guest-range-w2 move_w 2
        profile move_pages move_raw
    fi
    echo "# $guest $backing after: $(grep AnonHugePages /proc/$pid/smaps_rollup)"
    stop_vm
done
done
