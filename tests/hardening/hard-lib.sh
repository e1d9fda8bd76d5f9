# hard-lib.sh -- shared by the hardening scenarios: start a real flockd
# member, probe it with the CLI, measure it, stop it. Sourced; expects
# FLOCKD, FLOCK_CLI, HARD_PEER in the environment (set by ctest).
set -u
# HARD_MEASURE=1: report what would fail and go on (to measure an old build)
fail() {
    echo "FAIL: $*"
    [ -n "${LOG:-}" ] && [ -f "$LOG" ] && tail -c 600 "$LOG" | tail -3
    [ -n "${HARD_MEASURE:-}" ] && return 1
    exit 1
}
skip() { echo "SKIP: $*"; exit 77; }
note() { echo "[$(date +%T.%N | cut -c1-12)] $*"; }
[ -x "${FLOCKD:-}" ] && [ -x "${FLOCK_CLI:-}" ] && [ -x "${HARD_PEER:-}" ] \
    || fail "FLOCKD, FLOCK_CLI and HARD_PEER must name the built binaries"

WORK=$(mktemp -d "${TMPDIR:-/tmp}/flock-hard-XXXXXX")
PIDS=""
hard_cleanup() {
    for p in $PIDS; do kill -9 "$p" 2>/dev/null; done
    wait 2>/dev/null
    if [ -z "${FLOCK_TEST_KEEP:-}" ]; then rm -rf "$WORK"; else echo "kept $WORK"; fi
}
trap hard_cleanup EXIT
trap 'exit 1' INT TERM

# start_member TRANSPORT NOFILE [ENV=VAL...]: a centralized group of one,
# founded by flockd under `ulimit -n NOFILE` (0: unchanged). Sets MPID, ADDR,
# GROUP (the group file), LOG (its stderr).
start_member() {
    local tr=$1 nofile=$2
    shift 2
    GROUP="$WORK/group.flock"
    LOG="$WORK/flockd.log"
    rm -f "$GROUP"
    cat > "$WORK/flockd.json" <<EOC
{"providers": [{"type": "flock", "name": "g", "provider_id": 1,
  "config": {"bootstrap": "self", "file": "$GROUP",
             "group": {"type": "centralized", "config": {}}}}]}
EOC
    local listen=$tr
    [ "$tr" = tcp ] && listen=tcp://127.0.0.1:0
    (
        [ "$nofile" -gt 0 ] && ulimit -n "$nofile"
        # under ASan, freed memory waits in a quarantine (256 MiB by default):
        # keep it small so that RSS measures what the member holds
        export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}quarantine_size_mb=4:thread_local_quarantine_size_kb=64"
        exec env "$@" "$FLOCKD" "$listen" -c "$WORK/flockd.json" > "$WORK/flockd.out" 2> "$LOG"
    ) &
    MPID=$!
    PIDS="$PIDS $MPID"
    for _ in $(seq 200); do
        grep -q "^flockd: ready" "$WORK/flockd.out" 2>/dev/null && break
        kill -0 "$MPID" 2>/dev/null || fail "flockd exited at start-up: $(cat "$LOG")"
        sleep 0.1
    done
    grep -q "^flockd: ready" "$WORK/flockd.out" || fail "flockd not ready in 20 s"
    ADDR=$(sed -n 's/^flockd: listening on //p' "$WORK/flockd.out")
    note "member $MPID at $ADDR (ulimit -n ${nofile/#0/unchanged})"
}

# check_ok [TIMEOUT_MS]: flockctl check of the group answers (exit 0).
check_ok() {
    timeout 20 "$FLOCK_CLI" check "$GROUP" --timeout "${1:-2000}" > /dev/null 2>&1
}

# recover_ms LIMIT_MS: poll check_ok every 50 ms; prints the ms it took, or
# fails past LIMIT_MS.
recover_ms() {
    local t0 now
    t0=$(date +%s%3N)
    while :; do
        check_ok 1000 && break
        now=$(date +%s%3N)
        if [ $((now - t0)) -gt "$1" ]; then
            fail "the member did not answer within $1 ms" >&2
            echo "never"
            return
        fi
        sleep 0.05
    done
    echo $(( $(date +%s%3N) - t0 ))
}

# cpu_ticks PID: user + system clock ticks used so far.
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
# rss_kb PID / hwm_kb PID: resident set now / at its peak (kB).
rss_kb() { awk '/^VmRSS/ {print $2}' "/proc/$1/status"; }
hwm_kb() { awk '/^VmHWM/ {print $2}' "/proc/$1/status"; }
log_bytes() { stat -c %s "$LOG"; }

# stop_member: one SIGTERM; the member must exit 0 within 20 s.
stop_member() {
    kill -TERM "$MPID"
    for _ in $(seq 200); do
        kill -0 "$MPID" 2>/dev/null || break
        sleep 0.1
    done
    if kill -0 "$MPID" 2>/dev/null; then
        fail "the member ignored SIGTERM (still running after 20 s)"
        kill -9 "$MPID"
        wait "$MPID" 2>/dev/null
        return 1
    fi
    wait "$MPID"
    local rc=$?
    [ "$rc" -eq 0 ] || fail "the member exited $rc after SIGTERM"
    note "one SIGTERM: exited 0"
}
