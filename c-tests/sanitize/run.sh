#!/usr/bin/env bash
# The C test programs built with AddressSanitizer + UndefinedBehaviorSanitizer
# (-fsanitize=address,undefined -fno-omit-frame-pointer -g) and run against
# libsock linked, preloaded (libasan first in LD_PRELOAD: ASan's runtime must
# come before every other library) and dlopened. libsock itself is Rust and
# not instrumented, but ASan's allocator sees every malloc/free it makes
# (double free, free of a foreign pointer, leaks at exit — LeakSanitizer runs
# in every process, forked children of single-threaded programs included),
# and the instrumented programs
# catch libsock writing past a buffer it was handed (a recv length, a
# sockaddr length, a socketpair array, a SocketSet result).
#
#   sockset      sockset_test.c (linked); differential.c linked, and its
#                -DVIA_DLOPEN build preloaded and dlopened (as ctypes does)
#   diff         c-tests/diff programs that run clean under ASan natively:
#                badfd bind_listen create mmsg unix — each ASan-native,
#                preloaded and linked, stdout/stderr/exit status identical.
#                The others are left out because of ASan, not libsock: they
#                pass bad pointers, PROT_NONE pages and MAP_FIXED mappings on
#                purpose, and even WITHOUT libsock ASan's own interceptors
#                fault or report on those arguments (connect_accept, names:
#                SEGV, msg: stack-buffer-overflow, inside the interceptors
#                of accept, getsockname, recvmsg, ... that touch the
#                caller's memory around the call), or the fixed mappings
#                collide with ASan's shadow memory (multicast, sendrecv,
#                sockopt: "fixed mmap failed"); fortify.c is built with
#                _FORTIFY_SOURCE, which ASan's interceptors replace. All but
#                sendrecv run under valgrind/run.sh instead, which copes with
#                those inputs.
#   echo         demo/echo_server.c (linked, SocketSet) serving
#                demo/echo_load.c (preloaded, traced) — 1100 clients, past
#                FD_SETSIZE
#   faults       c-tests/faults/calls.c and nofile.c, preloaded and linked with
#                tracing, stats and policy on, output as the ASan-native run
#   stress       c-tests/stress/stress.c preloaded and linked, tracing, stats
#                and policy on (STRESS_WARMUP: the trace-open race is the
#                stress runner's business, not this one's), 16 threads but
#                no fork: see the note at the stress runs below
#
# Every binary is checked to really be ASan+UBSan (nm: __asan_init,
# __ubsan_handle_*), and canaries (a heap overflow, a leak, a signed
# overflow) prove the runtime options really stop a run here.
#
# Run from the repository root after `make`. Environment: LIBDIR, CC.
# Last line: "sanitize: N passed, M failed".
set -euo pipefail
. "$(dirname "$0")/../../tests/lib/harness.sh"
harness sanitize
find_libsock
cc=${CC:-cc}
out=target/c-tests/sanitize
build_dir out "$out"
scratch work sanitize
server=
on_exit '[ -z "$server" ] || kill "$server" 2>/dev/null'
no_config
ulimit -c 0

asan_rt=$("$cc" -print-file-name=libasan.so)
[ -e "$asan_rt" ] || die "$cc has no libasan.so (install libasan for it)"
asan_rt=$(readlink -f "$asan_rt")
export ASAN_OPTIONS=detect_leaks=1:halt_on_error=1:abort_on_error=0:detect_stack_use_after_return=1:check_initialization_order=1:strict_init_order=1
export UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1
export LSAN_OPTIONS=report_objects=1

san=(-fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer -g -O1)
cflags=("${san[@]}" -Wall -Wextra -Werror -Iinclude)
linked=(-L"$libdir" -lsock -Wl,-rpath,"$libdir")
preload=(LD_PRELOAD="$asan_rt $lib")

t0=$(date +%s.%N)
# pass MSG; fail WHAT [FILE...]: a verdict, with the files' first 40 lines.
pass() { ok "$*"; }
fail() {
    bad "$1"
    shift
    excerpt 40 "$@"
}

