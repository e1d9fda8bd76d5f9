#!/bin/bash
# test-partition.sh BACKEND MEMBER_BINARY -- a real network partition.
#
# Two network namespaces joined by a veth pair (iproute2). Members talk over
# tcp: m0 (founder; the centralized primary) and m1 live in namespace A,
# m2 and m3 in namespace B. The link is cut, then restored.
#   swim:        cut silently, as a failed switch would: nftables drop rules
#                on the input hook in both namespaces (a drop on output makes
#                sendto fail at once, which no cut wire does); held
#                PARTITION_HOLD_S (default 20) s. Each side removes the other
#                side within the detection bound, never a member of its own
#                side (not even for a moment); after the heal all four
#                members converge to one view (same digest); the time from
#                the heal to one view is printed (bench/integrity/ measures
#                it; the timeout here is generous).
#   (centralized: veth down; its owner may move it to nftables too)
#   centralized: the primary removes the unreachable side (m2, m3) within
#                ping_max_num_timeouts x (interval + timeout) plus slack, and
#                never the reachable m1; m1 follows; after the link is
#                restored a new member from B (m4) joins through the group
#                file, m2 and m3 (declared dead) notice that the group no
#                longer lists them and rejoin: all five converge to one digest.
# No process may crash. Exit 77 (ctest skip) with the reason when network
# namespaces cannot be created; namespaces and processes are always removed.
set -u
BACKEND=${1:?usage: test-partition.sh swim|centralized MEMBER_BINARY}
MEMBER=${2:?member binary}
SKIP=77

skip() { echo "SKIP: $*"; exit $SKIP; }
fail() { echo "FAIL: $*"; exit 1; }
log() { echo "[$(date +%T.%N | cut -c1-12)] $*"; }

command -v ip >/dev/null 2>&1 || skip "iproute2 ('ip') is not installed"
if [ "$BACKEND" = swim ] && ! command -v nft >/dev/null 2>&1; then
    apt-get -o DPkg::Lock::Timeout=600 install -y -qq --no-install-recommends nftables >/dev/null 2>&1
    command -v nft >/dev/null 2>&1 || skip "nftables ('nft') is not installed and could not be"
fi
[ "$(id -u)" = 0 ] || skip "not root: creating network namespaces needs CAP_NET_ADMIN"
[ -x "$MEMBER" ] || fail "no member binary $MEMBER"

TAG=fp$$
NSA=${TAG}a
NSB=${TAG}b
VA=${TAG}x
VB=${TAG}y
WORK=$(mktemp -d "${TMPDIR:-/tmp}/flock-partition-XXXXXX")
PIDS=""
cleanup() {
    for p in $PIDS; do kill -9 "$p" 2>/dev/null; done
    wait 2>/dev/null
    ip netns del "$NSA" 2>/dev/null
    ip netns del "$NSB" 2>/dev/null
    ip link del "$VA" 2>/dev/null
    if [ -z "${FLOCK_TEST_KEEP:-}" ]; then rm -rf "$WORK"; else echo "kept $WORK"; fi
}
trap cleanup EXIT
trap 'exit 1' INT TERM ALRM

if ! ip netns add "$NSA" 2>"$WORK/err"; then
    skip "cannot create a network namespace: $(cat "$WORK/err")"
fi
ip netns add "$NSB" || fail "second namespace"
if ! ip link add "$VA" type veth peer name "$VB" 2>"$WORK/err"; then
    skip "cannot create a veth pair: $(cat "$WORK/err")"
fi
ip link set "$VA" netns "$NSA" && ip link set "$VB" netns "$NSB" || fail "moving veth ends"
ip -n "$NSA" addr add 10.77.0.1/24 dev "$VA" || fail "address A"
ip -n "$NSB" addr add 10.77.0.2/24 dev "$VB" || fail "address B"
for ns in "$NSA" "$NSB"; do ip -n "$ns" link set lo up || fail "lo up"; done
ip -n "$NSA" link set "$VA" up && ip -n "$NSB" link set "$VB" up || fail "veth up"

case "$BACKEND" in
swim)
    GC='{"protocol_period_ms":200.0,"ping_timeout_ms":150.0,"ping_req_timeout_ms":200.0,"suspicion_timeout_ms":1000.0,"sync_interval_ms":2000.0,"reconnect_interval_ms":1000.0}'
    # detection: probe round over n-1 members + ping/ping-req + suspicion (lifeguard max 6x)
    BOUND_S=12 ;;
