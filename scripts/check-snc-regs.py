#!/usr/bin/env python3
"""Check that the SNC's register map is written the same way everywhere.

hw/mem/snc_regs.h owns the map: its SNC_REG_* macros are what the device,
the qtest and the guest programs use.  Its block comment and the table
in docs/design/snc.md repeat the map for readers.  This prints TAP, one
test per register: the offset, the name and the access type must agree
in all three, and the ID and VERSION values of the table must be the
header's.  The guest kernel driver's copy of the header
(drivers/misc/snc/snc_regs.h, created by a patch of guest-kernel/patches)
must be exactly what scripts/gen-snc-kernel-regs.py makes of the header.
make check runs it (scripts/check.sh).

usage: check-snc-regs.py [HEADER DOC [PATCH-DIR]]
"""
import glob
import importlib.util
import os
import re
import sys

top = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
header = sys.argv[1] if len(sys.argv) > 2 else f"{top}/hw/mem/snc_regs.h"
doc = sys.argv[2] if len(sys.argv) > 2 else f"{top}/docs/design/snc.md"
patches = sys.argv[3] if len(sys.argv) > 3 else f"{top}/guest-kernel/patches"
htext = open(header).read()
dtext = open(doc).read()

# The macros: name -> offset.
macros = {m[1]: int(m[2], 16) for m in
          re.finditer(r"^#define SNC_REG_(\w+)\s+(0x[0-9a-f]+)", htext, re.M)}
values = {m[1]: int(m[2], 16) for m in
          re.finditer(r"^#define SNC_(ID|VERSION)\s+(0x[0-9a-f]+)", htext,
                      re.M)}

# The block comment: " *   0x000 ID           RO 32  ..." -> (offset, access).
comment = {m[2]: (int(m[1], 16), m[3]) for m in
           re.finditer(r"^ \*   (0x[0-9a-f]{3}) ([A-Z_]+)\s+(RO|RW1C|RW|WO)\b",
                       htext, re.M)}

# The doc's table: "| 0x000 | ID | RO 32 | reset | meaning |".
table = {}
for m in re.finditer(r"^\| (0x[0-9a-f]{3}) \| ([A-Z_]+) \| (RO|RW1C|RW|WO)\b"
                     r"[^|]*\| ([^|]*)\|", dtext, re.M):
    table[m[2]] = (int(m[1], 16), m[3], m[4].strip())

# The end of BAR0 is a reserved range, not a register: both must say so.
reserved = macros.pop("RESERVED", None)


def offset(name):
    for where in (macros, comment, table):
        if name in where:
            v = where[name]
            return v if isinstance(v, int) else v[0]
    return 0


names = sorted(set(macros) | set(comment) | set(table), key=offset)
checks = []
for name in names:
    problems = []
    off = macros.get(name)
    if off is None:
        problems.append("no SNC_REG_%s macro in the header" % name)
    if name not in comment:
        problems.append("missing from the header's comment")
    elif off is not None and comment[name][0] != off:
        problems.append("header comment says 0x%03x, macro 0x%03x"
                        % (comment[name][0], off))
    if name not in table:
        problems.append("missing from the table in %s"
                        % os.path.relpath(doc, top))
    else:
        if off is not None and table[name][0] != off:
            problems.append("doc table says 0x%03x, macro 0x%03x"
                            % (table[name][0], off))
        if name in comment and table[name][1] != comment[name][1]:
            problems.append("doc table says %s, header comment %s"
                            % (table[name][1], comment[name][1]))
        if name in values and table[name][2] != "0x%08x" % values[name]:
            problems.append("doc table's value %s is not SNC_%s 0x%08x"
                            % (table[name][2], name, values[name]))
    checks.append(("%s at 0x%03x" % (name, offset(name)), problems))

span = "0x%03x-0xfff" % (reserved if reserved is not None else 0)
checks.append(("reserved at %s" % span,
               [] if reserved is not None and span in htext and
               ("| %s |" % span) in dtext
               else ["the header or the doc table lacks %s" % span]))



def kernel_copy(patch_dir, path):
    """The text that a patch of @patch_dir creates at @path, or None."""
    for patch in sorted(glob.glob(os.path.join(patch_dir, "*.patch"))):
        lines = open(patch).read().split("\n")
        for i, line in enumerate(lines):
            if line != "+++ b/" + path:
                continue
            body = []
            for hunk_line in lines[i + 2:]:
                if not hunk_line.startswith("+"):
                    break
                body.append(hunk_line[1:])
            return os.path.basename(patch), "\n".join(body) + "\n"
    return None


spec = importlib.util.spec_from_file_location(
    "gen", os.path.join(top, "scripts", "gen-snc-kernel-regs.py"))
gen = importlib.util.module_from_spec(spec)
spec.loader.exec_module(gen)
found = kernel_copy(patches, gen.KERNEL_PATH)
if found is None:
    problems = ["no patch in %s creates %s"
                % (os.path.relpath(patches, top), gen.KERNEL_PATH)]
else:
    want = gen.generate(htext)
    problems = []
    if found[1] != want:
        wl, fl = want.split("\n"), found[1].split("\n")
        for n, (a, b) in enumerate(zip(wl + [""] * len(fl),
                                       fl + [""] * len(wl)), 1):
            if a != b:
                problems.append("%s line %d is '%s', generated '%s'"
                                % (found[0], n, b, a))
                break
        problems.append("regenerate it with scripts/gen-snc-kernel-regs.py")
checks.append(("the kernel driver's %s is generated from the header"
               % gen.KERNEL_PATH, problems))

print("1..%d" % len(checks))
failed = 0
for i, (what, problems) in enumerate(checks, 1):
    if problems:
        failed += 1
        print("not ok %d - %s" % (i, what))
        for p in problems:
            print("# %s" % p)
    else:
        print("ok %d - %s" % (i, what))
sys.exit(1 if failed else 0)
