#!/usr/bin/env python3
"""Summarise the profiles of scripts/bench/guest-memory-move.sh PROFILE=1:
for each case (guest paused or running, 4 KiB pages or THP) and method,
the wall time of the profiled moves (one there and one back) and the CPU
time that the method's own threads spent per page moved (what the kernel
charged them: schedstat for QEMU's pool threads, CLOCK_THREAD_CPUTIME_ID
for numa-move-bench), each against raw move_pages'; then, from perf's
cpu-clock samples, the share of those threads' samples in user space
and the functions that took the most; where they left the CPU; and the
time from a move's start to each of its batches' ends and its end, from
QEMU's trace events.

    scripts/bench/mover-profile.py PROFILE.csv SIZE

PROFILE.csv holds the payload's "prof-time,", "prof-cpu,", "prof-comm,",
"prof-dso,", "prof-sym,", "prof-wait," and "prof-trace," lines.
"""
import collections
import sys

# Whose CPU time a method is: QEMU's thread pool moves for
# migrate-guest-range, the bench process calls move_pages(2).
THREADS = {"migrate-guest-range-w1": "pool-qemu-syste",
           "migrate-guest-range-w2": "pool-qemu-syste",
           "move_pages": "numa-move-bench"}

path, size = sys.argv[1], int(sys.argv[2])
pages = 2 * size // 4096        # there and back
comm = collections.defaultdict(dict)
syms = collections.defaultdict(list)
wall, cpu, user = {}, {}, collections.Counter()
waits = collections.defaultdict(list)
traces = collections.defaultdict(list)
for line in open(path):
    tag, guest, backing, method, rest = line.rstrip("\n").split(",", 4)
    f = rest.split()
    case = (guest, backing)
    if tag == "prof-time":
        wall[case, method] = int(rest)
    elif tag == "prof-cpu":
        cpu[case, method] = int(rest)
    elif tag == "prof-trace":
        # PID@SECONDS.MICROSECONDS:EVENT ARGS
        stamp, event = rest.split(":", 1)
        traces[case, method].append((float(stamp.split("@")[1]),
                                     event.split()[0]))
    elif tag == "prof-wait":
        count, chain = rest.split(",", 1)
        waits[case, method].append((int(count), chain))
    elif tag == "prof-comm":
        comm[case, method][f[2]] = int(f[1])
    elif tag == "prof-sym" and f[2] == THREADS.get(method):
        syms[case, method].append((int(f[1]), " ".join(f[4:])))
    elif tag == "prof-dso" and f[2] == THREADS.get(method):
        if f[3] != "[kernel.kallsyms]":
            user[case, method] += int(f[1])


def ratio(raw, own):
    return "%.2f" % (raw / own) if own and raw else ""


# Ratios are move_pages' time over the method's: above 1, the method is
# faster or cheaper.
print("guest,backing,method,wall_mb_per_s,wall_vs_move_pages,"
      "cpu_us_per_page,cpu_vs_move_pages,samples,user_samples")
for (case, method) in sorted(comm):
    own = comm[case, method].get(THREADS.get(method), 0)
    ns, raw_ns = wall.get((case, method), 0), wall.get((case, "move_pages"), 0)
    c, raw_c = cpu.get((case, method), 0), cpu.get((case, "move_pages"), 0)
    mbs = "%.1f" % (2 * size / 1048576 / (ns / 1e9)) if ns else ""
    print("%s,%s,%s,%s,%s,%.1f,%s,%d,%d"
          % (case[0], case[1], method, mbs, ratio(raw_ns, ns),
             c / 1e3 / pages, ratio(raw_c, c), own, user[case, method]))
print()
for (case, method), s in sorted(syms.items()):
    total = comm[case, method].get(THREADS[method], 0) or 1
    top = ", ".join("%s %.0f%%" % (name, 100 * n / total)
                    for n, name in sorted(s, reverse=True)[:6])
    print("# %s %s %s: %s" % (case[0], case[1], method, top))
print()
# The payload keeps each method's 8 most frequent call chains.
for (case, method), w in sorted(waits.items()):
    top = sorted(w, reverse=True)[:3]
    print("# %s %s %s left the CPU %d times in its 8 most frequent call"
          " chains, mostly in: %s"
          % (case[0], case[1], method, sum(n for n, _ in w),
             "; ".join("%s (%d)" % (c, n) for n, c in top)))
print()
for (case, method), t in sorted(traces.items()):
    moves, cur = [], None
    for when, event in t:
        if event == "guest_memory_move_start":
            cur = [when]
        elif cur and event in ("guest_memory_move_batch",
                               "guest_memory_move_done"):
            cur.append(when)
            if event == "guest_memory_move_done":
                moves.append(cur)
                cur = None
    for m in moves:
        steps = ", ".join("%.0f" % ((b - a) * 1e3) for a, b in zip(m, m[1:]))
        print("# %s %s %s: start, each batch's end, done: %s ms"
              % (case[0], case[1], method, steps))
