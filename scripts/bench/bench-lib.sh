# Shared by the benchmark scripts.
#
#   . scripts/bench/bench-lib.sh
#   debian_perf          prints the path of Debian's perf, downloaded once
#
# debian_perf: linux-perf from bookworm-backports (the 6.12 series, the
# test host's and the guest's kernel), unpacked into the cache.  A VM
# given it as a payload file gets its libraries too (vm_add_payload).
debian_perf() {
    local cache=${XDG_CACHE_HOME:-$HOME/.cache}/numa-migrator/perf deb
    if [ ! -x "$cache/perf" ]; then
        rm -rf "$cache" && mkdir -p "$cache/dl"
        (cd "$cache/dl" && apt-get download -q linux-perf/bookworm-backports \
             >/dev/null 2>&1)
        deb=$(ls "$cache"/dl/linux-perf_*.deb)
        dpkg-deb --fsys-tarfile "$deb" | tar -x -O ./usr/bin/perf >"$cache/perf.tmp"
        chmod +x "$cache/perf.tmp" && mv "$cache/perf.tmp" "$cache/perf"
        rm -rf "$cache/dl"
    fi
    echo "$cache/perf"
}
