#!/bin/bash
# test-centralized-partition.sh FLOCKD FLOCK -- a centralized group of 5 cut
# 2 | 3 by a silent network failure (issues #15, #22): two network namespaces
# joined by a veth pair, the primary and one member on side A, three members
# on side B, cut with nftables drop rules on the input hook (packets vanish,
# as on a failed switch). Checks:
#   - only the majority side (B) elects a new primary; the minority primary
#     declares nobody dead, keeps answering get_view, and refuses a join with
#     a clear error;
#   - after the heal every member, the old primary included, holds one view
#     of all 5 (the old primary steps down and rejoins).
# Exit 77 (ctest skip) with the reason when namespaces or nftables cannot be
# had; namespaces, rules and processes are always removed.
set -u
FLOCKD=${1:?usage: test-centralized-partition.sh FLOCKD FLOCK}
FLOCK=${2:?flock cli}
SKIP=77
skip() { echo "SKIP: $*"; exit $SKIP; }
fail() { echo "FAIL: $*"; for f in "$WORK"/m*.err; do echo "== $f"; grep -v '\[debug\]' "$f" | tail -6; done; exit 1; }
log() { echo "[$(date +%T.%N | cut -c1-12)] $*"; }
command -v ip >/dev/null 2>&1 || skip "iproute2 ('ip') is not installed"
[ "$(id -u)" = 0 ] || skip "not root: network namespaces need CAP_NET_ADMIN"
if ! command -v nft >/dev/null 2>&1; then
    apt-get -o DPkg::Lock::Timeout=600 install -y -qq --no-install-recommends nftables >/dev/null 2>&1
    command -v nft >/dev/null 2>&1 || skip "nftables ('nft') is not installed and could not be"
fi
TAG=fc$$
NSA=${TAG}a NSB=${TAG}b VA=${TAG}x VB=${TAG}y
IPA=10.78.0.1 IPB=10.78.0.2
WORK=$(mktemp -d "${TMPDIR:-/tmp}/flock-cpart-XXXXXX")
GROUP="$WORK/group.json"
GC='{"ping_timeout_ms":300.0,"ping_interval_ms":[150.0,250.0],"ping_max_num_timeouts":3}'
declare -A PID PORT NS IP
cleanup() {
    for n in "${!PID[@]}"; do kill -CONT "${PID[$n]}" 2>/dev/null; kill -9 "${PID[$n]}" 2>/dev/null; done
    wait 2>/dev/null
    ip netns del "$NSA" 2>/dev/null; ip netns del "$NSB" 2>/dev/null; ip link del "$VA" 2>/dev/null
    if [ -z "${FLOCK_TEST_KEEP:-}" ]; then rm -rf "$WORK"; else echo "kept $WORK"; fi
}
trap cleanup EXIT
trap 'exit 1' INT TERM ALRM
ip netns add "$NSA" 2>"$WORK/err" || skip "cannot create a network namespace: $(cat "$WORK/err")"
ip netns add "$NSB" || fail "second namespace"
ip link add "$VA" type veth peer name "$VB" 2>"$WORK/err" || skip "cannot create a veth pair: $(cat "$WORK/err")"
ip link set "$VA" netns "$NSA" && ip link set "$VB" netns "$NSB" || fail "moving the veth ends"
ip -n "$NSA" addr add "$IPA/24" dev "$VA" && ip -n "$NSB" addr add "$IPB/24" dev "$VB" || fail "addresses"
for ns in "$NSA" "$NSB"; do ip -n "$ns" link set lo up; done
ip -n "$NSA" link set "$VA" up && ip -n "$NSB" link set "$VB" up || fail "veth up"
ip netns exec "$NSA" nft list tables >/dev/null 2>&1 || skip "nftables does not work in a namespace here"