# build OUT SRC [FLAGS...]: an ASan+UBSan binary, proven to be one.
build() {
    local bin=$1
    shift
    "$cc" "${cflags[@]}" "$@" -o "$bin"
    # (grep without -q: it must read all of nm's output, or pipefail sees SIGPIPE)
    if ! nm "$bin" | grep ' U __asan_init' >/dev/null; then
        die "$bin is not an ASan build (no __asan_init)"
    fi
    if ! nm "$bin" | grep '__ubsan_handle_' >/dev/null; then
        die "$bin is not a UBSan build (no __ubsan_handle_*)"
    fi
}

# A sanitizer report anywhere in a log.
reported() { grep -qE 'ERROR: (AddressSanitizer|LeakSanitizer)|runtime error:|SUMMARY: (Address|Undefined|Leak)' "$1"; }

# The demo programs keep their buffers until exit (they never free them):
# with OWN_LEAKS set to a regex, a LeakSanitizer report is accepted when the
# first frame past the allocator of every leak matches it (the program's
# own calloc in main), and nothing but leaks was reported. A leak allocated
# inside libsock never matches.
OWN_LEAKS=
only_own_leaks() {
    [ -n "$OWN_LEAKS" ] || return 1
    grep -qE 'ERROR: AddressSanitizer|runtime error:' "$1" && return 1
    grep -q 'ERROR: LeakSanitizer' "$1" || return 1
    awk -v re="$OWN_LEAKS" '
        /^(Direct|Indirect) leak of/ { block = 1; blocks++; next }
        block && /^ +#[0-9]+ / {
            if ($0 ~ /in (__interceptor_|__sanitizer|__asan|__lsan)/) next
            block = 0
            if ($0 !~ re) bad++
        }
        END { exit (blocks > 0 && bad == 0) ? 0 : 1 }' "$1"
}

