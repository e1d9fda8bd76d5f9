#!/bin/bash
# test-subscribe.sh FLOCKD FLOCK PROBE BACKEND PROTO -- live subscriptions and
# run-time metadata across processes (issue #16): flockd members over PROTO
# (tcp or na+sm), one group file, and sub-probe clients.
#   1. a subscriber sees a join, a graceful leave (LEFT) and a SIGKILL (DIED),
#      each once and in order;
#   2. a subscriber SIGKILLed while subscribed is forgotten by its member;
#   3. metadata (when the backend supports it): a set seen by the subscriber
#      and written to the group file; two clients setting one key at once
#      both succeed and every member ends with the same value; removal (and
#      removing it again succeeds);
#   4. the subscriber's contact (the first member: for centralized, the
#      primary) is SIGKILLed: the subscriber moves to another member, sees
#      that death once, and then a new member's join once; the new member
#      has the metadata; no line is ever delivered twice;
#   5. SIGTERM: the subscriber unsubscribes and exits 0.
# Timeouts are generous; nothing is timed here (bench/subscribe/ measures).
set -u
FLOCKD=${1:?usage: test-subscribe.sh FLOCKD FLOCK PROBE BACKEND PROTO}
FLOCK=${2:?flock cli}
PROBE=${3:?sub-probe}
BACKEND=${4:?backend}
PROTO=${5:?tcp or na+sm}
case $BACKEND in
centralized) GROUP_CONFIG='{"ping_timeout_ms":300.0,"ping_interval_ms":[100.0,200.0],"ping_max_num_timeouts":3}' ;;
swim) GROUP_CONFIG='{"protocol_period_ms":200.0,"ping_timeout_ms":150.0,"ping_req_timeout_ms":200.0,"suspicion_timeout_ms":1000.0,"reconnect_interval_ms":1000.0}' ;;
*) echo "unknown backend $BACKEND"; exit 2 ;;
esac
WORK=$(mktemp -d "${TMPDIR:-/tmp}/flock-subscribe-XXXXXX")
. "$(dirname "$0")/../integrity/integrity-lib.sh"
declare -A PROBE_PID
probe_cleanup() {
    local p
    for p in "${PROBE_PID[@]}"; do kill -9 "$p" 2>/dev/null; done
    integrity_cleanup
}
trap probe_cleanup EXIT
trap 'exit 1' INT TERM ALRM

start() { # start NAME: flockd on $PROTO (tcp: a free port)
    local name=$1 addr
    [ -f "$WORK/$name.json" ] || member_config "$name"
    : >"$WORK/$name.out"
    if [ "$PROTO" = tcp ]; then addr="tcp://127.0.0.1:$(free_ports 1)"; else addr=na+sm; fi
    "$FLOCKD" "$addr" -c "$WORK/$name.json" >>"$WORK/$name.out" 2>>"$WORK/$name.err" &
    MEMBER_PID[$name]=$!
    wait_until 30 member_ready "$name" || fail "$name did not start: $(tail -3 "$WORK/$name.err")"
}
addr_of() { sed -n 's/^flockd: listening on //p' "$WORK/$1.out" | tail -1; }
watch_start() { # watch_start NAME [ENV=VALUE...]
    local name=$1
    shift
    env "$@" "$PROBE" watch "$GROUP_FILE" >"$WORK/$name.events" 2>"$WORK/$name.perr" &
    PROBE_PID[$name]=$!
    wait_until 30 grep -q '^READY' "$WORK/$name.events" ||
        fail "$name did not subscribe: $(cat "$WORK/$name.perr")"
}
seen() { grep -qxF "$2" "$WORK/$1.events"; }         # seen PROBE LINE
count() { grep -cxF "$2" "$WORK/$1.events"; }        # count PROBE LINE
line_no() { grep -nxF "$2" "$WORK/$1.events" | head -1 | cut -d: -f1; }
expect() { # expect PROBE LINE: seen within 30 s
    wait_until 30 seen "$1" "$2" || fail "$1 did not see \"$2\": $(cat "$WORK/$1.events")"
}

start m0
start m1
start m2
wait_until 40 group_agrees 3 || fail "the group of 3 did not form"
log "group of 3 formed ($BACKEND over $PROTO)"
# the subscriber's contact: the group file's first member
CONTACT_ADDR=$(grep -o '"address":"[^"]*"' "$GROUP_FILE" | head -1 | cut -d'"' -f4)
CONTACT=""
for m in m0 m1 m2; do [ "$(addr_of $m)" = "$CONTACT_ADDR" ] && CONTACT=$m; done
[ -n "$CONTACT" ] || fail "no member has the file's first address $CONTACT_ADDR"
watch_start A

