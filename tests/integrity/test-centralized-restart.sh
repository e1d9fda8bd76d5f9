#!/bin/bash
# test-centralized-restart.sh FLOCKD FLOCK -- a centralized group stays one
# group through restarts, with real flockd processes over tcp on loopback
# (bootstrap ["join","self"], one group file):
#   1. kill -9 and restart a secondary, the primary (it opens a new term and
#      finds its secondaries again), two secondaries at once, then all four:
#      every member answers `flockctl check` with one view of all four, and no
#      member ever founds a new group;
#   2. a secondary restarted while the primary is dead starts without
#      touching the group file; the primary's restart brings all back;
#   3. a secondary killed and declared dead, then restarted: it rejoins;
#   4. SIGSTOP a secondary past the detection window: the primary removes
#      it, and after SIGCONT it notices and rejoins by itself; meanwhile
#      `flockctl check` does not count it;
#   5. a joiner whose group file names another group id is refused (exit 1,
#      the file untouched).
# Timeouts are generous (a loaded 2-core machine); speeds are measured by
# bench/integrity/, not asserted here. Processes and files are always removed.
set -u
FLOCKD=${1:?usage: test-centralized-restart.sh FLOCKD FLOCK}
FLOCK=${2:?flock cli}
BACKEND=centralized
GROUP_CONFIG='{"ping_timeout_ms":300.0,"ping_interval_ms":[100.0,200.0],"ping_max_num_timeouts":3}'
WORK=$(mktemp -d "${TMPDIR:-/tmp}/flock-integrity-XXXXXX")
. "$(dirname "$0")/integrity-lib.sh"
integrity_traps

read -r P0 P1 P2 P3 P4 <<<"$(free_ports 5)"
restart() { restart_all 4 "$@"; }
term_of_file() { grep -o '\\"term\\":[0-9]*' "$GROUP_FILE" | grep -o '[0-9]*$'; }
listed_by() { # listed_by PORT_OF_VIEWER PORT
    member_view "$1" | grep -q "\"address\":\"tcp://127.0.0.1:$2\""
}

# ---- a group of four: m0 founds it (the file does not exist), m1..m3 join ----
member_start m0 "$P0"
wait_until 20 member_ready m0 || fail "m0 did not start: $(cat "$WORK/m0.err")"
for i in 1 2 3; do eval "member_start m$i \$P$i"; wait_until 20 member_ready "m$i" || fail "m$i did not start"; done
wait_until 30 group_agrees 4 || fail "the group of 4 did not form"
grep -q '\\"group_id\\":\\"[0-9a-f]\{16\}\\"' "$GROUP_FILE" || fail "no group_id in the group file"
[ "$(term_of_file)" = 1 ] || fail "the first term is not 1: $(cat "$GROUP_FILE")"
GID=$(grep -o '\\"group_id\\":\\"[0-9a-f]*' "$GROUP_FILE" | grep -o '[0-9a-f]\{16\}$')
log "group $GID of 4 formed"

# ---- 1. restarts ----
restart m2
restart m0
wait_until 10 test "$(term_of_file)" = 2 || fail "the restarted primary did not open term 2: $(cat "$GROUP_FILE")"
restart m1 m3
restart m0 m1 m2 m3
grep -q "$GID" "$GROUP_FILE" || fail "the group id changed: $(cat "$GROUP_FILE")"
grep -h 'started with bootstrap "self"' "$WORK"/m[123].err && fail "a secondary founded a new group"
[ "$(grep -c 'started with bootstrap "self"' "$WORK/m0.err")" = 1 ] || fail "m0 founded a group again"

# ---- 2. a secondary restarts while the primary is dead ----
member_kill m0 KILL
cp "$GROUP_FILE" "$WORK/file.before"
member_kill m1 KILL
member_start m1 "$P1"
wait_until 30 member_ready m1 || fail "m1 did not start while the primary is dead: $(tail -5 "$WORK/m1.err")"
cmp -s "$GROUP_FILE" "$WORK/file.before" || fail "m1 rewrote the group file while the primary was dead"
member_start m0 "$P0"
wait_until 30 group_agrees 4 || fail "no single view of 4 after the primary came back"
log "a secondary restarted while the primary was dead: back in the group"

# ---- 3. declared dead, then restarted: rejoins ----
member_kill m2 KILL
wait_until 30 eval '! listed_by $P0 $P2' || fail "m2 killed but not declared dead"
t0=$(now)
member_start m2 "$P2"
wait_until 30 group_agrees 4 || fail "m2, restarted after it was declared dead, is not back"
log "restart of m2 after it was declared dead: one view of 4 after $(elapsed "$t0" "$(now)") s"

# ---- 4. a paused secondary is removed, then rejoins by itself ----
member_kill m3 STOP
wait_until 30 eval '! listed_by $P0 $P3' || fail "m3 paused but not removed"
group_agrees 4 && fail "flockctl check counts a removed member"
member_kill m3 CONT
wait_until 30 group_agrees 4 || fail "m3 did not rejoin after SIGCONT"
grep -q 'is no longer in the group' "$WORK/m3.err" || fail "m3 did not say it was removed"
grep -q 'rejoined the group' "$WORK/m3.err" || fail "m3 did not say it rejoined"
log "a paused member was removed and rejoined by itself"

# ---- 5. another group's id: refused, nothing written ----
OTHER="$WORK/other.json"
sed 's/\\"group_id\\":\\"[0-9a-f]*\\"/\\"group_id\\":\\"00000000deadbeef\\"/' "$GROUP_FILE" >"$OTHER"
cp "$OTHER" "$WORK/other.before"
cat >"$WORK/m4.json" <<X
{"providers":[{"type":"flock","name":"g","provider_id":1,"config":{"bootstrap":"join","file":"$OTHER","group":{"type":"centralized","config":$GROUP_CONFIG}}}]}
X
timeout 60 "$FLOCKD" "tcp://127.0.0.1:$P4" -c "$WORK/m4.json" >"$WORK/m4.out" 2>"$WORK/m4.err"
rc=$?
[ $rc = 1 ] || fail "joiner of another group id exited $rc (want 1): $(tail -5 "$WORK/m4.err")"
grep -q 'primary of another group' "$WORK/m4.err" || fail "no clear error: $(tail -5 "$WORK/m4.err")"
cmp -s "$OTHER" "$WORK/other.before" || fail "the refused joiner wrote the group file"
wait_until 30 group_agrees 4 || fail "the group changed after a refused join"
log "a joiner of another group id was refused"
echo PASS
