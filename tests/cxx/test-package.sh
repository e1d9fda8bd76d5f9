#!/bin/sh
# test-package.sh -- install the project into a temporary prefix and use it
# as a downstream project would:
#   1. the layout: shims only under include/flock/compat, thallium.pc,
#      lib/cmake/flock; flock_group_view_init_from_mpi exported by
#      libflock-server (when built with MPI);
#   2. tests/cxx/consumer: find_package(flock) and upstream's target names
#      (flock::cxx-headers, flock::server, flock::client, thallium), built and
#      run: the example server and client in two processes, the tutorial
#      pair, a C program;
#   3. pkg-config: the C++ example server built with `flock-server`, the
#      client with `flock-client`, the tutorial client with `thallium`, run
#      against the CMake-built peers.
# usage: test-package.sh <cmake> <build-dir> <source-dir> <extra-flags> <mpi:ON|OFF>
set -u
CMAKE=$1 BUILD=$2 SRC=$3 EXTRA=$4 MPI=$5
CXX=${CXX:-c++}
TMP=$(mktemp -d "${TMPDIR:-/tmp}/flock-pkg-XXXXXX") || exit 1
trap 'rm -rf "$TMP"' EXIT
trap 'exit 1' INT TERM
fail() { echo "FAIL: $*" >&2; exit 1; }
TWO="sh $SRC/tests/cxx/test-two-procs.sh"
P=$TMP/prefix

# 1. layout
"$CMAKE" --install "$BUILD" --prefix "$P" > "$TMP/install.log" 2>&1 \
    || { cat "$TMP/install.log"; fail "cmake --install"; }
for f in include/flock/compat/margo.h include/flock/compat/frt.h include/flock/compat/thallium.hpp \
         include/flock/compat/thallium/engine.hpp include/flock/cxx/server.hpp \
         include/flock/flock-server.h lib/pkgconfig/thallium.pc lib/pkgconfig/flock-server.pc \
         lib/pkgconfig/flock-client.pc lib/cmake/flock/flock-config.cmake; do
    [ -f "$P/$f" ] || fail "$f not installed"
done
for f in include/margo.h include/frt.h include/thallium.hpp include/thallium; do
    [ -e "$P/$f" ] && fail "$f installed where it could clash with a real Margo/Thallium"
done
if [ "$MPI" = "ON" ]; then
    nm -D --defined-only "$P/lib/libflock-server.so" | grep -q " T flock_group_view_init_from_mpi$" \
        || fail "libflock-server does not export flock_group_view_init_from_mpi"
    echo "libflock-server exports flock_group_view_init_from_mpi"
fi

# 2. a CMake consumer
"$CMAKE" -S "$SRC/tests/cxx/consumer" -B "$TMP/consumer" -DCMAKE_PREFIX_PATH="$P" \
    -DFLOCK_SRC="$SRC" -DCMAKE_BUILD_TYPE= \
    -DCMAKE_C_FLAGS="$EXTRA" -DCMAKE_CXX_FLAGS="$EXTRA" -DCMAKE_EXE_LINKER_FLAGS="$EXTRA" \
    > "$TMP/consumer.log" 2>&1 || { cat "$TMP/consumer.log"; fail "configuring the consumer"; }
"$CMAKE" --build "$TMP/consumer" -j 2 > "$TMP/consumer-build.log" 2>&1 \
    || { cat "$TMP/consumer-build.log"; fail "building the consumer"; }
echo "consumer project configured and built with find_package(flock)"
C=$TMP/consumer
$TWO --kill "$C/server" na+sm @FILE@.group -- "$C/client" na+sm @ADDR@ 42 -- "member 0: " \
    || fail "consumer server + client"
$TWO "$C/tutorial-server" na+sm @FILE@ -- "$C/tutorial-client" na+sm @ADDR@ -- "ok   shutdown" \
    || fail "consumer tutorial pair"
( cd "$TMP" && "$C/c-prog" "$TMP/c-prog.flock" ) || fail "consumer C program"

# 3. pkg-config
export PKG_CONFIG_PATH="$P/lib/pkgconfig"
export LD_LIBRARY_PATH="$P/lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
for spec in "server.cpp flock-server server" "client.cpp flock-client client"; do
    set -- $spec
    FLAGS=$(pkg-config --define-prefix --cflags --libs "$2") || fail "pkg-config $2"
    echo "pkg-config $2: $FLAGS"
    $CXX -std=c++17 $EXTRA "$SRC/examples/cxx/$1" $FLAGS -o "$TMP/pc-$3" \
        || fail "building examples/cxx/$1 with pkg-config $2"
done
FLAGS=$(pkg-config --define-prefix --cflags --libs thallium) || fail "pkg-config thallium"
echo "pkg-config thallium: $FLAGS"
$CXX -std=c++17 $EXTRA "$SRC/tests/cxx/tutorial-client.cpp" $FLAGS -o "$TMP/pc-tutorial-client" \
    || fail "building the tutorial client with pkg-config thallium"
$TWO --kill "$TMP/pc-server" na+sm @FILE@.group -- "$C/client" na+sm @ADDR@ -- "member 0: " \
    || fail "pkg-config server + consumer client"
$TWO --kill "$C/server" na+sm @FILE@.group -- "$TMP/pc-client" na+sm @ADDR@ -- "member 0: " \
    || fail "consumer server + pkg-config client"
$TWO "$C/tutorial-server" na+sm @FILE@ -- "$TMP/pc-tutorial-client" na+sm @ADDR@ -- "ok   shutdown" \
    || fail "tutorial server + pkg-config tutorial client"
echo "package test passed"
exit 0
