#!/bin/bash
# test-chaos.sh BACKEND MEMBER_BINARY [SECONDS] -- members killed (SIGKILL),
# paused (SIGSTOP/SIGCONT) and restarted at random while others join.
#
# m0 founds the group (and, for centralized, is the primary: it is never
# touched, a dead primary freezes a centralized group by design). Five
# more members join at once; then for SECONDS (default 20) a random action
# hits a random other member every 0.3-1.2 s: SIGKILL (restarted later as
# a new process that joins), a short pause (0.1-0.4 s), or a long pause
# (longer than the detection bound); centralized: no SIGKILL that would
# leave more than half of the primary's view dead (see kill_would_halt).
# Invariants:
#   - centralized: a member that was never paused or killed, once in the
#     primary's view, is never removed from it (sampled every 100 ms);
#   - every SIGKILLed member leaves m0's view within the backend's bound
#     plus slack;
#   - at the end (every paused member resumed), all live members converge
#     to the same digest and their view is exactly the set of live members
#     (swim: so paused members refuted their suspicion or rejoined).
#     centralized: a member paused longer than the bound is declared dead
#     and stays out (upstream semantics, no re-join); the view must then
#     list every other live member, no dead one, and agree among its members;
#   - no process crashes: every live member exits 0 on SIGTERM, and no
#     sanitizer report appears in any member's stderr.
# The random seed is printed (CHAOS_SEED=<n> replays a run).
set -u
BACKEND=${1:?usage: test-chaos.sh swim|centralized MEMBER_BINARY [SECONDS]}
MEMBER=${2:?member binary}
DURATION=${3:-20}
SEED=${CHAOS_SEED:-$$}
RANDOM=$SEED

fail() { echo "FAIL: $*"; exit 1; }
log() { echo "[$(date +%T.%N | cut -c1-12)] $*"; }
[ -x "$MEMBER" ] || fail "no member binary $MEMBER"

WORK=$(mktemp -d "${TMPDIR:-/tmp}/flock-chaos-XXXXXX")
declare -A PID STATE ADDR TOUCHED KILLED_AT KILLED_ADDR STATUS SEEN RESUME LONG ERRF
ALLPIDS=""
cleanup() {
    for p in $ALLPIDS; do
        kill -CONT "$p" 2>/dev/null
        kill -9 "$p" 2>/dev/null
    done
    wait 2>/dev/null
    if [ -z "${FLOCK_TEST_KEEP:-}" ]; then rm -rf "$WORK"; else echo "kept $WORK"; fi
}
trap cleanup EXIT
trap 'exit 1' INT TERM ALRM

case "$BACKEND" in
swim)
    GC='{"protocol_period_ms":200.0,"ping_timeout_ms":150.0,"ping_req_timeout_ms":250.0,"suspicion_timeout_ms":1000.0,"sync_interval_ms":2000.0,"reconnect_interval_ms":1000.0}'
    BOUND_S=12; LONG_PAUSE_MS=14000 ;;
centralized)
    GC='{"ping_timeout_ms":500.0,"ping_interval_ms":200.0,"ping_max_num_timeouts":3}'
    BOUND_S=3; LONG_PAUSE_MS=4000 ;; # 3 x (200 + 500) + 200 ms = 2.3 s
*) fail "unknown backend $BACKEND" ;;
esac
SLACK_S=25
GROUP="$WORK/group.json"
CFG_FOUNDER="{\"group\":{\"type\":\"$BACKEND\",\"config\":$GC},\"file\":\"$GROUP\"}"
CFG_JOIN="{\"group\":{\"type\":\"$BACKEND\",\"config\":$GC}}"
GEN=0

