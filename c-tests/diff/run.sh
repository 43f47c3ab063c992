#!/usr/bin/env bash
# Differential C suite for libsock.
#
# Every c-tests/diff/*.c is compiled once (cc -O2 -Wall -Wextra -Werror
# -D_GNU_SOURCE, plus the flags on a "// diff-cflags:" line of the source)
# and linked twice: natively (glibc only) and against libsock (-lsock with an
# rpath). Each program then runs three ways:
#     native      the native binary, glibc alone
#     preload     the native binary with LD_PRELOAD=libsock.so
#     linked      the binary linked against libsock
# and stdout, the exit status and stderr (less the dynamic linker's debug
# lines) must be byte-identical across the three. The preload and linked runs
# use LD_DEBUG=bindings (with LD_BIND_NOW) to prove that every libsock export
# the program references is bound to libsock, not to libc. A source may also
# name symbols its native binary must reference ("// diff-nm-u: ...", checked
# with nm -u; fortify.c uses it for __recv_chk and __recvfrom_chk).
#
# Run from the repository root after `make`:
#     bash c-tests/diff/run.sh
# Environment:
#     LIBDIR        directory holding libsock.so (default target/release)
#     CC            C compiler (default cc)
#     DIFF_BUILD    build/output directory (default target/c-tests)
#     DIFF_ONLY     space-separated program names to run (default: all)
#     DIFF_REPEAT   extra native runs that must match the first (default 0)
#     DIFF_TIMEOUT  seconds per run (default 20)
# The last line is "diff-suite: N passed, M failed"; the exit status is 0
# only if nothing failed.
set -euo pipefail
. "$(dirname "$0")/../../tests/lib/harness.sh"
harness diff-suite

LIBDIR=${LIBDIR:-target/release}
CC=${CC:-cc}
BUILD=${DIFF_BUILD:-target/c-tests}
REPEAT=${DIFF_REPEAT:-0}
TIMEOUT=${DIFF_TIMEOUT:-20}
SRCDIR=c-tests/diff

[ -d "$SRCDIR" ] || die "run me from the repository root ($SRCDIR not found)"
[ -f "$LIBDIR/libsock.so" ] || die "$LIBDIR/libsock.so not found (run make first)"
ABS_LIBDIR=$(cd "$LIBDIR" && pwd)
[ -e "$ABS_LIBDIR/libsock.so.0" ] || die "$ABS_LIBDIR/libsock.so.0 not found (run make first)"
need nm readelf timeout diff comm "$CC"

# No libsock configuration may leak in from the caller: pure pass-through only.
no_config LD_DEBUG LD_DEBUG_OUTPUT LD_LIBRARY_PATH LD_BIND_NOW

build_dir BUILD "$BUILD"
scratch SCRATCH diff

# The BSD calls libsock must export (SPEC.md, "The BSD calls").
REQUIRED=(socket socketpair bind listen accept accept4 connect send sendto sendmsg sendmmsg
    recv recvfrom recvmsg recvmmsg __recv_chk __recvfrom_chk setsockopt getsockopt
    getsockname getpeername shutdown close)
# Everything libsock exports that a program may reference (its own API too),
# plus the required calls: a program's reference to any of them must bind to
# libsock, so a missing export fails every program that uses it.
mapfile -t ACTUAL < <(nm -D --defined-only "$ABS_LIBDIR/libsock.so" |
    awk '$2 ~ /^[TWi]$/ { sub(/@.*/, "", $3); print $3 }' | sort -u)
mapfile -t EXPORTS < <(printf '%s\n' "${ACTUAL[@]}" "${REQUIRED[@]}" | sort -u)
missing=$(comm -13 <(printf '%s\n' "${ACTUAL[@]}") <(printf '%s\n' "${REQUIRED[@]}" | sort -u) | tr '\n' ' ')
[ -z "$missing" ] || echo "diff-suite: WARNING: libsock.so does not export: $missing"

CFLAGS_COMMON=(-O2 -Wall -Wextra -Werror -D_GNU_SOURCE)

