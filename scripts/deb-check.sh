#!/usr/bin/env bash
# scripts/deb-check.sh [BUILD_DIR] -- the Debian package (issue #21 item 11): configure a small
# build (libraries and programs only, prefix /usr, no MPI, the unit under lib/systemd/system),
# cpack -G DEB, check the package's contents, install it with dpkg, run flockctl --version and
# flockd --check on an installed example config, then remove it. Needs root or sudo; refuses to
# touch a "flock" package that was installed before it started. Prints "deb: ok".
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
dir=${1:-$top/build-deb}
sudo=""
[ "$(id -u)" -ne 0 ] && sudo=sudo
fail() { echo "deb: FAIL: $*" >&2; exit 1; }

cmake -S "$top" -B "$dir" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_INSTALL_PREFIX=/usr \
  -DFLOCK_ENABLE_TESTS=OFF -DFLOCK_ENABLE_BENCH=OFF -DFLOCK_ENABLE_EXAMPLES=OFF \
  -DFLOCK_ENABLE_MPI=OFF -DFLOCK_SYSTEMD_UNITDIR=lib/systemd/system >/dev/null
cmake --build "$dir" -j "${JOBS:-$(nproc)}" >/dev/null
rm -f "$dir"/flock_*.deb
(cd "$dir" && cpack -G DEB >cpack.log 2>&1) || { cat "$dir/cpack.log" >&2; fail "cpack -G DEB"; }
deb=$(ls "$dir"/flock_*.deb 2>/dev/null | head -1)
[ -n "$deb" ] || fail "no .deb in $dir"

contents=$(dpkg-deb -c "$deb" | awk '{print $NF}')
for f in ./usr/bin/flockd ./usr/bin/flockctl ./usr/share/man/man8/flockd.8 \
         ./usr/share/man/man1/flockctl.1 ./usr/share/bash-completion/completions/flockctl \
         ./usr/lib/systemd/system/flockd@.service ./usr/include/flock/flock-client.h \
         ./usr/share/doc/flock/config.md \
         ./usr/share/doc/flock/examples/flockd/centralized.json; do
  grep -qx "$f" <<<"$contents" || fail "the package lacks $f"
done
grep -q 'flock-client\.pc$' <<<"$contents" || fail "the package lacks flock-client.pc"
grep -q 'flock-config\.cmake$' <<<"$contents" || fail "the package lacks the CMake package files"
grep -q 'libflock-server\.so' <<<"$contents" || fail "the package lacks libflock-server"
grep -qx './usr/bin/flock' <<<"$contents" && fail "the package installs /usr/bin/flock"

if dpkg-query -W -f='${Status}' flock 2>/dev/null | grep -q "install ok installed"; then
  fail "a package named flock is already installed here; not replacing it"
fi
$sudo dpkg -i "$deb" >/dev/null || fail "dpkg -i $deb"
trap '$sudo dpkg -r flock >/dev/null 2>&1 || true' EXIT
ver=$(flockctl --version) || fail "flockctl --version"
[ "$(command -v flockctl)" = /usr/bin/flockctl ] || fail "flockctl is not /usr/bin/flockctl"
flockd --version >/dev/null || fail "flockd --version"
flockd --check -c /usr/share/doc/flock/examples/flockd/centralized.json >/dev/null \
  || fail "flockd --check on the installed example"
$sudo dpkg -r flock >/dev/null || fail "dpkg -r flock"
trap - EXIT
[ ! -e /usr/bin/flockd ] || fail "dpkg -r left /usr/bin/flockd"
echo "deb: ok ($ver, $(basename "$deb"), $(stat -c %s "$deb") bytes)"
