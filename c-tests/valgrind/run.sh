#!/usr/bin/env bash
# The C test programs (plain builds, -O1 -g) under
#   valgrind --error-exitcode=1 --leak-check=full --errors-for-leak-kinds=definite
# against libsock linked, preloaded (LD_PRELOAD=libsock.so: valgrind puts
# its own preloads first and keeps ours) and dlopened. valgrind sees what
# ASan cannot: libsock's Rust code itself — reads of uninitialised memory,
# invalid reads and writes, bad system call arguments, leaks — not only the
# instrumented C around it.
#
#   sockset   sockset_test.c (linked); differential.c linked, and its
#             -DVIA_DLOPEN build preloaded and dlopened — each must be clean.
#   diff      c-tests/diff programs, each run natively, preloaded and linked
#             under valgrind. They pass bad pointers to the kernel on
#             purpose, so valgrind reports "Syscall param ... points to
#             unaddressable byte(s)" natively too (exit status 1): the
#             preloaded and linked runs must report exactly the native run's
#             errors (the program's own; libsock adds none), print exactly
#             its output and exit the same way. Left out: badfd (timed with
#             alarm(): under valgrind's slowdown it dies of its own SIGALRM,
#             natively too), mmsg (batches past UIO_MAXIOV: minutes under
#             valgrind) and sendrecv (blocks for over a minute under valgrind
#             natively). badfd and mmsg run under ASan in sanitize/run.sh;
#             sendrecv (which ASan cannot run either) only in the
#             differential suite, c-tests/diff/run.sh.
#   echo      demo/echo_server.c (linked, SocketSet) serving demo/echo_load.c
#             (preloaded, traced); the demo's own buffers, allocated in main
#             and never freed, are suppressed (only blocks whose allocator was
#             called from main itself: libsock's never are).
#   faults    c-tests/faults/calls.c, preloaded and linked with tracing,
#             stats and policy on (its deliberate bad pointers compared with
#             the native run as for diff). Not nofile.c: valgrind keeps
#             descriptors of its own above a virtual RLIMIT_NOFILE and closes
#             what the kernel hands out past it, so EMFILE comes at other
#             points than natively (a socketpair succeeds, an accept consumes
#             the pending connection) even without libsock; it runs under
#             ASan in sanitize/run.sh and natively in faults/run.sh.
#   stress    c-tests/stress/stress.c, 16 threads, preloaded and linked with
#             tracing, stats and policy: once without fork (every process
#             fully checked), once with forks, --child-silent-after-fork and
#             leaks shown but not counted as errors, so that only the
#             parent's definite leaks fail the run. (A child forked from a
#             multithreaded process inherits the heap blocks the other
#             threads held on their stacks, which it no longer has: its leak
#             check reports them as definitely lost — seen for libsock's
#             trace records and for the program's own thread array alike.
#             The children's exit statuses are the stress test's own checks.)
#
# Iterations are reduced where the programs take a count (STRESS_*, the
# echo demo's clients); the SocketSet tests run as they are (about a second
# each under valgrind). Run from the repository root after `make`.
# Environment: LIBDIR, CC, VALGRIND. Last line: "valgrind: N passed, M failed".
set -euo pipefail
. "$(dirname "$0")/../../tests/lib/harness.sh"
harness valgrind
find_libsock
cc=${CC:-cc}
vg_bin=${VALGRIND:-valgrind}
out=target/c-tests/valgrind
build_dir out "$out"
scratch work valgrind
server=
on_exit '[ -z "$server" ] || kill "$server" 2>/dev/null'
no_config
ulimit -c 0
command -v "$vg_bin" >/dev/null || die "$vg_bin not found (apt-get install valgrind)"

vg=("$vg_bin" -q --error-exitcode=1 --leak-check=full --errors-for-leak-kinds=definite
    --trace-children=yes --num-callers=30)
cflags=(-O1 -g -Wall -Wextra -Werror -Iinclude)
linked=(-L"$libdir" -lsock -Wl,-rpath,"$libdir")

