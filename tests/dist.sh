#!/usr/bin/env bash
# make dist-test: the artifacts `make dist` wrote, checked as a user gets them.
#
#   floor        no GLIBC_ version above 2.17 and no non-weak unversioned
#                undefined symbol in libsock.so and sockrun, wheel and
#                tarball alike (tests/check-glibc-floor.sh, which is first
#                shown to fail on binaries that break each rule); the wheel
#                and the tarball carry the same binaries; the exports as
#                tests/exports.txt lists them
#   auditwheel   `auditwheel show` says manylinux_2_17_x86_64
#   wheel        a fresh venv, the wheel installed with no index: `import
#                libsock` loads the bundled library with no variable set, a
#                UDP round trip, libsock.select past descriptor 1023
#                (tests/dist-smoke.py); `sockrun --help` from the venv's PATH;
#                sockrun preloads the bundled library by itself; LIBSOCK_LIB
#                overrides both
#   tarball      unpacked somewhere else: a C program built with
#                `pkg-config --cflags --libs libsock` runs against it
#   suites       the differential suite, the SocketSet tests and the Python
#                tests (ctypes and preloaded) against the dist library
#   fallbacks    glibc without epoll_pwait2 (< 2.35), made by hiding it
#                (c-tests/faults/nodlsym.c): the SocketSet tests and the
#                Python tests give the same answers, timeouts never early,
#                and the wait really is epoll_pwait
#   sdist        builds a wheel from source with cargo (pip, no index)
#
# The first failing check ends the run (each builds on the one before).
# Run after `make dist`. Environment: PYTHON, CC.
set -euo pipefail
. "$(dirname "$0")/lib/harness.sh"
harness dist-test
no_config
python=${PYTHON:-python3}
cc=${CC:-cc}
version=$(project_version)
wheel=dist/libsock-$version-py3-none-manylinux_2_17_x86_64.whl
sdist=dist/libsock-$version.tar.gz
tarball=dist/libsock-$version-x86_64-linux-gnu.tar.gz
for f in "$wheel" "$sdist" "$tarball"; do
    [ -f "$f" ] || die "$f not found (run make dist)"
done
scratch work dist
step() { ok "$*"; }
fail() { bad "$@"; finish; }
# suite NAME CMD...: a whole suite against the dist build, its closing line.
suite() {
    local name=$1 last
    shift
    if last=$("$@" 2>&1 | tail -n 1) && [ -n "$last" ]; then ok "$name: $last"; else fail "$name: $last"; fi
}

# ------------------------------------------------------------------ unpack
mkdir -p "$work/wheel" "$work/somewhere/else"
"$python" -m zipfile -e "$wheel" "$work/wheel"
tar -C "$work/somewhere/else" -xzf "$tarball"
prefix=$work/somewhere/else/libsock-$version-x86_64-linux-gnu
tlib=$prefix/lib
wlib=$work/wheel/libsock/libsock.so
wrun=$work/wheel/libsock-$version.data/scripts/sockrun
for f in "lib/libsock.so.$version" lib/libsock.so.0 lib/libsock.so include/sock.h \
         lib/pkgconfig/libsock.pc bin/sockrun share/man/man1/sockrun.1 share/man/man7/libsock.7 \
         share/man/man3/libsock.3 share/man/man3/sockset_select.3 \
         share/bash-completion/completions/sockrun share/zsh/site-functions/_sockrun \
         share/fish/vendor_completions.d/sockrun.fish; do
    [ -e "$prefix/$f" ] || fail "the tarball has no $f"
done
MANWIDTH=80 man -M "$prefix/share/man" sockrun 2>/dev/null | grep -q "sockrun - run a command" ||
    fail "man -M <tarball>/share/man sockrun does not show sockrun(1)"
[ "$(readlink "$tlib/libsock.so")" = libsock.so.0 ] && [ "$(readlink "$tlib/libsock.so.0")" = "libsock.so.$version" ] ||
    fail "the tarball's links are not libsock.so -> libsock.so.0 -> libsock.so.$version"
cmp -s "$wlib" "$tlib/libsock.so.$version" && cmp -s "$wrun" "$prefix/bin/sockrun" ||
    fail "the wheel and the tarball carry different binaries"
cmp -s include/sock.h "$prefix/include/sock.h" || fail "the tarball's sock.h is not include/sock.h"
step "artifacts: wheel and tarball hold the same libsock.so and sockrun; the tarball has the man pages and completions"

