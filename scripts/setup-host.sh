#!/usr/bin/env bash
# Prepare a Debian 12 (bookworm) host for building and testing the project:
# apt sources (bookworm deb-src, bookworm-backports deb and deb-src) and the
# packages the build, the tests and the benchmarks need.  Idempotent; a
# stamp file skips the apt work when the package list has not changed.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
stamp_dir=${NUMA_MIGRATOR_CACHE:-/var/cache/numa-migrator}
mkdir -p "$stamp_dir"

SUDO=
[ "$(id -u)" -eq 0 ] || SUDO=sudo

PKGS=(
    # QEMU build
    build-essential ccache ninja-build pkg-config flex bison
    libglib2.0-dev libpixman-1-dev libnuma-dev libfdt-dev zlib1g-dev
    libslirp-dev python3-venv python3-setuptools dpkg-dev devscripts quilt
    seabios ipxe-qemu
    # guest kernel and images
    bc libelf-dev libssl-dev cpio busybox-static xz-utils kmod
    linux-source-6.12
    # tools, benchmarks
    numactl gnuplot-nox jq socat libjson-glib-dev
    # profiles: perf on the host (next-touch-tcg-profile.sh), and the
    # library that bookworm-backports' perf, put into the test host by
    # guest-memory-move.sh PROFILE=1, links
    linux-perf libtraceevent1
    # the SNC's generic-fuzz build (scripts/build-qemu.sh --fuzz)
    clang-16 libclang-rt-16-dev libfuzzer-16-dev
)
BPO_PKGS=(meson python3-pycotap qemu-system-data
          libvirt-daemon-system libvirt-clients
          libvirt-dev)

list_id=$(printf '%s\n' "${PKGS[@]}" "${BPO_PKGS[@]}" | sha1sum | cut -c1-12)

# The project's apt sources come from the mirror this host already uses:
# apt itself names the URI behind each configured suite, so a host that
# points at another mirror keeps using it.  Nothing here names a host.
repo_uri() {
    apt-get indextargets --no-release-info \
        --format '$(RELEASE) $(TARGET_OF) $(REPO_URI)' 2>/dev/null |
        awk -v suite="$1" '$1 == suite && $2 == "deb" { print $3; exit }'
}
main_uri=$(repo_uri bookworm)
security_uri=$(repo_uri bookworm-security)
if [ -z "$main_uri" ]; then
    echo "setup-host: no 'deb' source for bookworm in this host's apt" \
         "configuration; add one (see sources.list(5)) and rerun" >&2
    exit 1
fi
keyring=/usr/share/keyrings/debian-archive-keyring.gpg

src=/etc/apt/sources.list.d/numa-migrator.sources
want=$(
    printf 'Types: deb-src\nURIs: %s\nSuites: bookworm bookworm-updates\n' \
        "$main_uri"
    printf 'Components: main\nSigned-By: %s\n\n' "$keyring"
    if [ -n "$security_uri" ]; then
        printf 'Types: deb-src\nURIs: %s\nSuites: bookworm-security\n' \
            "$security_uri"
        printf 'Components: main\nSigned-By: %s\n\n' "$keyring"
    fi
    printf 'Types: deb deb-src\nURIs: %s\nSuites: bookworm-backports\n' \
        "$main_uri"
    printf 'Components: main\nSigned-By: %s\n' "$keyring"
)
if [ "$(cat "$src" 2>/dev/null)" != "$want" ]; then
    printf '%s\n' "$want" | $SUDO tee "$src" >/dev/null
    rm -f "$stamp_dir"/setup-*
fi

if [ -e "$stamp_dir/setup-$list_id" ]; then
    exit 0
fi

export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -q
$SUDO apt-get install -y -q --no-install-recommends "${PKGS[@]}"
$SUDO apt-get install -y -q --no-install-recommends -t bookworm-backports \
    "${BPO_PKGS[@]}"
touch "$stamp_dir/setup-$list_id"
