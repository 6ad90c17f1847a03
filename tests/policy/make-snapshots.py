#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Write the policy tests' snapshots: QMP "return" values, per period.

The guest: 128 MiB in 8 zones of 16 MiB, guest node 0 in zones 0-3
(memdev m0, bound to host node 0), guest node 1 in zones 4-7 (m1, host
node 1); vCPU 0 (thread 1000) in guest node 0, vCPU 1 (thread 1001) in
guest node 1.  Each period holds the replies the engine reads:
query-snc-counters (a list of devices), query-guest-memory-placement
(one reply per zone) and where each vCPU thread runs (host side, not
QMP).  Run from this directory; the files are committed.
"""
import json

MIB = 1 << 20
ZONES, ZONE_SIZE, NODES = 8, 16 * MIB, 2
HOME = [0, 0, 0, 0, 1, 1, 1, 1]
PAGE = 4096


def local(hot=800, noise=10):
    """Each guest node touches its own zones."""
    return [[hot if HOME[z] == n else noise for z in range(ZONES)]
            for n in range(NODES)]


def counters(seq, counts, top=None):
    nodes = []
    for n, row in enumerate(counts):
        entry = {"node": n, "total": sum(row)}
        if top:
            hot = sorted((z for z in range(ZONES) if row[z]),
                         key=lambda z: (-row[z], z))[:top]
            entry["top"] = [{"zone": z, "addr": z * ZONE_SIZE,
                             "count": row[z]} for z in hot]
        else:
            entry["counts"] = row
        nodes.append(entry)
    return [{"id": "/machine/peripheral/snc0", "available": True,
             "running": True, "mode": "all", "exact": False,
             "source-nodes": [], "period-ms": 1000,
             "sample-interval-us": 100000, "zones": ZONES,
             "zone-size": ZONE_SIZE, "home-nodes": HOME,
             "sequence": seq, "period-ns": 1000000000 + seq,
             "total": sum(map(sum, counts)), "nodes": nodes}]


def placement(backing):
    """One reply per zone; zone z all on host node backing[z]."""
    replies = []
    for z in range(ZONES):
        usage = [{"node": backing[z], "pages": ZONE_SIZE // PAGE,
                  "bytes": ZONE_SIZE}]
        memdev = "m%d" % HOME[z]
        replies.append({
            "addr": z * ZONE_SIZE, "size": ZONE_SIZE, "nodes": usage,
            "not-populated": 0, "not-populated-bytes": 0,
            "skipped-bytes": 0,
            "blocks": [{"block": memdev, "memdev": memdev,
                        "addr": z * ZONE_SIZE, "size": ZONE_SIZE,
                        "page-size": PAGE, "nodes": usage,
                        "not-populated": 0}]})
    return replies


def period(seq, counts, backing=None, vcpus=(0, 1), top=None):
    return {"query-snc-counters": counters(seq, counts, top),
            "query-guest-memory-placement":
                placement(backing or HOME),
            "vcpu-host-nodes": {"1000": vcpus[0], "1001": vcpus[1]}}


def snapshot(description, periods):
    cpus = [{"cpu-index": i, "qom-path": "/machine/unattached/device[%d]" % i,
             "thread-id": 1000 + i, "target": "x86_64",
             "props": {"node-id": i, "socket-id": i, "core-id": 0,
                       "thread-id": 0}} for i in range(NODES)]
    memdevs = [{"id": "m%d" % n, "size": 4 * ZONE_SIZE, "merge": True,
                "dump": True, "prealloc": False, "share": False,
                "host-nodes": [n], "policy": "bind"} for n in range(NODES)]
    return {"description": description, "query-cpus-fast": cpus,
            "query-memdev": memdevs, "periods": periods}


def phase():
    """Node 0 turns to zones 4, 5 and node 1 to zones 0, 1."""
    c = local()
    c[0][4], c[0][5] = 900, 700
    c[1][0], c[1][1] = 1000, 600
    c[0][0], c[0][1], c[1][4], c[1][5] = 10, 10, 10, 10
    return c


def repinned_counts():
    c = local()
    c[0][:4] = [1000, 900, 800, 700]
    return c


def write(name, data):
    with open(name, "w") as f:
        json.dump(data, f, indent=1)
        f.write("\n")


write("phase-change.json", snapshot(
    "period 1 local; from period 2 on node 0 touches zones 4 and 5 "
    "and node 1 zones 0 and 1",
    [period(1, local()), period(2, phase()), period(3, phase()),
     period(4, phase())]))

write("settled-phase-change.json", snapshot(
    "periods 1-8 local; from period 9 on node 0 touches zones 4 and 5 "
    "and node 1 zones 0 and 1: a change after a tenure of 8 periods",
    [period(s, local()) for s in range(1, 9)] +
    [period(9, phase()), period(10, phase())]))

REPINNED = [1, 1, 1, 1, 1, 1, 1, 1]
write("repin.json", snapshot(
    "period 1 local; from period 2 on guest node 0's vCPU runs on host "
    "node 1; the host moves zones 0-3 there in period 2 (top-4 replies)",
    [period(1, local(), top=4),
     period(2, local(), vcpus=(1, 1), top=4),
     period(3, local(), backing=REPINNED, vcpus=(1, 1), top=4)]))

write("budget.json", snapshot(
    "guest node 0's vCPU re-pinned to host node 1 in period 2, with "
    "zones 0-3 of different heat; a 32 MiB budget moves zones 0 and 1 "
    "in period 2 and zones 2 and 3 in period 3",
    [period(1, repinned_counts()),
     period(2, repinned_counts(), vcpus=(1, 1)),
     period(3, repinned_counts(), backing=[1, 1, 0, 0, 1, 1, 1, 1],
            vcpus=(1, 1)),
     period(4, repinned_counts(), backing=REPINNED, vcpus=(1, 1))]))


def noise():
    c = local()
    c[0][2], c[1][2] = 40, 30       # below the minimum count
    c[0][5], c[1][5] = 550, 450     # 55 % share: below the dominance
    c[0][6], c[1][6] = 63, 0        # one touch short of the minimum
    return c


write("noise.json", snapshot(
    "zone 2 touched too little, zone 5 by both nodes nearly equally, "
    "zone 6 by node 0 one touch below the minimum",
    [period(s, noise()) for s in range(1, 5)]))


def bait(seq):
    c = local()
    c[0][2], c[1][2] = (100, 900) if seq % 2 else (900, 100)
    return c


write("ping-pong.json", snapshot(
    "zone 2 (home node 0) is touched mostly by node 1 in odd periods "
    "and by node 0 in even ones",
    [period(s, bait(s)) for s in range(1, 9)]))
