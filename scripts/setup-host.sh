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
    numactl gnuplot-nox jq socat
)
BPO_PKGS=(meson python3-pycotap qemu-system-data
          libvirt-daemon-system libvirt-clients
          libvirt-dev)

list_id=$(printf '%s\n' "${PKGS[@]}" "${BPO_PKGS[@]}" | sha1sum | cut -c1-12)
if [ -e "$stamp_dir/setup-$list_id" ]; then
    exit 0
fi

src=/etc/apt/sources.list.d/numa-migrator.sources
if [ ! -e "$src" ]; then
    $SUDO tee "$src" >/dev/null <<'SRC'
Types: deb-src
URIs: http://deb.debian.org/debian
Suites: bookworm bookworm-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb-src
URIs: http://deb.debian.org/debian-security
Suites: bookworm-security
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb deb-src
URIs: http://deb.debian.org/debian
Suites: bookworm-backports
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
SRC
fi

export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -q
$SUDO apt-get install -y -q --no-install-recommends "${PKGS[@]}"
$SUDO apt-get install -y -q --no-install-recommends -t bookworm-backports \
    "${BPO_PKGS[@]}"
touch "$stamp_dir/setup-$list_id"
