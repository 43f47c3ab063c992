#!/usr/bin/env bash
# `make install PREFIX=…` into a scratch prefix, then build a program the
# way a user would — `pkg-config --cflags --libs libsock` — and check that it
# loads the installed library through its SONAME link.
set -euo pipefail
prefix=$(mktemp -d /tmp/libsock-install.XXXXXX)
trap 'rm -rf "$prefix"' EXIT
make -s install PREFIX="$prefix" >/dev/null
version=$(sed -n 's/^version = "\(.*\)"/\1/p' Cargo.toml | head -1)

lib=$prefix/lib
[ -f "$lib/libsock.so.$version" ] || { echo "install: no $lib/libsock.so.$version"; exit 1; }
[ "$(readlink "$lib/libsock.so.0")" = "libsock.so.$version" ] || { echo "install: bad libsock.so.0 link"; exit 1; }
[ "$(readlink "$lib/libsock.so")" = "libsock.so.0" ] || { echo "install: bad libsock.so link"; exit 1; }
readelf -d "$lib/libsock.so.$version" | grep -q 'Library soname: \[libsock.so.0\]' || { echo "install: SONAME missing"; exit 1; }
cmp -s include/sock.h "$prefix/include/sock.h" || { echo "install: header differs"; exit 1; }

export PKG_CONFIG_PATH=$lib/pkgconfig
[ "$(pkg-config --modversion libsock)" = "$version" ] || { echo "install: pkg-config version"; exit 1; }
# shellcheck disable=SC2046  # pkg-config's output is a list of flags
${CC:-cc} -Wall -Wextra -Werror -pedantic c-tests/header/use_header.c \
    $(pkg-config --cflags --libs libsock) -o "$prefix/use_header"
readelf -d "$prefix/use_header" | grep -q 'Shared library: \[libsock.so.0\]' || { echo "install: program does not need libsock.so.0"; exit 1; }
said=$(LD_LIBRARY_PATH=$lib "$prefix/use_header")
[ "$said" = "libsock $version" ] || { echo "install: program said '$said'"; exit 1; }
loaded=$(LD_LIBRARY_PATH=$lib ldd "$prefix/use_header" | awk '/libsock/ {print $3}')
[ "$loaded" = "$lib/libsock.so.0" ] || { echo "install: loaded '$loaded'"; exit 1; }
# sockrun, installed beside the library's prefix, finds it there.
[ -x "$prefix/bin/sockrun" ] || { echo "install: no bin/sockrun"; exit 1; }
preload=$("$prefix/bin/sockrun" -- sh -c 'echo "$LD_PRELOAD"')
[ "$preload" = "$(cd "$lib" && pwd -P)/libsock.so.0" ] || { echo "install: sockrun preloads '$preload'"; exit 1; }
echo "install: 2 passed, 0 failed"
