#!/usr/bin/env bash
# The SNC mailbox end to end, in TAP: the guest kernel's SNC driver
# serves the host's snc-guest-migrate requests in a guest with NODES
# virtual NUMA nodes.
#   - The guest (tools/snc/snc-mailbox-guest) fills a buffer on node 0
#     and prints its guest-physical ranges; the host moves each to node
#     1 with snc-guest-migrate; the guest checks with move_pages(2)
#     status that every page is on node 1 and the data intact, and the
#     completions' counts must equal what the guest saw.  A second
#     buffer goes back from node 1 to node 0 in one job over all of its
#     ranges (snc-guest-migrate with 'ranges'), checked the same way.
#   - A range of kernel text and a range of free pages end as counted
#     failures, and the console stays clean (no WARN, BUG, lockdep).
#   - At the end of low RAM, where the firmware's tables are RAM to
#     QEMU but not to the guest, a range half RAM and half tables is
#     served with the tables' pages counted as bad range; a range of
#     tables only is refused with EFAULT.
#   - With the driver's sysfs switch off, snc-guest-migrate fails at
#     once.
#   - A flood of 1,000 hints is bounded by the queue (queue-full
#     errors), every accepted one completes, and the guest stays
#     responsive.
#   - The guest reads two counting periods from /dev/snc0.
# The guest waits for the host through the driver's sysfs: its
# completed-request counters, and host_mode, which the host changes
# with snc-configure to say that a phase is over.
#
#   scripts/snc-mailbox-e2e.sh NODES
#
# Needs build/guest-kernel/tools/snc-mailbox-guest
# (guest-kernel/build-selftests.sh), socat and jq.
set -uo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
nodes=${1:-2}
work=$top/build/snc-mailbox-e2e/$nodes-node
guest_prog=${SNC_MAILBOX_GUEST:-$top/build/guest-kernel/tools/snc-mailbox-guest}
sock=$work/qmp.sock
pages=256 flood=1000
log=$work/guest.log

rm -rf "$work"
mkdir -p "$work"
echo "1..15"
if [ ! -x "$guest_prog" ]; then
    echo "Bail out! $guest_prog is missing: build it first"
    exit 1
fi
. "$top/scripts/qmp-lib.sh"

n=0 failed=0
ok() {
    local what=$1
    shift
    n=$((n + 1))
    if "$@"; then
        echo "ok $n - $what"
    else
        echo "not ok $n - $what"
        failed=1
    fi
}

cat >"$work/payload.sh" <<PAYLOAD
#!/bin/sh
d=\$(echo /sys/bus/pci/drivers/snc/0000:*)
echo "# driver \$d serve=\$(cat \$d/serve) host_mode=\$(cat \$d/host_mode)"
rc=0
./snc-mailbox-guest buffer --pages $pages --from 0 --to 1 || rc=1
./snc-mailbox-guest buffer --pages $pages --from 1 --to 0 || rc=1
kt=\$(sed -n 's/^ *\([0-9a-f]*\)-[0-9a-f]* : Kernel code\$/\1/p' /proc/iomem)
echo "# kernel-text 0x\$kt"
./snc-mailbox-guest free-range --pages 64 || rc=1
sed -n 's/^\([0-9a-f]*\)-\([0-9a-f]*\) : \(.*\)\$/# iomem \1 \2 \3/p' /proc/iomem
./snc-mailbox-guest wait --requests 4 --say "# bad-ranges-ready" || rc=1
echo 0 >\$d/serve
echo "# serve-off \$(cat \$d/serve)"
while [ "\$(cat \$d/host_mode)" != cooperative ]; do sleep 0.2; done
echo 1 >\$d/serve
echo "# flood-ready \$(cat \$d/serve)"
while [ "\$(cat \$d/host_mode)" != off ]; do sleep 0.2; done
echo "# alive served=\$(cat \$d/requests_served) failed=\$(cat \$d/requests_failed)"
echo 200 >\$d/period_ms && echo 1 >\$d/counting || rc=1
./snc-mailbox-guest snapshot || rc=1
echo 0 >\$d/counting
exit \$rc
PAYLOAD

