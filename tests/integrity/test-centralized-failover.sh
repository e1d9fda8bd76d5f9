#!/bin/bash
# test-centralized-failover.sh FLOCKD FLOCK -- the centralized primary is no
# single point of failure (issue #15), with real flockd processes over tcp on
# loopback (bootstrap ["join","self"], one group file):
#   1. SIGKILL the primary of 5: the 4 others agree on one view naming a new
#      primary in term 2 (the group file follows); a joiner gets in through
#      the group file, and through a stale copy of the old file too
#      (redirected); a later SIGKILL of a secondary is detected;
#   2. two primaries killed in a row: the group goes on;
#   3. SIGSTOP of the primary shorter than the detection window: no
#      takeover; longer: takeover, and after SIGCONT the old primary steps
#      down and rejoins as a secondary;
#   4. SIGTERM of the primary: a successor takes over at once;
#   5. "failover": false: nobody takes over.
# Timeouts are generous (a loaded 2-core machine); speeds are measured by
# bench/centralized (failover), not asserted here.
set -u
FLOCKD=${1:?usage: test-centralized-failover.sh FLOCKD FLOCK}
FLOCK=${2:?flock cli}
BACKEND=centralized
GROUP_CONFIG='{"ping_timeout_ms":300.0,"ping_interval_ms":[100.0,200.0],"ping_max_num_timeouts":3}'
WORK=$(mktemp -d "${TMPDIR:-/tmp}/flock-failover-XXXXXX")
. "$(dirname "$0")/integrity-lib.sh"
integrity_traps

read -r P0 P1 P2 P3 P4 P5 P6 P7 <<<"$(free_ports 8)"
term_of_file() { grep -o '\\"term\\":[0-9]*' "$GROUP_FILE" | grep -o '[0-9]*$'; }
primary_port() { grep -o '\\"primary_address\\":\\"tcp://127.0.0.1:[0-9]*' "$GROUP_FILE" | grep -o '[0-9]*$'; }
name_of_port() { local n; for n in "${!MEMBER_PORT[@]}"; do [ "${MEMBER_PORT[$n]}" = "$1" ] && [ -n "${MEMBER_PID[$n]}" ] && echo "$n"; done; }
agrees_and_term() { group_agrees "$1" && [ "$(term_of_file)" -ge "$2" ]; }

# ---- a group of five ----
member_start m0 "$P0"
wait_until 20 member_ready m0 || fail "m0 did not start"
for i in 1 2 3 4; do eval "member_start m$i \$P$i"; wait_until 20 member_ready "m$i" || fail "m$i did not start"; done
wait_until 30 group_agrees 5 || fail "the group of 5 did not form"
cp "$GROUP_FILE" "$WORK/stale.json"
log "group of 5 formed, primary m0 (term $(term_of_file))"

# ---- 1. SIGKILL the primary ----
t0=$(now)
member_kill m0 KILL
wait_until 30 agrees_and_term 4 2 || fail "no single view of 4 in term 2 after the primary's SIGKILL"
NEWP=$(name_of_port "$(primary_port)")
[ -n "$NEWP" ] && [ "$NEWP" != m0 ] || fail "the group file names no live primary"
log "primary killed: $NEWP took over in term $(term_of_file) after $(elapsed "$t0" "$(now)") s"
member_start m5 "$P5"
wait_until 30 group_agrees 5 || fail "a joiner did not get in after the takeover"
# a joiner that reads the old file (naming the dead primary) is redirected
# (the old content put back at the path, as an out-of-date copy would be)
cp "$WORK/stale.json" "$GROUP_FILE"
member_start m6 "$P6"
wait_until 30 group_agrees 6 || fail "a joiner with a stale group file did not get in"
log "joiners through the new file and through a stale copy got in"
member_kill m3 KILL
wait_until 30 group_agrees 5 || fail "the SIGKILL of a secondary was not detected after the takeover"
log "a secondary's SIGKILL was detected by the new primary"

# ---- 2. two primaries in a row ----
for round in 1 2; do
    T=$(term_of_file)
    P=$(name_of_port "$(primary_port)")
    member_kill "$P" KILL
    N=$((5 - round))
    wait_until 30 agrees_and_term "$N" $((T + 1)) || fail "no takeover after killing primary $P (round $round)"
    log "primary $P killed: $(name_of_port "$(primary_port)") took over in term $(term_of_file)"
done

# ---- 3. SIGSTOP the primary ----
T=$(term_of_file)
P=$(name_of_port "$(primary_port)")
member_kill "$P" STOP
sleep 0.3
member_kill "$P" CONT
sleep 3
[ "$(term_of_file)" = "$T" ] || fail "a short pause of the primary caused a takeover"
wait_until 30 group_agrees 3 || fail "the group changed after a short pause"
member_kill "$P" STOP
wait_until 40 eval '[ "$(term_of_file)" -gt "$T" ]' || fail "no takeover while the primary is stopped"
NEWP=$(name_of_port "$(primary_port)")
log "primary $P stopped: $NEWP took over in term $(term_of_file)"
member_kill "$P" CONT
wait_until 40 group_agrees 3 || fail "the old primary did not step down and rejoin"
grep -q 'stepping down' "$WORK/$P.err" || fail "$P did not say it stepped down"
log "the old primary $P resumed, stepped down and rejoined"

# ---- 4. SIGTERM: hand over at once ----
T=$(term_of_file)
P=$(name_of_port "$(primary_port)")
t0=$(now)
member_kill "$P" TERM
wait_until 30 agrees_and_term 2 $((T + 1)) || fail "no takeover after the primary's SIGTERM"
grep -q 'hands over to this member' "$WORK"/m*.err || fail "no handover"
log "primary $P stopped gracefully: handed over, one view after $(elapsed "$t0" "$(now)") s"
stop_all

# ---- 5. failover off ----
rm -f "$GROUP_FILE"
GROUP_CONFIG='{"ping_timeout_ms":300.0,"ping_interval_ms":[100.0,200.0],"ping_max_num_timeouts":3,"failover":false}'
for i in 0 1 2; do rm -f "$WORK/m$i.json" "$WORK/m$i.out"; done
member_start m0 "$P0"; wait_until 20 member_ready m0 || fail "m0 (no failover) did not start"
for i in 1 2; do eval "member_start m$i \$P$i"; wait_until 20 member_ready "m$i" || fail "m$i did not start"; done
wait_until 30 group_agrees 3 || fail "the group without failover did not form"
member_kill m0 KILL
sleep 5
[ "$(term_of_file)" = 1 ] || fail "a member took over although failover is off"
log "failover off: nobody took over"
echo PASS
