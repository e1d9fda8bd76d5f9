#!/usr/bin/env bash
# check-config-doc.sh [REPO_ROOT] -- docs/config.md and the parsers name the same keys.
# For each section of the page, the keys of its table (first cell, in backticks) are compared
# with the keys the code reads:
#   flockd (top level)   src/daemon/flockd-config.c         known[] of flockd__parse_root
#   providers[i]         src/daemon/flockd-config-provider.c known[] of flockd__parse_provider
#   providers[i].config  src/daemon/flockd-config-provider.c known[] of the provider config
#   auth                 src/daemon/flockd-config-provider.c strcmp(key, ...) in flockd__parse_auth
#   gateway              src/daemon/flockd-config-group.c    keys[] {"type", "config"}
#   centralized          src/backends/centralized/centralized-config.c (the parser table) and
#                        src/daemon/flockd-config-group.c (flockd's checks): both
#   swim                 src/backends/swim/swim-config.c     get_number[_or_auto]/get_int/get_bool(json, ...)
# Fails naming each key found on one side only. Prints "config-doc: OK".
set -uo pipefail
root=${1:-$(cd "$(dirname "$0")/.." && pwd)}
doc=$root/docs/config.md
bad=0

# keys of the table under "## <title>" (up to the next "## ")
doc_keys() {
  awk -v t="## $1" '$0 == t {on=1; next} /^## / {on=0} on && /^\| `/ {print}' "$doc" \
    | sed -E 's/^\| `([^`]+)`.*/\1/' | sort -u
}
# the quoted strings of the first line matching $2 in file $1 (and its continuation lines up to NULL)
array_keys() {
  awk -v pat="$2" 'index($0, pat) {on=1} on {print} on && /NULL/ {exit}' "$1" \
    | grep -o '"[a-z_]*"' | tr -d '"' | sort -u
}
compare() { # compare SECTION CODE_DESC CODE_KEYS
  local sec=$1 what=$2 code=$3 d
  d=$(doc_keys "$sec")
  if [ -z "$d" ]; then echo "config-doc: docs/config.md has no table under \"## $sec\""; bad=1; return; fi
  if [ -z "$code" ]; then echo "config-doc: found no keys in $what (did the parser move?)"; bad=1; return; fi
  for k in $code; do
    grep -qx "$k" <<<"$d" || { echo "config-doc: $what reads \"$k\", docs/config.md ($sec) does not list it"; bad=1; }
  done
  for k in $d; do
    grep -qx "$k" <<<"$code" || { echo "config-doc: docs/config.md ($sec) lists \"$k\", $what does not read it"; bad=1; }
  done
}

d=$root/src/daemon
compare "flockd (top level)" "src/daemon/flockd-config.c" \
  "$(array_keys "$d/flockd-config.c" 'known[] = {"libraries"')"
compare "providers[i]" "src/daemon/flockd-config-provider.c (provider keys)" \
  "$(array_keys "$d/flockd-config-provider.c" 'known[] = {"type"')"
compare "providers[i].config" "src/daemon/flockd-config-provider.c (config keys)" \
  "$(array_keys "$d/flockd-config-provider.c" 'known[] = {"bootstrap"')"
compare "auth" "src/daemon/flockd-config-provider.c (auth)" \
  "$(awk '/^static int flockd__parse_auth/ {on=1} on && /^}/ {exit} on' "$d/flockd-config-provider.c" \
     | grep -o 'strcmp(key, "[a-z_]*")' | grep -o '"[a-z_]*"' | tr -d '"' | sort -u)"
compare "gateway" "src/daemon/flockd-config-group.c (typed sections)" \
  "$(array_keys "$d/flockd-config-group.c" 'keys[] = {"type"')"
compare "centralized" "src/backends/centralized/centralized-config.c" \
  "$(grep -oE '^\s*\{"[a-z_]+", cent__parse_' "$root/src/backends/centralized/centralized-config.c" \
     | grep -o '"[a-z_]*"' | tr -d '"' | sort -u)"
compare "centralized" "src/daemon/flockd-config-group.c (flockd's centralized checks)" \
  "$(awk '/^static int flockd__check_centralized/ {on=1} on && /^}/ {exit} on' "$d/flockd-config-group.c" \
     | grep -o 'strcmp(key, "[a-z_]*")' | grep -o '"[a-z_]*"' | tr -d '"' | sort -u)"
compare "swim" "src/backends/swim/swim-config.c" \
  "$(grep -oE 'get_(number|number_or_auto|int|bool)\(json, "[a-z_]+"' "$root/src/backends/swim/swim-config.c" \
     | grep -o '"[a-z_]*"' | tr -d '"' | sort -u)"

[ $bad = 0 ] && echo "config-doc: OK"
exit $bad
