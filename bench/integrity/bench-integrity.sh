#!/bin/bash
# bench-integrity.sh BACKEND BUILD_DIR [RUNS] -- group integrity timings (issue #22),
# p50 and max over RUNS (default 10) runs:
#   restart_to_agreement_s  a member of 4 (flockd over tcp on loopback, bootstrap
#                           ["join","self"]) is SIGKILLed and restarted at once;
#                           from its start to one view of 4 at every member
#                           (`flockctl check`)
#   heal_to_one_view_s      swim: tests/reliability/test-partition.sh (2 | 2 in network
#                           namespaces, nftables input drops, 20 s); centralized:
#                           tests/integrity/test-centralized-partition.sh (2 | 3, the
#                           primary on the minority side, ~10 s): from the heal to
#                           one view at every member (needs root; skipped if not)
# BACKEND: swim (centralized: same harness, its config below).
# BUILD_DIR: a build tree with src/daemon/flockd, src/cli/flockctl and
# tests/reliability/rel-member (the "before" figures: a build of an older commit).
set -u
BACKEND=${1:?usage: bench-integrity.sh swim|centralized BUILD_DIR [RUNS]}
BUILD=$(cd "${2:?build dir}" && pwd)
RUNS=${3:-10}
HERE=$(cd "$(dirname "$0")" && pwd)
SRC=$(cd "$HERE/../.." && pwd)
FLOCKD=$BUILD/src/daemon/flockd
FLOCK=$BUILD/src/cli/flockctl
case "$BACKEND" in
swim) GROUP_CONFIG='{"protocol_period_ms":200.0,"ping_timeout_ms":150.0,"ping_req_timeout_ms":200.0,"suspicion_timeout_ms":1000.0,"reconnect_interval_ms":1000.0}' ;;
centralized) GROUP_CONFIG='{"ping_timeout_ms":600.0,"ping_interval_ms":200.0,"ping_max_num_timeouts":3}' ;;
*) echo "unknown backend $BACKEND"; exit 2 ;;
esac
WORK=$(mktemp -d "${TMPDIR:-/tmp}/flock-bench-integrity-XXXXXX")
. "$SRC/tests/integrity/integrity-lib.sh"
trap 'stop_all; rm -rf "$WORK"' EXIT
trap 'exit 1' INT TERM

stats() { # name values...: p50 and max
    local name=$1
    shift
    printf '%s\n' "$@" | sort -g | awk -v n="$name" '{v[NR]=$1} END {
        if (NR == 0) { printf "%-24s no data\n", n; exit }
        printf "%-24s runs %d  p50 %.2f s  max %.2f s\n", n, NR, v[int((NR + 1) / 2)], v[NR] }'
}

restart_runs() {
    local ports t0 r vals=()
    read -r -a ports <<<"$(free_ports 4)"
    member_start m0 "${ports[0]}"
    wait_until 20 member_ready m0 || { echo "m0 did not start"; return 1; }
    for i in 1 2 3; do member_start "m$i" "${ports[$i]}"; done
    wait_until 30 group_agrees 4 || { echo "the group did not form"; return 1; }
    for r in $(seq 1 "$RUNS"); do
        member_kill m2 KILL
        t0=$(now)
        member_start m2 "${ports[2]}"
        if wait_until 60 group_agrees 4; then vals+=("$(elapsed "$t0" "$(now)")"); else vals+=(60); fi
        sleep 1
    done
    stop_all
    stats restart_to_agreement_s "${vals[@]}"
}

heal_runs() {
    local r out vals=()
    [ "$(id -u)" = 0 ] || { echo "heal_to_one_view_s        skipped (not root)"; return 0; }
    for r in $(seq 1 "$RUNS"); do
        if [ "$BACKEND" = centralized ]; then # 2 | 3 of flockd, the primary on the minority side
            out=$(bash "$SRC/tests/integrity/test-centralized-partition.sh" "$FLOCKD" "$FLOCK" 2>&1)
            v=$(echo "$out" | sed -n 's/.*one view of 5 after \([0-9.]*\) s.*/\1/p')
        else
            out=$(PARTITION_HOLD_S=20 bash "$SRC/tests/reliability/test-partition.sh" "$BACKEND" \
                  "$BUILD/tests/reliability/rel-member" 2>&1)
            v=$(echo "$out" | awk '/^heal_to_one_view_s/{print $2}')
        fi
        if [ -n "$v" ]; then vals+=("$v"); else vals+=(60); echo "run $r: $(echo "$out" | grep FAIL)"; fi
    done
    stats heal_to_one_view_s "${vals[@]}"
}

echo "backend $BACKEND, build $BUILD, $RUNS runs"
restart_runs
heal_runs
