#!/usr/bin/env python3
"""Fuzz the project's QMP commands against a running QEMU.

Starts QEMU (by default the ASan+UBSan build, build/qemu-asan) with two
vNUMA nodes and an snc device under the qtest accelerator, and sends
generated commands through QEMU's own QMP library (python/qemu/qmp of
the extracted tree): migrate-guest-range (synchronous and jobs),
query-guest-memory-placement, query-snc-counters, snc-configure,
snc-control, snc-guest-migrate (synchronous and jobs), snc-guest-hint,
query-jobs, job-cancel, and object-add/object-del of memory backends,
among them backends whose RAM a move is moving.  Arguments are boundary
values, random values, wrong types and unknown members.  Through the
qtest socket the script also plays the SNC's guest driver: it announces
itself at random, and completes the requests it finds in the ring,
with valid and malformed completions.

Every reply must be a success or an error with a class and a
description; a crash, a hang (no reply within --reply-timeout seconds),
a sanitizer report or a leak at exit fails the run.  Replies to
commands that do not wait by design (everything but the synchronous
forms of migrate-guest-range and snc-guest-migrate) are timed while
move jobs run, and must come within --latency-ms; the placement query,
whose own work grows with its range, is timed and reported apart.

    scripts/qmp-fuzz.py [--commands N | --seconds S] [--seed N]
                        [--qemu PATH] [--json]

Exit status: 0 clean, 1 a check failed, 2 usage or setup error.
"""

import argparse
import glob
import json
import os
import random
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time

TOP = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(TOP, 'build', 'qemu-src', 'python'))
from qemu.qmp.legacy import QEMUMonitorProtocol  # noqa: E402

MiB = 1 << 20
GiB = 1 << 30
NODE_RAM = 256 * MiB
RAM_END = 2 * NODE_RAM
BAR0 = 0xfe000000
SNC_DEVFN = 4 << 3

U64_EDGES = [0, 1, 4095, 4096, 4097, 2 * MiB, NODE_RAM - 4096, NODE_RAM,
             RAM_END - 4096, RAM_END, RAM_END + 4096, 4 * GiB, 1 << 63,
             (1 << 64) - 4096, (1 << 64) - 1]
# Commands whose own work grows with the range they are given (the
# placement query looks up every page): timed, but not held to the
# latency bound, which is about the main loop staying free while moves
# run.
SCALES_WITH_SIZE = {'query-guest-memory-placement'}
BAD_VALUES = [-1, 'x', None, 1.5, True, [], {}, 1 << 64]


def snc_regs():
    """The register offsets, from the one header that defines them."""
    regs = {}
    path = os.path.join(TOP, 'hw', 'mem', 'snc_regs.h')
    for m in re.finditer(r'#define\s+(SNC_\w+)\s+(0x[0-9a-fA-F]+|\d+)u?\b',
                         open(path).read()):
        regs[m.group(1)] = int(m.group(2), 0)
    return regs


class Qtest:
    """The qtest protocol: the script's hands on the guest's buses."""

    def __init__(self, sock):
        self.sock = sock
        self.buf = b''

    def cmd(self, line):
        self.sock.sendall(line.encode() + b'\n')
        while True:
            nl = self.buf.find(b'\n')
            if nl >= 0:
                reply, self.buf = self.buf[:nl].decode(), self.buf[nl + 1:]
                if reply.startswith('IRQ'):
                    continue
                if not reply.startswith('OK'):
                    raise RuntimeError(f'qtest: {line!r}: {reply!r}')
                return reply
            chunk = self.sock.recv(65536)
            if not chunk:
                raise EOFError('qtest socket closed')
            self.buf += chunk

    def outl(self, port, val):
        self.cmd(f'outl 0x{port:x} 0x{val:x}')

    def readl(self, addr):
        return int(self.cmd(f'readl 0x{addr:x}').split()[1], 0)

    def writel(self, addr, val):
        self.cmd(f'writel 0x{addr:x} 0x{val & 0xffffffff:x}')

    def pci_cfg_writel(self, devfn, off, val):
        self.outl(0xcf8, 0x80000000 | (devfn << 8) | off)
        self.outl(0xcfc, val)