# ------------------------------------------------------------------- floor
# The audit must be able to fail: a library calling a GLIBC_2.34 function
# (dlsym, linked against this machine's glibc) and one with a plain
# undefined reference, as linking against old stubs leaves a newer function.
printf '#include <dlfcn.h>\nvoid *f(void) { return dlsym(RTLD_DEFAULT, "x"); }\n' >"$work/new.c"
printf 'extern int not_in_this_glibc(void);\nint f(void) { return not_in_this_glibc(); }\n' >"$work/unversioned.c"
"$cc" -shared -fPIC "$work/new.c" -o "$work/libnew.so" -ldl
"$cc" -shared -fPIC "$work/unversioned.c" -o "$work/libunversioned.so"
host_glibc=$(getconf GNU_LIBC_VERSION | awk '{print $2}')
if [ "$(printf '2.34\n%s\n' "$host_glibc" | sort -V | head -1)" = 2.34 ]; then # dlsym is GLIBC_2.34 here
    bash tests/check-glibc-floor.sh "$work/libnew.so" >"$work/audit.out" &&
        fail "the glibc audit passed a library needing GLIBC_2.34: $(cat "$work/audit.out")"
    grep -q 'needs dlsym from GLIBC_2.34' "$work/audit.out" || fail "audit: $(cat "$work/audit.out")"
fi
bash tests/check-glibc-floor.sh "$work/libunversioned.so" >"$work/audit.out" &&
    fail "the glibc audit passed an unversioned undefined symbol: $(cat "$work/audit.out")"
grep -q 'not_in_this_glibc is undefined, unversioned and not weak' "$work/audit.out" || fail "audit: $(cat "$work/audit.out")"
floor=$(bash tests/check-glibc-floor.sh "$wlib" "$wrun") || fail "glibc floor" "$floor"
step "glibc floor: $(sed "s|$work/wheel/||" <<<"$floor" | paste -sd';')"
suite "exports of the wheel's library" bash tests/check-exports.sh "$wlib"

# -------------------------------------------------------------- auditwheel
auditwheel show "$wheel" >"$work/auditwheel.out" 2>&1 || fail "auditwheel show: $(cat "$work/auditwheel.out")"
grep -q 'is consistent with the following platform tag: "manylinux_2_17_x86_64"' \
    <<<"$(tr -s '\n ' ' ' <"$work/auditwheel.out")" ||
    fail "auditwheel does not agree on manylinux_2_17_x86_64: $(cat "$work/auditwheel.out")"
step "auditwheel: consistent with manylinux_2_17_x86_64"

# ------------------------------------------------------------------- wheel
venv=$work/venv
"$python" -m venv "$venv"
"$venv/bin/python" -m pip install -q --no-index --disable-pip-version-check "$wheel"
site=$("$venv/bin/python" -c 'import sysconfig; print(sysconfig.get_paths()["platlib"])')
vlib=$site/libsock/libsock.so
[ -f "$vlib" ] || fail "the installed wheel has no $vlib"
(cd "$work" && env PATH="$venv/bin:/usr/bin:/bin" "$venv/bin/python" "$OLDPWD/tests/dist-smoke.py") ||
    fail "the smoke test in the fresh venv"
(cd "$work" && PATH="$venv/bin:/usr/bin:/bin" sockrun --help >"$work/help.out") || fail "sockrun --help"
grep -q "^sockrun $version" "$work/help.out" || fail "sockrun --help: $(head -3 "$work/help.out")"
step "wheel: sockrun --help from the venv's PATH"
mapped() { grep -o '/[^ ]*libsock[^ ]*\.so[^ ]*' "$1" | sort -u | paste -sd' '; }
(cd "$work" && PATH="$venv/bin:/usr/bin:/bin" sockrun -- cat /proc/self/maps >"$work/maps.out") || fail "sockrun -- cat"
[ "$(mapped "$work/maps.out")" = "$vlib" ] || fail "sockrun preloaded '$(mapped "$work/maps.out")', not $vlib"
step "wheel: sockrun preloads the bundled library itself"
(cd "$work" && LIBSOCK_LIB=$tlib/libsock.so.0 PATH="$venv/bin:/usr/bin:/bin" sockrun -- cat /proc/self/maps >"$work/maps.out")
[ "$(mapped "$work/maps.out")" = "$tlib/libsock.so.$version" ] || fail "sockrun with LIBSOCK_LIB preloaded '$(mapped "$work/maps.out")'"
got=$(cd "$work" && LIBSOCK_LIB=$tlib/libsock.so.0 "$venv/bin/python" -c 'import libsock; print(libsock.lib_path)')
[ "$got" = "$tlib/libsock.so.$version" ] || fail "import libsock with LIBSOCK_LIB=libsock.so.0 loaded $got (lib_path: the real file)"
step "wheel: LIBSOCK_LIB overrides the bundled library (Python and sockrun)"

