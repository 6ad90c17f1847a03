#!/usr/bin/env python3
"""Summarise scripts/bench/next-touch-guest-profile.sh's guest log: for
next-touch and for move_pages(2), the CPU time per page moved of the
thread that moves and of the one that populates and marks, what the
moving thread spent it on, and how much of it is the copy, which both
methods must do.

    scripts/bench/next-touch-guest-profile.py GUEST.log HZ SYSTEM.MAP

The log holds "prof KIND THREAD ADDRESS SAMPLES" lines (KIND 4k,
4k-move-pages, 4k-1, 4k-move-pages-1 or 4k-marking, THREAD main or
mover, ADDRESS in hex) and the bench's "# phase KIND end: ..." lines;
SYSTEM.MAP is the guest kernel's.  Also prints the marking loop's
madvise() against mprotect() times and functions.
"""
import bisect
import collections
import re
import sys

# Per buffer size: its title, pages, and the kinds of its two methods.
SIZES = [("16 MiB buffers", 4096, [("4k", "next-touch"),
                                    ("4k-move-pages", "move_pages")]),
         ("1-page buffers", 1, [("4k-1", "next-touch"),
                                ("4k-move-pages-1", "move_pages")])]

# What a kernel function is for, first match wins.
GROUPS = [
    ("copying the pages", r"^(copy_mc_|memcpy|__memcpy|copy_page|"
     r"folio_mc_copy|folio_copy)"),
    ("zeroing new pages", r"^clear_page"),
    ("exception entry and exit", r"^(exc_page_fault|asm_exc_page_fault|"
     r"irqentry_|error_entry|restore_regs_and_return|entry_SYSCALL|"
     r"syscall_return|do_syscall_64|native_irq_return)"),
    ("TLB flushes", r"(flush_tlb|tlbbatch|native_flush)"),
    ("unmapping and remapping (rmap, page tables)",
     r"(pte|pmd|rmap|migration_entr|page_vma_mapped|try_to_migrate|"
     r"remove_migration|folio_walk|follow_page|anon_vma|mapcount|"
     r"not_mapped)"),
    ("allocating and freeing pages", r"(alloc|free|rmqueue|buddy|"
     r"watermark)"),
    ("LRU, isolation, statistics", r"(lru|isolate|putback|_stat|"
     r"vm_event|ref_count|cpupid|section|page_zone)"),
    ("scheduling and waiting", r"(wake_up|wait_for|schedule|"
     r"task_switch|cond_resched|flush_work)"),
    ("locks", r"(spin|mutex|rwsem|down_read|up_read|down_write|"
     r"up_write)"),
]

hz = float(sys.argv[2])
syms = []
for line in open(sys.argv[3]):
    addr, typ, name = line.split()[:3]
    if typ in "tTwW":
        syms.append((int(addr, 16), name))
syms.sort()
starts = [a for a, _ in syms]


def function(addr):
    if addr < 0xffff800000000000:
        return "[user space]"
    i = bisect.bisect_right(starts, addr) - 1
    return syms[i][1] if i >= 0 else "[unknown]"


counts = collections.defaultdict(collections.Counter)
phase = {}
for line in open(sys.argv[1]):
    f = line.split()
    if line.startswith("# phase") and " end:" in line:
        phase[f[2]] = line.split("end:", 1)[1].strip()
    elif len(f) == 5 and f[0] == "prof":
        counts[f[1], f[2]][function(int(f[3], 16))] += int(f[4])


def phase_stats(kind):
    """Rounds, MB/s, µs per round, of marking and of moving, of a
    phase's end line."""
    m = re.match(r"(\d+) rounds, MB/s ([\d.]+).*µs per round ([\d.]+) "
                 r"\(marking ([\d.]+), moving ([\d.]+)\)",
                 phase.get(kind, ""))
    return tuple(float(g) for g in m.groups()) if m else (0,) * 5


def group_of(fn):
    for group, pattern in GROUPS:
        if re.search(pattern, fn):
            return group
    return "user space" if fn == "[user space]" else "other kernel functions"


def row(what, vals, fmt):
    print("%-50s %11s %11s" % (what, *(fmt % v for v in vals)))


def top_functions(title, counter, n):
    total = sum(counter.values())
    print()
    print("%s (%% of its samples)" % title)
    for fn, count in counter.most_common(n):
        print("  %5.1f%% %s" % (100 * count / total, fn))


for title, pages, kinds in SIZES:
    def us_per_page(kind, samples):
        n = phase_stats(kind)[0]
        return samples / hz / (n * pages) * 1e6 if n else 0.0

    print()
    print("## %s" % title)
    print()
    row("", [name for _, name in kinds], "%s")
    row("throughput, MB/s (marking + touches, or the call)",
        [phase_stats(k)[1] for k, _ in kinds], "%.2f")
    row("wall µs per round (marking + touches, or the call)",
        [phase_stats(k)[2] for k, _ in kinds], "%.1f")
    row("  of which marking", [phase_stats(k)[3] for k, _ in kinds], "%.1f")
    row("  of which touching, or the call",
        [phase_stats(k)[4] for k, _ in kinds], "%.1f")
    row("rounds", [phase_stats(k)[0] for k, _ in kinds], "%d")
    for thread, what in (("mover", "CPU µs per page, the thread that moves"),
                         ("main", "CPU µs per page, the populating thread")):
        row(what, [us_per_page(k, sum(counts[k, thread].values()))
                   for k, _ in kinds], "%.1f")
    print()
    print("The moving thread's CPU µs per page, by what the kernel did:")
    groups = {k: collections.Counter() for k, _ in kinds}
    for k, _ in kinds:
        for fn, n in counts[k, "mover"].items():
            groups[k][group_of(fn)] += n
    order = [g for g, _ in GROUPS] + ["other kernel functions", "user space"]
    for g in order:
        vals = [us_per_page(k, groups[k][g]) for k, _ in kinds]
        if any(v >= 0.05 for v in vals):
            row("  " + g, vals, "%.1f")
    print()
    for k, name in kinds:
        total = sum(counts[k, "mover"].values())
        copy = groups[k]["copying the pages"]
        if total:
            print("%s: the copy is %.0f%% of the moving thread's CPU time; "
                  "all else %.1f µs per page" %
                  (name, 100 * copy / total, us_per_page(k, total - copy)))
    for k, name in kinds:
        top_functions("%s: the moving thread's top functions" % name,
                      counts[k, "mover"], 15)

# Marking against mprotect(PROT_NONE), in turn in one loop: the timed
# half of each pair, per page, and the loop's functions (both methods,
# both halves).
m = re.search(r"ns per page: madvise ([\d.]+) \(undone ([\d.]+)\), "
              r"mprotect ([\d.]+) \(undone ([\d.]+)\)",
              phase.get("4k-marking", ""))
if m:
    mark, unmark, prot, unprot = (float(g) for g in m.groups())
    print()
    print("## Marking a populated 16 MiB buffer, and undoing it, "
          "madvise() and mprotect() in turn")
    print()
    row("", ["madvise", "mprotect"], "%s")
    row("ns per page, marking (PROT_NONE)", [mark, prot], "%.1f")
    row("ns per page, undoing it", [unmark, unprot], "%.1f")
    print("marking over mprotect(PROT_NONE): %.2fx" % (mark / prot))
    top_functions("the loop's top functions", counts["4k-marking", "main"],
                  12)
