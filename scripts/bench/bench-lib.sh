# Shared by the benchmark scripts.
#
#   . scripts/bench/bench-lib.sh
#   debian_perf          prints the path of Debian's perf, downloaded once
#
# debian_perf: linux-perf from bookworm-backports (the 6.12 series, the
# test host's and the guest's kernel), unpacked into the cache.  A VM
# given it as a payload file gets its libraries too (vm_add_payload).
. "$(dirname "${BASH_SOURCE[0]}")/../deb-lib.sh"
debian_perf() {
    local perf=${XDG_CACHE_HOME:-$HOME/.cache}/numa-migrator/perf/perf
    deb_extract linux-perf/bookworm-backports ./usr/bin/perf "$perf" ||
        return 1
    chmod +x "$perf"
    echo "$perf"
}
