#!/usr/bin/env bash
# test-install.sh CMAKE BUILD_DIR CC [CFLAGS...] -- installed binaries run from any prefix
# with no environment (issue #21 item 1):
#   1. cmake --install into a fresh temporary prefix;
#   2. nothing named "flock" in bin/ (util-linux's flock(1)), flockd and flockctl are there;
#   3. with a clean environment (env -i), flockd --version, flockctl --version and
#      flockd --check on the installed example config succeed;
#   4. a client built with the installed pkg-config file (pkg-config --cflags --libs
#      flock-client, prefix taken from the .pc file's location) reads the group of a running
#      installed flockd and prints its size.
# Also checks the man pages, completion, unit and examples landed. Prints "install: ok".
set -euo pipefail
cmake=$1 build=$2 cc=$3
shift 3
cflags=("$@")
work=$(mktemp -d "${TMPDIR:-/tmp}/flock-install-XXXXXX")
daemon=""
cleanup() {
  [ -n "$daemon" ] && kill -KILL "$daemon" 2>/dev/null || true
  [ -n "$daemon" ] && wait "$daemon" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT
fail() { echo "install: FAIL: $*" >&2; exit 1; }
prefix=$work/prefix
clean_env=(env -i PATH=/usr/bin:/bin HOME="$work")

"$cmake" --install "$build" --prefix "$prefix" >"$work/install.log" 2>&1 \
  || { cat "$work/install.log" >&2; fail "cmake --install"; }

[ -x "$prefix/bin/flockd" ] || fail "bin/flockd is not installed"
[ -x "$prefix/bin/flockctl" ] || fail "bin/flockctl is not installed"
[ ! -e "$prefix/bin/flock" ] || fail "bin/flock is installed (it would shadow util-linux's flock(1))"
for f in share/man/man8/flockd.8 share/man/man1/flockctl.1 \
         share/bash-completion/completions/flockctl share/flock/systemd/flockd@.service \
         share/doc/flock/examples/flockd/centralized.json share/doc/flock/examples/client-print.c; do
  [ -f "$prefix/$f" ] || fail "$f is not installed"
done
grep -q "^Restart=on-failure" "$prefix/share/flock/systemd/flockd@.service" || fail "unit: Restart"
grep -q "/etc/flock/%i.json" "$prefix/share/flock/systemd/flockd@.service" || fail "unit: config path"

# 3. the programs run with no environment (no LD_LIBRARY_PATH): a run path relative to $ORIGIN
"${clean_env[@]}" "$prefix/bin/flockd" --version >"$work/v1" 2>&1 || { cat "$work/v1" >&2; fail "flockd --version"; }
grep -q "^flockd " "$work/v1" || fail "flockd --version printed: $(cat "$work/v1")"
"${clean_env[@]}" "$prefix/bin/flockctl" --version >"$work/v2" 2>&1 || { cat "$work/v2" >&2; fail "flockctl --version"; }
grep -q "^flockctl " "$work/v2" || fail "flockctl --version printed: $(cat "$work/v2")"
"${clean_env[@]}" "$prefix/bin/flockd" --check -c "$prefix/share/doc/flock/examples/flockd/centralized.json" \
  >"$work/v3" 2>&1 || { cat "$work/v3" >&2; fail "flockd --check on the installed example"; }

# 4. a client built through the installed pkg-config file
pc=$(find "$prefix" -name flock-client.pc | head -1)
[ -n "$pc" ] || fail "flock-client.pc is not installed"
pcdir=$(dirname "$pc")
flags=$(PKG_CONFIG_PATH="$pcdir" pkg-config --define-prefix --cflags --libs flock-client) \
  || fail "pkg-config --cflags --libs flock-client"
libdir=$(PKG_CONFIG_PATH="$pcdir" pkg-config --define-prefix --variable=libdir flock-client)
case "$flags" in *"$prefix"*) ;; *) fail "pkg-config flags do not point into the prefix: $flags" ;; esac
cat >"$work/client.c" <<'C'
#include <stdio.h>
#include <margo.h>
#include <flock/flock-client.h>
#include <flock/flock-group.h>
int main(int argc, char** argv)
{
    if (argc != 2) return 2;
    margo_instance_id mid = margo_init("na+sm", MARGO_CLIENT_MODE, 0, 0);
    if (!mid) return 1;
    flock_client_t       client = FLOCK_CLIENT_NULL;
    flock_group_handle_t g      = FLOCK_GROUP_HANDLE_NULL;
    flock_group_view_t   view   = FLOCK_GROUP_VIEW_INITIALIZER;
    flock_return_t       ret    = flock_client_init(mid, ABT_POOL_NULL, &client);
    if (ret == FLOCK_SUCCESS)
        ret = flock_group_handle_create_from_file(client, argv[1], FLOCK_MODE_INIT_UPDATE, &g);
    if (ret == FLOCK_SUCCESS) ret = flock_group_get_view(g, &view);
    if (ret == FLOCK_SUCCESS) printf("client: %zu member(s)\n", (size_t)view.members.size);
    else fprintf(stderr, "client: error %d\n", (int)ret);
    flock_group_view_clear(&view);
    if (g) flock_group_handle_release(g);
    if (client) flock_client_finalize(client);
    margo_finalize(mid);
    return ret == FLOCK_SUCCESS ? 0 : 1;
}
C
# shellcheck disable=SC2086
"$cc" "${cflags[@]}" "$work/client.c" -o "$work/client" $flags -Wl,-rpath,"$libdir" \
  2>"$work/cc.log" || { cat "$work/cc.log" >&2; fail "building a client with pkg-config flock-client"; }

cat >"$work/g.json" <<J
{"providers":[{"type":"flock","name":"g","provider_id":7,"config":{"bootstrap":"self","file":"$work/g.flock","group":{"type":"static"}}}]}
J
(cd "$work" && exec "${clean_env[@]}" "$prefix/bin/flockd" na+sm -c "$work/g.json" >"$work/d.out" 2>"$work/d.err") &
daemon=$!
for _ in $(seq 1 300); do grep -q "flockd: ready" "$work/d.out" 2>/dev/null && break; sleep 0.1; done
grep -q "flockd: ready" "$work/d.out" || { cat "$work/d.out" "$work/d.err" >&2; fail "installed flockd did not start"; }
"${clean_env[@]}" "$work/client" "$work/g.flock" >"$work/c.out" 2>&1 || { cat "$work/c.out" >&2; fail "the client failed"; }
grep -q "client: 1 member(s)" "$work/c.out" || fail "client printed: $(cat "$work/c.out")"
"${clean_env[@]}" "$prefix/bin/flockctl" show "$work/g.flock" >"$work/s.out" 2>&1 || { cat "$work/s.out" >&2; fail "installed flockctl show"; }
kill -TERM "$daemon"
wait "$daemon" || fail "installed flockd did not stop cleanly"
daemon=""
echo "install: ok"
