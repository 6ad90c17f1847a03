#!/usr/bin/env bash
# Benchmark the SNC mailbox against the guest's own calls: the same
# guest buffer, 4 KiB to 64 MiB, moved from node 0 to node 1
#   - by snc-guest-migrate requests from the host, one per contiguous
#     guest-physical run of the buffer, timed on the host from sending
#     the first command to the last completion: QMP, the interrupt, the
#     driver's work item, migrate_phys_range() and the completion.
#     Even moves wait for each reply in turn (snc_mailbox); odd ones
#     send one job over every run of the buffer (snc_mailbox_ranges:
#     snc-guest-migrate with 'ranges'), timed to its end event, which
#     keeps up to 8 requests in the guest's queue;
#   - a QMP command that does nothing (query-status), timed the same
#     way before each one-page move: the floor of any QMP round trip
#     (qmp_round_trip);
#   - by migrate_ph_pages(2) and move_pages(2) in the guest, timed
#     around the calls: each repetition moves one more fresh buffer of
#     the same size with each, right after the host's requests
#     (snc-mailbox-guest bench --baselines), so that the three methods
#     share the host's load.
# 2-node guest under TCG (emulated times: compare ratios), on the
# non-debug kernel.  Writes docs/bench/snc-mailbox.csv (every move),
# docs/bench/snc-mailbox-summary.csv (medians, throughput, the
# mailbox's ratios) and docs/bench/snc-mailbox.png.
#
#   scripts/bench/snc-mailbox.sh     (REPS=n MAX_BYTES=b to change)
#
# PIN_CPU=n binds the SNC's interrupt to vCPU 0, where the driver's first
# server then runs, and pins the guest program to vCPU n (0: the
# server's vCPU, 1: the other vCPU of node 0).  QEMU_TRACE=1 adds QEMU's
# trace of the SNC's register writes and of QMP, with time stamps, to
# the guest log, and prints where each request's time went
# (snc-mailbox-trace.py).
#
# Needs guest-kernel/build.sh (GUEST_KERNEL picks another image) and
# guest-kernel/build-selftests.sh (the static guest programs).  With the
# probes of snc-mailbox-timing.diff built in, it also prints where a
# request's time goes inside the guest (build/bench/snc-mailbox/timing.csv).
set -euo pipefail

top=$(cd "$(dirname "$0")/../.." && pwd)
out=$top/docs/bench
work=$top/build/bench/snc-mailbox
tools=$top/build/guest-kernel/tools
reps=${REPS:-8} max=${MAX_BYTES:-67108864}
rm -rf "$work"
mkdir -p "$out" "$work"
export GUEST_KERNEL=${GUEST_KERNEL:-$top/build/guest-kernel/bzImage}

# The timing probes of snc-mailbox-timing.diff, when built in, log at
# KERN_INFO, below the console's level: printed from the log at the end,
# for snc-mailbox-timing.py.
pin=
if [ -n "${PIN_CPU:-}" ]; then
    pin="taskset -c $PIN_CPU"
fi
trace=
if [ -n "${QEMU_TRACE:-}" ]; then
    trace="-msg timestamp=on -trace snc_reg_write -trace handle_qmp_command -trace monitor_qmp_respond"
fi
cat >"$work/payload.sh" <<PAYLOAD
#!/bin/sh
if [ -n "$pin" ]; then
    irq=\$(awk -F: '/snc/ { gsub(/ /, "", \$1); print \$1 }' /proc/interrupts)
    echo 1 >/proc/irq/\$irq/smp_affinity
    echo "# SNC interrupt \$irq on vCPU 0, the program: $pin"
fi
$pin ./snc-mailbox-guest bench --reps $reps --max-bytes $max --from 0 --to 1 \\
    --baselines || exit 1