# A program's extra compiler flags: a line "// diff-cflags: ..." in its source.
extra_cflags() { sed -n 's|^// diff-cflags:||p' "$1" | head -1; }
# Symbols its native binary must reference: "// diff-nm-u: sym ...".
required_syms() { sed -n 's|^// diff-nm-u:||p' "$1" | head -1; }
# Undefined symbols of a binary, unversioned, sorted.
undefined_syms() { nm -u "$1" | awk '{ sub(/@.*/, "", $2); print $2 }' | sort -u; }

# build NAME SRC: one object, two links. Errors go to $BUILD/NAME.build.err;
# success leaves $BUILD/NAME.built.
build() {
    local name=$1 src=$2 log="$BUILD/$1"
    local extra
    rm -f "$log.built"
    # shellcheck disable=SC2207
    extra=($(extra_cflags "$src"))
    {
        "$CC" "${CFLAGS_COMMON[@]}" "${extra[@]}" -I"$SRCDIR" -c -o "$log.o" "$src" &&
            "$CC" "${CFLAGS_COMMON[@]}" "${extra[@]}" -o "$log.native" "$log.o" &&
            "$CC" "${CFLAGS_COMMON[@]}" "${extra[@]}" -o "$log.linked" "$log.o" \
                -L"$ABS_LIBDIR" -lsock -Wl,-rpath,"$ABS_LIBDIR" &&
            touch "$log.built"
    } >"$log.build.err" 2>&1 || true
}

# run_one MODE BINARY OUTPREFIX [ENV...]: one run; stdout plus the exit status
# to OUTPREFIX.out, stderr to .err, and stderr without ld.so lines to .err.prog.
run_one() {
    local mode=$1 bin=$2 out=$3
    shift 3
    local dir="$SCRATCH/$mode.$(basename "$bin").$RANDOM"
    mkdir -p "$dir"
    local rc=0
    # The program starts with exactly descriptors 0, 1, 2: whatever this shell
    # inherited is closed first, so descriptor numbers are reproducible.
    (
        only_std_fds
        exec env "$@" DIFF_TMPDIR="$dir" DIFF_TOKEN="$(printf '%08x%04x' $$ $RANDOM)" \
            timeout -k 5 "$TIMEOUT" "$bin"
    ) >"$out.out" 2>"$out.err" </dev/null || rc=$?
    echo "exit status: $rc" >>"$out.out"
    # ld.so debug lines look like "     12345:\t..."; the program's own don't.
    grep -Ev $'^ *[0-9]+:\t' "$out.err" >"$out.err.prog" || true
    rm -rf "$dir"
}

# check_bindings PROGNAME ERRFILE SYM...: each SYM the program references is
# bound to libsock, and to nothing else.
check_bindings() {
    local prog=$1 err=$2
    shift 2
    local sym bad=0
    for sym in "$@"; do
        if ! grep -Eq "binding file [^ ]*${prog} \[0\] to [^ ]*/libsock\.so(\.0)? \[0\]: normal symbol \`${sym}'" "$err"; then
            echo "$sym: no binding from $prog to libsock.so"
            bad=1
        fi
        if grep -E "binding file [^ ]*${prog} \[0\] to [^ ]* \[0\]: normal symbol \`${sym}'" "$err" |
            grep -Evq "to [^ ]*/libsock\.so(\.0)? \["; then
            echo "$sym: bound from $prog to something other than libsock.so"
            bad=1
        fi
    done
    return $bad
}

