# Guest payload for scripts/bench/migrate-calls.sh: the migrate-calls
# benchmark, its CSV lines prefixed "csv," on the console.
./migstat | sed 's/^/# before: /'
./migrate-calls-bench --reps "${REPS:-5}" --max-bytes "${MAX_BYTES:-67108864}" \
    >/tmp/bench.csv
rc=$?
sed 's/^/csv,/' /tmp/bench.csv
./migstat | sed 's/^/# after: /'
exit $rc