dmesg | grep 'snc-timing:' || true
PAYLOAD
sock=$work/qmp.sock
GUEST_QEMU_ARGS="$trace -device snc,id=snc0 -qmp unix:$sock,server=on,wait=off" \
GUEST_TIMEOUT=3000 "$top/scripts/guest-run.sh" 2 "$work/payload.sh" \
    "$tools/snc-mailbox-guest" \
    >"$work/guest.log" 2>&1 &
guest=$!

# The host half: answer each "# bench" line of the guest with one
# snc-guest-migrate per range, timed from the command to its reply.
python3 - "$sock" "$work/guest.log" "$work/mailbox.csv" "$guest" <<'PY'
import json, os, socket, sys, time

sock_path, log_path, csv_path, guest = sys.argv[1:5]


def alive():
    try:
        os.kill(int(guest), 0)
        return True
    except OSError:
        return False


for _ in range(600):
    if os.path.exists(sock_path):
        break
    time.sleep(0.5)
s = socket.socket(socket.AF_UNIX)
s.connect(sock_path)
# Separate files for reading and writing: a write to a "rw" text file
# drops what it had read ahead, events included.
f, fw = s.makefile("r"), s.makefile("w")
f.readline()


events = []


def qmp(cmd, **args):
    fw.write(json.dumps({"execute": cmd, "arguments": args}) + "\n")
    fw.flush()
    while True:
        r = json.loads(f.readline())
        if "return" in r or "error" in r:
            return r
        events.append(r)


def job_event(ids):
    """The next SNC_GUEST_MIGRATE_JOB_COMPLETED of one of @ids."""
    while True:
        for i, e in enumerate(events):
            if (e["event"] == "SNC_GUEST_MIGRATE_JOB_COMPLETED"
                    and e["data"]["job-id"] in ids):
                return events.pop(i)["data"]
        del events[:]
        events.append(json.loads(f.readline()))


