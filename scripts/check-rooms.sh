#!/usr/bin/env bash
# check-rooms.sh -- checks that the tree keeps the rooms of docs/design.md
# ("Map of the rooms") and that the map matches the tree.
#
#   scripts/check-rooms.sh [REPO_ROOT]      (default: the parent of scripts/)
#
# Fails (exit 1), naming each offending file, if
#   (a) a file under src/ has more than 900 lines;
#   (b) a .c/.h file under src/ does not open with a comment block (/* ...);
#   (c) a file named in the map's tables does not exist, a .c/.h file under
#       src/ is not in the map, or the map names a file twice;
#   (d) a lower runtime room (util, codec, frame, auth, fault, transport*)
#       references the instance's internals (mid->, frt__instance_*,
#       struct margo_instance, frt-core.h);
#   (e) a file under src/backends/ includes flock/provider-internal.h;
#   (f) a backend's registration function (flock_register_<name>_backend)
#       is named outside src/flock/builtin.[ch] and the backend's own
#       directory (builtin.c is the only place that names every backend).
# The map is read from the table rows of the "## Map of the rooms" section:
# the backticked path(s) in the first cell of each row, e.g. | `src/x.c` | ... |
# Exit 2: usage error (no src/ or no docs/design.md under REPO_ROOT).
set -u

root=${1:-$(cd "$(dirname "$0")/.." && pwd)}
cd "$root" 2>/dev/null || { echo "check-rooms: cannot enter $root" >&2; exit 2; }
doc=docs/design.md
max_lines=900
[ -d src ] && [ -f "$doc" ] || { echo "check-rooms: $root has no src/ or no $doc" >&2; exit 2; }

fail=0
err() { echo "check-rooms: $*" >&2; fail=1; }

mapfile -t all_files < <(find src -type f | LC_ALL=C sort)
mapfile -t code_files < <(find src -type f -name '*.[ch]' | LC_ALL=C sort)

# (a) size
while read -r n f; do
    [ "$f" = total ] && continue
    if [ "$n" -gt "$max_lines" ]; then
        err "$f has $n lines (more than $max_lines): split it into rooms"
    fi
done < <(wc -l -- "${all_files[@]}")

# (b) opening comment block: the first non-blank line starts with /*
declare -A opened=()
while IFS=$'\t' read -r f first; do
    opened[$f]=1
    case "${first#"${first%%[![:space:]]*}"}" in
        /\**) ;;
        *) err "$f does not open with a comment block saying what it owns (first line: '${first:0:60}')" ;;
    esac
done < <(awk '!(FILENAME in seen) && $0 !~ /^[[:space:]]*$/ {print FILENAME "\t" $0; seen[FILENAME] = 1}' \
             "${code_files[@]}")
for f in "${code_files[@]}"; do
    [ -n "${opened[$f]:-}" ] || err "$f is empty: it does not open with a comment block saying what it owns"
done

# (c) the map against the tree
section=$(awk '/^## Map of the rooms[[:space:]]*$/ {on = 1; next}
               on && /^## / {exit}
               on {print}' "$doc")
if [ -z "$section" ]; then
    err "$doc has no \"## Map of the rooms\" section"
else
    # first cell of every table row; keep the backticked names in it
    mapfile -t mapped < <(printf '%s\n' "$section" |
        awk -F'|' '/^[[:space:]]*\|/ {print $2}' |
        grep -o '`[^`]*`' | tr -d '`' | LC_ALL=C sort)
    if [ "${#mapped[@]}" -eq 0 ]; then
        err "the map of the rooms ($doc) has no table rows naming files"
    fi
    declare -A in_map=()
    for m in "${mapped[@]}"; do
        if [ -n "${in_map[$m]:-}" ]; then
            err "$m is listed twice in the map of the rooms ($doc)"
        fi
        in_map[$m]=1
        case "$m" in
            src/*) [ -f "$m" ] || err "$m is in the map of the rooms ($doc) but does not exist" ;;
            *) err "the map of the rooms ($doc) names '$m': write the path from the repo root (src/...)" ;;
        esac
    done
    for f in "${code_files[@]}"; do
        [ -n "${in_map[$f]:-}" ] || err "$f is not in the map of the rooms ($doc)"
    done
fi

# (d) lower runtime rooms never see the instance
lower_pat='(^|[^A-Za-z0-9_])mid->|frt__instance_|struct[[:space:]]+margo_instance|#[[:space:]]*include[[:space:]]*"frt-core\.h"'
for f in src/runtime/util.c src/runtime/codec.c src/runtime/frame.c src/runtime/auth.c \
         src/runtime/fault.c src/runtime/transport.c src/runtime/transport-*.c; do
    [ -f "$f" ] || continue
    while IFS= read -r hit; do
        [ -n "$hit" ] || continue
        err "$f:${hit%%:*}: a lower runtime room references the instance's internals (pass what it needs as arguments): ${hit#*:}"
    done < <(grep -nE "$lower_pat" "$f" || true)
done

# (e) backends never include the provider's internals
if [ -d src/backends ]; then
    while IFS= read -r hit; do
        [ -n "$hit" ] || continue
        err "${hit%%:*}:$(echo "$hit" | cut -d: -f2): a backend includes provider-internal.h (use flock-backend.h / backend-util.h)"
    done < <(grep -rnE '#[[:space:]]*include[[:space:]]*["<][^">]*provider-internal\.h[">]' src/backends || true)
fi

# (f) only builtin.c names every backend
if [ -d src/backends ]; then
    for dir in src/backends/*/; do
        name=$(basename "$dir")
        while IFS= read -r hit; do
            [ -n "$hit" ] || continue
            file=${hit%%:*}
            case "$file" in
                src/flock/builtin.c | src/flock/builtin.h | "$dir"*) continue ;;
            esac
            err "$file:$(echo "$hit" | cut -d: -f2): names flock_register_${name}_backend; only src/flock/builtin.c may name the backends"
        done < <(grep -rnE "flock_register_${name}_backend" src || true)
    done
fi

if [ "$fail" -ne 0 ]; then
    echo "check-rooms: FAILED (see the map of the rooms in $doc and the rules above it)" >&2
    exit 1
fi
echo "check-rooms: OK (${#all_files[@]} files under src/, ${#code_files[@]} .c/.h in the map, none over $max_lines lines)"