# ---- 1. join, leave, death ----
start m3
A3=$(addr_of m3)
expect A "JOINED $A3 1"
member_kill m3 TERM
expect A "LEFT $A3 1"
start m4
A4=$(addr_of m4)
expect A "JOINED $A4 1"
member_kill m4 KILL
expect A "DIED $A4 1"
[ "$(line_no A "JOINED $A4 1")" -lt "$(line_no A "DIED $A4 1")" ] || fail "DIED before JOINED"
[ "$(line_no A "LEFT $A3 1")" -lt "$(line_no A "JOINED $A4 1")" ] || fail "events out of order"
log "join, leave and death pushed in order"

# ---- 2. a subscriber SIGKILLed: its member forgets it ----
watch_start B FLOCK_SUBSCRIBE_WAIT_MS=300
kill -9 "${PROBE_PID[B]}"
wait "${PROBE_PID[B]}" 2>/dev/null
unset 'PROBE_PID[B]'
forgotten() { cat "$WORK"/m[0-2].err | grep -q 'stopped polling; forgotten'; }
wait_until 40 forgotten ||
    fail "the member did not forget the killed subscriber"
log "a killed subscriber was forgotten"

# ---- 3. metadata ----
META=1
if ! "$PROBE" set "$GROUP_FILE" color blue 2>"$WORK/set.err"; then
    if grep -q FLOCK_ERR_OP_UNSUPPORTED "$WORK/set.err"; then
        log "SKIP metadata: the $BACKEND backend does not support run-time metadata"
        META=0
    else
        fail "metadata set failed: $(cat "$WORK/set.err")"
    fi
fi
if [ $META = 1 ]; then
    expect A "META color blue"
    wait_until 30 grep -q '"color":"blue"' "$GROUP_FILE" || fail "the group file lacks color"
    "$PROBE" set "$GROUP_FILE" color red 2>"$WORK/r.err" & R=$!
    "$PROBE" set "$GROUP_FILE" color green 2>"$WORK/g.err" & G=$!
    wait $R || fail "set red failed: $(cat "$WORK/r.err")"
    wait $G || fail "set green failed: $(cat "$WORK/g.err")"
    same_color() { # every member of the group shows one value of color
        local vals
        vals=$(for m in m0 m1 m2; do [ -n "${MEMBER_PID[$m]}" ] || continue; "$FLOCK" show -a "$(addr_of $m)" -p 1 --json -t 2000 2>/dev/null |
            grep -o '"color":"[a-z]*"'; done | sort -u)
        [ "$(echo "$vals" | wc -l)" = 1 ] && [ -n "$vals" ] && echo "$vals" >"$WORK/color"
    }
    wait_until 30 same_color || fail "the members do not agree on color"
    FINAL=$(grep -o '[a-z]*"$' "$WORK/color" | tr -d '"')
    expect A "META color $FINAL"
    log "concurrent sets converged on $FINAL"
fi

# ---- 4. the contact dies (centralized: the first member is the primary) ----
# a member joins while the subscriber is still moving to another member
A0=$(addr_of $CONTACT)
member_kill $CONTACT KILL
start m5
A5=$(addr_of m5)
expect A "DIED $A0 1"
expect A "JOINED $A5 1"
if [ $META = 1 ]; then
    "$FLOCK" show -a "$A5" -p 1 --json -t 2000 2>/dev/null | grep -q "\"color\":\"$FINAL\"" ||
        fail "the new member lacks the metadata"
    wait_until 30 "$PROBE" set "$GROUP_FILE" color 2>"$WORK/u.err" ||
        fail "unset failed: $(cat "$WORK/u.err")"
    expect A "META color (removed)"
    "$PROBE" set "$GROUP_FILE" color 2>"$WORK/u2.err" ||
        fail "removing an absent key failed: $(cat "$WORK/u2.err")"
fi
sleep 1
dups=$(grep -v '^READY' "$WORK/A.events" | sort | uniq -d | grep -v '^META color' || true)
[ -z "$dups" ] || fail "delivered twice: $dups"
[ "$(count A "DIED $A0 1")" = 1 ] || fail "the contact's death was not delivered exactly once"
log "the contact's death seen once; the subscription moved on"

# ---- 5. unsubscribe ----
kill -TERM "${PROBE_PID[A]}"
wait "${PROBE_PID[A]}" || fail "the subscriber did not exit 0: $(cat "$WORK/A.perr")"
unset 'PROBE_PID[A]'
seen A UNSUBSCRIBED || fail "no UNSUBSCRIBED line"
log "PASS ($BACKEND over $PROTO)"