# ----------------------------------------------------------------- tarball
export PKG_CONFIG_PATH=$tlib/pkgconfig
# shellcheck disable=SC2046 # pkg-config's output is words
"$cc" -Wall -Wextra -Werror tests/dist-hello.c -o "$work/hello" $(pkg-config --cflags --libs libsock) \
    -Wl,-rpath,"$(pkg-config --variable=libdir libsock)"
unset PKG_CONFIG_PATH
grep -q 'NEEDED.*\[libsock.so.0\]' <<<"$(readelf -d "$work/hello")" || fail "hello does not need libsock.so.0"
out=$("$work/hello") || fail "hello: $out"
[ "$out" = "libsock $version: 1 ready, 2000 readable, close_range closed 2000-2001" ] || fail "hello printed: $out"
loaded=$(ldd "$work/hello" | awk '$1 == "libsock.so.0" {print $3}')
[ "$(realpath -e "$loaded")" = "$(realpath -e "$tlib/libsock.so.0")" ] || fail "hello loads '$loaded', not the tarball's library"
step "tarball: a program built with pkg-config against it elsewhere: $out"

# ------------------------------------------------------------------ suites
suite "differential suite, dist library" env LIBDIR="$tlib" bash c-tests/diff/run.sh
suite "SocketSet suite, dist library" env LIBDIR="$tlib" bash c-tests/sockset/run.sh
suite "Python tests, dist library through ctypes" env PYTHONPATH=python LIBSOCK_LIB="$vlib" \
    "$python" -m pytest -q -p no:cacheprovider python/tests
suite "Python tests, dist library preloaded" env LD_PRELOAD="$vlib" PYTHONPATH=python LIBSOCK_LIB="$vlib" \
    "$python" -m pytest -q -p no:cacheprovider python/tests

# --------------------------------------------------------------- fallbacks
# Binaries of c-tests/sockset/run.sh above, linked to the dist library.
ss=target/c-tests/sockset
"$cc" -O2 -Wall -Wextra -Werror -shared -fPIC c-tests/faults/nodlsym.c -ldl -o "$work/libnodlsym.so"
hide=(env LD_PRELOAD="$work/libnodlsym.so" NODLSYM=epoll_pwait2)
hide_pre=(env LD_PRELOAD="$work/libnodlsym.so $tlib/libsock.so" LIBSOCK_LIB="$tlib/libsock.so" NODLSYM=epoll_pwait2)
for t in "$ss/sockset_test" "$ss/differential"; do
    timeout 120 "${hide[@]}" "$t" >"$work/fb.out" 2>&1 || { cat "$work/fb.out"; fail "$t without epoll_pwait2"; }
    step "${t##*/} without epoll_pwait2: $(tail -1 "$work/fb.out")"
done
timeout 120 "${hide_pre[@]}" "$ss/differential-dlopen" >"$work/fb.out" 2>&1 ||
    { cat "$work/fb.out"; fail "preloaded differential without epoll_pwait2"; }
step "preloaded differential without epoll_pwait2: $(tail -1 "$work/fb.out")"
# Which wait each really makes: epoll_pwait2 when glibc has it, else epoll_pwait.
waits() {
    timeout 120 strace -f -c -e trace=epoll_pwait2,epoll_pwait,epoll_wait,ppoll -o /dev/stdout "$@" 2>/dev/null |
        awk '$NF ~ /^(epoll_pwait2|epoll_pwait|epoll_wait|ppoll)$/ {print $NF}' | sort -u | paste -sd' '
}
[ "$(waits "$ss/differential")" = epoll_pwait2 ] || fail "with epoll_pwait2 the wait is '$(waits "$ss/differential")'"
[ "$(waits "${hide[@]}" "$ss/differential")" = epoll_pwait ] ||
    fail "without epoll_pwait2 the wait is '$(waits "${hide[@]}" "$ss/differential")', not epoll_pwait"
step "waits: epoll_pwait2 natively, epoll_pwait with it hidden"
suite "Python tests without epoll_pwait2, preloaded" "${hide_pre[@]}" PYTHONPATH=python \
    "$python" -m pytest -q -p no:cacheprovider python/tests

# ------------------------------------------------------------------- sdist
mkdir -p target/sdist
CARGO_TARGET_DIR=$PWD/target/sdist "$python" -m pip wheel -q --no-index --no-deps --disable-pip-version-check \
    -w "$work/from-sdist" "$sdist" >"$work/sdist.out" 2>&1 || { tail -20 "$work/sdist.out"; fail "building the sdist"; }
built=$(ls "$work"/from-sdist/libsock-"$version"-py3-none-*.whl)
listing=$("$python" -m zipfile -l "$built")
grep -q 'libsock/libsock.so' <<<"$listing" && grep -q 'scripts/sockrun' <<<"$listing" ||
    fail "the wheel built from the sdist lacks the library or sockrun"
step "sdist: cargo builds it into ${built##*/}"
finish
