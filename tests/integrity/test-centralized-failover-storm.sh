#!/bin/bash
# test-centralized-failover-storm.sh FLOCKD FLOCK -- the primary of a
# centralized group of 5 is SIGKILLed while 16 joiners join at once (issue
# #15): every joiner ends in the group or gets a clear error and exits, never
# a half-member. Checked once things settle: the group (every member of the
# group file answers with one view) is exactly the 4 survivors and the
# joiners that are running; a joiner that exited said why and is not listed.
set -u
FLOCKD=${1:?usage: test-centralized-failover-storm.sh FLOCKD FLOCK}
FLOCK=${2:?flock cli}
BACKEND=centralized
GROUP_CONFIG='{"ping_timeout_ms":300.0,"ping_interval_ms":[100.0,200.0],"ping_max_num_timeouts":3}'
WORK=$(mktemp -d "${TMPDIR:-/tmp}/flock-storm-XXXXXX")
. "$(dirname "$0")/integrity-lib.sh"
integrity_traps

read -r -a PORTS <<<"$(free_ports 21)"
member_start m0 "${PORTS[0]}"
wait_until 20 member_ready m0 || fail "m0 did not start"
for i in 1 2 3 4; do member_start "m$i" "${PORTS[$i]}"; wait_until 20 member_ready "m$i" || fail "m$i did not start"; done
wait_until 30 group_agrees 5 || fail "the group of 5 did not form"
log "group of 5 formed"

for i in $(seq 1 16); do member_start "j$i" "${PORTS[$((4 + i))]}"; done
sleep 0.05
member_kill m0 KILL
log "16 joiners started, primary killed"

running() { kill -0 "${MEMBER_PID[$1]}" 2>/dev/null; }
settled() { # every joiner is ready (running) or has exited
    local i
    for i in $(seq 1 16); do
        running "j$i" && ! member_ready "j$i" && return 1
    done
    return 0
}
wait_until 90 settled || fail "some joiners neither joined nor failed within 90 s"
IN=0 OUT=0
for i in $(seq 1 16); do
    if running "j$i"; then
        IN=$((IN + 1))
    else
        OUT=$((OUT + 1))
        MEMBER_PID[j$i]=""
        grep -q 'could not join\|failed' "$WORK/j$i.err" || fail "j$i exited without saying why"
        grep -q "flockd: ready" "$WORK/j$i.out" && fail "j$i said ready, then exited"
    fi
done
log "$IN joiners in, $OUT failed with an error"
wait_until 60 group_agrees $((4 + IN)) || fail "the group is not exactly the 4 survivors and the $IN running joiners"
for i in $(seq 1 16); do
    if [ -z "${MEMBER_PID[j$i]}" ] && grep -q "127.0.0.1:${PORTS[$((4 + i))]}\"" "$GROUP_FILE"; then
        fail "j$i failed but is listed"
    fi
done
log "one view of $((4 + IN)): no half-member"
echo PASS
