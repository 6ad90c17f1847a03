#!/usr/bin/env bash
# Build the project's tools (top-level meson.build) into build/tools.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
export CCACHE_DIR=${CCACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/numa-migrator/ccache}
if [ ! -e "$top/build/tools/build.ninja" ]; then
    CC="ccache gcc" meson setup "$top/build/tools" "$top" >/dev/null
fi
ninja -C "$top/build/tools" >/dev/null
