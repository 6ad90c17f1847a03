#!/usr/bin/env bash
# Build the kernel selftests the guest runs, as static binaries, from the
# patched tree that guest-kernel/build.sh extracted: upstream's
# selftests/mm/migration (the no-regression check) and the series'
# selftests/mm/next_touch.  Output:
# build/guest-kernel/selftests/.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
st=$top/build/linux-src/tools/testing/selftests
out=$top/build/guest-kernel/selftests
mkdir -p "$out"
[ -d "$st" ] || { echo "build-selftests: run guest-kernel/build.sh first" >&2; exit 1; }

build() {
    local name=$1
    shift
    ccache gcc -O2 -static -Wall -I"$st" -I"$st/mm" -o "$out/$name" "$@" \
        -lnuma -lpthread 2>&1 | grep -v "statically linked applications" |
        grep -v "affinity_ip" >&2 || true
    [ -x "$out/$name" ] || { echo "build-selftests: $name failed" >&2; exit 1; }
}

build migration "$st/mm/migration.c" "$st/mm/thp_settings.c"
build next_touch "$st/mm/next_touch.c"