GUEST_QEMU_ARGS="-device snc,id=snc0 -qmp unix:$sock,server=on,wait=off" \
GUEST_TIMEOUT=600 "$top/scripts/guest-run.sh" "$nodes" "$work/payload.sh" \
    "$guest_prog" >"$log" 2>&1 &
guest=$!

# wait_count PATTERN N: until the guest has printed N lines matching
# PATTERN (or stops); wait_for PATTERN: until it has printed one.
wait_count() {
    for _ in $(seq 1200); do
        [ "$(grep -c "$1" "$log")" -ge "$2" ] && return 0
        kill -0 "$guest" 2>/dev/null || break
        sleep 0.5
    done
    [ "$(grep -c "$1" "$log")" -ge "$2" ]
}

wait_for() {
    wait_count "$1" 1
}

bail() {
    echo "Bail out! $1 (see ${log#"$top"/})"
    kill "$guest" 2>/dev/null
    exit 1
}

wait_for '^# ranges ' || bail "the guest did not print its buffer"
qmp_open "$sock"
serving=$(qmp '{"execute": "query-snc-counters"}' |
          jq -r '.return[0].mailbox."guest-serving"')
qmp '{"execute": "snc-configure", "arguments": {"host-mode": "guest-only"}}' \
    >/dev/null
ok "the driver announced itself (guest-serving $serving)" \
    [ "$serving" = true ]

