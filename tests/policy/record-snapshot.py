#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Record a policy snapshot from a running guest's QMP socket.

    record-snapshot.py SOCKET OUT.json SECONDS [DESCRIPTION]

Connects to a QEMU started with -qmp unix:SOCKET,server=on,wait=off
(waiting up to 2 minutes for it), reads query-cpus-fast and
query-memdev once, then for SECONDS records every new SNC period with
counts: its query-snc-counters reply (top 16) and a
query-guest-memory-placement reply for all guest RAM.  Every vCPU
thread is recorded as running on host node 0: on a single-node host
that is where they run.  recorded-local-2-nodes.json came from

    GUEST_QEMU_ARGS="-device snc -qmp unix:/tmp/r.sock,server=on,wait=off" \\
        scripts/guest-run.sh 2 scripts/snc-guest.sh build/tools/snc-touch \\
        ARGS   # a file holding "--trials 15 --ms 1000"

with this script running beside it, keeping periods 1-8.
"""
import json
import socket
import sys
import time


def connect(path):
    deadline = time.time() + 120
    while True:
        sock = socket.socket(socket.AF_UNIX)
        try:
            sock.connect(path)
            return sock.makefile("rw")
        except OSError:
            sock.close()
            if time.time() > deadline:
                raise
            time.sleep(0.2)


def command(qmp, name, arguments=None):
    request = {"execute": name}
    if arguments:
        request["arguments"] = arguments
    qmp.write(json.dumps(request) + "\n")
    qmp.flush()
    while True:
        reply = json.loads(qmp.readline())
        if "return" in reply:
            return reply["return"]
        if "error" in reply:
            raise RuntimeError("%s: %s" % (name, reply["error"]["desc"]))


def main():
    path, out, seconds = sys.argv[1], sys.argv[2], float(sys.argv[3])
    description = sys.argv[4] if len(sys.argv) > 4 else "recorded"
    qmp = connect(path)
    json.loads(qmp.readline())          # the greeting
    command(qmp, "qmp_capabilities")
    cpus = command(qmp, "query-cpus-fast")
    memdevs = command(qmp, "query-memdev")
    threads = {str(cpu["thread-id"]): 0 for cpu in cpus}
    periods, seen = [], set()
    end = time.time() + seconds
    try:
        while time.time() < end:
            reply = command(qmp, "query-snc-counters", {"top": 16})
            devices = reply if isinstance(reply, list) else [reply]
            sequence = devices[0]["sequence"]
            if sequence >= 1 and sequence not in seen:
                seen.add(sequence)
                placement = command(qmp, "query-guest-memory-placement")
                periods.append({"query-snc-counters": devices,
                                "query-guest-memory-placement": [placement],
                                "vcpu-host-nodes": threads})
            time.sleep(0.2)
    except (OSError, ValueError):
        pass                            # the guest powered off
    with open(out, "w") as f:
        json.dump({"description": description, "query-cpus-fast": cpus,
                   "query-memdev": memdevs, "periods": periods}, f)
        f.write("\n")
    print("recorded %d periods" % len(periods))


if __name__ == "__main__":
    main()
