# Guest payload: the page_migrate demo tools, end to end, as TAP.
#   scripts/guest-run.sh 2 scripts/page-migrate-tools-payload.sh build/guest-kernel/tools/*
n=0 rc=0
t() {
    n=$((n + 1))
    if "$@"; then echo "ok $n - $*"; else echo "not ok $n - $*"; rc=1; fi
}
t ./v --pages 256
t ./ph --pages 1024 --from 0 --to 1
t ./ph --pages 16 --from 1 --to 0 --json
./victim --pages 512 --node 0 --seconds 30 >/tmp/victim.out &
vpid=$!
sleep 1
cat /tmp/victim.out
set -- $(sed 's/[a-z]*=//g' /tmp/victim.out)
t ./vmig "$1" "$2" "$3" 1
t ./vmig --json "$1" "$2" "$3" 0
kill "$vpid"
wait "$vpid"
[ $? -eq 143 ] || { echo "not ok - victim saw its contents change"; rc=1; }
t ./migstat
t ./migstat --json --all
echo "1..$n"
exit $rc