start() { # start NAME [join]
    local name=$1
    GEN=$((GEN + 1))
    local st="$WORK/$name.$GEN.status"
    if [ $# -gt 1 ]; then
        "$MEMBER" --listen tcp://127.0.0.1:0 --status "$st" --config "$CFG_JOIN" --join "$GROUP" \
            >"$WORK/$name.$GEN.out" 2>"$WORK/$name.$GEN.err" &
    else
        "$MEMBER" --listen tcp://127.0.0.1:0 --status "$st" --config "$CFG_FOUNDER" \
            >"$WORK/$name.$GEN.out" 2>"$WORK/$name.$GEN.err" &
    fi
    PID[$name]=$!
    ERRF[$name]="$WORK/$name.$GEN.err"
    ALLPIDS="$ALLPIDS $!"
    STATE[$name]=alive
    TOUCHED[$name]=0
    LONG[$name]=0
    ADDR[$name]=""
    STATUS[$name]=$st
}
# Status files are read with shell builtins only (no fork per check: the
# invariants are sampled every 100 ms on a loaded machine).
load() { # load NAME: V_self, V_digest, V_members, V_list (" addr addr ... ")
    V_self="" V_digest="" V_members="" V_list=" "
    local k a b f=${STATUS[$1]}
    [ -f "$f" ] || return 1
    while read -r k a b; do
        case $k in
        self) V_self=$a ;;
        digest) V_digest=$a ;;
        members) V_members=$a ;;
        m) V_list+="$a " ;;
        esac
    done <"$f"
    return 0
}
field() { load "$1" || return 1; case $2 in self) echo "$V_self" ;; digest) echo "$V_digest" ;; members) echo "$V_members" ;; esac; }
has() { load "$1" && [[ "$V_list" == *" $2 "* ]]; }
learn_addr() { [ -n "${ADDR[$1]}" ] || { load "$1" && ADDR[$1]=$V_self; }; }
now_ms() { local t=${EPOCHREALTIME/./}; echo $((t / 1000)); }

log "backend $BACKEND, seed $SEED, chaos for ${DURATION}s"
start m0
end=$((EPOCHSECONDS + 20))
until [ -s "$GROUP" ]; do [ "$EPOCHSECONDS" -gt "$end" ] && fail "m0 did not start"; sleep 0.05; done
for i in 1 2 3 4 5; do start "m$i" join; done
NAMES="m1 m2 m3 m4 m5"
learn_addr m0

check_invariants() {
    # centralized: an untouched member in the primary's view stays there
    local n
    for n in $NAMES; do learn_addr "$n"; done
    load m0 || return 0
    local view=$V_list
    for n in $NAMES; do
        [ -n "${ADDR[$n]}" ] || continue
        if [ "${STATE[$n]}" = alive ] && [ "${TOUCHED[$n]}" = 0 ]; then
            if [[ "$view" == *" ${ADDR[$n]} "* ]]; then
                SEEN[$n]=1
            elif [ "$BACKEND" = centralized ] && [ "${SEEN[$n]:-0}" = 1 ]; then
                fail "live, never paused member $n (${ADDR[$n]}) was removed by the primary"
            fi
        fi
    done
    # every killed member leaves m0's view within the bound
    for n in "${!KILLED_AT[@]}"; do
        local a=${KILLED_ADDR[$n]}
        if [ -z "$a" ] || [[ "$view" != *" $a "* ]]; then
            unset "KILLED_AT[$n]"
            continue
        fi
        local age=$((($(now_ms) - KILLED_AT[$n]) / 1000))
        [ "$age" -le $((BOUND_S + SLACK_S)) ] || fail "killed member $n ($a) still in m0's view after ${age}s (bound ${BOUND_S}s + ${SLACK_S}s slack)"
    done
    kill -0 "${PID[m0]}" 2>/dev/null || fail "m0 died"
}

chaos_end=$((EPOCHSECONDS + DURATION))
# centralized: would killing $1 leave more than half of m0's view dead? The
# primary then declares nobody, ever (the quorum rule: it cannot tell the
# dead from a majority that elected another primary) and admits nobody:
# the group halts by design until an operator removes the dead (flockctl
# force-leave). Losing a majority for good is no ordinary failure, so the
# chaos does not do it (it pauses the member instead).
kill_would_halt() {
    [ "$BACKEND" = centralized ] || return 1
    load m0 || return 1
    local dead=0 k
    [[ "$V_list" == *" ${ADDR[$1]} "* ]] && dead=1
    for k in "${!KILLED_AT[@]}"; do
        [[ "$V_list" == *" ${KILLED_ADDR[$k]} "* ]] && dead=$((dead + 1))
    done
    [ $((2 * dead)) -gt "${V_members:-0}" ]
}

