#!/usr/bin/env bash
# Stress: c-tests/stress/stress.c — 16 threads doing whole TCP, unix and
# UDP socket lifecycles at once while the main thread forks children that
# make socket calls and leave by exit, _exit or _Exit — run
#   native      glibc alone (the program itself is right);
#   preload     LD_PRELOAD=libsock.so, text trace to one file shared by every
#               process, stats to a file, and socket policy (NODELAY,
#               REUSEADDR, KEEPALIVE=30, TOS=low-delay, which the program
#               reads back on every TCP socket);
#   preload-json  the same with a JSON trace and stats, one file per process (%p);
#   linked      cc ... -lsock, text trace, stats, policy.
# Each run must end with status 0: no byte lost or altered, no descriptor
# leaked (counted in /proc/self/fd before and after, in the parent and in
# every child), no deadlock (the program's own watchdog, and timeout here).
# Then check_trace.py holds every trace line to its format (whole lines, no
# interleaving) and each process's lines and stats to the calls and bytes the
# program counted.
# Regression test "trace-open-race" (trace_open_race.c): 32 threads make
# their first traced call at once; the trace file must be open once.
#
# Run from the repository root after `make`. Environment: LIBDIR, CC, PYTHON;
# STRESS_THREADS, STRESS_ROUNDS, STRESS_FORKS, STRESS_BYTES (see stress.c).
# Last line: "stress: N passed, M failed".
set -euo pipefail
. "$(dirname "$0")/../../tests/lib/harness.sh"
harness stress
find_libsock
cc=${CC:-cc}
py=${PYTHON:-python3}
out=target/c-tests/stress
build_dir out "$out"
scratch work stress
no_config

cflags=(-O2 -g -Wall -Wextra -Werror -pthread)
"$cc" "${cflags[@]}" c-tests/stress/stress.c -o "$out/stress"
"$cc" "${cflags[@]}" c-tests/stress/stress.c -L"$libdir" -lsock -Wl,-rpath,"$libdir" -o "$out/stress-linked"
"$cc" "${cflags[@]}" c-tests/stress/trace_open_race.c -o "$out/trace_open_race"

policy=(LIBSOCK_NODELAY=1 LIBSOCK_REUSEADDR=1 LIBSOCK_KEEPALIVE=30 LIBSOCK_TOS=low-delay)
t0=$(date +%s.%N)

# pass NAME DETAIL; fail WHAT [FILE...]: a verdict, with the files' first lines.
pass() { ok "$1: $2"; }
fail() {
    bad "$1"
    shift
    [ $# -eq 0 ] || sed 's/^/    /' "$@" | head -40
}

# stress_run NAME FORMAT TRACE STATS BINARY [ENV...]: one run and its checks.
stress_run() {
    local name=$1 fmt=$2 trace=$3 stats=$4 bin=$5
    shift 5
    local log=$out/$name
    rm -f "$work"/trace* "$work"/stats*
    local rc=0
    # timeout outside env: only the program runs with the LD_PRELOAD given.
    (timeout -k 5 300 env "$@" "$bin" >"$log.out" 2>"$log.err"; exit $?) 2>/dev/null || rc=$?
    if [ "$rc" -ne 0 ]; then
        fail "$name: exit status $rc$([ "$rc" = 124 ] && echo ' (watchdog: deadlock?)')" "$log.err" "$log.out"
        return
    fi
    if [ -s "$log.err" ]; then
        fail "$name: unexpected stderr" "$log.err"
        return
    fi
    if [ -n "$trace" ]; then
        if ! "$py" c-tests/stress/check_trace.py "$log.out" "$trace" "$stats" "$fmt" >"$log.check" 2>&1; then
            fail "$name: trace/stats do not match the program" "$log.check"
            return
        fi
        pass "$name" "$(tail -1 "$log.out" | sed 's/^stress: //'); $(tail -1 "$log.check")"
    else
        pass "$name" "$(tail -1 "$log.out" | sed 's/^stress: //')"
    fi
}

stress_run native text "" "" "$out/stress"
stress_run preload text "$work/trace.log" "$work/stats.log" "$out/stress" \
    LD_PRELOAD="$lib" LIBSOCK_TRACE="$work/trace.log" LIBSOCK_STATS="$work/stats.log" "${policy[@]}"
stress_run preload-json json "$work/trace.*.json" "$work/stats.*" "$out/stress" \
    LD_PRELOAD="$lib" LIBSOCK_TRACE="$work/trace.%p.json" LIBSOCK_TRACE_FORMAT=json \
    LIBSOCK_STATS="$work/stats.%p" "${policy[@]}"
stress_run linked text "$work/trace.log" "$work/stats.log" "$out/stress-linked" \
    LIBSOCK_TRACE="$work/trace.log" LIBSOCK_STATS="$work/stats.log" "${policy[@]}"

# trace-open-race: a race shows up in about half the runs; 20 runs.
races=0
for i in $(seq 20); do
    rm -f "$work/race.log"
    if ! timeout 30 env LD_PRELOAD="$lib" LIBSOCK_TRACE="$work/race.log" \
        "$out/trace_open_race" "$work/race.log" 32 >"$out/trace-open-race.out" 2>&1; then
        races=$((races + 1))
        cp "$out/trace-open-race.out" "$out/trace-open-race.failed"
    fi
done
if [ "$races" -eq 0 ]; then
    pass trace-open-race "20 runs of 32 threads' first traced call at once: the trace file opened once"
else
    fail "trace-open-race: $races of 20 runs left the trace file open more than once" "$out/trace-open-race.failed"
fi

echo "  ($(elapsed "$t0")s)"
finish
