#!/bin/bash
# test-files.sh TRANSPORT -- non-regular files (issue #19 item 5): a FIFO
# (or a directory) at the group file's path makes `flockctl show` and
# `flockctl check` fail at once with "not a regular file", and a FIFO given
# to flockd -c (start-up or --check) is refused the same way; nothing
# waits for a writer. Each command runs under a 20 s timeout (124 = it
# blocked).
. "$(dirname "$0")/hard-lib.sh"
TR=${1:-tcp}
command -v mkfifo > /dev/null || skip "no mkfifo on this machine"
mkfifo "$WORK/fifo" || skip "cannot create a FIFO in $WORK"
mkdir "$WORK/dir"
run() { # EXPECTED-TEXT COMMAND... : must fail quickly, saying EXPECTED-TEXT
    local want=$1
    shift
    timeout 20 "$@" > "$WORK/out" 2>&1
    local rc=$?
    [ "$rc" -ne 124 ] || fail "$* blocked on a non-regular file"
    [ "$rc" -ne 0 ] || fail "$* accepted a non-regular file"
    grep -q "$want" "$WORK/out" || fail "$* said: $(cat "$WORK/out")"
    note "$(basename "$1") $2: $(grep -m1 "$want" "$WORK/out")"
}
for cmd in show check; do
    run "not a regular file (a FIFO)" "$FLOCK_CLI" $cmd "$WORK/fifo"
    run "not a regular file (a directory)" "$FLOCK_CLI" $cmd "$WORK/dir"
done
listen=$TR
[ "$TR" = tcp ] && listen=tcp://127.0.0.1:0
run "not a regular file (a FIFO)" "$FLOCKD" "$listen" -c "$WORK/fifo"
run "not a regular file (a FIFO)" "$FLOCKD" --check -c "$WORK/fifo"
run "not a regular file (a directory)" "$FLOCKD" --check -c "$WORK/dir"
echo PASS
