#!/usr/bin/env python3
"""Medians of the "snc-timing:" probes in a guest log of
scripts/bench/snc-mailbox.sh (see scripts/bench/snc-mailbox-timing.diff),
in microseconds, by caller and request size in pages.  Request sizes
seen fewer than 3 times (a buffer cut into physical runs of odd sizes)
are left out.

    scripts/bench/snc-mailbox-timing.py build/bench/snc-mailbox/guest.log
"""
import re
import statistics
import sys

PROBE = re.compile(r"snc-timing: (\w+)(.*)")
FIELD = re.compile(r"(\w+)=(\w+)")

samples = {}
for line in open(sys.argv[1], errors="replace"):
    m = PROBE.search(line)
    if not m:
        continue
    f = dict(FIELD.findall(m.group(2)))
    key = (m.group(1), f.get("caller", ""), int(f.get("pages", 0)))
    row = samples.setdefault(key, {})
    for k, v in f.items():
        if k.endswith("_ns"):
            row.setdefault(k, []).append(int(v))

if not samples:
    sys.exit("no snc-timing probes in %s: was the kernel built with "
             "scripts/bench/snc-mailbox-timing.diff?" % sys.argv[1])
print("probe,caller,pages,samples,field,median_us")
for (probe, caller, pages), row in sorted(samples.items()):
    for field, v in row.items():
        if len(v) < 3:
            continue
        print("%s,%s,%d,%d,%s,%.0f" % (probe, caller, pages, len(v),
                                        field[:-3],
                                        statistics.median(v) / 1e3))
