#!/bin/bash
# test-nasm-restart.sh FLOCKD FLOCK BACKEND -- on na+sm a restarted process has a new address
# (issue #22 item 1): flockd members of one group (bootstrap ["join","self"], one group file),
# a secondary SIGKILLed and restarted: the old entry is detected dead and the new process joins;
# the primary (centralized: the first member) likewise. Every member then answers `flockctl check`
# with one view of 3 that lists the new addresses, not the old ones, and nobody founded a new
# group.
set -u
FLOCKD=${1:?usage: test-nasm-restart.sh FLOCKD FLOCK BACKEND}
FLOCK=${2:?flock cli}
BACKEND=${3:?backend}
case "$BACKEND" in
centralized) GROUP_CONFIG='{"ping_timeout_ms":300.0,"ping_interval_ms":[100.0,200.0],"ping_max_num_timeouts":3}' ;;
swim) GROUP_CONFIG='{"protocol_period_ms":200.0,"ping_timeout_ms":150.0,"ping_req_timeout_ms":200.0,"suspicion_timeout_ms":1000.0}' ;;
*) echo "unknown backend $BACKEND"; exit 2 ;;
esac
WORK=$(mktemp -d "${TMPDIR:-/tmp}/flock-nasm-XXXXXX")
. "$(dirname "$0")/integrity-lib.sh"
integrity_traps

nasm_start() { # nasm_start NAME: flockd on na+sm (a new address each time)
    [ -f "$WORK/$1.json" ] || member_config "$1"
    : >"$WORK/$1.out"
    "$FLOCKD" na+sm -c "$WORK/$1.json" >>"$WORK/$1.out" 2>>"$WORK/$1.err" &
    MEMBER_PID[$1]=$!
    wait_until 30 member_ready "$1" || fail "$1 did not start: $(tail -3 "$WORK/$1.err")"
}
addr_of() { sed -n 's/^flockd: listening on //p' "$WORK/$1.out" | tail -1; }
listed() { grep -q "\"address\":\"$1\"" "$GROUP_FILE"; }

nasm_start m0
for m in m1 m2; do nasm_start "$m"; done
wait_until 30 group_agrees 3 || fail "the group of 3 did not form"
log "group of 3 formed on na+sm ($BACKEND)"

for victim in m1 m0; do # a secondary, then the first member (centralized: the primary)
    OLD=$(addr_of "$victim")
    member_kill "$victim" KILL
    nasm_start "$victim"
    NEW=$(addr_of "$victim")
    [ "$NEW" != "$OLD" ] || fail "na+sm gave the same address again"
    gone_and_in() { ! listed "$OLD" && listed "$NEW" && group_agrees 3; }
    wait_until 60 gone_and_in || fail "after restarting $victim: $OLD not dropped or $NEW not in"
    log "$victim restarted at $NEW: $OLD dropped, one view of 3"
done
grep -h 'started with bootstrap "self"' "$WORK"/m[12].err && fail "a member founded a new group"
[ "$(grep -c 'started with bootstrap "self"' "$WORK/m0.err")" = 1 ] || fail "m0 founded a new group on restart"
echo PASS
