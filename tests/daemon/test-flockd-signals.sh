#!/usr/bin/env bash
# test-flockd-signals.sh FLOCKD -- flockd's logs and signals (issue #21 items 7-8):
#   text logs carry ISO 8601 UTC times ending in Z; --log-format json writes one JSON object per
#   line; --log-file appends to a file that SIGHUP reopens (logrotate: move, HUP, new file);
#   every member logs JOINED / LEFT at info; two SIGTERMs sent together are one graceful stop
#   (exit 0); a second SIGTERM more than a second into a stop that hangs exits at once (1);
#   SIGQUIT exits at once (1). Prints "signals: ok".
set -uo pipefail
FLOCKD=$1
work=$(mktemp -d "${TMPDIR:-/tmp}/flockd-signals-XXXXXX")
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill -CONT "$p" 2>/dev/null; kill -KILL "$p" 2>/dev/null; done
  wait 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT
fail() { echo "signals: FAIL: $*" >&2; for f in "$work"/*.err "$work"/*.log; do [ -f "$f" ] && { echo "--- $f"; tail -15 "$f"; } >&2; done; exit 1; }
cd "$work" || exit 1
wait_for() { for _ in $(seq 1 300); do "$@" && return 0; sleep 0.1; done; return 1; }
# start NAME [flockd options...]: sets pid_NAME
start() {
  local name=$1; shift
  "$FLOCKD" na+sm -c "${CFG:-g.json}" "$@" >"$name.out" 2>"$name.err" &
  pids+=($!)
  eval "pid_$name=$!"
  wait_for grep -q "flockd: ready" "$name.out" || fail "flockd $name did not start"
}
# exit_of PID: waits (bounded: 30 s) and sets rc to its exit status
exit_of() {
  local p=$1
  for _ in $(seq 1 300); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
  wait "$p"; rc=$?
}
printf '{"providers":[{"type":"flock","name":"g","provider_id":1,"config":{"bootstrap":["join","self"],"file":"g.flock","group":{"type":"centralized","config":{"ping_timeout_ms":300,"ping_interval_ms":500,"ping_max_num_timeouts":60}}}}]}\n' >g.json

start A
grep -Eq '^\[[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{3}Z\] \[info\] ' A.err \
  || fail "text log lines do not start with an ISO 8601 time ending in Z"
start B --log-format json --log-file b.log
[ -s B.err ] && fail "with --log-file, flockd still writes to stderr: $(cat B.err)"
grep -q '"msg":' b.log || fail "no JSON line in the log file"
grep -v '^{"time":"[0-9T:.-]*Z","level":"[a-z]*","instance":"[^"]*","msg":".*"}$' b.log | grep -q . \
  && fail "a log line is not a JSON object: $(grep -v '^{' b.log | head -1)"
# logrotate: move the file, SIGHUP, a new file gets the next lines
mv b.log b.log.1
kill -HUP "$pid_B"
wait_for grep -q "reopened" b.log || fail "SIGHUP did not reopen the log file"
kill -0 "$pid_B" || fail "SIGHUP killed flockd"
start C
wait_for grep -q "JOINED" b.log || fail "member B (a secondary) did not log JOINED in its new log file"
grep -q "JOINED" C.err || true
# two SIGTERMs at once: one graceful stop
kill -TERM "$pid_C"; kill -TERM "$pid_C"
exit_of "$pid_C"; [ "$rc" = 0 ] || fail "two SIGTERMs at once: exit $rc, expected 0"
grep -q "flockd: stopped" C.out || fail "two SIGTERMs: no graceful stop"
grep -q "again" C.err && fail "two SIGTERMs at once were taken as two"
wait_for grep -q "LEFT" A.err || fail "the primary did not log LEFT"
# a stop that hangs (a swim member whose LEAVE nobody answers: the other one is stopped):
# a SIGTERM 1.5 s later exits at once
printf '{"providers":[{"type":"flock","name":"s","provider_id":1,"config":{"bootstrap":["join","self"],"file":"s.flock","group":{"type":"swim","config":{"announce_timeout_ms":20000,"ping_timeout_ms":5000,"suspicion_timeout_ms":60000}}}}]}\n' >s.json
CFG=s.json start D; CFG=s.json start E
wait_for grep -q "JOINED" D.err || fail "swim pair did not form"
# kill -STOP returns before the stop takes hold: until the thread the kernel picked runs,
# the other threads of D go on (on a loaded machine, long enough to answer E's LEAVE)
all_stopped() { local t; for t in /proc/"$1"/task/*/stat; do
    [ "$(sed 's/.*) //' "$t" | cut -d' ' -f1)" = T ] || return 1; done; }
kill -STOP "$pid_D"
wait_for all_stopped "$pid_D" || fail "the swim member D did not stop"
kill -TERM "$pid_E"; sleep 1.5; kill -TERM "$pid_E"
exit_of "$pid_E"; [ "$rc" = 1 ] || fail "second SIGTERM during a hung stop: exit $rc, expected 1"
grep -q "again, exiting without leaving" E.err || fail "second SIGTERM: no message"
kill -CONT "$pid_D"
kill -TERM "$pid_B"
# SIGQUIT: at once
kill -QUIT "$pid_A"
exit_of "$pid_A"; [ "$rc" = 1 ] || fail "SIGQUIT: exit $rc, expected 1"
grep -q "exiting at once" A.err || fail "SIGQUIT: no message"
echo "signals: ok"
