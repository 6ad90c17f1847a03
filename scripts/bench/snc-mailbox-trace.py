#!/usr/bin/env python3
"""Where each snc-guest-migrate request's time went, from QEMU's trace.

Reads the guest log of scripts/bench/snc-mailbox.sh run with
QEMU_TRACE=1 (snc_reg_write, handle_qmp_command and monitor_qmp_respond,
with -msg timestamp=on) and prints CSV, one row per command:

  form, bytes, requests, command to the first request taken (QMP, the
  interrupt, the server's wakeup), first taken to last completion
  written (the guest's work), last COMPLETE doorbell to the reply or the
  job's end event, and the whole, all in microseconds inside QEMU.
"""
import re
import sys

REQ_CONS, CMPL_ID, COMPLETE = 'addr=0x810', 'addr=0x840', 'addr=0x864'
LINE = re.compile(r'\d+@([\d.]+):(\w+) (.*)')


def main(path):
    print('form,bytes,requests,cmd_to_take_us,guest_us,complete_to_reply_us,'
          'total_us')
    cmd = None
    for line in open(path, errors='replace'):
        m = LINE.match(line)
        if not m:
            continue
        t, event, rest = float(m.group(1)), m.group(2), m.group(3)
        if event == 'handle_qmp_command' and 'snc-guest-migrate' in rest:
            cmd = {'t': t, 'form': 'job' if 'job-id' in rest else 'wait',
                   'bytes': sum(map(int, re.findall(r'"size": (\d+)', rest))),
                   'taken': [], 'cmpl': [], 'done': None}
        elif not cmd:
            continue
        elif event == 'snc_reg_write' and REQ_CONS in rest:
            cmd['taken'].append(t)
        elif event == 'snc_reg_write' and CMPL_ID in rest:
            cmd['cmpl'].append(t)
        elif event == 'snc_reg_write' and COMPLETE in rest:
            cmd['done'] = t
        elif event == 'monitor_qmp_respond' and (
                ('"return"' in rest and cmd['form'] == 'wait') or
                'SNC_GUEST_MIGRATE_JOB_COMPLETED' in rest):
            if cmd['taken'] and cmd['cmpl'] and cmd['done']:
                us = lambda a, b: round((b - a) * 1e6)
                print(f"{cmd['form']},{cmd['bytes']},{len(cmd['taken'])},"
                      f"{us(cmd['t'], cmd['taken'][0])},"
                      f"{us(cmd['taken'][0], cmd['cmpl'][-1])},"
                      f"{us(cmd['done'], t)},{us(cmd['t'], t)}")
            cmd = None


if __name__ == '__main__':
    main(sys.argv[1])
