#!/bin/bash
# test-fds.sh TRANSPORT -- file-descriptor exhaustion (issue #19 item 1).
# A flockd member under `ulimit -n 64` faces 200 clients that connect and
# hold their sockets for 8 s. Required: it does not spin (CPU under 40 %
# of one core during the flood), its log stays under 1 MB, it answers
# `flockctl check` during the flood (idle connections are shed) or at the
# latest within 1 s (3 s with slack for a loaded machine) after the
# clients leave, its fds return to their idle count, and one SIGTERM ends it.
. "$(dirname "$0")/hard-lib.sh"
TR=${1:-tcp}
start_member "$TR" 64
base_fds=$(ls "/proc/$MPID/fd" | wc -l)

"$HARD_PEER" hold "$ADDR" 200 8 > "$WORK/peer.out" &
PEER=$!
PIDS="$PIDS $PEER"
sleep 2
c0=$(cpu_ticks "$MPID")
sleep 3
c1=$(cpu_ticks "$MPID")
hz=$(getconf CLK_TCK)
cpu=$(( (c1 - c0) * 100 / (3 * hz) ))
during=fail
check_ok 3000 && during=ok
note "during the flood: cpu ${cpu}% of a core, flockctl check: $during, log $(log_bytes) B"
wait "$PEER"
cat "$WORK/peer.out"
ms=$(recover_ms 3000)
note "after the flood: flockctl check answered in ${ms} ms"
for _ in $(seq 100); do
    [ "$(ls "/proc/$MPID/fd" | wc -l)" -le $((base_fds + 2)) ] && break
    sleep 0.1
done
fds=$(ls "/proc/$MPID/fd" | wc -l)
[ "$fds" -le $((base_fds + 2)) ] || fail "fds not reaped: $fds open, $base_fds at start"
bytes=$(log_bytes)
note "log: $bytes bytes, $(grep -c 'out of file descriptors' "$LOG") fd-exhaustion line(s); fds $fds (start $base_fds)"
[ "$cpu" -lt 40 ] || fail "the member spins: ${cpu}% of a core during the flood"
[ "$bytes" -lt 1000000 ] || fail "log grew to $bytes bytes"
stop_member
echo "RESULT fds $TR: cpu=${cpu}% during=$during recover_ms=$ms log_bytes=$bytes"
echo PASS
