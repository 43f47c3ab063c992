#!/usr/bin/env bash
# Compiles c-tests/header/use_header.c in every way the spec names and runs
# each build linked against libsock: C and C++, with and without
# _GNU_SOURCE, -Wall -Wextra -Werror -pedantic. Each binary must say the
# version libsock reports, and the standard calls must bind to libsock.
set -euo pipefail
. "$(dirname "$0")/../../tests/lib/harness.sh"
harness header
find_libsock
out=target/c-tests/header
build_dir out "$out"
src=c-tests/header/use_header.c
warn=(-Wall -Wextra -Werror -pedantic -Iinclude)
link=(-L"$libdir" -lsock -Wl,-rpath,"$libdir")
version=$(project_version)
for lang in c c++; do
    for gnu in "" "-D_GNU_SOURCE"; do
        for std in default strict; do
            name="$lang${gnu:+-gnu}-$std"
            if [ "$lang" = c ]; then
                comp=(${CC:-cc} -x c); [ "$std" = strict ] && comp+=(-std=c11)
            else
                comp=(${CXX:-c++} -x c++); [ "$std" = strict ] && comp+=(-std=c++17)
            fi
            "${comp[@]}" "${warn[@]}" $gnu "$src" "${link[@]}" -o "$out/$name"
            said=$("$out/$name")
            [ "$said" = "libsock $version" ] || die "$name said '$said'"
            bindings=$(LD_DEBUG=bindings "$out/$name" 2>&1 >/dev/null)
            grep -qF "$name [0] to $libdir/libsock.so.0 [0]: normal symbol \`socketpair'" <<<"$bindings" ||
                die "$name: socketpair does not bind to libsock"
            ok "$name: built with -Wall -Wextra -Werror -pedantic, says libsock $version, socketpair bound to libsock"
        done
    done
done
finish
