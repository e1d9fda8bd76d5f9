#!/bin/bash
# test-errors.sh TRANSPORT -- clear errors and one identity per endpoint
# (issue #19 item 8), against a real keyed flockd member:
#  - `flockctl check` / `flockctl show` with another key, or with none, fail with
#    "authentication failed", never "connection refused/lost" or "no Flock
#    provider"; with the key they succeed;
#  - a group file naming the member with another spelling of its address
#    (ofi+tcp:// for tcp://, sm:// for na+sm://) is the same member, and a
#    file listing both spellings is refused as a duplicate.
. "$(dirname "$0")/hard-lib.sh"
TR=${1:-tcp}
for k in key other; do
    head -c 48 /dev/urandom | od -An -tx1 | tr -d ' \n' > "$WORK/$k"
    chmod 600 "$WORK/$k"
done
start_member "$TR" 0 FRT_AUTH_KEY_FILE="$WORK/key"

expect_auth_failure() { # LABEL ENV... -- a check and a show that must fail on the key
    local label=$1
    shift
    for cmd in check show; do
        env "$@" timeout 30 "$FLOCK_CLI" $cmd "$GROUP" --timeout 3000 > "$WORK/cli.out" 2> "$WORK/cli.err" \
            && fail "$label: flock $cmd succeeded"
        grep -q "authentication failed" "$WORK/cli.err" \
            || fail "$label: flock $cmd said: $(cat "$WORK/cli.err")"
        grep -qi "connection refused\|no Flock provider" "$WORK/cli.err" \
            && fail "$label: flock $cmd blamed the network or the provider: $(cat "$WORK/cli.err")"
        note "$label, flock $cmd: $(head -1 "$WORK/cli.err")"
    done
}
expect_auth_failure "wrong key" FRT_AUTH_KEY_FILE="$WORK/other"
expect_auth_failure "no key" FRT_AUTH_KEY_FILE=
FRT_AUTH_KEY_FILE="$WORK/key" check_ok 3000 || fail "the right key does not work"

# one identity per endpoint
case "$TR" in
tcp) ALIAS="ofi+tcp://${ADDR#tcp://}" ;;
*) ALIAS="sm://${ADDR#na+sm://}" ;;
esac
printf '{"members":[{"address":"%s","provider_id":1}],"metadata":{}}\n' "$ALIAS" > "$WORK/alias.flock"
FRT_AUTH_KEY_FILE="$WORK/key" timeout 30 "$FLOCK_CLI" check "$WORK/alias.flock" --timeout 3000 \
    > "$WORK/cli.out" 2>&1 || fail "the member under its alias $ALIAS: $(cat "$WORK/cli.out")"
printf '{"members":[{"address":"%s","provider_id":1},{"address":"%s","provider_id":1}],"metadata":{}}\n' \
    "$ADDR" "$ALIAS" > "$WORK/both.flock"
timeout 30 "$FLOCK_CLI" show "$WORK/both.flock" > "$WORK/cli.out" 2>&1 \
    && fail "a file naming one endpoint twice ($ADDR, $ALIAS) was accepted"
note "both spellings in one file: $(grep -m1 duplicate "$WORK/cli.out" || head -1 "$WORK/cli.out")"
stop_member
echo PASS
