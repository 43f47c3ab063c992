#!/usr/bin/env bash
# Compiles c-tests/header/use_header.c in every way the spec names and runs
# each build linked against libsock: C and C++, with and without
# _GNU_SOURCE, -Wall -Wextra -Werror -pedantic. Each binary must say the
# version libsock reports, and the standard calls must bind to libsock.
set -euo pipefail
libdir=$(cd "${LIBDIR:-target/release}" && pwd)
out=target/c-tests/header
mkdir -p "$out"
src=c-tests/header/use_header.c
warn=(-Wall -Wextra -Werror -pedantic -Iinclude)
link=(-L"$libdir" -lsock -Wl,-rpath,"$libdir")
version=$(sed -n 's/^version = "\(.*\)"/\1/p' Cargo.toml | head -1)
n=0
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
            [ "$said" = "libsock $version" ] || { echo "header: $name said '$said'"; exit 1; }
            bindings=$(LD_DEBUG=bindings "$out/$name" 2>&1 >/dev/null)
            grep -qF "$name [0] to $libdir/libsock.so.0 [0]: normal symbol \`socketpair'" <<<"$bindings" ||
                { echo "header: $name: socketpair does not bind to libsock"; exit 1; }
            n=$((n + 1))
        done
    done
done
echo "header: $n passed, 0 failed"
