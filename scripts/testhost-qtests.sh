# Payload for the multi-node test host: run every qtest it was given.
rc=0
for t in ./*-test; do
    QTEST_QEMU_BINARY=/usr/local/bin/qemu-system-x86_64 "$t" --tap -k || rc=1
done
exit $rc