class Guest:
    """The SNC's driver, played through qtest."""

    def __init__(self, qt, rnd):
        self.qt = qt
        self.rnd = rnd
        self.r = snc_regs()
        self.serving = False
        qt.pci_cfg_writel(SNC_DEVFN, 0x10, BAR0)
        qt.pci_cfg_writel(SNC_DEVFN, 0x04, 0x6)    # memory, bus master

    def reg(self, name):
        return BAR0 + self.r['SNC_REG_' + name]

    def set_serving(self, on):
        self.qt.writel(self.reg('GUEST_SERVING'), 1 if on else 0)
        self.serving = on

    def step(self, stats):
        """Take the ring's requests and complete some of them."""
        rnd, qt, r = self.rnd, self.qt, self.r
        prod = qt.readl(self.reg('REQ_PROD'))
        qt.writel(self.reg('REQ_CONS'), prod)
        for slot in range(r['SNC_RING_SIZE']):
            base = self.reg('REQ_RING') + slot * r['SNC_REQ_STRIDE']
            rid = qt.readl(base + r['SNC_REQ_ID'])
            action = qt.readl(base + r['SNC_REQ_ACTION'])
            if not action or rnd.random() < 0.3:
                continue
            pages = qt.readl(base + r['SNC_REQ_SIZE']) // 4096
            counts = [0] * 7
            if rnd.random() < 0.9:
                left = pages
                for i in range(7):
                    counts[i] = rnd.randint(0, left)
                    left -= counts[i]
                status = rnd.choice([0, 0, 0, -16, -22])
            else:           # malformed: the device must refuse it
                counts = [rnd.getrandbits(32) for _ in range(7)]
                status = rnd.choice([1, -5000, 0])
            cmpl = self.reg('CMPL_ID')
            qt.writel(cmpl, rid if rnd.random() < 0.95
                      else rnd.getrandbits(32))
            qt.writel(self.reg('CMPL_STATUS'), status)
            for i in range(7):
                qt.writel(self.reg('CMPL_MOVED') + 4 * i, counts[i])
            qt.writel(self.reg('COMPLETE'), 1)
            stats['guest_completions'] += 1


