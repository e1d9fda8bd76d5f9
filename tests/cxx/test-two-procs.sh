#!/bin/sh
# test-two-procs.sh -- run a C++ server and its client in two processes:
# the server writes its address to a file (or prints "Server running at
# address X"), the client (given that address)
# must exit 0 and print every line in <expect...>, and the server must
# then exit 0 by itself (the client shuts it down) or, with `--kill`, is
# killed after the client is done.
#   test-two-procs.sh [--kill] <server> <server-args-before-file...> -- <client> <client-args...> -- <expect...>
# "@ADDR@" in the client's arguments is replaced by the server's address and
# "@FILE@" in the server's by the file it must write.
set -u
KILL=0
if [ "$1" = "--kill" ]; then KILL=1; shift; fi
TMP=$(mktemp -d "${TMPDIR:-/tmp}/flock-cxx-XXXXXX") || exit 1
SPID=""
cleanup() {
    [ -n "$SPID" ] && kill -9 "$SPID" 2>/dev/null && wait "$SPID" 2>/dev/null
    rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 1' INT TERM
fail() { echo "FAIL: $*" >&2; echo "--- server output:"; cat "$TMP/server.out"; exit 1; }

SERVER=$1; shift
set -- "$@" ""
SARGS=""
while [ "$1" != "--" ]; do
    a=$(printf '%s' "$1" | sed "s|@FILE@|$TMP/addr|g"); SARGS="$SARGS $a"; shift
done
shift
CLIENT=$1; shift
CARGS=""
while [ "$1" != "--" ]; do CARGS="$CARGS $1"; shift; done
shift

$SERVER $SARGS > "$TMP/server.out" 2>&1 &
SPID=$!
# the address: the first line of @FILE@, or the "Server running at address X" line
addr_now() {
    if [ -s "$TMP/addr" ]; then head -n 1 "$TMP/addr"; return; fi
    sed -n 's/^Server running at address \([^ ,]*\).*/\1/p' "$TMP/server.out" | head -n 1
}
i=0
while [ -z "$(addr_now)" ]; do
    i=$((i + 1)); [ $i -gt 600 ] && fail "the server gave no address"
    kill -0 "$SPID" 2>/dev/null || fail "the server exited early"
    sleep 0.1
done
ADDR=$(addr_now)
echo "server at $ADDR"
CARGS=$(printf '%s' "$CARGS" | sed "s|@ADDR@|$ADDR|g")
timeout 120 $CLIENT $CARGS > "$TMP/client.out" 2>&1
rc=$?
cat "$TMP/client.out"
[ $rc -eq 0 ] || fail "the client exited with $rc"
while [ $# -gt 0 ]; do
    [ -z "$1" ] && { shift; continue; }
    grep -qF -- "$1" "$TMP/client.out" || fail "the client did not print: $1"
    shift
done
if [ $KILL = 1 ]; then
    kill -TERM "$SPID"; wait "$SPID" 2>/dev/null; SPID=""
    echo "server stopped"; exit 0
fi
i=0
while kill -0 "$SPID" 2>/dev/null; do
    i=$((i + 1)); [ $i -gt 600 ] && fail "the server did not exit after the shutdown RPC"
    sleep 0.1
done
wait "$SPID"; src=$?; SPID=""
cat "$TMP/server.out"
[ $src -eq 0 ] || fail "the server exited with $src"
exit 0
