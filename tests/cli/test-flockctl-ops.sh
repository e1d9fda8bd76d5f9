#!/usr/bin/env bash
# test-flockctl-ops.sh FLOCKD FLOCKCTL -- flockctl's operators' commands against real flockd
# processes (issue #21 items 3-6): keygen (mode 0600, never overwrites), a keyed group (flockd
# accepts "auth" without a warning; "the group requires a key" / "wrong key" / the right key),
# show's status/role columns, --json shape and exit statuses, info (table and JSON), leave and
# force-leave on centralized (through a secondary, redirected to the primary) and swim, refused
# on static, meta get/set/unset, and JOINED logged at info by every member. Prints "ops: ok".
set -uo pipefail
FLOCKD=$1 CTL=$2
work=$(mktemp -d "${TMPDIR:-/tmp}/flockctl-ops-XXXXXX")
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill -CONT "$p" 2>/dev/null; kill -KILL "$p" 2>/dev/null; done
  wait 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT
fail() { echo "ops: FAIL: $*" >&2; for f in "$work"/*.err "$work"/last.*; do [ -f "$f" ] && { echo "--- $f"; tail -20 "$f"; } >&2; done; exit 1; }
cd "$work" || exit 1

# ctl EXPECTED_RC ARGS... : run flockctl, keep its output in last.out / last.err
ctl() {
  local want=$1; shift
  "$CTL" "$@" >last.out 2>last.err
  local rc=$?
  [ "$rc" = "$want" ] || fail "flockctl $* exited $rc, expected $want"
}
# start NAME CONFIG: a flockd in the background; sets $addr
start() {
  local name=$1 cfg=$2
  "$FLOCKD" na+sm -c "$cfg" >"$name.out" 2>"$name.err" &
  pids+=($!)
  eval "pid_$name=$!"
  for _ in $(seq 1 300); do grep -q "flockd: ready" "$name.out" 2>/dev/null && break; sleep 0.1; done
  grep -q "flockd: ready" "$name.out" || fail "flockd $name did not start"
  addr=$(sed -n 's/^flockd: listening on //p' "$name.out")
  eval "addr_$name=$addr"
}
# wait_for CMD...: retry a command for up to 30 s
wait_for() { for _ in $(seq 1 300); do "$@" && return 0; sleep 0.1; done; return 1; }
re() { printf '%s' "$1" | sed 's/[][+.*?^$()|{}\\]/\\&/g'; } # an address as an ERE
members_are() { "$CTL" show "$1" >last.out 2>last.err; grep -q "^$2 member" last.out; }
cfg() { # cfg FILE GROUPFILE TYPE GROUPCONFIG [EXTRA]
  printf '{"providers":[{"type":"flock","name":"g","provider_id":1,"config":{"bootstrap":["join","self"],"file":"%s","group":{"type":"%s","config":%s}%s}}]}\n' \
    "$2" "$3" "$4" "${5:-}" >"$1"
}

# ---- keygen ----
ctl 2 keygen
ctl 0 keygen k1.key
[ "$(stat -c %a k1.key)" = 600 ] || fail "keygen: mode $(stat -c %a k1.key), expected 600"
grep -Eq '^[0-9a-f]{64}$' k1.key || fail "keygen: not 64 hex digits"
cp k1.key before
ctl 1 keygen k1.key
grep -q "never overwritten" last.err || fail "keygen over an existing file: $(cat last.err)"
cmp -s k1.key before || fail "keygen changed an existing key"
ctl 0 keygen k2.key
cmp -s k1.key k2.key && fail "keygen wrote the same key twice"

# ---- a keyed group ----
cfg keyed.json keyed.flock centralized '{}' ',"auth":{"key_file":"k1.key"}'
"$FLOCKD" --check -c keyed.json >last.out 2>last.err || fail "flockd --check of a keyed config"
grep -q "unknown key" last.err && fail "flockd warns about \"auth\": $(cat last.err)"
start K keyed.json
ctl 1 show keyed.flock
grep -q "the group requires a key" last.err || fail "no key: $(cat last.err)"
[ "$(wc -l <last.err)" = 1 ] || fail "no key: more than one error line: $(cat last.err)"
ctl 1 show keyed.flock --key-file k2.key
grep -q "wrong key" last.err || fail "wrong key: $(cat last.err)"
ctl 0 show keyed.flock --key-file k1.key
ctl 0 info --address "$addr_K" --provider-id 1 --key-file k1.key
kill -TERM "$pid_K"; wait "$pid_K" 2>/dev/null

# ---- centralized: show, info, leave, force-leave ----
# slow failure detection (about a minute), so that a stopped member stays listed
cfg c.json c.flock centralized '{"ping_timeout_ms":500,"ping_interval_ms":1000,"ping_max_num_timeouts":60}'
start C0 c.json; start C1 c.json; start C2 c.json; start C3 c.json
wait_for members_are c.flock 4 || fail "centralized group of 4 did not form"
# ask the primary (C0) itself: it knows every member's status, a secondary only its
# primary's; the file's first member need not be C0 (na+sm addresses sort as text:
# "na+sm://10002-0" < "na+sm://9955-0")
ctl 0 show --address "$addr_C0" --provider-id 1
# (a loaded machine may make a member miss a ping: suspect is fine here)
grep -Eq "^ +[0-9]+  $(re "$addr_C0") +1  alive +primary" last.out || fail "show: primary row: $(cat last.out)"
grep -Eq "^ +[0-9]+  $(re "$addr_C2") +1  (alive|suspect) +secondary" last.out || fail "show: secondary row: $(cat last.out)"
ctl 0 show c.flock --json
grep -q '"backend":"centralized"' last.out || fail "show --json: no backend"
grep -Eq '"status":"(alive|suspect)","role":"secondary"' last.out || fail "show --json: no status/role"
ctl 0 info --address "$addr_C1" --provider-id 1 --json
for k in version pid uptime_s backend role config view_size view_digest counters joins_seen round_trip_ms; do
  grep -q "\"$k\":" last.out || fail "info --json: no \"$k\": $(cat last.out)"
done
grep -q '"role":"secondary"' last.out || fail "info: role"
ctl 0 info --address "$addr_C0" --provider-id 1
grep -q "^role  *primary" last.out || fail "info table: $(cat last.out)"
grep -q "JOINED $addr_C3" C1.err || fail "a secondary does not log JOINED at info"
# leave: the process stays up and says so
ctl 0 leave --address "$addr_C1" --provider-id 1
wait_for members_are c.flock 3 || fail "the group still lists the member that left"
kill -0 "$pid_C1" || fail "the member that left has exited"
grep -q "left the group; the process stays up" C1.err || fail "leave: not in its log"
ctl 1 leave --address "$addr_C1" --provider-id 1
ctl 1 leave --address "$addr_C0" --provider-id 1
grep -q "primary" last.err || fail "primary leave: $(cat last.err)"
# force-leave: refused while it answers; a stopped one is removed (asked through a secondary)
ctl 1 force-leave c.flock "$addr_C2"
grep -q "still answers" last.err || fail "force-leave of a live member: $(cat last.err)"
kill -STOP "$pid_C2"
stopped_is_suspect() {
  "$CTL" show --address "$addr_C0" --provider-id 1 >last.out 2>last.err
  [ $? = 3 ] && grep -Eq "$(re "$addr_C2") +1  (suspect|dead)" last.out
}
wait_for stopped_is_suspect || fail "show does not report the stopped member suspect with exit 3: $(cat last.out)"
ctl 0 force-leave --address "$addr_C3" --provider-id 1 "$addr_C2" -t 500
grep -q "removed from the group" last.out || fail "force-leave: $(cat last.out)"
wait_for members_are c.flock 2 || fail "force-leave: still listed"
ctl 1 force-leave c.flock "$addr_C2"
grep -q "not a member" last.err || fail "force-leave of a non-member: $(cat last.err)"
kill -CONT "$pid_C2"

# ---- meta (flock_group_metadata_set, issue #16) ----
ctl 1 meta get c.flock nokey
ctl 0 meta set c.flock color blue
wait_for bash -c "[ \"\$('$CTL' meta get c.flock color 2>/dev/null)\" = blue ]" || fail "meta set then get"
ctl 0 meta unset c.flock color
wait_for bash -c "! '$CTL' meta get c.flock color >/dev/null 2>&1" || fail "meta unset then get"
ctl 1 meta set c.flock __type__ x
grep -q "FLOCK_ERR_" last.err || fail "meta set of a reserved key: the error is not named: $(cat last.err)"
ctl 2 meta frob c.flock k

# ---- watch by push (flock_group_subscribe): a join and a leave, as the group reports them ----
"$CTL" watch c.flock --count 2 -v info >watch.out 2>watch.err &
wpid=$!; pids+=($wpid)
wait_for grep -q "MEMBER" watch.out || fail "watch did not start"
start C4 c.json
kill -TERM "$pid_C4"
for _ in $(seq 1 300); do kill -0 "$wpid" 2>/dev/null || break; sleep 0.1; done
wait "$wpid" || fail "watch --count 2 did not end with 0"
grep -q "pushed by the group (subscription)" watch.err || fail "watch did not subscribe: $(cat watch.err)"
grep -q "JOINED $addr_C4" watch.out || fail "watch: no JOINED: $(cat watch.out)"
grep -q "LEFT   $addr_C4" watch.out || fail "watch: no LEFT: $(cat watch.out)"

# ---- watch names a primary that stops answering ----
"$CTL" watch c.flock --duration 20 -i 200 -t 500 >watch2.out 2>watch2.err &
wpid=$!; pids+=($wpid)
wait_for grep -q "MEMBER" watch2.out || fail "watch did not start"
kill -STOP "$pid_C0"
wait_for grep -q "SUSPECT $addr_C0 1 primary" watch2.out || fail "watch: no SUSPECT primary: $(cat watch2.out)"
kill -CONT "$pid_C0"
kill -TERM "$wpid"; wait "$wpid" 2>/dev/null

# ---- swim: incarnation, leave, force-leave refused ----
cfg s.json s.flock swim '{}'
start S0 s.json; start S1 s.json
wait_for members_are s.flock 2 || fail "swim group of 2 did not form"
ctl 0 show s.flock
grep -Eq "$(re "$addr_S1") +1  (alive|suspect) +- +[0-9]+" last.out || fail "swim show: $(cat last.out)"
ctl 1 force-leave s.flock "$addr_S1"
ctl 0 leave --address "$addr_S1" --provider-id 1
wait_for members_are s.flock 1 || fail "swim: the member that left is still listed"
kill -0 "$pid_S1" || fail "swim: the member that left has exited"
kill -STOP "$pid_S0"; kill -CONT "$pid_S0"

# ---- static: refused ----
printf '{"providers":[{"type":"flock","name":"g","provider_id":1,"config":{"bootstrap":"self","file":"t.flock","group":{"type":"static"}}}]}\n' >t.json
start T0 t.json
ctl 1 leave --address "$addr_T0" --provider-id 1
grep -q "FLOCK_ERR_OP_FORBIDDEN" last.err || fail "static leave: $(cat last.err)"
ctl 1 force-leave t.flock "$addr_T0"
ctl 1 meta set t.flock color blue
grep -q "FLOCK_ERR_OP_FORBIDDEN" last.err || fail "static meta set: $(cat last.err)"
echo "ops: ok"
