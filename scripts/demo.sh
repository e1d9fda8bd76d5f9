#!/usr/bin/env bash
# scripts/demo.sh [build-dir] -- a live Flock group on this machine, driven
# with the tools a user has: flockd (the daemon) and flock (the CLI).
#
#   1. a first flockd starts a group (centralized backend, "self" bootstrap)
#      and writes the group file;
#   2. three more flockd join through the group file ("join" bootstrap);
#   3. `flockctl watch` follows the group from the start, `flockctl show` prints
#      the view;
#   4. one member is killed (SIGKILL): the group detects it (DIED);
#   5. another is stopped (SIGTERM): it leaves gracefully (LEFT);
#   6. `flockctl show` and `flockctl check` print the final group.
#
# Everything runs in a private temporary directory over na+sm (Unix sockets);
# every process started here is stopped on exit, whatever happens.
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$top/build}
FLOCKD=$build/src/daemon/flockd
FLOCK=$build/src/cli/flockctl
for exe in "$FLOCKD" "$FLOCK"; do
  if [ ! -x "$exe" ]; then
    echo "demo: $exe not found; build first (scripts/run build)" >&2
    exit 1
  fi
done

work=$(mktemp -d "${TMPDIR:-/tmp}/flock-demo.XXXXXX")
pids=()
cleanup() { # stop everything started here: SIGTERM (graceful), then SIGKILL after 5 s
  local p left deadline=$((SECONDS + 5))
  for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
  while :; do
    left=0
    for p in "${pids[@]}"; do kill -0 "$p" 2>/dev/null && left=1; done
    [ $left = 0 ] || [ $SECONDS -ge $deadline ] && break
    sleep 0.1
  done
  for p in "${pids[@]}"; do kill -KILL "$p" 2>/dev/null || true; done
  { wait; } 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT
trap 'echo; echo "demo: interrupted"; exit 130' INT TERM

bold=""; dim=""; reset=""
if [ -t 1 ]; then bold=$'\e[1m'; dim=$'\e[2m'; reset=$'\e[0m'; fi
step() { echo; echo "${bold}== $*${reset}"; }
run() { # run CMD ARGS...: show the command (program by its name) and run it
  local shown=("$(basename "$1")" "${@:2}")
  echo "${dim}\$ ${shown[*]}${reset}"
  "$@"
}

# wait_for FILE PATTERN COUNT TIMEOUT_S: until FILE has COUNT lines matching PATTERN
wait_for() {
  local file=$1 pattern=$2 count=$3 deadline=$((SECONDS + $4)) n
  while :; do
    n=$(grep -c -- "$pattern" "$file" 2>/dev/null) || true
    if [ "${n:-0}" -ge "$count" ]; then return 0; fi
    if [ $SECONDS -ge $deadline ]; then return 1; fi
    sleep 0.1
  done
}

group=$work/demo.flock
# The centralized backend: the first member (primary) pings the others every
# 0.8-1 s and declares a member dead after 2 missed pings of 400 ms.
write_config() { # write_config FILE BOOTSTRAP
  cat > "$1" <<EOF
{
  "libraries": ["libflock-bedrock-module.so"],
  "providers": [{
    "type": "flock",
    "name": "demo_group",
    "provider_id": 42,
    "config": {
      "bootstrap": "$2",
      "file": "$group",
      "group": {
        "type": "centralized",
        "config": {"ping_timeout_ms": 400.0, "ping_interval_ms": [800.0, 1000.0],
                   "ping_max_num_timeouts": 2}
      }
    }
  }]
}
EOF
}
write_config "$work/first.json" self
write_config "$work/member.json" join

declare -A addr pid_of
start_daemon() { # start_daemon NAME CONFIG
  local name=$1 cfg=$2
  "$FLOCKD" na+sm -c "$cfg" -v warning > "$work/$name.out" 2> "$work/$name.log" &
  local p=$!
  pids+=("$p")
  pid_of[$name]=$p
  if ! wait_for "$work/$name.out" "flockd: ready" 1 30; then
    echo "demo: $name did not start; its log:" >&2
    cat "$work/$name.out" "$work/$name.log" >&2
    exit 1
  fi
  addr[$name]=$(sed -n 's/^flockd: listening on //p' "$work/$name.out")
  echo "  $name: pid $p, address ${addr[$name]}"
}

step "1. Start a group: flockd with bootstrap \"self\" (centralized backend)"
echo "${dim}\$ flockd na+sm -c first.json     # config:${reset}"
sed 's/^/    /' "$work/first.json"
start_daemon first "$work/first.json"
echo "  group file, written by the first member: $group"
echo "    $(cat "$group")"

echo
echo "Follow the group in the background (its output is shown below as events happen):"
echo "${dim}\$ flockctl watch $group --interval 200${reset}"
"$FLOCK" watch "$group" --interval 200 > "$work/watch.log" 2> "$work/watch.err" &
pids+=($!)
if ! wait_for "$work/watch.log" " MEMBER " 1 30; then
  echo "demo: flockctl watch did not start:" >&2
  cat "$work/watch.log" "$work/watch.err" >&2
  exit 1
fi
sed 's/^/    /' "$work/watch.log"

step "2. Three more members join through the group file (bootstrap \"join\")"
echo "${dim}\$ flockd na+sm -c member.json    # same config with \"bootstrap\": \"join\"${reset}"
for name in second third fourth; do
  start_daemon "$name" "$work/member.json"
done
if wait_for "$work/watch.log" " JOINED " 3 30; then
  echo "  flockctl watch saw them join:"
  grep " JOINED " "$work/watch.log" | sed 's/^/    /'
else
  echo "demo: the joins were not seen within 30 s" >&2
  cat "$work/watch.log" "$work/watch.err" >&2
  exit 1
fi

step "3. The view, from the group file"
run "$FLOCK" show "$group"


step "4. Kill the second member (SIGKILL): the group must detect the failure"
run kill -KILL "${pid_of[second]}"
{ wait "${pid_of[second]}"; } 2>/dev/null || true
t0=$(date +%s%N)
if wait_for "$work/watch.log" " DIED " 1 60; then
  echo "  detected after $(( ($(date +%s%N) - t0) / 1000000 )) ms:"
  grep " DIED " "$work/watch.log" | sed 's/^/    /'
else
  echo "demo: the failure was not detected within 60 s" >&2
  cat "$work/watch.log" "$work/watch.err" >&2
  exit 1
fi

step "5. Stop the third member (SIGTERM): it leaves the group gracefully"
run kill -TERM "${pid_of[third]}"
status=0
wait "${pid_of[third]}" || status=$?
echo "  flockd exited with status $status: $(tail -n 1 "$work/third.out")"
if wait_for "$work/watch.log" " LEFT " 1 30; then
  grep " LEFT " "$work/watch.log" | sed 's/^/    /'
else
  echo "demo: the leave was not seen within 30 s" >&2
  cat "$work/watch.log" "$work/watch.err" >&2
  exit 1
fi

step "6. The group now"
run "$FLOCK" show "$group"
echo
run "$FLOCK" check "$group"

step "Everything flockctl watch printed"
sed 's/^/    /' "$work/watch.log"
echo
echo "demo: done (all processes are stopped and $work is removed on exit)"