# 2-3: the buffer, range by range, to node 1.
bad=0 moved=0 accounted=0
while read -r _ _ addr size; do
    r=$(qmp "{\"execute\": \"snc-guest-migrate\", \"arguments\":
              {\"addr\": $((addr)), \"size\": $((size)), \"node\": 1,
               \"timeout-ms\": 60000}}")
    echo "$r" >>"$work/buffer.replies"
    st=$(jq -r '.return.status // "error"' <<<"$r")
    [ "$st" = 0 ] || bad=$((bad + 1))
    m=$(jq -r '.return.moved // 0' <<<"$r")
    a=$(jq -r '.return["already-on-node"] // 0' <<<"$r")
    moved=$((moved + m))
    accounted=$((accounted + m + a))
done < <(grep '^# range ' "$log")
ok "every buffer range completed with status 0 ($bad not)" [ "$bad" -eq 0 ]
wait_for '^# guest-moved ' || bail "the guest did not check its buffer"
seen=$(sed -n 's/^# guest-moved //p' "$log")
match=false
[ "$moved" = "$seen" ] && [ "$accounted" -eq "$pages" ] && match=true
ok "the completions moved $moved pages, the guest saw $seen of $pages on node 1" \
    $match

# 4-5: a second buffer, from node 1 back to node 0, in one job over all
# of its ranges.  The guest counts completed requests: one per range,
# as every range of a 1 MiB buffer is under the job's 2 MiB requests.
wait_count '^# ranges ' 2 || bail "the guest did not print its second buffer"
json= k=0
while read -r _ _ addr size; do
    json+="${json:+, }{\"addr\": $((addr)), \"size\": $((size))}"
    k=$((k + 1))
done < <(awk '/^# ranges /{n++; next} n == 1 && /^# range /' "$log")
r=$(qmp "{\"execute\": \"snc-guest-migrate\", \"arguments\":
          {\"ranges\": [$json], \"node\": 0, \"timeout-ms\": 60000,
           \"job-id\": \"e2e-ranges\"}}")
echo "# ranges job of $k ranges: $r"
ev=$(qmp_wait_event SNC_GUEST_MIGRATE_JOB_COMPLETED)
echo "# $ev"
read -r jreq jdone jcount jmoved jall < <(jq -r '.data | "\(.requests)
    \(.completed) \(.["range-count"]) \(.moved)
    \(.moved + .["already-on-node"])"' <<<"$ev" | tr '\n' ' '; echo)
job_ok() {
    [ "$k" -gt 0 ] && [ "$jcount" = "$k" ] && [ "$jreq" = "$k" ] &&
        [ "$jdone" = "$jreq" ]
}
ok "one job over the $k ranges: $jdone of $jreq requests completed" job_ok
wait_count '^# guest-moved ' 2 || bail "the guest did not check its second buffer"
seen=$(sed -n 's/^# guest-moved //p' "$log" | sed -n 2p)
match=false
[ "$jmoved" = "$seen" ] && [ "$jall" -eq "$pages" ] && match=true
ok "the job moved $jmoved pages, the guest saw $seen of $pages on node 0" \
    $match

# 6-7: kernel text and free pages: counted failures.
wait_for '^# bad-ranges-ready' || bail "the guest did not find its bad ranges"
failures() {
    jq -r '.return | if .status == 0 and .moved == 0 then
        (.["failed-busy"] + .["failed-shared"] + .["failed-pinned"] +
         .["failed-no-memory"] + .["failed-bad-range"]) else -1 end'
}
kt=$(sed -n 's/^# kernel-text //p' "$log")
r=$(qmp "{\"execute\": \"snc-guest-migrate\", \"arguments\":
          {\"addr\": $((kt)), \"size\": 262144, \"node\": 1}}")
echo "# kernel text: $r"
ok "64 pages of kernel text: 64 counted failures" [ "$(failures <<<"$r")" = 64 ]
read -r _ _ fa fs < <(grep '^# free-range ' "$log")
r=$(qmp "{\"execute\": \"snc-guest-migrate\", \"arguments\":
          {\"addr\": $((fa)), \"size\": $((fs)), \"node\": 0}}")
echo "# free pages: $r"
ok "64 free pages: 64 counted failures" [ "$(failures <<<"$r")" = 64 ]

# 8-9: the end of low RAM: "System RAM", then the firmware's "Reserved"
# tables, which QEMU backs with RAM like the rest.
fw_start=0 fw_size=0 ram_end=-1
while read -r start end name; do
    if [ "$name" = "System RAM" ]; then
        ram_end=$((0x$end))
    elif [ "$name" = Reserved ] && [ $((0x$start)) -eq $((ram_end + 1)) ] &&
         [ $((0x$start % 4096)) -eq 0 ]; then
        fw_start=$((0x$start))
        fw_size=$(( (0x$end + 1 - 0x$start) / 4096 * 4096 ))
        [ "$fw_size" -le 65536 ] || fw_size=65536
    else
        ram_end=-1
    fi
done < <(sed -n 's/^# iomem //p' "$log")
echo "# firmware tables after RAM: $(printf '%#x' "$fw_start"), $fw_size bytes"
# status, pages accounted for, bad-range pages
counts() {
    jq -r '.return | "\(.status) \(.moved + .["already-on-node"] +
        .["failed-busy"] + .["failed-shared"] + .["failed-pinned"] +
        .["failed-no-memory"] + .["failed-bad-range"]) \(.["failed-bad-range"])"'
}
r=$(qmp "{\"execute\": \"snc-guest-migrate\", \"arguments\":
          {\"addr\": $((fw_start - 65536)), \"size\": $((65536 + fw_size)),
           \"node\": 1}}")
echo "# half RAM, half tables: $r"
read -r st all bad < <(counts <<<"$r")
half_served() {
    [ "$fw_size" -gt 0 ] && [ "$st" = 0 ] &&
        [ "$all" = $(( (65536 + fw_size) / 4096 )) ] &&
        [ "$bad" -ge $((fw_size / 4096)) ]
}
ok "half RAM, half tables: status $st, $all pages counted, $bad bad range" \
    half_served
r=$(qmp "{\"execute\": \"snc-guest-migrate\", \"arguments\":
          {\"addr\": $fw_start, \"size\": $fw_size, \"node\": 1}}")
echo "# tables only: $r"
read -r st all bad < <(counts <<<"$r")
refused() { [ "$fw_size" -gt 0 ] && [ "$st" = -14 ] && [ "$all" = 0 ]; }
ok "tables only: refused with EFAULT (status $st), nothing counted" refused

# 10: the switch off: the error comes at once.
wait_for '^# serve-off 0' || bail "the guest did not switch serving off"
t0=$(date +%s%N)
r=$(qmp "{\"execute\": \"snc-guest-migrate\", \"arguments\":
          {\"addr\": $((kt)), \"size\": 4096, \"node\": 1,
           \"timeout-ms\": 60000}}")
ms=$(( ($(date +%s%N) - t0) / 1000000 ))
echo "# serve off: $r (${ms} ms)"
at_once=false
grep -q 'No guest driver serves requests' <<<"$r" && [ "$ms" -lt 5000 ] &&
    at_once=true
ok "serving switched off: the error in $ms ms (the timeout was 60 s)" $at_once
qmp '{"execute": "snc-configure", "arguments": {"host-mode": "cooperative"}}' \
    >/dev/null

# 11-12: the flood.  Each hint names 64 MiB of node 0's RAM above the
# kernel, which takes the guest far longer to walk than QEMU takes to
# post the next hint, so the queue fills however fast the guest serves:
# hints of one page were served about as fast as they came, and the
# queue then filled in some runs only.
wait_for '^# flood-ready 1' || bail "the guest did not switch serving on"
# All the hints at once, without waiting for the replies, as a
# misbehaving host would send them: QMP's own session is not pipelined.
qmp_close
t0=$(date +%s%N)
read -r accepted full other < <(python3 - "$sock" "$flood" <<'PY'
import json, socket, sys, threading
path, count = sys.argv[1], int(sys.argv[2])
s = socket.socket(socket.AF_UNIX)
s.connect(path)
f = s.makefile("rw")
f.readline()
f.write('{"execute": "qmp_capabilities"}\n')
f.flush()
f.readline()
cmd = json.dumps({"execute": "snc-guest-hint",
                  "arguments": {"addr": 64 << 20, "size": 64 << 20,
                                "node": 0}})


def send():
    w = s.makefile("w")
    for _ in range(count):
        w.write(cmd + "\n")
    w.flush()


threading.Thread(target=send).start()
accepted = full = other = 0
while accepted + full + other < count:
    r = json.loads(f.readline())
    if "event" in r:
        continue
    if "return" in r:
        accepted += 1
    elif "queue is full" in r["error"]["desc"]:
        full += 1
    else:
        other += 1
        print("# flood:", r, file=sys.stderr)
print(accepted, full, other)
PY
)
ms=$(( ($(date +%s%N) - t0) / 1000000 ))
accepted=${accepted:-0} full=${full:-0} other=${other:-1}
echo "# flood: $accepted accepted, $full refused as full, $other other, in $ms ms"
bounded=false
[ "$full" -gt 0 ] && [ "$other" -eq 0 ] &&
    [ $((accepted + full)) -eq "$flood" ] && bounded=true
ok "a flood of $flood hints: queue-full errors bound it" $bounded
qmp_open "$sock"
depth=1
for _ in $(seq 240); do
    depth=$(qmp '{"execute": "query-snc-counters"}' |
            jq -r '.return[0].mailbox."queue-depth"')
    [ "$depth" = 0 ] && break
    sleep 0.5
done
ok "every accepted hint completed (queue depth $depth)" [ "$depth" = 0 ]

# 13: the guest answers: it sees the mode change and reports.
qmp '{"execute": "snc-configure", "arguments": {"host-mode": "off"}}' >/dev/null
t0=$(date +%s)
wait_for '^# alive '
ok "the guest stays responsive after the flood ($(( $(date +%s) - t0 )) s)" \
    grep -q '^# alive ' "$log"
qmp_close
wait "$guest"
guest_rc=$?

# 14: the counters through /dev/snc0.
ok "the guest read two periods from /dev/snc0" \
    grep -q '^ok 1 - /dev/snc0' "$log"

# 15: the guest's own checks and its console.
grep -E '^(ok|not ok) ' "$log" | sed 's/^/# guest: /'
ok "the guest's checks passed and its console is clean" \
    [ "$guest_rc" -eq 0 ]
exit "$failed"
