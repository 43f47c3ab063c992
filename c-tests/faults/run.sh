#!/usr/bin/env bash
# Fault behaviour: when the world fails around libsock, the program's calls
# still return what glibc returns, the program is not killed, and libsock
# says once on stderr what it could not do.
#
#   nofile       RLIMIT_NOFILE exhausted (nofile.c): socket, socketpair,
#                accept, accept4 fail with EMFILE exactly as natively;
#                sockset_select works with no descriptor to spare; a trace
#                file that cannot be opened, or stats that cannot be written
#                at exit, are each reported in one line.
#   malloc       allocation failure inside libsock (libfailmalloc.so, before
#                libsock in LD_PRELOAD, fails only the allocations libsock
#                makes): calls.c with tracing and stats on, failing each
#                allocation in turn, every allocation from the Nth on, and at
#                random; output identical to the native run, no abort.
#                sockset_enomem.c: sockset_new/add/add_many/select report
#                ENOMEM with the sets unchanged.
#   nodlsym      a next library without some symbols (libnodlsym.so, before
#                libsock, answers RTLD_NEXT lookups of the names in NODLSYM
#                with NULL, or with libsock's own definition for the names in
#                NODLSYM_SELF): one line per such name, and the raw system
#                call gives glibc's results; also the stress test with every
#                name missing; and, on a glibc that says it is 2.31
#                (NODLSYM_GLIBC), close_range missing is not said (it is
#                2.34), connect missing still is.
#   unwritable   trace and stats to /dev/full, to a directory that does not
#                exist, and to a 16 KiB tmpfs that fills up (skipped, with a
#                message, where mounting is not permitted).
# Regression tests, named for the bugs they found:
#   trace-fd-taken-over   a program dup2()s a socket onto the number of
#                         libsock's trace descriptor: libsock wrote trace lines
#                         into the program's socket (and died of SIGPIPE);
#                         also with RLIMIT_NOFILE 64, where the descriptor
#                         cannot be moved to a high number.
#   trace-fd-failed-close close(-1), close of a closed number, a failing
#                         dup2/dup3/close_range: libsock forgot its trace
#                         descriptor without closing it (one leaked per call)
#                         and reopened the file.
#   trace-broken-pipe     trace (or stats) to stderr, and stderr a pipe nobody
#                         reads: libsock's write raised SIGPIPE and killed the
#                         program, which natively runs to the end.
#
# Run from the repository root after `make`. Environment: LIBDIR, CC,
# FAULTS_MALLOC_RUNS (cap on the fail-the-Nth runs, default 400).
# Last line: "faults: N passed, M failed".
set -euo pipefail
. "$(dirname "$0")/../../tests/lib/harness.sh"
harness faults
find_libsock
cc=${CC:-cc}
out=target/c-tests/faults
build_dir out "$out"
scratch work faults
mnt=
on_exit '[ -z "$mnt" ] || umount "$mnt" 2>/dev/null || true'
no_config RUST_BACKTRACE
ulimit -c 0 # an abort here is a finding, not a core file

cflags=(-O2 -g -Wall -Wextra -Werror)
linked=(-L"$libdir" -lsock -Wl,-rpath,"$libdir")
# calls.c is built with _FORTIFY_SOURCE, so its receives go through
# __recv_chk/__recvfrom_chk as distribution binaries' do.
"$cc" "${cflags[@]}" -D_FORTIFY_SOURCE=2 c-tests/faults/calls.c -o "$out/calls"
"$cc" "${cflags[@]}" -D_FORTIFY_SOURCE=2 c-tests/faults/calls.c "${linked[@]}" -o "$out/calls-linked"
"$cc" "${cflags[@]}" c-tests/faults/nofile.c -o "$out/nofile"
"$cc" "${cflags[@]}" c-tests/faults/nofile.c "${linked[@]}" -o "$out/nofile-linked"
"$cc" "${cflags[@]}" -Iinclude c-tests/faults/sockset_enomem.c "${linked[@]}" -o "$out/sockset_enomem"
"$cc" "${cflags[@]}" c-tests/faults/trace_fd_taken_over.c -o "$out/trace_fd_taken_over"
"$cc" "${cflags[@]}" c-tests/faults/trace_fd_taken_over.c "${linked[@]}" -o "$out/trace_fd_taken_over-linked"
"$cc" "${cflags[@]}" c-tests/faults/trace_fd_failed_close.c -o "$out/trace_fd_failed_close"
"$cc" "${cflags[@]}" c-tests/faults/trace_fd_failed_close.c "${linked[@]}" -o "$out/trace_fd_failed_close-linked"
"$cc" "${cflags[@]}" -shared -fPIC c-tests/faults/failmalloc.c -o "$out/libfailmalloc.so"
"$cc" "${cflags[@]}" -shared -fPIC c-tests/faults/nodlsym.c -ldl -o "$out/libnodlsym.so"
"$cc" "${cflags[@]}" -pthread c-tests/stress/stress.c -o "$out/stress"