class Fuzzer:
    def __init__(self, args):
        self.args = args
        self.rnd = random.Random(args.seed)
        self.stats = {k: 0 for k in (
            'commands', 'success', 'error', 'events', 'timed',
            'timed_while_moving', 'over_latency', 'guest_completions',
            'jobs_started', 'cancels', 'object_del_in_use')}
        self.per_command = {}
        self.latencies = []
        self.lat_by_cmd = {}
        self.max_latency_cmd = None
        self.failures = []
        self.jobs = set()
        self.spare = {}
        self.next_id = 0

    # -- QEMU --

    def start(self):
        self.dir = tempfile.mkdtemp(prefix='qmp-fuzz-')
        qmp_path = os.path.join(self.dir, 'qmp.sock')
        qt_path = os.path.join(self.dir, 'qtest.sock')
        qt_listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        qt_listener.bind(qt_path)
        qt_listener.listen(1)
        self.qmp = QEMUMonitorProtocol(qmp_path, server=True)
        cmd = [self.args.qemu, '-M', 'pc', '-accel', 'qtest',
               '-nodefaults', '-display', 'none', '-m', '512M', '-smp', '2',
               '-object', f'memory-backend-ram,id=m0,size={NODE_RAM},'
               'prealloc=on',
               '-object', f'memory-backend-ram,id=m1,size={NODE_RAM},'
               'prealloc=on',
               '-numa', 'node,nodeid=0,memdev=m0,cpus=0',
               '-numa', 'node,nodeid=1,memdev=m1,cpus=1',
               '-device', 'snc,id=snc0,addr=04.0',
               '-qtest', f'unix:{qt_path}', '-qmp', f'unix:{qmp_path}']
        self.log = open(os.path.join(self.dir, 'qemu.log'), 'w+')
        self.proc = subprocess.Popen(cmd, stdout=self.log,
                                     stderr=subprocess.STDOUT)
        qt_listener.settimeout(60)
        qt_sock, _ = qt_listener.accept()
        qt_listener.close()
        self.qmp.accept(timeout=60)
        self.qmp.settimeout(self.args.reply_timeout)
        self.guest = Guest(Qtest(qt_sock), self.rnd)

    def stop(self):
        """quit, and check QEMU's exit and its sanitizer output."""
        try:
            self.send('quit', {})
        except Exception as e:      # noqa: BLE001 - a reason to report
            self.fail(f'quit: {e}')
        try:
            rc = self.proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.fail('QEMU did not exit within 60 s of quit')
            rc = None
        try:
            self.qmp.close()
        except EOFError:
            pass                # QEMU closed its end as it quit
        self.log.seek(0)
        out = self.log.read()
        if rc not in (0, None):
            self.fail(f'QEMU exited with {rc}')
        if re.search(r'ERROR: (Address|Leak)Sanitizer|runtime error:', out):
            self.fail('sanitizer report:\n' + out[-6000:])
        self.qemu_output = out
        shutil.rmtree(self.dir, ignore_errors=True)
        return rc

    def fail(self, what):
        self.failures.append(what)
        print(f'qmp-fuzz: FAIL: {what}', file=sys.stderr)

    def send(self, name, args):
        t0 = time.monotonic()
        try:
            rsp = self.qmp.cmd_raw(name, args)
        except Exception as e:
            raise RuntimeError(f'no reply to {name} {args!r} within '
                               f'{self.args.reply_timeout} s '
                               f'(QEMU {self.proc.poll()}): {e!r}') from e
        return rsp, (time.monotonic() - t0) * 1000

    # -- arguments --

    def u64(self):
        rnd = self.rnd
        c = rnd.random()
        if c < 0.5:
            return rnd.choice(U64_EDGES)
        if c < 0.8:
            return rnd.randrange(0, RAM_END + 8 * MiB, 4096)
        return rnd.getrandbits(64)

    def node(self):
        return self.rnd.choice([0, 0, 0, 1, 2, 255, 65535,
                                self.rnd.getrandbits(32)])

    def job_id(self):
        rnd = self.rnd
        c = rnd.random()
        if c < 0.1 and self.jobs:
            return rnd.choice(sorted(self.jobs))     # in use
        if c < 0.15:
            return rnd.choice(['', '#bad', '1x', 'a' * 300, 'é'])
        self.next_id += 1
        return f'j{self.next_id}'

    def valid_range(self):
        """A range of RAM: mostly up to 8 MiB, now and then up to all."""
        rnd = self.rnd
        addr = rnd.randrange(0, RAM_END, 4096)
        most = RAM_END - addr if rnd.random() < 0.05 else \
            min(RAM_END - addr, 8 * MiB)
        size = rnd.randrange(4096, most + 4096, 4096)
        return addr, size

    def maybe_garble(self, args):
        """Now and then, a wrong type, a missing or an unknown member."""
        rnd = self.rnd
        c = rnd.random()
        if c < 0.05 and args:
            args[rnd.choice(sorted(args))] = rnd.choice(BAD_VALUES)
        elif c < 0.08 and args:
            del args[rnd.choice(sorted(args))]
        elif c < 0.10:
            args['no-such-member'] = 1
        return args

    def ranges_instead(self, args):
        """snc-guest-migrate's 'ranges' in place of 'addr' and 'size':
        RAM or not, overlapping now and then, empty, too many, or
        beside 'addr'."""
        rnd = self.rnd
        c = rnd.random()
        if c < 0.05:
            n = 1025
        elif c < 0.1:
            n = 0
        else:
            n = rnd.randint(1, 6)
        ranges = []
        for _ in range(n):
            if rnd.random() < 0.8:
                addr = rnd.randrange(0, RAM_END, 4096)
                size = rnd.randrange(4096, min(RAM_END - addr, 4 * MiB)
                                     + 4096, 4096)
                ranges.append({'addr': addr, 'size': size})
            else:
                ranges.append({'addr': self.u64(), 'size': self.u64()})
        if ranges and rnd.random() < 0.05:
            ranges[0] = rnd.choice(BAD_VALUES)
        args['ranges'] = ranges
        if rnd.random() < 0.9:
            del args['addr']
            del args['size']

    # -- the commands --

    def gen(self):
        """One command: (name, args, waits_by_design)."""
        rnd = self.rnd
        kind = rnd.choices(
            ['move', 'move-job', 'placement', 'counters', 'configure',
             'control', 'guest-migrate', 'guest-job', 'hint', 'jobs',
             'cancel', 'object', 'serving'],
            [6, 10, 10, 10, 6, 4, 6, 6, 6, 8, 8, 4, 2])[0]
        if kind in ('move', 'move-job'):
            if rnd.random() < 0.6:
                addr, size = self.valid_range()
                args = {'addr': addr, 'size': size, 'node': 0}
            else:
                args = {'addr': self.u64(), 'size': self.u64(),
                        'node': self.node()}
            if rnd.random() < 0.7:
                args['workers'] = rnd.choice([0, 1, 2, 4, 8, 9, 255])
            if kind == 'move-job':
                args['job-id'] = self.job_id()
            return 'migrate-guest-range', self.maybe_garble(args), \
                kind == 'move'
        if kind == 'placement':
            args = {}
            c = rnd.random()
            if c < 0.5:
                addr, size = self.valid_range()
                args = {'addr': addr, 'size': size}
            elif c < 0.9:
                args = {'addr': self.u64(), 'size': self.u64()}
            return 'query-guest-memory-placement', self.maybe_garble(args), \
                False
        if kind == 'counters':
            args = {'top': rnd.choice([0, 1, 8, 65536, 65537,
                                       rnd.getrandbits(32)])} \
                if rnd.random() < 0.5 else {}
            return 'query-snc-counters', self.maybe_garble(args), False
        if kind == 'configure':
            args = {}
            for key, vals in (
                    ('mode', ['all', 'remote', 'track-max', 'bogus']),
                    ('host-mode', ['off', 'host-only', 'guest-only',
                                   'cooperative', 'cooperative']),
                    ('exact', [True, False]),
                    ('source-nodes', [[], [0], [0, 1], [2], [31], [40]]),
                    ('period-ms', [0, 1, 100, 1000, 2400000, 2400001,
                                   rnd.getrandbits(32)]),
                    ('sample-interval-us', [0, 1, 1000, 1000000,
                                            rnd.getrandbits(32)]),
                    ('device', ['snc0', '/machine/peripheral/snc0',
                                'nosuch'])):
                if rnd.random() < 0.3:
                    args[key] = rnd.choice(vals)
            return 'snc-configure', self.maybe_garble(args), False
        if kind == 'control':
            args = {'action': rnd.choice(['start', 'stop', 'snapshot',
                                          'bogus'])}
            return 'snc-control', self.maybe_garble(args), False
        if kind in ('guest-migrate', 'guest-job', 'hint'):
            if rnd.random() < 0.6:
                addr = rnd.randrange(0, RAM_END, 4096)
                size = rnd.randrange(4096, min(RAM_END - addr, 16 * MiB)
                                     + 4096, 4096)
                args = {'addr': addr, 'size': size,
                        'node': rnd.choice([0, 1])}
            else:
                args = {'addr': self.u64(), 'size': self.u64(),
                        'node': self.node()}
            if kind == 'hint':
                return 'snc-guest-hint', self.maybe_garble(args), False
            if rnd.random() < 0.3:
                self.ranges_instead(args)
            # A synchronous wait nobody completes lasts its timeout:
            # keep that short; a job's timeout is anything valid.
            if kind == 'guest-migrate':
                args['timeout-ms'] = rnd.choice([0, 1, 5, 20, 3600001])
            else:
                args['timeout-ms'] = rnd.choice([0, 1, 50, 1000, 3600000])
                args['job-id'] = self.job_id()
            args = self.maybe_garble(args)
            # The guest played here completes nothing while a command
            # waits, so a wait lasts its timeout (10 s by default): keep
            # waits short even where garbling dropped the job-id or the
            # timeout.
            sync = 'job-id' not in args
            if sync and (args.get('timeout-ms') in (None, 3600000) or
                         args.get('timeout-ms') == 1000):
                args['timeout-ms'] = 20
            return 'snc-guest-migrate', args, sync
        if kind == 'jobs':
            return 'query-jobs', {}, False
        if kind == 'cancel':
            if self.jobs and rnd.random() < 0.8:
                jid = rnd.choice(sorted(self.jobs))
            else:
                jid = rnd.choice(['nosuch', '', 'j0'])
            args = {'id': jid}
            if rnd.random() < 0.2:
                args['force'] = rnd.choice([True, False])
            self.stats['cancels'] += 1
            return ('block-job-cancel' if rnd.random() < 0.05
                    else 'job-cancel'), args, False
        if kind == 'object':
            c = rnd.random()
            if c < 0.4:
                # A backend whose RAM a move may be moving right now
                self.stats['object_del_in_use'] += 1
                return 'object-del', {'id': rnd.choice(['m0', 'm1'])}, \
                    False
            if c < 0.7 and len(self.spare) < 4:
                sid = f'spare{rnd.randrange(8)}'
                return 'object-add', {
                    'qom-type': 'memory-backend-ram', 'id': sid,
                    'size': rnd.choice([4096, 2 * MiB, 0, 1 << 62])}, False
            sid = rnd.choice(sorted(self.spare) or ['spare0'])
            return 'object-del', {'id': sid}, False
        return None, None, False

    def check(self, name, args, rsp):
        ok = isinstance(rsp, dict) and (
            ('return' in rsp and 'error' not in rsp) or
            ('error' in rsp and isinstance(rsp['error'], dict) and
             isinstance(rsp['error'].get('class'), str) and
             isinstance(rsp['error'].get('desc'), str) and
             rsp['error']['desc']))
        if not ok:
            self.fail(f'bad reply to {name} {args!r}: {rsp!r}')
            return
        per = self.per_command.setdefault(name, [0, 0])
        if 'return' in rsp:
            self.stats['success'] += 1
            per[0] += 1
            ret = rsp['return']
            if name in ('migrate-guest-range', 'snc-guest-migrate') and \
                    'job-id' in args:
                self.jobs.add(args['job-id'])
                self.stats['jobs_started'] += 1
            elif name == 'object-add':
                self.spare[args['id']] = True
            elif name == 'object-del':
                self.spare.pop(args['id'], None)
            elif name == 'query-jobs':
                self.jobs = {j['id'] for j in ret}
        else:
            self.stats['error'] += 1
            per[1] += 1

    def moving(self):
        return any(self.jobs)

    def run(self):
        rnd, a = self.rnd, self.args
        self.t0 = time.monotonic()
        end = time.monotonic() + a.seconds if a.seconds else None
        while True:
            n = self.stats['commands']
            if end is not None and time.monotonic() >= end:
                break
            if end is None and n >= a.commands:
                break
            name, args, waits = self.gen()
            if name is None:
                self.guest.set_serving(rnd.random() < 0.7)
                continue
            if rnd.random() < 0.2:
                self.guest.step(self.stats)
            moving = self.moving()
            rsp, ms = self.send(name, args)
            self.stats['commands'] += 1
            self.check(name, args, rsp)
            if not waits:
                self.stats['timed'] += 1
                if moving:
                    self.stats['timed_while_moving'] += 1
                    self.lat_by_cmd.setdefault(name, []).append(ms)
                if moving and name not in SCALES_WITH_SIZE:
                    self.latencies.append(ms)
                    if ms > a.latency_ms:
                        self.stats['over_latency'] += 1
                        if (self.max_latency_cmd is None or
                                ms > self.max_latency_cmd[0]):
                            self.max_latency_cmd = (ms, name, args)
            if n % 5000 == 0 and n:
                print(f'qmp-fuzz: {n} commands, '
                      f'{time.monotonic() - self.t0:.0f} s', file=sys.stderr)
            if n % 64 == 0:
                self.stats['events'] += len(self.qmp.get_events())
                self.qmp.clear_events()
                rsp, _ = self.send('query-jobs', {})
                self.check('query-jobs', {}, rsp)
                self.stats['commands'] += 1
            if self.proc.poll() is not None:
                self.fail(f'QEMU exited ({self.proc.returncode}) after '
                          f'{name} {args!r}')
                break
        # Let the jobs end, with the guest completing what is left.
        deadline = time.monotonic() + 120
        self.guest.set_serving(True)
        while time.monotonic() < deadline:
            for jid in list(self.jobs):
                self.send('job-cancel', {'id': jid})
            self.guest.step(self.stats)
            rsp, _ = self.send('query-jobs', {})
            self.jobs = {j['id'] for j in rsp.get('return', [])
                         if j['status'] not in ('concluded', 'null')}
            for j in rsp.get('return', []):
                if j['status'] == 'concluded':
                    self.send('job-dismiss', {'id': j['id']})
            if not self.jobs:
                break
            time.sleep(0.05)
        if self.jobs:
            self.fail(f'jobs still running 120 s after the run: '
                      f'{sorted(self.jobs)}')


