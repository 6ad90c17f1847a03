#!/usr/bin/env bash
# Build the project's QEMU: Debian's 10.0.x source from bookworm-backports,
# Debian's patch series, the project's patch series (qemu/patches) and the
# overlay (hw/mem, qapi, tests/qtest, tests/data).  Produces build/qemu-system-x86_64
# and the project's qtests in build/qemu/tests/qtest/.
#
# Incremental: the source tree is re-extracted only when the patch series
# changes; overlay files are copied only when their content changed, so a
# rebuild recompiles just what was edited.
#
# --asan builds the same tree with AddressSanitizer (LeakSanitizer
# included) and UndefinedBehaviorSanitizer into build/qemu-asan instead,
# for scripts/check-asan.sh.  --fuzz builds QEMU's libFuzzer target
# (qemu-fuzz-x86_64, with ASan) with clang 16 into build/qemu-fuzz, for
# scripts/fuzz-snc.sh.
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
cache=${XDG_CACHE_HOME:-$HOME/.cache}/numa-migrator
src=$top/build/qemu-src
bld=$top/build/qemu
variant=
case "${1:-}" in
--asan|--fuzz)
    variant=${1#--}
    bld=$top/build/qemu-$variant
    ;;
esac
mkdir -p "$cache/qemu-dl" "$top/build"

export CCACHE_DIR=${CCACHE_DIR:-$cache/ccache}
export CCACHE_BASEDIR=$top
export CCACHE_NOHASHDIR=1
export CCACHE_MAXSIZE=${CCACHE_MAXSIZE:-5G}

# Everything that shapes the extracted tree; a change means a new extract.
# Bump tree_layout when extract_source() changes what it produces.
tree_layout=1
series_id=$( (echo "$tree_layout"; cat "$top"/qemu/patches/*.patch \
              "$top"/qemu/fallback-patches/*.patch) | sha1sum | cut -c1-12)

fetch_source() {
    cd "$cache/qemu-dl"
    # Only the orig tarball is needed for the fallback; the .dsc and the
    # Debian diff give us Debian's own series.  The mirror has been seen to
    # serve the tarball but not the diff, so do not treat that as fatal.
    apt-get source -q --download-only qemu/bookworm-backports \
        >"$cache/qemu-dl/fetch.log" 2>&1 || true
    ls qemu_10.0.*.orig.tar.xz >/dev/null 2>&1 || {
        cat "$cache/qemu-dl/fetch.log" >&2
        echo "build-qemu: could not fetch the QEMU 10.0 source" >&2
        exit 1
    }
}

extract_source() {
    local dsc orig ver
    rm -rf "$src" "$src.tmp"
    mkdir -p "$src.tmp"
    dsc=$(ls "$cache"/qemu-dl/qemu_10.0.*~bpo12*.dsc 2>/dev/null | tail -n1 || true)
    orig=$(ls "$cache"/qemu-dl/qemu_10.0.*.orig.tar.xz | tail -n1)
    if [ -n "$dsc" ] && ls "$cache"/qemu-dl/qemu_10.0.*.debian.tar.xz >/dev/null 2>&1; then
        dpkg-source --no-check -x "$dsc" "$src.tmp/tree" >/dev/null
        echo "debian $(basename "$dsc" .dsc) ($(wc -l <"$src.tmp/tree/debian/patches/series") patches)" \
            >"$src.tmp/tree/.numa-migrator-origin"
    else
        tar -C "$src.tmp" -xf "$orig"
        mv "$src.tmp"/qemu-10.0.* "$src.tmp/tree"
        for p in "$top"/qemu/fallback-patches/*.patch; do
            patch -s -d "$src.tmp/tree" -p1 <"$p"
        done
        echo "orig $(basename "$orig") (Debian diff unavailable from the mirror; project fallback patches applied)" \
            >"$src.tmp/tree/.numa-migrator-origin"
    fi
    for p in "$top"/qemu/patches/*.patch; do
        [ -e "$p" ] || continue
        patch -s -d "$src.tmp/tree" -p1 <"$p"
    done
    echo "$series_id" >"$src.tmp/tree/.numa-migrator-series"
    mv "$src.tmp/tree" "$src"
    rm -rf "$src.tmp" "$top/build/qemu" "$top/build/qemu-asan" \
        "$top/build/qemu-fuzz"
}

overlay() {
    # Copy the project's files over the tree, touching only changed ones.
    local f
    local dirs=()
    for f in hw qapi tests/qtest tests/data; do
        [ -d "$top/$f" ] && dirs+=("$f")
    done
    [ ${#dirs[@]} -gt 0 ] || return 0
    (cd "$top" && find "${dirs[@]}" -type f) | while read -r f; do
        if ! cmp -s "$top/$f" "$src/$f"; then
            mkdir -p "$(dirname "$src/$f")"
            cp "$top/$f" "$src/$f"
        fi
    done
}

if [ "$(cat "$src/.numa-migrator-series" 2>/dev/null)" != "$series_id" ]; then
    fetch_source
    extract_source
fi
overlay
echo "build-qemu: QEMU $(cat "$src/VERSION") from $(cat "$src/.numa-migrator-origin")"

configure_args=(
    --target-list=x86_64-softmmu
    --python=/usr/bin/python3
    --cc="ccache gcc" --cxx="ccache g++"
    --enable-numa --enable-tcg --enable-kvm --enable-werror
    --enable-vnc --enable-slirp
    --without-default-devices
    --with-devices-x86_64=numa-migrator
    --firmwarepath=/usr/share/seabios:/usr/lib/ipxe/qemu:/usr/share/qemu
    --disable-install-blobs
    --disable-docs --disable-tools --disable-guest-agent
    --disable-gtk --disable-sdl --disable-opengl
    --disable-spice --disable-curses --disable-xen --disable-plugins
    --disable-png --disable-gnutls --disable-nettle
    --disable-gcrypt --disable-libusb --disable-usb-redir
    --disable-virglrenderer --disable-capstone --disable-libudev
    --disable-pipewire --disable-pa --disable-alsa --disable-oss
    --disable-jack --disable-sndio --disable-dbus-display
    --disable-linux-io-uring --disable-zstd --disable-bzip2
)
targets=(qemu-system-x86_64)
for t in "$top"/tests/qtest/*-test.c; do
    [ -e "$t" ] && targets+=("tests/qtest/$(basename "$t" .c)")
done
case "$variant" in
asan)
    configure_args+=(--enable-asan --enable-ubsan)
    ;;
fuzz)
    # libFuzzer needs clang; ccache still caches clang's objects.
    configure_args=("${configure_args[@]/#--cc=*/--cc=ccache clang-16}")
    configure_args=("${configure_args[@]/#--cxx=*/--cxx=ccache clang++-16}")
    configure_args+=(--enable-fuzzing --enable-asan)
    targets=(qemu-fuzz-x86_64)
    ;;
esac
# Reconfigure from scratch when the configure line changes.
if [ "$(cat "$bld/.configure-args" 2>/dev/null)" != "${configure_args[*]}" ]; then
    rm -rf "$bld"
    mkdir -p "$bld"
    (cd "$bld" && "$src/configure" "${configure_args[@]}" \
        >"$bld/configure.log" 2>&1) || { tail -30 "$bld/configure.log"; exit 1; }
    echo "${configure_args[*]}" >"$bld/.configure-args"
fi

ninja -C "$bld" "${targets[@]}"
if [ -z "$variant" ]; then
    ln -sf qemu/qemu-system-x86_64 "$top/build/qemu-system-x86_64"
fi

# Run from the build tree, QEMU looks for firmware under qemu-bundle/ plus
# the configured firmware path: point that at Debian's seabios and ipxe.
for d in /usr/share/seabios /usr/lib/ipxe/qemu /usr/share/qemu; do
    mkdir -p "$bld/qemu-bundle$(dirname "$d")"
    ln -sfn "$d" "$bld/qemu-bundle$d"
done