t0=$(date +%s.%N)

# Expectations about stderr for the next case:
#   ONCE  regexes: each must match exactly one line;
#   ANY   regexes: lines allowed any number of times.
# Every stderr line must match one of them; no libsock line may repeat.
ONCE=()
ANY=()
REPEATS_OK= # set: several processes may each say the same thing once

# check NAME WANT-STDOUT: judges $work/case.{out,err,rc}; prints a verdict.
check() {
    local name=$1 want=$2 problems=() line re n matched
    local rc
    rc=$(cat "$work/case.rc")
    [ "$rc" = 0 ] || problems+=("exit status $rc (native: 0)$([ "$rc" -gt 128 ] && echo ", killed by signal $((rc - 128))")")
    if ! cmp -s "$want" "$work/case.out"; then
        problems+=("stdout differs from the native run:"
            "$(diff -u --label native --label "$name" "$want" "$work/case.out" | head -15)")
    fi
    for re in "${ONCE[@]}"; do
        n=$(grep -cE -- "$re" "$work/case.err" || true)
        [ "$n" = 1 ] || problems+=("stderr: $n lines match /$re/, want exactly 1")
    done
    while IFS= read -r line; do
        matched=0
        for re in "${ONCE[@]}" "${ANY[@]}"; do
            if grep -qE -- "$re" <<<"$line"; then matched=1; break; fi
        done
        [ $matched = 1 ] || problems+=("stderr: unexpected line: $line")
    done < <(head -50 "$work/case.err")
    if [ -z "$REPEATS_OK" ] && [ "$(grep '^libsock:' "$work/case.err" | sort | uniq -d | wc -l)" != 0 ]; then
        problems+=("stderr: libsock said the same thing more than once:"
            "$(grep '^libsock:' "$work/case.err" | sort | uniq -dc | head -5)")
    fi
    if [ ${#problems[@]} -eq 0 ]; then
        return 0
    fi
    printf '%s\n' "${problems[@]}" >"$work/case.problems"
    return 1
}

# run_case NAME WANT-STDOUT COMMAND...: runs it (output to $work/case.*) and checks it.
run_case() {
    local name=$1 want=$2
    shift 2
    local rc=0
    # In a subshell of its own, so the shell's "Aborted" notice for a killed
    # program goes to /dev/null, not into this report.
    (timeout -k 5 60 env "$@" >"$work/case.out" 2>"$work/case.err" </dev/null; exit $?) 2>/dev/null || rc=$?
    echo "$rc" >"$work/case.rc"
    check "$name" "$want"
}

pass() { ok "$1"; }
fail() {
    bad "$1"
    sed 's/^/    /' "$work/case.problems" | head -30
}
# case NAME WANT COMMAND...: one case, reported.
case_() {
    local name=$1
    if run_case "$@"; then pass "$name"; else fail "$name"; fi
}

# ---------------------------------------------------------------- native runs
"$out/calls" >"$work/calls.native" 2>"$work/calls.native.err"
[ ! -s "$work/calls.native.err" ] || die "calls.c writes to stderr natively"
for mode in early late; do
    "$out/nofile" "$mode" >"$work/nofile.$mode.native"
    NOFILE_EXIT_FULL=1 "$out/nofile" "$mode" >"$work/nofile.$mode.full.native"
done
"$out/trace_fd_taken_over" >"$work/taken.native"
"$out/trace_fd_taken_over" low >"$work/taken-low.native"
"$out/trace_fd_failed_close" >"$work/failed-close.native"

echo "nofile: RLIMIT_NOFILE exhausted"
tr_open='^libsock: cannot open the trace file .*(Too many open files|EMFILE).*'
st_write='^libsock: cannot write the stats.*(Too many open files|EMFILE).*'
for mode in early late; do
    for how in preload linked; do
        if [ $how = preload ]; then bin=("$out/nofile") pre=(LD_PRELOAD="$lib"); else bin=("$out/nofile-linked") pre=(); fi
        trace=(LIBSOCK_TRACE="$work/nofile.trace" LIBSOCK_STATS="$work/nofile.stats" LIBSOCK_NODELAY=1)
        # The trace file can be opened early; late, no descriptor is left for it.
        ONCE=()
        [ $mode = late ] && ONCE=("$tr_open")
        ANY=()
        case_ "nofile $mode $how: EMFILE as natively" "$work/nofile.$mode.native" \
            "${pre[@]}" "${trace[@]}" "${bin[@]}" "$mode"
        ONCE+=("$st_write")
        case_ "nofile $mode $how, exit with no descriptor free: stats cannot be written, said once" \
            "$work/nofile.$mode.full.native" NOFILE_EXIT_FULL=1 "${pre[@]}" "${trace[@]}" "${bin[@]}" "$mode"
    done
done

echo "malloc: allocation failure inside libsock"
fm=$out/libfailmalloc.so
traced=(LIBSOCK_TRACE="$work/fm.trace" LIBSOCK_STATS="$work/fm.stats" LIBSOCK_NODELAY=1 LIBSOCK_TOS=low-delay)
ONCE=()
ANY=('^libsock: ' '^calls: sockset .*: ENOMEM')
rm -f "$work/fm.count"
case_ "malloc: counting run (nothing fails)" "$work/calls.native" \
    FAILMALLOC=count FAILMALLOC_REPORT="$work/fm.count" LD_PRELOAD="$fm $lib" "${traced[@]}" "$out/calls"
allocs=$(awk '{ print $2 }' "$work/fm.count" 2>/dev/null | head -1)
allocs=${allocs:-0}
echo "  (libsock allocates $allocs times in calls.c with tracing and stats on)"
[ "$allocs" -gt 0 ] || bad "libfailmalloc saw no allocation from libsock"
# fail_runs LABEL SPEC...: one case per spec; reported as one line.
fail_runs() {
    local label=$1 spec bad=0 total=0 first=
    shift
    for spec in "$@"; do
        total=$((total + 1))
        if ! run_case "malloc $spec" "$work/calls.native" \
            FAILMALLOC="$spec" LD_PRELOAD="$fm $lib" "${traced[@]}" "$out/calls"; then
            bad=$((bad + 1))
            if [ -z "$first" ]; then
                first=$spec
                cp "$work/case.problems" "$work/first.problems"
            fi
        fi
    done
    if [ $bad = 0 ]; then
        pass "malloc $label: $total runs, output as native"
    else
        cp "$work/first.problems" "$work/case.problems"
        fail "malloc $label: $bad of $total runs failed; the first, FAILMALLOC=$first:"
    fi
}
cap=${FAULTS_MALLOC_RUNS:-400}
step=$(((allocs + cap - 1) / cap))
[ "$step" -ge 1 ] || step=1
specs=()
for ((k = 0; k < allocs; k += step)); do specs+=("nth:$k"); done
fail_runs "each allocation failing alone (nth:0..$((allocs - 1)) step $step)" "${specs[@]}"
specs=(all)
for k in 1 2 3 5 8 13 21 34 55 89 144 233 377 610; do
    [ "$k" -lt "$allocs" ] && specs+=("after:$k")
done
fail_runs "every allocation from the Nth on failing" "${specs[@]}"
specs=()
for seed in 1 2 3 4 5 6 7 8 9 10; do specs+=("prob:20:$seed" "prob:60:$seed"); done
fail_runs "allocations failing at random (20% and 60%, 10 seeds)" "${specs[@]}"
case_ "malloc all, linked" "$work/calls.native" \
    FAILMALLOC=all LD_PRELOAD="$fm" "${traced[@]}" "$out/calls-linked"
ONCE=()
ANY=('^libsock: ' '^stress: ')
printf '' >"$work/empty"
# The stress test's own checks hold; its stdout differs run to run, so only
# its exit status and stderr are judged here (stdout compared with itself).
stress_case() {
    local name=$1
    shift
    local rc=0
    (timeout -k 5 120 env "$@" STRESS_ROUNDS=10 STRESS_FORKS=6 STRESS_WARMUP=1 "$out/stress" \
        >"$work/case.out" 2>"$work/case.err" </dev/null; exit $?) 2>/dev/null || rc=$?
    echo "$rc" >"$work/case.rc"
    cp "$work/case.out" "$work/stress.out"
    if check "$name" "$work/stress.out" && ! grep -q '^stress: FAIL' "$work/case.err"; then
        pass "$name"
    else
        grep '^stress: ' "$work/case.err" >>"$work/case.problems" || true
        fail "$name"
    fi
}
REPEATS_OK=1
stress_case "malloc: stress test (16 threads, forks) with 5% of libsock's allocations failing" \
    FAILMALLOC=prob:5:7 LD_PRELOAD="$fm $lib" LIBSOCK_TRACE="$work/st.trace" LIBSOCK_STATS="$work/st.stats"
REPEATS_OK=
rc=0
(timeout 60 env LD_PRELOAD="$fm" "$out/sockset_enomem" >"$work/se.out" 2>"$work/se.err"; exit $?) 2>/dev/null || rc=$?
if [ $rc = 0 ]; then
    pass "malloc: $(tail -1 "$work/se.out")"
else
    grep -v ' ok ' "$work/se.out" >"$work/case.problems" || true
    fail "malloc: sockset API under allocation failure (sockset_enomem.c), exit status $rc"
fi

echo "nodlsym: symbols missing in the next library"
nd=$out/libnodlsym.so
all_names=(socket socketpair bind listen accept accept4 connect send sendto sendmsg sendmmsg recv
    recvfrom recvmsg recvmmsg __recv_chk __recvfrom_chk setsockopt getsockopt getsockname
    getpeername shutdown close dup2 dup3 close_range _exit _Exit)
missing_line() { printf '^libsock: .*`%s`.*(no next definition|itself)' "$1"; }
for names in connect,close_range accept4,recvmmsg,__recv_chk,__recvfrom_chk,shutdown '*'; do
    ONCE=()
    if [ "$names" = '*' ]; then list=("${all_names[@]}"); else IFS=, read -ra list <<<"$names"; fi
    for n in "${list[@]}"; do ONCE+=("$(missing_line "$n")"); done
    ANY=()
    case_ "nodlsym NODLSYM=$names, preloaded: ${#list[@]} lines, glibc's results" "$work/calls.native" \
        NODLSYM="$names" LD_PRELOAD="$nd $lib" LIBSOCK_TRACE="$work/nd.trace" "$out/calls"
    case_ "nodlsym NODLSYM=$names, linked" "$work/calls.native" \
        NODLSYM="$names" LD_PRELOAD="$nd" "$out/calls-linked"
done
# On a glibc older than a call (close_range is 2.34), its absence is expected:
# the system call serves it and nothing is said; an older call still is said.
ONCE=("$(missing_line connect)")
ANY=()
case_ "nodlsym NODLSYM=connect,close_range on a glibc that says 2.31: close_range quiet, connect said" \
    "$work/calls.native" NODLSYM=connect,close_range NODLSYM_GLIBC=2.31 LD_PRELOAD="$nd $lib" "$out/calls"
case_ "nodlsym NODLSYM=connect,close_range on a glibc that says 2.31, linked" \
    "$work/calls.native" NODLSYM=connect,close_range NODLSYM_GLIBC=2.31 LD_PRELOAD="$nd" "$out/calls-linked"
ONCE=("$(missing_line send)" "$(missing_line close)" "$(missing_line accept4)")
ANY=()
case_ "nodlsym NODLSYM_SELF=send,close,accept4 (the next definition is libsock's own), preloaded" \
    "$work/calls.native" NODLSYM_SELF=send,close,accept4 LD_PRELOAD="$nd $lib" "$out/calls"
ONCE=()
for n in "${all_names[@]}"; do ONCE+=("$(missing_line "$n")"); done
ANY=()
stress_case "nodlsym: stress test (16 threads, forks, every exit) with every name missing" \
    NODLSYM='*' LD_PRELOAD="$nd $lib" LIBSOCK_TRACE="$work/st.trace" LIBSOCK_STATS="$work/st.stats" \
    LIBSOCK_NODELAY=1 CALLS_EXIT=_exit

echo "unwritable: trace and stats that cannot be written"
ANY=()
ONCE=('^libsock: cannot write the trace \(/dev/full\).*No space left on device')
case_ "trace to /dev/full" "$work/calls.native" LD_PRELOAD="$lib" LIBSOCK_TRACE=/dev/full "$out/calls"
case_ "trace to /dev/full, linked, leaving by _exit" "$work/calls.native" \
    LIBSOCK_TRACE=/dev/full CALLS_EXIT=_exit "$out/calls-linked"
ONCE=('^libsock: cannot write the stats.*No space left on device')
case_ "stats to /dev/full" "$work/calls.native" LD_PRELOAD="$lib" LIBSOCK_STATS=/dev/full "$out/calls"
ONCE=('^libsock: cannot open the trace file /nonexistent-libsock-dir/t: .*No such file')
case_ "trace to a directory that does not exist" "$work/calls.native" \
    LD_PRELOAD="$lib" LIBSOCK_TRACE=/nonexistent-libsock-dir/t "$out/calls"
mnt=$work/tiny
mkdir -p "$mnt"
if mount -t tmpfs -o size=16k tmpfs "$mnt" 2>/dev/null; then
    CALLS_REPEAT=20 "$out/calls" >"$work/calls20.native"
    ONCE=('^libsock: cannot write the trace \(.*/tiny/trace\).*No space left on device'
        '^libsock: cannot write the stats.*No space left on device')
    case_ "trace and stats on a 16 KiB tmpfs that fills up" "$work/calls20.native" \
        CALLS_REPEAT=20 LD_PRELOAD="$lib" LIBSOCK_TRACE="$mnt/trace" LIBSOCK_STATS="$mnt/stats" "$out/calls"
    lines=$(grep -c '' "$mnt/trace" || true)
    echo "    ($(stat -c %s "$mnt/trace") bytes, $lines lines of trace before the file system was full)"
    umount "$mnt"
else
    skip "tiny tmpfs: mount -t tmpfs not permitted here"
fi
mnt=

echo "regressions"
ONCE=()
ANY=()
case_ "trace-fd-taken-over: dup2/dup3 onto libsock's trace descriptor, preloaded" "$work/taken.native" \
    LD_PRELOAD="$lib" LIBSOCK_TRACE="$work/taken.trace" "$out/trace_fd_taken_over"
case_ "trace-fd-taken-over: linked" "$work/taken.native" \
    LIBSOCK_TRACE="$work/taken.trace" "$out/trace_fd_taken_over-linked"
case_ "trace-fd-taken-over: RLIMIT_NOFILE 64 (the descriptor stays low), preloaded" "$work/taken-low.native" \
    LD_PRELOAD="$lib" LIBSOCK_TRACE="$work/taken.trace" "$out/trace_fd_taken_over" low
case_ "trace-fd-taken-over: RLIMIT_NOFILE 64, linked" "$work/taken-low.native" \
    LIBSOCK_TRACE="$work/taken.trace" "$out/trace_fd_taken_over-linked" low
# trace-fd-failed-close: close(-1) & co. must not cost a descriptor, and
# every call keeps its trace line.
for how in preload linked; do
    rm -f "$work/fc.trace"
    : >"$work/case.problems"
    pre=()
    bin=$out/trace_fd_failed_close-linked
    if [ $how = preload ]; then pre=(LD_PRELOAD="$lib") bin=$out/trace_fd_failed_close; fi
    ok=1
    run_case x "$work/failed-close.native" "${pre[@]}" LIBSOCK_TRACE="$work/fc.trace" "$bin" || ok=0
    want=$(sed -n 's/^calls //p' "$work/failed-close.native")
    got=$(grep -c '' "$work/fc.trace" 2>/dev/null || true)
    if [ "$got" != "$want" ]; then
        echo "the trace has ${got:-no} lines for $want calls" >>"$work/case.problems"
        ok=0
    fi
    name="trace-fd-failed-close, $how: 600 closes/dup2s that close nothing cost no descriptor, $want lines traced"
    if [ $ok = 1 ]; then pass "$name"; else fail "$name"; fi
done
# trace-broken-pipe: stderr is a pipe whose reader is gone (SIGPIPE at its
# default action, as a program started by a shell has it).
broken_stderr() {
    "${PYTHON:-python3}" -c '
import os, signal, sys
r, w = os.pipe()
os.close(r)
os.dup2(w, 2)
os.close(w)
signal.signal(signal.SIGPIPE, signal.SIG_DFL)
os.execvp(sys.argv[1], sys.argv[1:])' "$@"
}
run_broken() {
    local name=$1
    shift
    local rc=0
    (broken_stderr env "$@" >"$work/case.out" 2>/dev/null </dev/null; exit $?) 2>/dev/null || rc=$?
    echo "$rc" >"$work/case.rc"
    : >"$work/case.err"
    if check "$name" "$work/calls.native"; then pass "$name"; else fail "$name"; fi
}
run_broken "trace-broken-pipe: LIBSOCK_TRACE=1, stderr a pipe with no reader" \
    LD_PRELOAD="$lib" LIBSOCK_TRACE=1 "$out/calls"
run_broken "trace-broken-pipe: LIBSOCK_STATS=1 at exit, stderr a pipe with no reader" \
    LD_PRELOAD="$lib" LIBSOCK_STATS=1 "$out/calls"

echo "  ($(elapsed "$t0")s)"
finish
