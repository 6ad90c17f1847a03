#!/usr/bin/env bash
# Write the x86 boot sector of QEMU's migration-test (a guest that
# increments the first byte of every page from 1 MiB to 100 MiB, forever)
# to FILE, from the header in the built QEMU tree.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
python3 - "$top/build/qemu-src/tests/qtest/migration/i386/a-b-bootblock.h" "$1" <<'PY'
import re, sys
text = open(sys.argv[1]).read().split("{", 1)[1]
data = bytes(int(b, 16) for b in re.findall(r"0x([0-9a-fA-F]{2})", text))
open(sys.argv[2], "wb").write(data)
PY