qmp("qmp_capabilities")
mode = "guest-only"
qmp("snc-configure", **{"host-mode": mode})
out = open(csv_path, "w")
out.write("method,bytes,pages,rep,ns,moved,requests\n")
log = open(log_path)
while True:
    line = log.readline()
    if not line:
        if not alive():
            break
        time.sleep(0.05)
        continue
    w = line.split()
    if len(w) < 4 or w[:2] != ["#", "bench"]:
        continue
    nbytes, rep, ns, moved = int(w[2]), int(w[3]), 0, 0
    runs = [tuple(int(x, 16) for x in run.split(":")) for run in w[4:]]
    if nbytes == 4096 and rep % 2 == 0:
        t0 = time.perf_counter_ns()
        qmp("query-status")
        out.write("qmp_round_trip,%d,%d,%d,%d,0,0\n"
                  % (nbytes, nbytes // 4096, rep,
                     time.perf_counter_ns() - t0))
    if rep % 2 == 0:
        method = "snc_mailbox"
        for addr, size in runs:
            t0 = time.perf_counter_ns()
            r = qmp("snc-guest-migrate", addr=addr, size=size, node=1,
                    **{"timeout-ms": 600000})
            ns += time.perf_counter_ns() - t0
            if "error" in r or r["return"]["status"] != 0:
                sys.exit("snc-mailbox: %s" % r)
            moved += r["return"]["moved"]
    else:
        method = "snc_mailbox_ranges"
        jid = "bench-%d-%d" % (nbytes, rep)
        t0 = time.perf_counter_ns()
        r = qmp("snc-guest-migrate", node=1,
                ranges=[{"addr": a, "size": s} for a, s in runs],
                **{"timeout-ms": 600000, "job-id": jid})
        if "error" in r:
            sys.exit("snc-mailbox: %s" % r)
        d = job_event({jid})
        ns = time.perf_counter_ns() - t0
        if (d.get("error") or d["completed"] != d["requests"]
                or d["range-count"] != len(runs)):
            sys.exit("snc-mailbox: %s" % d)
        moved += d["moved"]
    out.write("%s,%d,%d,%d,%d,%d,%d\n"
              % (method, nbytes, nbytes // 4096, rep, ns, moved, len(runs)))
    out.flush()
    # Done with this buffer: a change of mode tells the guest so.
    mode = "cooperative" if mode == "guest-only" else "guest-only"
    qmp("snc-configure", **{"host-mode": mode})
PY
wait "$guest"

csv=$out/snc-mailbox.csv
{
    echo "method,bytes,pages,rep,ns,moved"
    sed -n 's/^csv,//p' "$work/guest.log" | grep -v '^method'
    tail -n +2 "$work/mailbox.csv" | cut -d, -f1-6
} >"$csv"
summary=$out/snc-mailbox-summary.csv
python3 - "$csv" >"$summary" <<'PY'
import csv, statistics, sys
rows = list(csv.DictReader(open(sys.argv[1])))
med = {}
for r in rows:
    med.setdefault((r["method"], int(r["bytes"])), []).append(int(r["ns"]))
med = {k: statistics.median(v) for k, v in med.items()}
sizes = sorted({b for m, b in med if m != "qmp_round_trip"})
mailbox = ["snc_mailbox", "snc_mailbox_ranges"]
methods = mailbox + ["migrate_ph_pages", "move_pages"]
print("method,bytes,pages,median_ns,mb_per_s,vs_migrate_ph_pages,vs_move_pages")
for m in methods:
    for b in sizes:
        if (m, b) not in med:
            continue
        ns = med[m, b]
        ratios = ","
        if m in mailbox:
            ratios = (f"{med['migrate_ph_pages', b] / ns:.2f},"
                      f"{med['move_pages', b] / ns:.2f}")
        print(f"{m},{b},{b // 4096},{ns:.0f},"
              f"{b / 1048576 / (ns / 1e9):.1f},{ratios}")
one = 4096
if all((m, one) in med for m in methods + ["qmp_round_trip"]):
    mb, ph = med["snc_mailbox", one], med["migrate_ph_pages", one]
    rt = med["qmp_round_trip", one]
    print(f"# one page: mailbox {mb / 1e3:.0f} us, migrate_ph_pages "
          f"{ph / 1e3:.0f} us ({mb / ph:.2f}x), move_pages "
          f"{med['move_pages', one] / 1e3:.0f} us "
          f"({mb / med['move_pages', one]:.2f}x); a QMP command that does "
          f"nothing {rt / 1e3:.0f} us ({rt / ph:.2f}x migrate_ph_pages)")
PY
column -t -s, "$summary" | grep -v '^#'
grep '^#' "$summary" || true
if [ -n "$trace" ]; then
    "$top/scripts/bench/snc-mailbox-trace.py" "$work/guest.log" \
        >"$work/trace.csv"
    column -t -s, "$work/trace.csv"
fi
if grep -q 'snc-timing:' "$work/guest.log"; then
    "$top/scripts/bench/snc-mailbox-timing.py" "$work/guest.log" \
        >"$work/timing.csv"
    column -t -s, "$work/timing.csv"
fi

gnuplot <<GP
set terminal pngcairo size 1000,560 noenhanced
set output "$out/snc-mailbox.png"
set title "Moving a guest buffer node 0 -> 1, 2-node guest under TCG (emulated times)"
set datafile separator ","
set logscale x 2
set xlabel "buffer size (KiB)"
set ylabel "median throughput (MB/s)"
set key top left
set grid
plot "< grep ^snc_mailbox, $summary" using (\$2/1024):5 with linespoints title "snc-guest-migrate, one run at a time (host QMP to completion)", \\
     "< grep ^snc_mailbox_ranges, $summary" using (\$2/1024):5 with linespoints title "snc-guest-migrate, one job over every run ('ranges')", \\
     "< grep ^migrate_ph_pages, $summary" using (\$2/1024):5 with linespoints title "migrate_ph_pages (guest)", \\
     "< grep ^move_pages, $summary" using (\$2/1024):5 with linespoints title "move_pages (guest)"
GP
echo "wrote $csv, $summary and $out/snc-mailbox.png"