centralized)
    # generous ping timeout: a loaded machine must not make m1 look dead
    GC='{"ping_timeout_ms":600.0,"ping_interval_ms":200.0,"ping_max_num_timeouts":3}'
    BOUND_S=3 ;; # 3 x (200 + 600) + 200 ms = 2.6 s
*) fail "unknown backend $BACKEND" ;;
esac
SLACK_S=20
GROUP="$WORK/group.json"
CFG_FOUNDER="{\"group\":{\"type\":\"$BACKEND\",\"config\":$GC},\"file\":\"$GROUP\"}"
CFG_JOIN="{\"group\":{\"type\":\"$BACKEND\",\"config\":$GC}}"

# start NAME NAMESPACE IP [--join FILE]
start() {
    local name=$1 ns=$2 ipaddr=$3
    shift 3
    ip netns exec "$ns" "$MEMBER" --listen "tcp://$ipaddr:0" --status "$WORK/$name.status" \
        --pid 1 --config "$([ $# -gt 0 ] && echo "$CFG_JOIN" || echo "$CFG_FOUNDER")" "$@" \
        >"$WORK/$name.out" 2>"$WORK/$name.err" &
    eval "PID_$name=$!"
    PIDS="$PIDS $!"
}
field() { [ -f "$WORK/$1.status" ] && awk -v k="$2" '$1==k{print $2}' "$WORK/$1.status"; }
self_of() { field "$1" self; }
count_of() { field "$1" members; }
digest_of() { field "$1" digest; }
has() { grep -q "^m $2 " "$WORK/$1.status" 2>/dev/null; }
# keeps MEMBER in its view, or serves no view (status "error <code>": it
# learnt it was declared dead and is not back yet; it drops nobody). One
# read of the status file: it is replaced every 50 ms.
keeps() { grep -qE "^(m $2 |error )" "$WORK/$1.status" 2>/dev/null; }
alive() { eval "kill -0 \$PID_$1" 2>/dev/null; }
# wait_for SECONDS COMMAND...: poll every 100 ms
wait_for() {
    local t=$1
    shift
    local end=$(($(date +%s) + t))
    while [ "$(date +%s)" -le "$end" ]; do
        "$@" && return 0
        sleep 0.1
    done
    return 1
}
converged() { # all given members: same digest, N members
    local n=$1
    shift
    local d
    d=$(digest_of "$1")
    [ -n "$d" ] || return 1
    for m in "$@"; do
        [ "$(count_of "$m")" = "$n" ] && [ "$(digest_of "$m")" = "$d" ] || return 1
    done
}
check_alive() { for m in "$@"; do alive "$m" || fail "$m died (see $WORK/$m.err: $(tail -3 "$WORK/$m.err"))"; done; }

log "backend $BACKEND, namespaces $NSA/$NSB"
start m0 "$NSA" 10.77.0.1
wait_for 20 test -s "$GROUP" || fail "m0 did not start: $(cat "$WORK/m0.err")"
start m1 "$NSA" 10.77.0.1 --join "$GROUP"
start m2 "$NSB" 10.77.0.2 --join "$GROUP"
start m3 "$NSB" 10.77.0.2 --join "$GROUP"
wait_for 30 converged 4 m0 m1 m2 m3 || fail "the 4 members did not converge: $(for m in m0 m1 m2 m3; do echo "$m=$(count_of $m)/$(digest_of $m)"; done)"
A0=$(self_of m0) A1=$(self_of m1) B2=$(self_of m2) B3=$(self_of m3)
log "group of 4 formed: $A0 $A1 | $B2 $B3"

