#!/usr/bin/python3
"""Summarize a benchmark CSV: median, min and max MB/s per guest state,
backing and method, and the ratio of each median to the baseline
method's median in the same guest state and backing.

usage: summarize.py RESULTS.CSV BASELINE-METHOD > SUMMARY.CSV
"""
import csv
import statistics
import sys
from collections import defaultdict

rows = list(csv.DictReader(open(sys.argv[1])))
baseline = sys.argv[2]
runs = defaultdict(list)
for r in rows:
    runs[(r["guest"], r["backing"], r["method"])].append(float(r["mb_per_s"]))

print("guest,backing,method,runs,median_mb_per_s,min,max,ratio_to_" + baseline)
for (guest, backing, method), v in sorted(runs.items()):
    base = statistics.median(runs[(guest, backing, baseline)])
    med = statistics.median(v)
    print(f"{guest},{backing},{method},{len(v)},{med:.1f},{min(v):.1f},"
          f"{max(v):.1f},{med / base:.2f}")
