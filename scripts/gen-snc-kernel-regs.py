#!/usr/bin/env python3
"""Generate the guest kernel driver's copy of the SNC register map.

hw/mem/snc_regs.h owns the map.  The guest kernel's SNC driver
(drivers/misc/snc/snc_regs.h in the guest-kernel series) takes a
generated copy of it, the way QEMU imports Linux's headers into
include/standard-headers, in the other direction.  The copy is the
header with only what the kernel's coding style needs changed:

  - the SPDX tag moves to the first line, as a kernel header has it;
  - a line says that the file is generated, and from what;
  - the include guard HW_MEM_SNC_REGS_H becomes _MISC_SNC_REGS_H;
  - "(1u << N)" becomes "BIT(N)" (with <linux/bits.h>), a bare
    "unsigned" cast "unsigned int", and code lines indented with
    spaces are indented with tabs, as checkpatch --strict asks.

Every offset, value and comment stays as it is.  check-snc-regs.py
fails when the copy in guest-kernel/patches differs from this output.

usage: gen-snc-kernel-regs.py [HEADER]   (prints the copy on stdout)
"""
import os
import re
import sys

top = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
KERNEL_PATH = "drivers/misc/snc/snc_regs.h"


def generate(text):
    lines = text.split("\n")
    spdx = None
    out = []
    for i, line in enumerate(lines):
        m = re.match(r"^ \* SPDX-License-Identifier: (.*)$", line)
        if m:
            spdx = m[1]
            # Drop the blank comment line before the tag as well.
            if out and out[-1] == " *":
                out.pop()
            continue
        out.append(line)
    if spdx is None:
        raise SystemExit("gen-snc-kernel-regs: no SPDX tag in the header")
    body = "\n".join(out)
    body = body.replace("HW_MEM_SNC_REGS_H", "_MISC_SNC_REGS_H")
    body = re.sub(r"\(1u << (\d+)\)", r"BIT(\1)", body)
    body = body.replace("(unsigned)", "(unsigned int)")
    # Code lines indented with spaces: tabs, as the kernel indents.
    lines = []
    for line in body.split("\n"):
        m = re.match(r"^( +)(\S.*)$", line)
        if m and not m[2].startswith("*"):
            n = len(m[1])
            line = "\t" * max(n // 8, 1) + " " * (n % 8 if n >= 8 else 0) \
                + m[2]
        lines.append(line)
    body = "\n".join(lines)
    guard = "#define _MISC_SNC_REGS_H\n"
    body = body.replace(guard, guard + "\n#include <linux/bits.h>\n", 1)
    head = ("/* SPDX-License-Identifier: %s */\n"
            "/*\n"
            " * Generated from QEMU's hw/mem/snc_regs.h by\n"
            " * scripts/gen-snc-kernel-regs.py: do not edit.\n"
            " */\n" % spdx)
    return head + body


def main():
    header = sys.argv[1] if len(sys.argv) > 1 else \
        f"{top}/hw/mem/snc_regs.h"
    sys.stdout.write(generate(open(header).read()))


if __name__ == "__main__":
    main()