start() { # start NAME SIDE PORT
    local n=$1 side=$2 port=$3 ns ip
    if [ "$side" = A ]; then ns=$NSA ip=$IPA; else ns=$NSB ip=$IPB; fi
    NS[$n]=$ns IP[$n]=$ip PORT[$n]=$port
    cat >"$WORK/$n.json" <<X
{"providers":[{"type":"flock","name":"g","provider_id":1,"config":{"bootstrap":["join","self"],"file":"$GROUP","group":{"type":"centralized","config":$GC}}}]}
X
    ip netns exec "$ns" "$FLOCKD" "tcp://$ip:$port" -c "$WORK/$n.json" ${FLOCK_TEST_DEBUG:+-v debug} >>"$WORK/$n.out" 2>>"$WORK/$n.err" &
    PID[$n]=$!
}
ready() { grep -q '^flockd: ready' "$WORK/$1.out" 2>/dev/null; }
wait_until() { local end=$(($(date +%s) + $1)); shift; while [ "$(date +%s)" -le "$end" ]; do "$@" && return 0; sleep 0.1; done; return 1; }
# the view one member serves (its digest and size), asked from its own namespace
view_of() { ip netns exec "${NS[$1]}" "$FLOCK" show -a "tcp://${IP[$1]}:${PORT[$1]}" -p 1 --json --all -t 1000 2>/dev/null; }
size_of() { view_of "$1" | grep -o '"index":' | wc -l; }
digest_of() { view_of "$1" | grep -o '"digest":"[^"]*"'; }
one_view() { # one_view N NAME...: those members serve one view of N
    local n=$1 d="" x
    shift
    for m in "$@"; do
        x=$(view_of "$m") || return 1
        [ "$(echo "$x" | grep -o '"index":' | wc -l)" = "$n" ] || return 1
        x=$(echo "$x" | grep -o '"digest":"[^"]*"')
        [ -z "$d" ] && d=$x
        [ "$x" = "$d" ] || return 1
    done
}
primary_of() { view_of "$1" | grep -o 'primary_address[^,]*' | grep -o 'tcp://[0-9.:]*' | head -1; }
cut_link() {
    for ns in "$NSA" "$NSB"; do
        local other=$IPB; [ "$ns" = "$NSB" ] && other=$IPA
        ip netns exec "$ns" nft -f - <<NFT || fail "nft rules"
table inet flockcut {
  chain input { type filter hook input priority 0; policy accept; ip saddr $other drop; }
}
NFT
    done
}
heal_link() { for ns in "$NSA" "$NSB"; do ip netns exec "$ns" nft delete table inet flockcut; done; }

read -r PA0 PA1 PB2 PB3 PB4 PB5 <<<"$(python3 -c 'import random; print(*random.sample(range(20000, 30000), 6))')"
start m0 A "$PA0"; wait_until 20 ready m0 || fail "m0 did not start"
start m1 A "$PA1"; wait_until 20 ready m1 || fail "m1 did not start"
for n in 2 3 4; do eval "start m$n B \$PB$n"; wait_until 20 ready "m$n" || fail "m$n did not start"; done
wait_until 30 one_view 5 m0 m1 m2 m3 m4 || fail "the group of 5 did not form"
OLD=$(primary_of m0)
log "group of 5 formed, primary $OLD (side A with m1; m2 m3 m4 on side B)"

cp "$GROUP" "$WORK/side-a.json" # the group file as side A's hosts would keep seeing it
cut_link
T0=$(date +%s.%N)
log "cut 2 | 3"
wait_until 40 eval '[ "$(primary_of m2)" != "$OLD" ] && one_view 3 m2 m3 m4' || fail "side B did not elect a primary"
log "side B elected $(primary_of m2) after $(awk -v a="$T0" -v b="$(date +%s.%N)" 'BEGIN{printf "%.1f", b-a}') s"
sleep 3
[ "$(size_of m0)" = 5 ] || fail "the minority primary declared members dead ($(size_of m0) left)"
[ "$(primary_of m0)" = "$OLD" ] && [ "$(primary_of m1)" = "$OLD" ] || fail "side A changed primary"
grep -q 'took over' "$WORK/m1.err" && fail "the minority side elected"
grep -q 'no majority' "$WORK/m1.err" || log "(m1 logged no election attempt yet)"
# a join on side A (its copy of the group file names the old primary) is
# refused with a clear error, and writes nothing (the joiner asks again for
# 30 s, in case the primary reaches a majority again, then fails)
cp "$WORK/side-a.json" "$WORK/side-a.before"
GROUP_SAVED=$GROUP GROUP="$WORK/side-a.json"
start m5 A "$PB5"
GROUP=$GROUP_SAVED
wait_until 60 eval '! kill -0 ${PID[m5]} 2>/dev/null' || fail "the joiner on the minority side neither joined nor failed"
grep -q 'cannot reach a majority' "$WORK/m5.err" || fail "no clear error for a join on the minority side: $(tail -3 "$WORK/m5.err")"
cmp -s "$WORK/side-a.json" "$WORK/side-a.before" || fail "the refused joiner wrote its group file"
log "minority side: the old primary keeps 5 members and refuses joins"

heal_link
T1=$(date +%s.%N)
log "healed"
if ! wait_until 40 one_view 5 m0 m1 m2 m3 m4; then
    for m in m0 m1 m2 m3 m4; do echo "$m: $(view_of $m | head -c 200)"; done
    for m in m2 m3 m4; do echo "from A to $m: $(ip netns exec "$NSA" "$FLOCK" show -a "tcp://${IP[$m]}:${PORT[$m]}" -p 1 --json -t 1000 2>&1 | head -c 150)"; done
    for ns in "$NSA" "$NSB"; do echo "rules in $ns:"; ip netns exec "$ns" nft list ruleset; done
    ip -n "$NSA" link show; ip -n "$NSA" addr show; ip -n "$NSA" route
    fail "no single view of 5 after the heal"
fi
log "one view of 5 after $(awk -v a="$T1" -v b="$(date +%s.%N)" 'BEGIN{printf "%.1f", b-a}') s, primary $(primary_of m0)"
[ "$(primary_of m0)" != "$OLD" ] || fail "the old primary is still the primary"
grep -q 'stepping down' "$WORK/m0.err" || fail "the old primary did not step down"
echo PASS
