#!/usr/bin/env bash
# Build the kernel selftests the guest runs, as static binaries, from the
# patched tree that guest-kernel/build.sh extracted, with kselftest's own
# make (tools/testing/selftests/mm/Makefile, which links vm_util.c and
# libnuma): upstream's mm/migration (the no-regression check) and the
# series' mm/next_touch and mm/page_migrate.  The series' uapi headers come
# from `make headers` of the same tree.  Output:
# build/guest-kernel/selftests/.
#
# Also builds static copies of the guest programs (the top-level meson
# build with -Dstatic_tools=true: tools/page_migrate, the guest
# benchmarks of tools/bench, the policy engine's scenario workload
# tools/scenario/phase-shift and the SNC mailbox test's
# tools/snc/snc-mailbox-guest) into build/guest-kernel/tools/, for the
# payloads that use them (scripts/page-migrate-tools-payload.sh,
# scripts/bench/migrate-calls.sh, scripts/bench/next-touch.sh,
# scripts/policy-e2e.sh, scripts/snc-mailbox-e2e.sh); they are
# not selftests, so they stay out of selftests/.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
src=$top/build/linux-src
st=$src/tools/testing/selftests
out=$top/build/guest-kernel/selftests
hdr=$top/build/linux-headers
[ -d "$st" ] || { echo "build-selftests: run guest-kernel/build.sh first" >&2; exit 1; }

export CCACHE_DIR=${CCACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/numa-migrator/ccache}

# The series' uapi headers (linux/page_migrate.h, the MADV_ values),
# installed apart from libc's.
make -s -C "$src" O="$hdr" ARCH=x86_64 headers

# Only the guest's tests: the whole mm directory needs liburing, 32-bit
# libraries and more, and its other tests do not run in the guest.
tests=(migration next_touch page_migrate)
rm -rf "$out"
mkdir -p "$out"
make -s -C "$st/mm" OUTPUT="$out" CC="ccache gcc" LDFLAGS=-static \
    KHDR_INCLUDES="-isystem $hdr/usr/include" "${tests[@]/#/$out/}"
for t in "${tests[@]}"; do
    [ -x "$out/$t" ] || { echo "build-selftests: $t failed" >&2; exit 1; }
done

# Static guest programs.
tools=$top/build/guest-kernel/tools
"$top/scripts/build-tools.sh" --static
mkdir -p "$tools"
for t in page_migrate/{ph,v,vmig,victim,migstat} \
         bench/{migrate-calls-bench,next-touch-bench} scenario/phase-shift \
         snc/snc-mailbox-guest soak/next-touch-stress; do
    cp "$top/build/tools-static/tools/$t" "$tools/"
done