t0=$(date +%s.%N)
# pass MSG; fail WHAT [FILE...]: a verdict, with the files' first 60 lines.
pass() { ok "$*"; }
fail() {
    bad "$1"
    shift
    excerpt 60 "$@"
}

# vg_cmd LOG [VALGRIND-OPTIONS...] -- [VAR=VALUE...] PROGRAM [ARGS...]
vg_cmd() {
    local log=$1
    shift
    local opts=() envs=()
    while [ "$1" != -- ]; do opts+=("$1"); shift; done
    shift
    while [[ "$1" == *=* ]]; do envs+=("$1"); shift; done
    local rc=0
    (timeout -k 5 600 env "${envs[@]}" "${vg[@]}" "${opts[@]}" --log-file="$log.err" "$@" \
        >"$log.out" 2>"$log.stderr" </dev/null; exit $?) 2>/dev/null || rc=$?
    echo "$rc" >"$log.rc"
}

# The errors valgrind reported, one headline each, pids and addresses gone:
# "Syscall param socketcall.bind(my_addr.sa_family) points to unaddressable
# byte(s)", "Invalid read of size 4", "LEAK definitely lost", ...
errors() {
    sed -nE 's/^==[0-9]+== //p' "$1" | awk '
        BEGIN { start = 1 }
        /^$/ { start = 1; next }
        start && /^[A-Z0-9]/ {
            if ($0 ~ /are definitely lost in loss record/) print "LEAK definitely lost"
            else if ($0 !~ /^(HEAP|LEAK|ERROR) SUMMARY|^For (lists|counts)|^Rerun|^Use --/) print
        }
        { start = 0 }' | sed -E 's/0x[0-9A-Fa-f]+/ADDR/g' | sort | uniq -c
}
# The log of a run must hold no error at all.
clean() {
    local log=$1 name=$2 note=${3:-}
    local rc
    rc=$(cat "$log.rc")
    if [ "$rc" = 0 ] && [ -z "$(errors "$log.err")" ]; then
        pass "$name: $(tail -1 "$log.out")$note"
        return 0
    fi
    echo "exit status $rc" >"$log.why"
    fail "$name" "$log.why" "$log.err" "$log.stderr"
    return 1
}
# like LOG NAME NATIVE-LOG: same output, exit status and errors as the native run.
like() {
    local log=$1 name=$2 native=$3 problems=()
    cmp -s "$native.out" "$log.out" ||
        problems+=("stdout differs from the native run:" "$(diff -u "$native.out" "$log.out" | head -20)")
    [ "$(cat "$native.rc")" = "$(cat "$log.rc")" ] ||
        problems+=("exit status $(cat "$log.rc"), native under valgrind $(cat "$native.rc")")
    if ! d=$(diff <(errors "$native.err") <(errors "$log.err")); then
        problems+=("valgrind's errors differ from the native run's (< native, > $name):" "$d")
    fi
    if [ ${#problems[@]} -eq 0 ]; then
        local n
        n=$(errors "$log.err" | awk '{ s += $1 } END { print s + 0 }')
        pass "$name: as native ($n deliberate bad-argument errors, the program's own)"
        return 0
    fi
    printf '%s\n' "${problems[@]}" >"$log.why"
    fail "$name" "$log.why"
    grep -B2 -A25 -E '^==[0-9]+== (Invalid|Conditional|Use of uninit|Syscall param|.*definitely lost)' "$log.err" |
        head -60 | sed 's/^/    /'
    return 1
}

echo "canary: valgrind stops a run here"
cat >"$work/canary.c" <<'EOF'
#include <stdlib.h>
void *volatile keep;
int main(int argc, char **argv) {
    (void)argv;
    char *p = malloc(8);
    keep = p;
    if (argc == 2) p[8] = 1;
    if (argc == 3) keep = NULL;
    else free(p);
    return 0;
}
EOF
"$cc" -O0 -g "$work/canary.c" -o "$out/canary"
vg_cmd "$out/canary-overflow" -- "$out/canary" x
vg_cmd "$out/canary-leak" -- "$out/canary" x x
for c in overflow leak; do
    if [ "$(cat "$out/canary-$c.rc")" = 1 ] && [ -n "$(errors "$out/canary-$c.err")" ]; then
        pass "canary $c: caught ($(errors "$out/canary-$c.err" | sed 's/^ *[0-9]* //' | head -1))"
    else
        fail "canary $c: not caught" "$out/canary-$c.err"
    fi
done

echo "sockset: the SocketSet C tests"
"$cc" "${cflags[@]}" c-tests/sockset/sockset_test.c "${linked[@]}" -o "$out/sockset_test"
"$cc" "${cflags[@]}" c-tests/sockset/differential.c "${linked[@]}" -o "$out/differential"
"$cc" "${cflags[@]}" -DVIA_DLOPEN c-tests/sockset/differential.c -ldl -o "$out/differential-dlopen"
vg_cmd "$out/sockset-linked-api" -- "$out/sockset_test"
clean "$out/sockset-linked-api" sockset-linked-api || true
vg_cmd "$out/sockset-linked-differential" -- "$out/differential"
clean "$out/sockset-linked-differential" sockset-linked-differential || true
vg_cmd "$out/sockset-preloaded-differential" -- LD_PRELOAD="$lib" LIBSOCK_LIB="$lib" "$out/differential-dlopen"
clean "$out/sockset-preloaded-differential" sockset-preloaded-differential || true
vg_cmd "$out/sockset-dlopen-differential" -- LIBSOCK_LIB="$lib" "$out/differential-dlopen"
clean "$out/sockset-dlopen-differential" sockset-dlopen-differential || true

echo "diff: the differential programs, errors as native"
for name in bind_listen connect_accept create fortify msg multicast names sockopt unix; do
    src=c-tests/diff/$name.c
    # shellcheck disable=SC2207
    extra=($(sed -n 's|^// diff-cflags:||p' "$src" | head -1))
    "$cc" -O1 -g -D_GNU_SOURCE "${extra[@]}" -Ic-tests/diff "$src" -o "$out/$name.native"
    "$cc" -O1 -g -D_GNU_SOURCE "${extra[@]}" -Ic-tests/diff "$src" "${linked[@]}" -o "$out/$name.linked"
    for mode in native preload linked; do
        bin=$out/$name.native
        pre=()
        [ $mode = linked ] && bin=$out/$name.linked
        [ $mode = preload ] && pre=(LD_PRELOAD="$lib")
        dir=$work/$name.$mode
        mkdir -p "$dir"
        # As c-tests/diff/run.sh runs them: only descriptors 0-2 open.
        (
            only_std_fds
            vg_cmd "$out/diff-$name.$mode" -- "${pre[@]}" DIFF_TMPDIR="$dir" DIFF_TOKEN=0badc0de1234 "$bin"
        )
        rm -rf "$dir"
    done
    for mode in preload linked; do
        like "$out/diff-$name.$mode" "diff-$name $mode" "$out/diff-$name.native" || true
    done
done

echo "echo: the SocketSet echo server and its load generator"
"$cc" "${cflags[@]}" demo/echo_server.c "${linked[@]}" -o "$out/echo_server"
"$cc" "${cflags[@]}" demo/echo_load.c -o "$out/echo_load"
cat >"$work/demo.supp" <<'EOF'
{
   the-demo's-own-buffers-calloc
   Memcheck:Leak
   match-leak-kinds: definite
   fun:calloc
   fun:main
}
{
   the-demo's-own-buffers-malloc
   Memcheck:Leak
   match-leak-kinds: definite
   fun:malloc
   fun:main
}
EOF
clients=200
(timeout -k 5 300 "${vg[@]}" --suppressions="$work/demo.supp" --log-file="$out/echo_server.err" \
    "$out/echo_server" "$clients" >"$out/echo_server.out" 2>"$out/echo_server.stderr"; echo $? >"$out/echo_server.rc") &
server=$!
wait_for "$out/echo_server.out" '^port ' 20 >/dev/null || true
port=$(sed -n 's/^port //p' "$out/echo_server.out")
if [ -z "$port" ]; then
    fail "echo: the server did not start" "$out/echo_server.err"
else
    vg_cmd "$out/echo-load-preloaded-traced" --suppressions="$work/demo.supp" -- LD_PRELOAD="$lib" \
        LIBSOCK_TRACE="$work/echo.trace" LIBSOCK_STATS="$work/echo.stats" LIBSOCK_NODELAY=1 \
        "$out/echo_load" "$port" "$clients" 2
    clean "$out/echo-load-preloaded-traced" echo-load-preloaded-traced || true
    wait "$server" || true
    server=
    clean "$out/echo_server" echo-server-linked || true
fi

echo "faults: calls.c, traced"
"$cc" -O1 -g -Wall -Wextra -Werror -D_FORTIFY_SOURCE=2 c-tests/faults/calls.c -o "$out/calls"
"$cc" -O1 -g -Wall -Wextra -Werror -D_FORTIFY_SOURCE=2 c-tests/faults/calls.c "${linked[@]}" -o "$out/calls-linked"
traced=(LIBSOCK_TRACE="$work/f.trace" LIBSOCK_STATS="$work/f.stats" LIBSOCK_NODELAY=1 LIBSOCK_TOS=low-delay LIBSOCK_REUSEADDR=1)
vg_cmd "$out/calls.native" -- "$out/calls"
vg_cmd "$out/calls.preload" -- LD_PRELOAD="$lib" "${traced[@]}" "$out/calls"
like "$out/calls.preload" "calls preloaded, traced" "$out/calls.native" || true
vg_cmd "$out/calls.linked" -- "${traced[@]}" CALLS_EXIT=_exit "$out/calls-linked"
like "$out/calls.linked" "calls linked, traced, _exit" "$out/calls.native" || true

echo "stress: 16 threads, tracing, stats, policy"
"$cc" "${cflags[@]}" -pthread c-tests/stress/stress.c -o "$out/stress"
"$cc" "${cflags[@]}" -pthread c-tests/stress/stress.c "${linked[@]}" -o "$out/stress-linked"
policy=(LIBSOCK_NODELAY=1 LIBSOCK_REUSEADDR=1 LIBSOCK_KEEPALIVE=30 LIBSOCK_TOS=low-delay)
small=(STRESS_ROUNDS=8 STRESS_BYTES=16384 STRESS_WARMUP=1 STRESS_WATCHDOG=300)
vg_cmd "$out/stress-preloaded" -- STRESS_FORKS=0 "${small[@]}" LD_PRELOAD="$lib" \
    LIBSOCK_TRACE="$work/s.trace" LIBSOCK_STATS="$work/s.stats" "${policy[@]}" "$out/stress"
clean "$out/stress-preloaded" "stress-preloaded, no fork" || true
vg_cmd "$out/stress-linked" -- STRESS_FORKS=0 "${small[@]}" LIBSOCK_TRACE="$work/s.%p.trace" \
    LIBSOCK_TRACE_FORMAT=json LIBSOCK_STATS="$work/s.stats" "${policy[@]}" "$out/stress-linked"
clean "$out/stress-linked" "stress-linked, no fork" || true
# Leaks are not errors in this run (the children's would end them with
# status 1), but the parent's are still printed and judged by clean().
vg_cmd "$out/stress-preloaded-forks" --child-silent-after-fork=yes --errors-for-leak-kinds=none \
    --show-leak-kinds=definite -- STRESS_FORKS=8 "${small[@]}" \
    LD_PRELOAD="$lib" LIBSOCK_TRACE="$work/s.trace" LIBSOCK_STATS="$work/s.stats" "${policy[@]}" "$out/stress"
clean "$out/stress-preloaded-forks" "stress-preloaded, forks (children silent)" || true

echo "  ($(elapsed "$t0")s)"
finish