kills=0 pauses=0 restarts=0
while [ "$EPOCHSECONDS" -lt "$chaos_end" ]; do
    # a random member, a random action
    set -- $NAMES
    idx=$((RANDOM % $#))
    shift $idx
    n=$1
    case "${STATE[$n]}" in
    dead)
        start "$n" join
        restarts=$((restarts + 1))
        log "restart $n" ;;
    alive)
        if ! kill -0 "${PID[$n]}" 2>/dev/null; then # nobody killed it: it exited by itself
            echo "---- the end of ${ERRF[$n]}"
            tail -n 30 "${ERRF[$n]}" 2>/dev/null
            fail "$n (pid ${PID[$n]}) exited by itself"
        fi
        learn_addr "$n"
        r=$((RANDOM % 10))
        if [ $r -lt 3 ] && [ -n "${ADDR[$n]}" ] && kill_would_halt "$n"; then
            r=3 # a short pause instead
        fi
        if [ $r -lt 3 ] && [ -n "${ADDR[$n]}" ]; then
            kill -KILL "${PID[$n]}"
            wait "${PID[$n]}" 2>/dev/null
            STATE[$n]=dead
            KILLED_AT[$n]=$(now_ms)
            SEEN[$n]=0
            KILLED_ADDR[$n]=${ADDR[$n]}
            kills=$((kills + 1))
            log "SIGKILL $n (${ADDR[$n]})"
        elif [ $r -lt 8 ]; then
            ms=$((100 + RANDOM % 300))
            kill -STOP "${PID[$n]}"
            TOUCHED[$n]=1
            pauses=$((pauses + 1))
            sleep "0.$(printf %03d $ms)"
            kill -CONT "${PID[$n]}"
            log "paused $n for ${ms} ms"
        else
            kill -STOP "${PID[$n]}"
            TOUCHED[$n]=1
            STATE[$n]=stopped
            LONG[$n]=1
            RESUME[$n]=$(($(now_ms) + LONG_PAUSE_MS))
            pauses=$((pauses + 1))
            log "SIGSTOP $n (long pause)"
        fi ;;
    esac
    # resume long pauses that are due
    for m in $NAMES; do
        if [ "${STATE[$m]}" = stopped ] && [ "$(now_ms)" -ge "${RESUME[$m]}" ]; then
            kill -CONT "${PID[$m]}"
            STATE[$m]=alive
            log "SIGCONT $m"
        fi
    done
    # wait 0.3-1.2 s, checking invariants every 100 ms
    next=$(($(now_ms) + 300 + RANDOM % 900))
    while [ "$(now_ms)" -lt "$next" ]; do
        check_invariants
        sleep 0.1
    done
done
for m in $NAMES; do
    if [ "${STATE[$m]}" = stopped ]; then kill -CONT "${PID[$m]}"; STATE[$m]=alive; fi
done
log "chaos over: $kills kills, $pauses pauses, $restarts restarts; waiting for convergence"

# ---- convergence: live members agree, and list exactly the live members ----
LIVE="m0"
for m in $NAMES; do [ "${STATE[$m]}" = alive ] && LIVE="$LIVE $m"; done
converged() {
    local d m a members="m0" optional=""
    for m in $LIVE; do learn_addr "$m"; done
    load m0 || return 1
    d=$V_digest
    local view=$V_list
    for m in $LIVE; do
        [ "$m" = m0 ] && continue
        if [ "$BACKEND" = centralized ] && [ "${LONG[$m]}" = 1 ]; then
            [[ "$view" == *" ${ADDR[$m]} "* ]] && members="$members $m"
        else
            members="$members $m"
        fi
    done
    nlive=$(echo $members | wc -w)
    [ "$V_members" = "$nlive" ] || return 1 # so no dead member is listed
    for m in $members; do
        [[ "$view" == *" ${ADDR[$m]} "* ]] || return 1
        load "$m" && [ "$V_digest" = "$d" ] && [ "$V_members" = "$nlive" ] || return 1
    done
    return 0
}
end=$((EPOCHSECONDS + BOUND_S + SLACK_S + 20))
until converged; do
    check_invariants
    if [ "$EPOCHSECONDS" -gt "$end" ]; then
        for m in $LIVE; do # what each live member said, and whether it is still running
            kill -0 "${PID[$m]}" 2>/dev/null || echo "---- $m (pid ${PID[$m]}) is not running"
            echo "---- $m: the end of ${ERRF[$m]}"
            tail -n 15 "${ERRF[$m]}" 2>/dev/null
        done
        fail "no convergence on the live members ($LIVE): $(for m in $LIVE; do echo "$m=$(field $m members)/$(field $m digest)"; done)"
    fi
    sleep 0.2
done
log "converged: $nlive live members share digest $(field m0 digest)"

# ---- no crash: graceful exit 0, no sanitizer report ----
for m in $LIVE; do kill -TERM "${PID[$m]}"; done
for m in $LIVE; do
    wait "${PID[$m]}"
    rc=$?
    if [ $rc != 0 ]; then
        echo "---- $m: the end of ${ERRF[$m]}"
        tail -n 60 "${ERRF[$m]}" 2>/dev/null
        fail "$m exited with status $rc"
    fi
done
if grep -l -E "AddressSanitizer|LeakSanitizer|runtime error:" "$WORK"/*.err 2>/dev/null; then
    fail "sanitizer report in a member's stderr"
fi
ALLPIDS=""
echo "PASS"
