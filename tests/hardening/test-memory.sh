#!/bin/bash
# test-memory.sh TRANSPORT -- memory caps (issue #19 item 2).
#  1. 40 connections each send a hello and most of a 16 MiB request frame
#     and hold it: the member's peak RSS stays under its input budget
#     (64 MiB by default) plus 64 MiB of slack, and it still answers.
#  2. the same against a keyed member without a hello first (and with a
#     forged one): nothing but a hello is buffered before the key is
#     proven, so the peak RSS stays under 64 MiB.
#  3. 6 peers send 60k flock_get_view requests each and never read a reply
#     (FRT_OUTPUT_BUDGET=4M, FRT_INPUT_BUDGET=16M: requests queued for a
#     handler count too): they are cut off, each with at most one log
#     line, the peak RSS stays under 64 MiB, and the member still answers.
. "$(dirname "$0")/hard-lib.sh"
TR=${1:-tcp}
MIB=1024

# bigframe: hello + 16 MiB - 64 bytes announced, all but 4 KiB sent, held 4 s
start_member "$TR" 0
base=$(rss_kb "$MPID")
"$HARD_PEER" bigframe "$ADDR" 40 $((16 * 1024 * 1024 - 64)) 4 > "$WORK/peer.out"
cat "$WORK/peer.out"
hwm=$(hwm_kb "$MPID")
check_ok 3000 || fail "the member does not answer after the big frames"
lines=$(grep -c "over the input budget" "$LOG")
note "big frames: peak RSS $((hwm / MIB)) MiB (idle $((base / MIB)) MiB), $lines log line(s)"
[ "$hwm" -lt $(( (64 + 64) * MIB + base )) ] || fail "peak RSS $((hwm / MIB)) MiB: the input budget does not hold"
[ "$lines" -le 40 ] || fail "$lines log lines for 40 peers"
stop_member
R1="big_frames_hwm_mib=$((hwm / MIB))"

# keyed member: no hello, then a forged hello
head -c 48 /dev/urandom | od -An -tx1 | tr -d ' \n' > "$WORK/key"
chmod 600 "$WORK/key"
start_member "$TR" 0 FRT_AUTH_KEY_FILE="$WORK/key"
"$HARD_PEER" bigframe "$ADDR" 40 $((16 * 1024 * 1024 - 64)) 2 nohello > "$WORK/peer.out"
cat "$WORK/peer.out"
"$HARD_PEER" bigframe "$ADDR" 10 $((16 * 1024 * 1024 - 64)) 2 > "$WORK/peer.out"
cat "$WORK/peer.out"
hwm=$(hwm_kb "$MPID")
note "keyed, before auth: peak RSS $((hwm / MIB)) MiB"
[ "$hwm" -lt $((64 * MIB)) ] || fail "an unauthenticated peer made a keyed member hold $((hwm / MIB)) MiB"
FRT_AUTH_KEY_FILE="$WORK/key" check_ok 3000 || fail "the keyed member does not answer"
stop_member
R2="keyed_preauth_hwm_mib=$((hwm / MIB))"

# peers that never read their replies
start_member "$TR" 0 FRT_OUTPUT_BUDGET=4M FRT_INPUT_BUDGET=16M
"$HARD_PEER" noread "$ADDR" 6 60000 6 > "$WORK/peer.out"
cat "$WORK/peer.out"
hwm=$(hwm_kb "$MPID")
cuts=$(grep -c "closing connection to" "$LOG")
note "non-reading peers: peak RSS $((hwm / MIB)) MiB, $cuts cut line(s), log $(log_bytes) B"
grep -q " 6 connected, [1-6] cut" "$WORK/peer.out" || fail "no non-reading peer was cut off"
[ "$cuts" -le 6 ] || fail "$cuts log lines for 6 peers (one each at most)"
[ "$hwm" -lt $((64 * MIB)) ] || fail "peak RSS $((hwm / MIB)) MiB with non-reading peers"
check_ok 3000 || fail "the member does not answer after the non-reading peers"
stop_member
echo "RESULT memory $TR: $R1 $R2 noread_hwm_mib=$((hwm / MIB)) noread_log_lines=$cuts"
echo PASS
