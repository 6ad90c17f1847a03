#!/usr/bin/env bash
# Build the kernel selftests the guest runs, as static binaries, from the
# patched tree that guest-kernel/build.sh extracted: upstream's
# selftests/mm/migration (the no-regression check) and the series'
# selftests/page_migrate and selftests/mm/next_touch.  Output:
# build/guest-kernel/selftests/.
#
# Also builds static copies of the guest programs (the top-level meson
# build with -Dstatic_tools=true: tools/page_migrate, the guest
# benchmarks of tools/bench and the policy engine's scenario workload
# tools/scenario/phase-shift) into build/guest-kernel/tools/, for the
# payloads that use them (scripts/page-migrate-tools-payload.sh,
# scripts/bench/migrate-calls.sh, scripts/bench/next-touch.sh,
# scripts/policy-e2e.sh); they are
# not selftests, so they stay out of selftests/.
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

# Static guest programs.
tools=$top/build/guest-kernel/tools
"$top/scripts/build-tools.sh" --static
mkdir -p "$tools"
for t in page_migrate/{ph,v,vmig,victim,migstat} \
         bench/{migrate-calls-bench,next-touch-bench} scenario/phase-shift; do
    cp "$top/build/tools-static/tools/$t" "$tools/"
done
