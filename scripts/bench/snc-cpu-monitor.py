#!/usr/bin/python3
"""Follow a guest console log and, between the "snc-cpu: begin" and
"snc-cpu: end US REP on|off" markers that snc-touch --overhead prints,
measure the host CPU time (user + system, all threads) of the QEMU
process running the guest.  Unlike the guest's own clock, this does not
count the time the host spends running other processes.

usage: snc-cpu-monitor.py CONSOLE-LOG QEMU-NAME OUT.CSV
"""
import os
import subprocess
import sys
import time

log, name, out = sys.argv[1:4]
tick = os.sysconf("SC_CLK_TCK")


def qemu_pid():
    for _ in range(600):
        r = subprocess.run(["pgrep", "-f", "--",
                            f"^[^ ]*qemu-system-x86_64 .*-name {name}"],
                           capture_output=True, text=True)
        if r.stdout.split():
            return int(r.stdout.split()[0])
        time.sleep(0.1)
    sys.exit("snc-cpu-monitor: QEMU did not start")


def cpu_seconds(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / tick


pid = qemu_pid()
while not os.path.exists(log):
    time.sleep(0.05)
start = None
with open(log) as f, open(out, "w") as csv:
    csv.write("sample_us,rep,counting,cpu_seconds\n")
    while True:
        line = f.readline()
        if not line:
            if not os.path.exists(f"/proc/{pid}"):
                break
            time.sleep(0.02)
            continue
        if line.startswith("snc-cpu: begin"):
            start = cpu_seconds(pid)
        elif line.startswith("snc-cpu: end") and start is not None:
            us, rep, on = line.split()[2:5]
            csv.write(f"{us},{rep},{on},{cpu_seconds(pid) - start:.2f}\n")
            csv.flush()
            start = None
        elif line.startswith("vm: payload exit code"):
            break