# run NAME COMMAND...: must exit 0 with no sanitizer report (with
# OWN_LEAKS: LeakSanitizer reports and does not end the run early — so the
# program's output is flushed — and only the program's own leaks are found).
run() {
    local name=$1
    shift
    local rc=0 log=$out/${name//[^a-zA-Z0-9_.-]/_} lsan=$LSAN_OPTIONS note=
    [ -z "$OWN_LEAKS" ] || lsan=$LSAN_OPTIONS:exitcode=0
    (LSAN_OPTIONS=$lsan timeout -k 5 300 env "$@" >"$log.out" 2>"$log.err" </dev/null; exit $?) 2>/dev/null || rc=$?
    if [ $rc -eq 0 ] && only_own_leaks "$log.err"; then
        note=" (the program's own buffers unfreed at exit; none from libsock)"
    elif [ $rc -ne 0 ] || reported "$log.err"; then
        echo "exit status $rc" >"$log.why"
        fail "$name" "$log.why" "$log.err" "$log.out"
        return 1
    fi
    pass "$name: $(tail -1 "$log.out")$note"
}

echo "canaries: the sanitizers stop a run here"
cat >"$work/canary.c" <<'EOF'
#include <stdio.h>
#include <stdlib.h>
void *volatile keep;
int main(int argc, char **argv) {
    (void)argv;
    if (argc == 2) { char *p = malloc(8); keep = p; p[8 + (argc > 5)] = 1; free(keep); }
    if (argc == 3) { keep = malloc(77); keep = NULL; }
    if (argc == 4) { volatile int i = 2147483647; i += argc; printf("%d\n", i); }
    return 0;
}
EOF
build "$out/canary" "$work/canary.c"
for c in "overflow:x" "leak:x x" "signed-overflow:x x x"; do
    label=${c%%:*}
    # shellcheck disable=SC2086
    if "$out/canary" ${c#*:} >"$work/canary.out" 2>&1; then
        fail "canary $label: not caught (sanitizer options ineffective here)" "$work/canary.out"
    elif reported "$work/canary.out"; then
        pass "canary $label: caught"
    else
        fail "canary $label: failed without a sanitizer report" "$work/canary.out"
    fi
done

echo "sockset: the SocketSet C tests"
build "$out/sockset_test" c-tests/sockset/sockset_test.c "${linked[@]}"
build "$out/differential" c-tests/sockset/differential.c "${linked[@]}"
build "$out/differential-dlopen" -DVIA_DLOPEN c-tests/sockset/differential.c -ldl
run sockset-linked-api "$out/sockset_test"
run sockset-linked-differential "$out/differential"
run sockset-linked-differential-seed7 SEED=7 "$out/differential"
run sockset-preloaded-differential "${preload[@]}" LIBSOCK_LIB="$lib" "$out/differential-dlopen"
run sockset-dlopen-differential LIBSOCK_LIB="$lib" "$out/differential-dlopen"

echo "diff: the differential programs that ASan runs clean natively"
# run_diff NAME MODE BINARY [ENV...]: as c-tests/diff/run.sh runs them: only
# descriptors 0-2 open, a scratch directory, a token.
run_diff() {
    local name=$1 mode=$2 bin=$3
    shift 3
    local dir=$work/$name.$mode rc=0
    mkdir -p "$dir"
    (
        only_std_fds
        exec env "$@" DIFF_TMPDIR="$dir" DIFF_TOKEN="$(printf '%08x%04x' $$ $RANDOM)" \
            timeout -k 5 60 "$bin"
    ) >"$out/$name.$mode.out" 2>"$out/$name.$mode.err" </dev/null || rc=$?
    echo "exit status: $rc" >>"$out/$name.$mode.out"
    rm -rf "$dir"
}
for name in badfd bind_listen create mmsg unix; do
    src=c-tests/diff/$name.c
    build "$out/$name.native" -D_GNU_SOURCE -Wno-error -Ic-tests/diff "$src"
    build "$out/$name.linked" -D_GNU_SOURCE -Wno-error -Ic-tests/diff "$src" "${linked[@]}"
    run_diff "$name" native "$out/$name.native"
    run_diff "$name" preload "$out/$name.native" "${preload[@]}"
    run_diff "$name" linked "$out/$name.linked"
    problems=()
    grep -q '^exit status: 0$' "$out/$name.native.out" ||
        problems+=("ASan-native run: $(tail -1 "$out/$name.native.out")")
    for mode in native preload linked; do
        reported "$out/$name.$mode.err" && problems+=("$mode: sanitizer report")
    done
    for mode in preload linked; do
        cmp -s "$out/$name.native.out" "$out/$name.$mode.out" ||
            problems+=("stdout/exit status differ, ASan-native vs $mode")
        cmp -s "$out/$name.native.err" "$out/$name.$mode.err" ||
            problems+=("stderr differs, ASan-native vs $mode")
    done
    if [ ${#problems[@]} -eq 0 ]; then
        pass "diff-$name: native, preloaded, linked identical ($(grep -c '^L[0-9]' "$out/$name.native.out") lines), no report"
    else
        printf '%s\n' "${problems[@]}" >"$work/why"
        for mode in preload linked; do
            diff -u "$out/$name.native.out" "$out/$name.$mode.out" | head -20 >>"$work/why" || true
            grep -A12 -E 'ERROR: |runtime error' "$out/$name.$mode.err" | head -30 >>"$work/why" || true
        done
        fail "diff-$name" "$work/why"
    fi
done

echo "echo: the SocketSet echo server and its load generator"
build "$out/echo_server" demo/echo_server.c "${linked[@]}"
build "$out/echo_load" demo/echo_load.c
clients=1100
LSAN_OPTIONS=$LSAN_OPTIONS:exitcode=0 "$out/echo_server" "$clients" >"$out/echo_server.out" 2>"$out/echo_server.err" &
server=$!
wait_for "$out/echo_server.out" '^port ' 10 >/dev/null || true
port=$(sed -n 's/^port //p' "$out/echo_server.out")
if [ -z "$port" ]; then
    fail "echo: the server did not start" "$out/echo_server.err"
else
    OWN_LEAKS=' in main demo/echo_load\.c:'
    run echo-load-preloaded-traced "${preload[@]}" LIBSOCK_TRACE="$work/echo.trace" \
        LIBSOCK_STATS="$work/echo.stats" LIBSOCK_NODELAY=1 "$out/echo_load" "$port" "$clients" 3 || true
    rc=0
    timeout 60 tail --pid="$server" -f /dev/null || rc=$?
    wait "$server" || rc=$?
    server=
    OWN_LEAKS=' in main demo/echo_server\.c:'
    if [ $rc -eq 0 ] && { only_own_leaks "$out/echo_server.err" || ! reported "$out/echo_server.err"; }; then
        pass "echo-server-linked: $(grep '^server:' "$out/echo_server.out")"
    else
        echo "exit status $rc" >"$work/why"
        fail "echo-server-linked" "$work/why" "$out/echo_server.err"
    fi
    OWN_LEAKS=
fi

echo "faults: calls.c and nofile.c, traced"
build "$out/calls" c-tests/faults/calls.c
build "$out/calls-linked" c-tests/faults/calls.c "${linked[@]}"
build "$out/nofile" c-tests/faults/nofile.c
build "$out/nofile-linked" c-tests/faults/nofile.c "${linked[@]}"
traced=(LIBSOCK_TRACE="$work/f.trace" LIBSOCK_STATS="$work/f.stats" LIBSOCK_NODELAY=1 LIBSOCK_TOS=low-delay LIBSOCK_REUSEADDR=1)
# same NAME WANT: the last run's stdout is the ASan-native one.
same() {
    local log=$out/$1
    if cmp -s "$2" "$log.out"; then
        pass "$1: output as the ASan-native run"
    else
        diff -u "$2" "$log.out" | head -20 >"$work/why" || true
        fail "$1: output differs from the ASan-native run" "$work/why"
    fi
}
if run calls-native "$out/calls"; then
    cp "$out/calls-native.out" "$work/calls.want"
    run calls-preloaded "${preload[@]}" "${traced[@]}" "$out/calls" && same calls-preloaded "$work/calls.want"
    run calls-linked "${traced[@]}" CALLS_EXIT=_exit "$out/calls-linked" && same calls-linked "$work/calls.want"
fi
for mode in early late; do
    if run "nofile-$mode-native" "$out/nofile" "$mode"; then
        cp "$out/nofile-$mode-native.out" "$work/nofile.want"
        run "nofile-$mode-preloaded" "${preload[@]}" "${traced[@]}" "$out/nofile" "$mode" &&
            same "nofile-$mode-preloaded" "$work/nofile.want"
        run "nofile-$mode-linked" "${traced[@]}" "$out/nofile-linked" "$mode" &&
            same "nofile-$mode-linked" "$work/nofile.want"
    fi
done

echo "stress: 16 threads, tracing, stats, policy"
build "$out/stress" -pthread c-tests/stress/stress.c
build "$out/stress-linked" -pthread c-tests/stress/stress.c "${linked[@]}"
policy=(LIBSOCK_NODELAY=1 LIBSOCK_REUSEADDR=1 LIBSOCK_KEEPALIVE=30 LIBSOCK_TOS=low-delay)
# No fork under ASan: GCC 12's ASan allocator has no fork handlers, so a
# child forked while another thread is inside malloc deadlocks on the
# allocator's lock (seen: LeakSanitizer's LockAllocator at the child's exit;
# glibc's malloc locks around fork, ASan's only from LLVM 17), and
# LeakSanitizer in such a child reports the other threads' live buffers as
# leaks ("Running thread N was not suspended. False leaks are possible").
# The fork-from-threads half of the stress test runs natively in
# c-tests/stress/run.sh and under valgrind in valgrind/run.sh.
small=(STRESS_ROUNDS=60 STRESS_FORKS=0 STRESS_WARMUP=1)
run stress-native "${small[@]}" "$out/stress" || true
run stress-preloaded "${small[@]}" "${preload[@]}" LIBSOCK_TRACE="$work/s.trace" \
    LIBSOCK_STATS="$work/s.stats" "${policy[@]}" "$out/stress" || true
run stress-linked "${small[@]}" LIBSOCK_TRACE="$work/s.%p.trace" LIBSOCK_TRACE_FORMAT=json \
    LIBSOCK_STATS="$work/s.stats" "${policy[@]}" "$out/stress-linked" || true

echo "  ($(elapsed "$t0")s)"
finish
