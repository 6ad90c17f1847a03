# One file out of a Debian package, fetched once into a cache.
#
#   . scripts/deb-lib.sh
#   deb_extract PKG MEMBER OUT
#
# Downloads PKG (say "linux-perf/bookworm-backports") with apt-get
# download, from the mirror of the host's own apt configuration, and
# writes the package's file MEMBER (a tar pattern, "./usr/bin/perf") to
# OUT.  Does nothing if OUT exists; fails, leaving no OUT, if the
# package cannot be downloaded or holds no such file.
deb_extract() {
    local pkg=$1 member=$2 out=$3 dl rc=0
    [ -e "$out" ] && return 0
    mkdir -p "$(dirname "$out")"
    dl=$(mktemp -d)
    if ! (cd "$dl" && apt-get download -q "$pkg" >/dev/null 2>&1); then
        echo "deb_extract: cannot download $pkg" >&2
        rc=1
    elif ! dpkg-deb --fsys-tarfile "$dl"/*.deb |
            tar -x -O --wildcards "$member" >"$out.tmp" ||
         [ ! -s "$out.tmp" ]; then
        echo "deb_extract: $pkg has no $member" >&2
        rc=1
    else
        mv "$out.tmp" "$out"
    fi
    rm -rf "$dl" "$out.tmp"
    return $rc
}