# ---- cut ----
cut_link() {
    if [ "$BACKEND" = swim ]; then
        local ns dev
        for ns in "$NSA" "$NSB"; do
            dev=$([ "$ns" = "$NSA" ] && echo "$VA" || echo "$VB")
            ip netns exec "$ns" nft -f - <<NFT || return 1
table inet flockcut {
    chain input { type filter hook input priority 0; iifname "$dev" drop; }
}
NFT
        done
    else
        ip -n "$NSA" link set "$VA" down
    fi
}
heal_link() {
    if [ "$BACKEND" = swim ]; then
        ip netns exec "$NSA" nft delete table inet flockcut &&
            ip netns exec "$NSB" nft delete table inet flockcut
    else
        ip -n "$NSA" link set "$VA" up
    fi
}
cut_link || fail "cutting the link"
T_CUT=$(date +%s.%N)
log "link cut"
same_side_kept() { # a member never loses its own side
    keeps m0 "$A1" || { echo "m0 removed reachable m1"; return 1; }
    if [ "$BACKEND" = swim ]; then
        keeps m1 "$A0" || { echo "m1 removed reachable m0"; return 1; }
        keeps m2 "$B3" || { echo "m2 removed reachable m3"; return 1; }
        keeps m3 "$B2" || { echo "m3 removed reachable m2"; return 1; }
    fi
    return 0
}
split_done() {
    same_side_kept >"$WORK/violation" || return 2
    if [ "$BACKEND" = swim ]; then
        converged 2 m0 m1 && converged 2 m2 m3
    else
        converged 2 m0 m1
    fi
}
end=$(($(date +%s) + BOUND_S + SLACK_S))
while :; do
    split_done
    r=$?
    [ $r = 2 ] && fail "$(cat "$WORK/violation")"
    [ $r = 0 ] && break
    [ "$(date +%s)" -gt "$end" ] && fail "unreachable side not removed within ${BOUND_S}s + ${SLACK_S}s slack: $(for m in m0 m1 m2 m3; do echo "$m=$(count_of $m)"; done)"
    sleep 0.1
done
T_SPLIT=$(date +%s.%N)
log "split detected after $(awk "BEGIN{printf \"%.1f\", $T_SPLIT - $T_CUT}") s (bound ${BOUND_S} s)"
check_alive m0 m1 m2 m3
# stays split, and nobody removes its own side, for a while (swim: until
# PARTITION_HOLD_S after the cut)
HOLD_S=$([ "$BACKEND" = swim ] && echo "${PARTITION_HOLD_S:-20}" || echo 1)
hold_end=$(awk -v t="$T_CUT" -v h="$HOLD_S" 'BEGIN{printf "%d", t + h}')
while :; do
    same_side_kept >"$WORK/violation" || fail "$(cat "$WORK/violation")"
    [ "$(date +%s)" -ge "$hold_end" ] && break
    sleep 0.1
done

# ---- restore ----
heal_link || fail "restoring the link"
T_HEAL=$(date +%s.%N)
log "link restored"
if [ "$BACKEND" = swim ]; then
    # one view again; meanwhile nobody drops a member of its own side
    heal_end=$(($(date +%s) + 60))
    until converged 4 m0 m1 m2 m3; do
        same_side_kept >"$WORK/violation" || fail "after the heal: $(cat "$WORK/violation")"
        [ "$(date +%s)" -gt "$heal_end" ] && fail "no convergence after the partition healed: $(for m in m0 m1 m2 m3; do echo "$m=$(count_of $m)/$(digest_of $m)"; done)"
        sleep 0.05
    done
    T_ONE=$(date +%s.%N)
    echo "heal_to_one_view_s $(awk "BEGIN{printf \"%.2f\", $T_ONE - $T_HEAL}")"
    log "healed: all 4 members share digest $(digest_of m0)"
else
    start m4 "$NSB" 10.77.0.2 --join "$GROUP"
    m4_listed() { local a; a=$(self_of m4); [ -n "$a" ] && has m0 "$a"; }
    wait_for 30 m4_listed || fail "m4 did not join after the link was restored"
    # m2 and m3, declared dead while cut off, learn it and rejoin by
    # themselves (docs/design.md, "Group identity and terms"): one group of 5
    wait_for 30 converged 5 m0 m1 m2 m3 m4 || fail "no convergence after restore: $(for m in m0 m1 m2 m3 m4; do echo "$m=$(count_of $m)/$(digest_of $m)"; done)"
    has m0 "$B2" || fail "m2 did not rejoin"
    has m0 "$B3" || fail "m3 did not rejoin"
    grep -q "rejoined the group" "$WORK/m2.err" 2>/dev/null || log "(m2's log is silent: REL_MEMBER_VERBOSE unset)"
    log "after restore: m4 joined, m2 and m3 rejoined, all 5 share digest $(digest_of m0)"
    check_alive m4
fi
check_alive m0 m1 m2 m3
# graceful stop: every member exits 0
for m in m0 m1 m2 m3 $([ "$BACKEND" = centralized ] && echo m4); do
    eval "kill -TERM \$PID_$m"
done
for m in m0 m1 m2 m3 $([ "$BACKEND" = centralized ] && echo m4); do
    eval "wait \$PID_$m"
    rc=$?
    [ $rc = 0 ] || fail "$m exited with status $rc on SIGTERM"
done
PIDS=""
echo "PASS"
exit 0
