#!/usr/bin/env bash
# `make install PREFIX=…` into a scratch prefix, then build a program the
# way a user would — `pkg-config --cflags --libs libsock` — and check that it
# loads the installed library through its SONAME link.
set -euo pipefail
. "$(dirname "$0")/lib/harness.sh"
harness install
scratch prefix install
make -s install PREFIX="$prefix" >/dev/null
version=$(project_version)

lib=$prefix/lib
[ -f "$lib/libsock.so.$version" ] || die "no $lib/libsock.so.$version"
[ "$(readlink "$lib/libsock.so.0")" = "libsock.so.$version" ] || die "bad libsock.so.0 link"
[ "$(readlink "$lib/libsock.so")" = "libsock.so.0" ] || die "bad libsock.so link"
readelf -d "$lib/libsock.so.$version" | grep -q 'Library soname: \[libsock.so.0\]' || die "SONAME missing"
cmp -s include/sock.h "$prefix/include/sock.h" || die "header differs"

export PKG_CONFIG_PATH=$lib/pkgconfig
[ "$(pkg-config --modversion libsock)" = "$version" ] || die "pkg-config version"
# shellcheck disable=SC2046  # pkg-config's output is a list of flags
${CC:-cc} -Wall -Wextra -Werror -pedantic c-tests/header/use_header.c \
    $(pkg-config --cflags --libs libsock) -o "$prefix/use_header"
readelf -d "$prefix/use_header" | grep -q 'Shared library: \[libsock.so.0\]' || die "program does not need libsock.so.0"
said=$(LD_LIBRARY_PATH=$lib "$prefix/use_header")
[ "$said" = "libsock $version" ] || die "program said '$said'"
loaded=$(LD_LIBRARY_PATH=$lib ldd "$prefix/use_header" | awk '/libsock/ {print $3}')
[ "$loaded" = "$lib/libsock.so.0" ] || die "loaded '$loaded'"
ok "make install: the library, its SONAME links, the header and libsock.pc; a program built with pkg-config loads $lib/libsock.so.0"
# sockrun, installed beside the library's prefix, finds it there.
[ -x "$prefix/bin/sockrun" ] || die "no bin/sockrun"
preload=$("$prefix/bin/sockrun" -- sh -c 'echo "$LD_PRELOAD"')
[ "$preload" = "$(cd "$lib" && pwd -P)/libsock.so.0" ] || die "sockrun preloads '$preload'"
ok "the installed sockrun preloads the installed library"
finish
