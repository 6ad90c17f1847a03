#!/usr/bin/env bash
# Build the project's tools (top-level meson.build) into build/tools, or
# with --static, linked statically for the guest image, into
# build/tools-static (meson -Dstatic_tools=true).  Warnings are errors.
#
#   scripts/build-tools.sh [--static]
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
case ${1:-} in
"") dir=$top/build/tools opts=() ;;
--static) dir=$top/build/tools-static opts=(-Dstatic_tools=true) ;;
*) echo "usage: scripts/build-tools.sh [--static]" >&2; exit 2 ;;
esac
export CCACHE_DIR=${CCACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/numa-migrator/ccache}
if [ ! -e "$dir/build.ninja" ]; then
    CC="ccache gcc" meson setup "$dir" "$top" "${opts[@]}" >/dev/null
fi
# The static link's warnings about glibc's NSS functions in GLib are
# expected; a failed compile or link still fails the build.
ninja -C "$dir" >"$dir/ninja.log" || { cat "$dir/ninja.log" >&2; exit 1; }