def main():
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('--commands', type=int, default=100000)
    p.add_argument('--seconds', type=float, default=0,
                   help='run for this long instead of --commands')
    p.add_argument('--seed', type=int, default=None)
    p.add_argument('--qemu', default=os.path.join(
        TOP, 'build', 'qemu-asan', 'qemu-system-x86_64'))
    p.add_argument('--latency-ms', type=float, default=100)
    p.add_argument('--reply-timeout', type=float, default=30)
    p.add_argument('--json', action='store_true')
    p.add_argument('--tap', action='store_true',
                   help='print one TAP result, the figures as comments')
    a = p.parse_args()
    if a.seed is None:
        a.seed = random.SystemRandom().getrandbits(32)
    if not os.access(a.qemu, os.X_OK):
        print(f'qmp-fuzz: no QEMU at {a.qemu}', file=sys.stderr)
        return 2
    os.environ.setdefault('ASAN_OPTIONS', 'detect_leaks=1')
    os.environ.setdefault('UBSAN_OPTIONS', 'print_stacktrace=1')
    # Upstream's own leaks, each with its reason (as for check-asan).
    os.environ.setdefault('LSAN_OPTIONS', 'print_suppressions=0:suppressions='
                          + os.path.join(TOP, 'scripts',
                                         'lsan-suppressions.txt'))
    f = Fuzzer(a)
    t0 = time.monotonic()
    f.start()
    try:
        f.run()
    except Exception as e:      # noqa: BLE001 - reported, then stop QEMU
        f.fail(str(e))
    f.stop()
    if f.stats['over_latency']:
        f.fail(f"{f.stats['over_latency']} replies took over "
               f'{a.latency_ms} ms while moves ran')
    lat = sorted(f.latencies)
    result = dict(f.stats, seed=a.seed, qemu=a.qemu,
                  seconds=round(time.monotonic() - t0, 1),
                  latency_ms_max=round(lat[-1], 2) if lat else None,
                  latency_ms_p99=round(lat[int(len(lat) * 0.99)], 2)
                  if lat else None,
                  latency_ms_median=round(lat[len(lat) // 2], 2)
                  if lat else None,
                  slowest=repr(f.max_latency_cmd)[:300],
                  latency_ms_max_by_command={
                      k: round(max(v), 2)
                      for k, v in sorted(f.lat_by_cmd.items())},
                  per_command=f.per_command, failures=len(f.failures))
    if a.json:
        print(json.dumps(result, indent=1))
    elif a.tap:
        print('1..1')
        for k, v in result.items():
            print(f'# {k}: {v}')
        for what in f.failures:
            print('# FAIL: ' + what.replace('\n', '\n# '))
        print(f"{'not ok' if f.failures else 'ok'} 1 qmp-fuzz "
              f"{result['commands']} commands, seed {a.seed}")
    else:
        for k, v in result.items():
            print(f'{k}: {v}')
    return 1 if f.failures else 0


if __name__ == '__main__':
    sys.exit(main())
