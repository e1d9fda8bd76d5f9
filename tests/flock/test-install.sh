#!/bin/sh
# test-install.sh -- install the project into a temporary prefix, compile
# programs against it with `cc prog.c $(pkg-config --cflags --libs flock-server)`
# and run them:
#   1. tests/flock/install-prog.c (self bootstrap, group file, client handle)
#      and tests/flock/install-prog.cpp (the C++ wrappers);
#   2. the C program of ../shared/seeds/bootstrap-join.txt, extracted and
#      built unchanged, then run as a joiner of a centralized group started
#      with examples/server-self (when that backend is built). If the seed
#      file is absent, that part is skipped (and says so).
#
# usage: test-install.sh <cmake> <build-dir> <source-dir> <sanitize:ON|OFF> <centralized:ON|OFF>
set -u
CMAKE=$1 BUILD=$2 SRC=$3 SAN=$4 CENTRALIZED=$5
CC=${CC:-cc}
TMP=$(mktemp -d "${TMPDIR:-/tmp}/flock-install-XXXXXX") || exit 1
PIDS=""
cleanup() {
    for p in $PIDS; do kill -9 "$p" 2>/dev/null; wait "$p" 2>/dev/null; done
    rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 1' INT TERM
fail() { echo "FAIL: $*" >&2; exit 1; }

"$CMAKE" --install "$BUILD" --prefix "$TMP/prefix" > "$TMP/install.log" 2>&1 \
    || { cat "$TMP/install.log"; fail "cmake --install"; }
PCDIR=$(dirname "$(find "$TMP/prefix" -name flock-server.pc | head -n 1)")
[ -f "$PCDIR/flock-server.pc" ] || fail "flock-server.pc not installed"
[ -f "$TMP/prefix/include/flock/flock-server.h" ] || fail "headers not installed"
LIBDIR=$(dirname "$PCDIR")
export PKG_CONFIG_PATH="$PCDIR"
# The .pc files carry the configure-time prefix; --define-prefix relocates
# them to where they were installed.
PKGFLAGS=$(pkg-config --define-prefix --cflags --libs flock-server) || fail "pkg-config flock-server"
echo "pkg-config flock-server: $PKGFLAGS"
EXTRA=""
if [ "$SAN" = "ON" ]; then EXTRA="-fsanitize=address,undefined"; fi
export LD_LIBRARY_PATH="$LIBDIR${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"

# 1. our program
$CC $EXTRA "$SRC/tests/flock/install-prog.c" $PKGFLAGS -o "$TMP/install-prog" \
    || fail "compiling install-prog.c against the installed project"
( cd "$TMP" && ./install-prog "$TMP/prog.flock" ) || fail "install-prog failed"
[ -f "$TMP/prog.flock" ] || fail "install-prog wrote no group file"

# 1b. a C++ program using the C++ wrappers
CXX=${CXX:-c++}
if command -v "$CXX" > /dev/null 2>&1; then
    $CXX -std=c++17 $EXTRA "$SRC/tests/flock/install-prog.cpp" $PKGFLAGS -o "$TMP/install-prog-cxx" \
        || fail "compiling install-prog.cpp against the installed project"
    ( cd "$TMP" && ./install-prog-cxx ) || fail "install-prog-cxx failed"
else
    echo "SKIPPED: no C++ compiler ($CXX)"
fi

# 2. the seed program, unchanged
SEED="$SRC/../shared/seeds/bootstrap-join.txt"
if [ ! -f "$SEED" ]; then
    echo "SKIPPED: $SEED not found (seed program not built)"
    exit 0
fi
awk '/In C code/ {inside=1} inside && !started && /^\/\*/ {started=1}
     started {print} started && /^int main/ {inmain=1}
     inmain && /^}$/ {exit}' "$SEED" > "$TMP/seed.c"
grep -q "flock_provider_register" "$TMP/seed.c" || fail "could not extract the seed program"
$CC $EXTRA "$TMP/seed.c" $PKGFLAGS -o "$TMP/seed" || fail "compiling the seed program unchanged"
echo "seed program compiled unchanged"
if [ "$CENTRALIZED" != "ON" ]; then
    echo "SKIPPED: centralized backend not built, seed program only compiled"
    exit 0
fi
# A centralized group of one, then the seed joins it through the group file.
"$BUILD/examples/server-self" na+sm "$TMP/group.flock" centralized > "$TMP/server.out" 2>&1 &
PIDS="$PIDS $!"
i=0
while [ ! -f "$TMP/group.flock" ]; do
    i=$((i + 1)); [ $i -gt 600 ] && fail "server-self wrote no group file"; sleep 0.1
done
# The seed printf()s to a pipe/file and then blocks forever: line-buffer it.
STDBUF=""
if command -v stdbuf > /dev/null 2>&1; then STDBUF="stdbuf -oL"; fi
( cd "$TMP" && ASAN_OPTIONS="${ASAN_OPTIONS:-}:verify_asan_link_order=0" \
      exec $STDBUF ./seed "$TMP/group.flock" ) > "$TMP/seed.out" 2>&1 &
PIDS="$PIDS $!"
i=0
while ! grep -q ":42 joined" "$TMP/server.out"; do
    i=$((i + 1))
    if [ $i -gt 600 ]; then cat "$TMP/server.out"; fail "the group never saw the joiner"; fi
    sleep 0.1
done
if [ -n "$STDBUF" ]; then
i=0
while ! grep -q "Successfully joined the group" "$TMP/seed.out"; do
    i=$((i + 1))
    if [ $i -gt 600 ]; then cat "$TMP/seed.out"; fail "the seed program did not join"; fi
    sleep 0.1
done
fi
cat "$TMP/seed.out"
echo "seed program joined the centralized group"
exit 0
