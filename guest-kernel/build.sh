#!/usr/bin/env bash
# Build the guest kernel: Debian's linux-source-6.12 with the project's
# series (guest-kernel/patches, git format-patch), tinyconfig plus
# numa-guest.config (and numa-guest-debug.config with --debug, and
# numa-guest-kasan.config too with --kasan), with ccache.  Produces
# build/guest-kernel/bzImage (or bzImage-debug, bzImage-kasan).
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
variant=release
case ${1:-} in
--debug) variant=debug ;;
--kasan) variant=kasan ;;
esac
src=$top/build/linux-src
obj=$top/build/linux-$variant
out=$top/build/guest-kernel
tarball=/usr/src/linux-source-6.12.tar.xz
mkdir -p "$out"

export CCACHE_DIR=${CCACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/numa-migrator/ccache}
export CCACHE_BASEDIR=$top
export CCACHE_NOHASHDIR=1
# Reproducible objects, so ccache hits across fresh trees.
export KBUILD_BUILD_TIMESTAMP="2026-01-01" KBUILD_BUILD_USER=numa KBUILD_BUILD_HOST=migrator

series_id=$( (stat -c '%s %Y' "$tarball"
              cat "$top"/guest-kernel/patches/*.patch 2>/dev/null || true) |
            sha1sum | cut -c1-12)
if [ "$(cat "$src/.numa-migrator-series" 2>/dev/null)" != "$series_id" ]; then
    rm -rf "$src" "$src.tmp" "$top"/build/linux-release "$top"/build/linux-debug \
        "$top"/build/linux-kasan
    mkdir -p "$src.tmp"
    tar -C "$src.tmp" -xf "$tarball"
    mv "$src.tmp"/linux-source-6.12 "$src"
    rmdir "$src.tmp"
    for p in "$top"/guest-kernel/patches/*.patch; do
        [ -e "$p" ] || continue
        # git format-patch --cover-letter: not a patch.
        [ "$(basename "$p")" = 0000-cover-letter.patch ] && continue
        patch -s -d "$src" -p1 <"$p"
    done
    echo "$series_id" >"$src/.numa-migrator-series"
fi

fragments=("$top/guest-kernel/numa-guest.config")
[ "$variant" != release ] && fragments+=("$top/guest-kernel/numa-guest-debug.config")
[ "$variant" = kasan ] && fragments+=("$top/guest-kernel/numa-guest-kasan.config")
cfg_id=$(cat "${fragments[@]}" | sha1sum | cut -c1-12)
if [ "$(cat "$obj/.numa-migrator-config" 2>/dev/null)" != "$cfg_id" ]; then
    mkdir -p "$obj"
    make -s -C "$src" O="$obj" ARCH=x86_64 tinyconfig >/dev/null
    (cd "$src" && KCONFIG_CONFIG="$obj/.config" \
        scripts/kconfig/merge_config.sh -m -O "$obj" "$obj/.config" "${fragments[@]}" \
        >"$obj/merge_config.log")
    make -s -C "$src" O="$obj" ARCH=x86_64 olddefconfig >/dev/null
    # Every option of the fragments must have survived olddefconfig.
    missing=$(cat "${fragments[@]}" | grep -E '^CONFIG_[A-Z0-9_]+=y' | while read -r l; do
                  grep -qx "$l" "$obj/.config" || echo "$l"
              done)
    if [ -n "$missing" ]; then
        echo "guest-kernel: options lost by olddefconfig:" $missing >&2
        exit 1
    fi
    echo "$cfg_id" >"$obj/.numa-migrator-config"
fi

make -s -C "$src" O="$obj" ARCH=x86_64 CC="ccache gcc" -j"$(nproc)" bzImage
name=bzImage
[ "$variant" != release ] && name=bzImage-$variant
cp "$obj/arch/x86/boot/bzImage" "$out/$name"
echo "guest-kernel: $(make -s -C "$src" kernelversion) -> build/guest-kernel/$name"
