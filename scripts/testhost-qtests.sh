# Payload for the multi-node test host: run every qtest it was given.
# The backend tests need huge pages: a hugetlbfs mount (QTEST_HUGETLBFS)
# and 48 free 2 MiB pages on node 0 (they use 32).  Node 1 gets none, so
# that the moves there take the kernel's path that allocates huge pages
# on the target node.
rc=0
mkdir -p /dev/hugepages
mount -t hugetlbfs -o pagesize=2M none /dev/hugepages
echo 48 >/sys/devices/system/node/node0/hugepages/hugepages-2048kB/nr_hugepages
echo "# node0: $(cat /sys/devices/system/node/node0/hugepages/hugepages-2048kB/free_hugepages) free 2 MiB pages"
export QTEST_HUGETLBFS=/dev/hugepages
# A qtest-env file among the payload's sets the environment and
# QTEST_ARGS (test paths, for one): scripts/check-asan.sh sends one.
QTEST_ARGS=
[ -e ./qtest-env ] && . ./qtest-env
for t in ./*-test; do
    # shellcheck disable=SC2086
    QTEST_QEMU_BINARY=/usr/local/bin/qemu-system-x86_64 "$t" --tap -k \
        $QTEST_ARGS || rc=1
done
exit $rc
