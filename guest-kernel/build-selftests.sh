#!/usr/bin/env bash
# Build the kernel selftests the guest runs, as static binaries, from the
# patched tree that guest-kernel/build.sh extracted: upstream's
# selftests/mm/migration (the no-regression check) and the series'
# selftests/page_migrate and selftests/mm/next_touch.  Output:
# build/guest-kernel/selftests/.
#
# Also builds static copies of the page_migrate tools (tools/page_migrate,
# with meson -Dstatic_tools=true) into build/guest-kernel/tools/, for
# payloads that use them (scripts/bench/migrate-calls.sh); they are not
# selftests, so they stay out of selftests/.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
st=$top/build/linux-src/tools/testing/selftests
out=$top/build/guest-kernel/selftests
mkdir -p "$out"
[ -d "$st" ] || { echo "build-selftests: run guest-kernel/build.sh first" >&2; exit 1; }

# The series' uapi headers, without installing the whole set over libc's.
uapi=$top/build/guest-kernel/uapi
mkdir -p "$uapi/linux"
cp "$top/build/linux-src/include/uapi/linux/page_migrate.h" "$uapi/linux/"

build() {
    local name=$1
    shift
    rm -f "$out/$name"
    ccache gcc -O2 -static -Wall -I"$st" -I"$st/mm" -I"$uapi" -o "$out/$name" "$@" \
        -lnuma -lpthread 2>&1 | grep -v "statically linked applications" |
        grep -v "affinity_ip" >&2 || true
    [ -x "$out/$name" ] || { echo "build-selftests: $name failed" >&2; exit 1; }
}

build migration "$st/mm/migration.c" "$st/mm/thp_settings.c"
build next_touch "$st/mm/next_touch.c"
build page_migrate_test "$st/page_migrate/page_migrate_test.c"

# Static page_migrate tools for the guest.
tools=$top/build/guest-kernel/tools
export CCACHE_DIR=${CCACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/numa-migrator/ccache}
if [ ! -e "$top/build/tools-static/build.ninja" ]; then
    CC="ccache gcc" meson setup "$top/build/tools-static" "$top" \
        -Dstatic_tools=true >/dev/null
fi
ninja -C "$top/build/tools-static" >/dev/null
mkdir -p "$tools"
for t in ph v vmig victim migstat migrate-calls-bench; do
    cp "$top/build/tools-static/tools/page_migrate/$t" "$tools/"
done
