# integrity-lib.sh -- helpers for the group-integrity tests and benchmarks:
# flockd members over tcp on loopback, each with its own config file and one
# shared group file. Source it after setting FLOCKD, FLOCK (binaries), WORK
# (a private directory), BACKEND and GROUP_CONFIG (the group's "config").
#   member_config NAME       writes $WORK/NAME.json (bootstrap ["join","self"])
#   member_start NAME PORT   starts flockd NAME on tcp://127.0.0.1:PORT
#   member_kill NAME [SIG]   signal (default KILL) and reap NAME
#   free_ports N             N free tcp ports on 127.0.0.1
#   group_agrees N           every one of N members answers with one view of N
#   wait_until SECONDS CMD   polls CMD every 50 ms; false on timeout
#   now                      seconds since the epoch (ns resolution)
#   stop_all                 SIGKILL every member started here
#   log MSG, fail MSG        a timestamped line; FAIL, the last check and the
#                            tail of every member's log, exit 1
#   integrity_traps          on exit stop every member and remove WORK (kept
#                            with FLOCK_TEST_KEEP=1)
#   restart_all N NAME...    kill -9 them all, start them all again, wait for
#                            one view of N (fails the test otherwise)
declare -A MEMBER_PID MEMBER_PORT
GROUP_FILE="$WORK/group.json"

now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$2" 'BEGIN{printf "%.3f", b - a}'; }

# N ports that bind now, below the kernel's ephemeral range (so that no
# outgoing connection of any process takes one before its member binds it;
# a port from bind(0) was taken that way under load), picked at random
free_ports() {
    python3 - "$1" <<'PY'
import random, socket, sys
n = int(sys.argv[1])
try:
    low = int(open("/proc/sys/net/ipv4/ip_local_port_range").read().split()[0])
except (OSError, ValueError, IndexError):
    low = 32768
lo, hi = (10000, low - 1) if low > 12000 else (low // 2, low - 1)
socks, ports = [], set()
for _ in range(100 * n):
    if len(socks) == n:
        break
    p = random.randint(lo, hi)
    if p in ports:
        continue
    s = socket.socket()
    try:
        s.bind(("127.0.0.1", p))
    except OSError:
        s.close()
        continue
    socks.append(s)
    ports.add(p)
if len(socks) < n:  # a crowded range: the kernel's choice, as before
    while len(socks) < n:
        s = socket.socket(); s.bind(("127.0.0.1", 0)); socks.append(s)
print(" ".join(str(s.getsockname()[1]) for s in socks))
PY
}

member_config() {
    cat >"$WORK/$1.json" <<X
{"providers":[{"type":"flock","name":"g","provider_id":1,"config":{"bootstrap":["join","self"],"file":"$GROUP_FILE","group":{"type":"$BACKEND","config":$GROUP_CONFIG}}}]}
X
}

member_start() {
    local name=$1 port=$2
    [ -f "$WORK/$name.json" ] || member_config "$name"
    "$FLOCKD" "tcp://127.0.0.1:$port" -c "$WORK/$name.json" >>"$WORK/$name.out" 2>>"$WORK/$name.err" &
    MEMBER_PID[$name]=$!
    MEMBER_PORT[$name]=$port
}

member_kill() {
    local name=$1 sig=${2:-KILL} pid=${MEMBER_PID[$1]:-}
    [ -n "$pid" ] || return 0
    kill -"$sig" "$pid" 2>/dev/null
    if [ "$sig" = KILL ] || [ "$sig" = TERM ]; then
        wait "$pid" 2>/dev/null
        MEMBER_PID[$name]=""
    fi
}

member_ready() { grep -q '^flockd: ready' "$WORK/$1.out" 2>/dev/null; }

stop_all() {
    local n
    for n in "${!MEMBER_PID[@]}"; do
        [ -n "${MEMBER_PID[$n]}" ] && kill -CONT "${MEMBER_PID[$n]}" 2>/dev/null
        [ -n "${MEMBER_PID[$n]}" ] && kill -9 "${MEMBER_PID[$n]}" 2>/dev/null
    done
    wait 2>/dev/null
}

# `flockctl check` of the group file: every member answers, one view, n members
group_agrees() {
    local n=$1 out
    out=$("$FLOCK" check "$GROUP_FILE" --json -t 1000 2>/dev/null) || return 1
    echo "$out" >"$WORK/last-check.json"
    echo "$out" | grep -q "\"answered\":$n,\"size\":$n,\"ok\":true,\"distinct_views\":1"
}

# the view of one member (by port) lists that many members, as a digest
member_view() {
    "$FLOCK" show -a "tcp://127.0.0.1:$1" -p 1 --json -t 1000 2>/dev/null
}

wait_until() {
    local t=$1
    shift
    local end
    end=$(awk -v a="$(now)" -v t="$t" 'BEGIN{printf "%.3f", a + t}')
    while :; do
        "$@" && return 0
        awk -v a="$(now)" -v e="$end" 'BEGIN{exit !(a > e)}' && return 1
        sleep 0.05
    done
}

log() { echo "[$(date +%T.%N | cut -c1-12)] $*"; }

fail() {
    local f
    echo "FAIL: $*"
    [ -f "$WORK/last-check.json" ] && cat "$WORK/last-check.json" && echo
    for f in "$WORK"/*.err; do
        [ -f "$f" ] || continue
        echo "== $f"
        grep -v '\[debug\]' "$f" | tail -6
    done
    exit 1
}

integrity_cleanup() {
    stop_all
    if [ -z "${FLOCK_TEST_KEEP:-}" ]; then rm -rf "$WORK"; else echo "kept $WORK"; fi
}

integrity_traps() {
    trap integrity_cleanup EXIT
    trap 'exit 1' INT TERM ALRM
}

restart_all() {
    local n=$1 m t0
    shift
    for m in "$@"; do member_kill "$m" KILL; done
    t0=$(now)
    for m in "$@"; do member_start "$m" "${MEMBER_PORT[$m]}"; done
    wait_until 30 group_agrees "$n" || fail "no single view of $n after restarting $*"
    log "restart of $*: one view of $n after $(elapsed "$t0" "$(now)") s"
}
