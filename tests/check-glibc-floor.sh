#!/usr/bin/env bash
# The glibc floor of built binaries: each ELF file given must load on glibc
# 2.17 (or FLOOR) under BIND_NOW. It fails on
#   - a versioned reference above the floor (GLIBC_2.18 and later), in the
#     dynamic symbols or in the version needs (readelf -V), and
#   - an undefined symbol without a version that is not weak: an old glibc
#     that lacks the name refuses to load the file (linked against old stubs,
#     a function the stubs do not have is left like that).
# A weak unversioned one (std's statx, gettid, __cxa_thread_atexit_impl) is
# allowed: it resolves to NULL where missing and the caller checks.
# Prints one summary line per file: the highest GLIBC version it needs.
set -euo pipefail
floor=${FLOOR:-2.17}
[ $# -gt 0 ] || { echo "usage: $0 ELF..." >&2; exit 2; }
above() { # version > floor
    [ "$1" != "$floor" ] && [ "$(printf '%s\n%s\n' "$1" "$floor" | sort -V | tail -1)" = "$1" ]
}
bad=0
for f in "$@"; do
    problems=()
    # readelf --dyn-syms -W: Num Value Size Type Bind Vis Ndx Name[@VERSION (n)]
    while read -r bind ndx name; do
        [ "$ndx" = UND ] || continue
        case $name in
        *@GLIBC_*)
            v=${name##*@GLIBC_}
            if above "$v"; then problems+=("needs ${name%%@*} from GLIBC_$v"); fi
            ;;
        *@*) ;;
        *) [ "$bind" = WEAK ] || problems+=("$name is undefined, unversioned and not weak") ;;
        esac
    done < <(readelf --dyn-syms -W "$f" | awk 'NR > 3 && NF >= 8 {print $5, $7, $8}')
    versions=$(readelf -V -W "$f" | { grep -o 'Name: GLIBC_[0-9.]*' || true; } | sed 's/Name: GLIBC_//' | sort -uV)
    for v in $versions; do
        if above "$v"; then problems+=("version need GLIBC_$v"); fi
    done
    highest=GLIBC_$(echo "$versions" | tail -1)
    [ -n "$versions" ] || highest="no GLIBC version"
    if [ ${#problems[@]} -eq 0 ]; then
        echo "glibc-floor: $f: highest $highest (floor $floor): ok"
    else
        echo "glibc-floor: $f: highest $highest, above the floor $floor:"
        printf '    %s\n' "${problems[@]}"
        bad=1
    fi
done
exit $bad
