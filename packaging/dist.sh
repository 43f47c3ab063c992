#!/usr/bin/env bash
# make dist: the release artifacts in dist/, built against glibc 2.17's
# symbol stubs (cargo-zigbuild) so they load on every x86_64 Linux with
# glibc >= 2.17 (the manylinux2014 floor).
#
#   dist/libsock-V-py3-none-manylinux_2_17_x86_64.whl  the Python package with
#       libsock.so beside it and sockrun as a script (python/_build/)
#   dist/libsock-V.tar.gz                               the sdist (builds with cargo)
#   dist/libsock-V-x86_64-linux-gnu.tar.gz              the C tarball: lib/libsock.so.V,
#       libsock.so.0 and libsock.so links, include/sock.h, lib/pkgconfig/libsock.pc
#       (relocatable), bin/sockrun
#
# The build goes to target/dist (never target/release). Environment: CARGO,
# PYTHON. Needs cargo-zigbuild and ziglang (pip; .ci/run installs them).
set -euo pipefail
cd "$(dirname "$0")/.."
cargo=${CARGO:-cargo}
python=${PYTHON:-python3}
version=$(sed -n 's/^version = "\(.*\)"/\1/p' Cargo.toml | head -1)
triple=x86_64-unknown-linux-gnu
glibc=2.17
built=target/dist/$triple/release
stage=target/dist/stage
name=libsock-$version-x86_64-linux-gnu

"$cargo" zigbuild --release --locked --target "$triple.$glibc" --target-dir target/dist

# The shipped binaries without their DWARF (the wheel stays small); the
# symbol tables stay, so backtraces and perf still name functions.
rm -rf "$stage" dist
mkdir -p "$stage" dist
for f in libsock.so sockrun; do
    objcopy --strip-debug "$built/$f" "$stage/$f"
done

# The wheel and the sdist.
LIBSOCK_PREBUILT=$stage LIBSOCK_WHEEL_PLATFORM=manylinux_2_17_x86_64 \
    "$python" python/_build/libsock_build.py wheel dist >/dev/null
"$python" python/_build/libsock_build.py sdist dist >/dev/null

# The C tarball, as `make install` lays out a prefix.
tree=$stage/$name
mkdir -p "$tree/bin" "$tree/lib/pkgconfig" "$tree/include"
install -m 755 "$stage/sockrun" "$tree/bin/sockrun"
install -m 755 "$stage/libsock.so" "$tree/lib/libsock.so.$version"
ln -s "libsock.so.$version" "$tree/lib/libsock.so.0"
ln -s libsock.so.0 "$tree/lib/libsock.so"
install -m 644 include/sock.h "$tree/include/sock.h"
# shellcheck disable=SC2016 # ${pcfiledir} is pkg-config's, not the shell's
sed -e 's|@PREFIX@|${pcfiledir}/../..|' -e "s|@VERSION@|$version|" libsock.pc.in \
    >"$tree/lib/pkgconfig/libsock.pc"
tar -C "$stage" --owner=0 --group=0 --numeric-owner --sort=name \
    -czf "dist/$name.tar.gz" "$name"

ls -l dist | sed 1d
