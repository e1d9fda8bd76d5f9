#!/bin/bash
# test-swim-restart.sh FLOCKD FLOCK -- a SWIM group stays one group through
# restarts, with real flockd processes over tcp on loopback (bootstrap
# ["join","self"], one group file):
#   1. kill -9 and restart one member, then two at once, then all four at
#      once: every member answers `flockctl check` with one view of all four;
#   2. SIGSTOP a member until the others drop it, SIGCONT: it comes back;
#   3. a joiner whose group file names another group id gets an error that
#      names both ids, does not start, and writes nothing;
#   4. a group file without an id (Mochi Flock / older) is still joined.
# Timeouts are generous (a loaded 2-core machine); speeds are measured by
# bench/integrity/, not asserted here. Processes and files are always removed.
set -u
FLOCKD=${1:?usage: test-swim-restart.sh FLOCKD FLOCK}
FLOCK=${2:?flock cli}
BACKEND=swim
GROUP_CONFIG='{"protocol_period_ms":200.0,"ping_timeout_ms":150.0,"ping_req_timeout_ms":200.0,"suspicion_timeout_ms":1000.0,"reconnect_interval_ms":1000.0}'
WORK=$(mktemp -d "${TMPDIR:-/tmp}/flock-integrity-XXXXXX")
. "$(dirname "$0")/integrity-lib.sh"
integrity_traps

read -r P0 P1 P2 P3 P4 P5 <<<"$(free_ports 6)"
restart() { restart_all 4 "$@"; }

# ---- a group of four ----
member_start m0 "$P0"
wait_until 20 member_ready m0 || fail "m0 did not start: $(cat "$WORK/m0.err")"
for i in 1 2 3; do eval "member_start m$i \$P$i"; done
wait_until 30 group_agrees 4 || fail "the group of 4 did not form"
grep -q '\\"group_id\\":\\"[0-9a-f]\{16\}\\"' "$GROUP_FILE" || fail "no group_id in the group file"
log "group of 4 formed"

# ---- 1. restarts ----
restart m2
restart m1 m3
# after the group declared it dead (a tombstone at its old incarnation)
member_kill m2 KILL
dropped() { ! member_view "$P0" | grep -q "\"address\":\"tcp://127.0.0.1:$P2\""; }
wait_until 30 dropped || fail "m2 killed but not dropped"
t0=$(now)
member_start m2 "$P2"
wait_until 30 group_agrees 4 || fail "no single view of 4 after restarting a dead m2"
log "restart of m2 after it was declared dead: one view of 4 after $(elapsed "$t0" "$(now)") s"
restart m0 m1 m2 m3
grep -h 'starting a new group' "$WORK"/m*.err && fail "a member founded a new group"

# ---- 2. a paused member comes back ----
member_kill m1 STOP
gone() { ! member_view "$P0" | grep -q "\"address\":\"tcp://127.0.0.1:$P1\""; }
wait_until 30 gone || fail "m1 paused but not dropped"
member_kill m1 CONT
wait_until 30 group_agrees 4 || fail "m1 did not come back after SIGCONT"
log "paused member back in the group"

# ---- 3. another group's id: refused, nothing written ----
OTHER="$WORK/other.json"
sed 's/\\"group_id\\":\\"[0-9a-f]*\\"/\\"group_id\\":\\"00000000deadbeef\\"/' "$GROUP_FILE" >"$OTHER"
cp "$OTHER" "$WORK/other.before"
cat >"$WORK/m4.json" <<X
{"providers":[{"type":"flock","name":"g","provider_id":1,"config":{"bootstrap":"join","file":"$OTHER","group":{"type":"swim","config":$GROUP_CONFIG}}}]}
X
timeout 60 "$FLOCKD" "tcp://127.0.0.1:$P4" -c "$WORK/m4.json" >"$WORK/m4.out" 2>"$WORK/m4.err"
rc=$?
[ $rc = 1 ] || fail "joiner of another group id exited $rc (want 1): $(tail -5 "$WORK/m4.err")"
grep -q '00000000deadbeef' "$WORK/m4.err" && grep -q 'answered for group [0-9a-f]\{16\}' "$WORK/m4.err" ||
    fail "the error does not name both ids: $(tail -5 "$WORK/m4.err")"
cmp -s "$OTHER" "$WORK/other.before" || fail "the refused joiner wrote the group file"
wait_until 30 group_agrees 4 || fail "the group changed after a refused join"
log "a joiner of another group id was refused: $(grep -o 'the group file names.*' "$WORK/m4.err")"

# ---- 4. a file without an id is joined, the id adopted ----
OLD="$WORK/old.json"
sed 's/,\\"group_id\\":\\"[0-9a-f]*\\"//' "$GROUP_FILE" >"$OLD"
grep -q group_id "$OLD" && fail "could not strip the id"
cat >"$WORK/m5.json" <<X
{"providers":[{"type":"flock","name":"g","provider_id":1,"config":{"bootstrap":"join","file":"$OLD","group":{"type":"swim","config":$GROUP_CONFIG}}}]}
X
"$FLOCKD" "tcp://127.0.0.1:$P5" -c "$WORK/m5.json" >"$WORK/m5.out" 2>"$WORK/m5.err" &
MEMBER_PID[m5]=$!
wait_until 30 group_agrees 5 || fail "the joiner with a file without id did not join"
grep -q 'joined group [0-9a-f]\{16\} (the group file named none)' "$WORK/m5.err" || fail "id not adopted"
log "a file without an id still works (id adopted)"
echo PASS