shopt -s nullglob
sources=()
for src in "$SRCDIR"/*.c; do
    name=$(basename "$src" .c)
    if [ -n "${DIFF_ONLY:-}" ] && [[ " $DIFF_ONLY " != *" $name "* ]]; then
        continue
    fi
    sources+=("$src")
done
[ "${#sources[@]}" -gt 0 ] || die "no programs to run in $SRCDIR"

t_start=$(date +%s.%N)

# Build everything in parallel, a few at a time.
jobs_max=$(nproc 2>/dev/null || echo 2)
for src in "${sources[@]}"; do
    while [ "$(jobs -rp | wc -l)" -ge "$jobs_max" ]; do wait -n || true; done
    build "$(basename "$src" .c)" "$src" &
done
wait
t_built=$(date +%s.%N)

failed_names=()

for src in "${sources[@]}"; do
    name=$(basename "$src" .c)
    native="$BUILD/$name.native"
    linked="$BUILD/$name.linked"
    log="$BUILD/$name"
    ok=1
    problems=()
    used_native=()
    rm -f "$log".{native,preload,linked}.{out,err,err.prog}

    if [ ! -f "$log.built" ]; then
        problems+=("build failed:" "$(cat "$log.build.err")")
        ok=0
    fi

    if [ $ok = 1 ]; then
        # The linked binary must really need libsock.
        if ! readelf -d "$linked" | grep -q 'NEEDED.*\[libsock\.so\.0\]'; then
            problems+=("linked binary has no NEEDED libsock.so.0")
            ok=0
        fi
        # Required references (e.g. the fortified receives).
        nm_native=$(undefined_syms "$native")
        for sym in $(required_syms "$src"); do
            if ! grep -qx "$sym" <<<"$nm_native"; then
                problems+=("native binary does not reference $sym (nm -u)")
                ok=0
            fi
        done
        # The libsock exports each binary references.
        mapfile -t used_native < <(comm -12 <(echo "$nm_native") <(printf '%s\n' "${EXPORTS[@]}"))
        mapfile -t used_linked < <(comm -12 <(undefined_syms "$linked") <(printf '%s\n' "${EXPORTS[@]}"))
        if [ "${#used_native[@]}" -eq 0 ]; then
            problems+=("program references none of libsock's exports")
            ok=0
        fi

        run_one native "$native" "$log.native" LD_BIND_NOW=1
        for ((i = 1; i <= REPEAT; i++)); do
            run_one native "$native" "$log.native.again" LD_BIND_NOW=1
            if ! d=$(diff -u --label native --label "native run $((i + 1))" \
                    "$log.native.out" "$log.native.again.out"); then
                problems+=("native output is not deterministic:" "$d")
                ok=0
                break
            fi
        done
        run_one preload "$native" "$log.preload" \
            LD_PRELOAD="$ABS_LIBDIR/libsock.so" LD_BIND_NOW=1 LD_DEBUG=bindings
        run_one linked "$linked" "$log.linked" LD_BIND_NOW=1 LD_DEBUG=bindings

        for mode in preload linked; do
            if ! d=$(diff -u --label native --label "$mode" "$log.native.out" "$log.$mode.out"); then
                problems+=("stdout differs, native vs $mode:" "$d")
                ok=0
            fi
            if ! d=$(diff -u --label "native stderr" --label "$mode stderr" \
                    "$log.native.err.prog" "$log.$mode.err.prog"); then
                problems+=("stderr differs, native vs $mode:" "$d")
                ok=0
            fi
        done
        if ! b=$(check_bindings "$name.native" "$log.preload.err" "${used_native[@]}"); then
            problems+=("preloaded run does not go through libsock:" "$b")
            ok=0
        fi
        if ! b=$(check_bindings "$name.linked" "$log.linked.err" "${used_linked[@]}"); then
            problems+=("linked run does not go through libsock:" "$b")
            ok=0
        fi
        if ! grep -q '^exit status: 0$' "$log.native.out"; then
            problems+=("native run did not exit 0: $(tail -1 "$log.native.out")")
            ok=0
        fi
    fi

    lines=0
    [ -f "$log.native.out" ] && lines=$(grep -c '^L[0-9]' "$log.native.out" || true)
    if [ $ok = 1 ]; then
        ok "$(printf '%-15s %4d lines; via libsock: %s' "$name" "$lines" "${used_native[*]}")"
    else
        failed_names+=("$name")
        bad "$name" "${problems[@]}"
    fi
done

t_end=$(date +%s.%N)
awk -v a="$t_start" -v b="$t_built" -v c="$t_end" -v n="$((passed + failed))" \
    'BEGIN { printf "diff-suite: %d programs: build %.1fs, runs %.1fs\n", n, b - a, c - b }'
if [ "$failed" -gt 0 ]; then
    echo "diff-suite: failed: ${failed_names[*]} (outputs in $BUILD)"
fi
finish
