#!/usr/bin/env bash
# LIBSOCK_TRACE, LIBSOCK_TRACE_FORMAT and LIBSOCK_STATS on real programs, on
# loopback, each check bounded by a timeout:
#
#   calls-*      c-tests/trace/calls.c makes every traced call once (and some
#                fail); the trace must be exactly what it says it did, in
#                order, argument for argument, in text, JSON, and on stderr;
#                and strace -k must see each of its socket syscalls come
#                through libsock, one trace line each.
#   http-*       curl fetching a file from python3 -m http.server: addresses
#                (the bound port, curl's connect, accept's peer = curl's
#                getsockname) and bytes (request and response, both sides)
#                add up; text run compared with strace, JSON run parsed.
#   odd-addresses  a unix path with a newline, an abstract name with NULs, a
#                truncated getsockname: one intact line per call, no garbage.
#   daemon-fds   a program closing every descriptor above stderr: all its
#                calls traced, its output (descriptor numbers) and stderr
#                unchanged.
#   refused      curl and socat to a closed port: exit 7 / 1, trace says so.
#   socat-*      socat TCP and UDP echo servers and clients.
#   pid-files    LIBSOCK_TRACE=…%p… and a forking program: one file per pid.
#   unwritable   a trace path that cannot be opened or written: one stderr
#                line, and the program's output and status are unchanged.
#   threads      16 threads x 500 x (socketpair, send, recv, close, close)
#                while the main thread forks: every line, none interleaved.
#   python-procs Python subprocess + multiprocessing (fork, spawn), one file.
#   shell-chain  sh -c chains of forking programs: every process traced.
#   errno        c-tests/trace/errno.c: output identical with and without
#                tracing/stats; the trace shows the results it saw.
#   stats-*      LIBSOCK_STATS at exit, at os._exit, to a file, threaded:
#                counts and bytes are what the program did and the trace says.
#
# What "every call" means (see calls-strace and http-text): strace -ff -k
# shows each socket syscall with its stack. One whose caller is a libsock
# export must have its trace line (same call, fd, result, errno, address,
# size; in order per thread). The others are not interposed, by design:
# the dynamic loader's closes, and libc calling its own internal entry
# points (getpwuid -> nscd's socket/connect, fclose/opendir -> close), which
# do not go through the PLT. A socket syscall called from anywhere else (the
# program, another library) fails the check.
#
#   c-tests/trace/run.sh           (from the repository root, after `make`)
#
# Environment: LIBDIR (default target/release), PYTHON (default python3),
# CC (default cc), TRACE_BUILD (default target/trace-tests); TRACE_ONLY="name
# ..." runs only those checks, TRACE_XTRACE=1 shows their commands (set -x).
# The last line reads `trace: N passed, M failed`; the exit status is 0 only
# if nothing failed.
set -euo pipefail
. "$(dirname "$0")/../../tests/lib/harness.sh"
harness trace

PYTHON=${PYTHON:-python3}
CC=${CC:-cc}
BUILD=${TRACE_BUILD:-target/trace-tests}
SRC=c-tests/trace
T=30 # seconds any one program may run

find_libsock
LIB=$lib
need "$CC" curl socat strace timeout nm realpath
strace -f -qq -k -e trace=none -o /dev/null true 2>/dev/null ||
    die "this strace cannot print stacks (-k)"
# The interpreter itself, not a wrapper script (pyenv's shim is a bash script
# whose own processes would crowd the traces).
PY=$("$PYTHON" -c 'import sys; print(sys.executable)') || die "no $PYTHON"

# No configuration may leak in from the caller.
no_config

build_dir BUILD "$BUILD"
BUILD=$(realpath "$BUILD")
CHECK="$PY $(realpath "$SRC/tracecheck.py")"
scratch WORK trace

# check NAME FUNCTION: runs FUNCTION in a subshell with errexit; its output
# is shown indented, and all of it if it failed.
check() {
    local name=$1 fn=$2 log="$WORK/$1.log" rc start
    if [ -n "${TRACE_ONLY:-}" ] && [ "$name" != build ] && [[ " $TRACE_ONLY " != *" $name "* ]]; then
        return 0
    fi
    start=$(date +%s.%N)
    set +e
    (set -e; [ -z "${TRACE_XTRACE:-}" ] || set -x; "$fn") >"$log" 2>&1
    rc=$?
    set -e
    local secs
    secs=$(awk -v a="$start" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }')
    if [ "$rc" = 0 ]; then
        ok "$name (${secs}s)"
        sed -n 's/^tracecheck: /        /p; s/^note: /        /p' "$log"
    else
        bad "$name (exit $rc, ${secs}s)" "$(tail -n 60 "$log")"
    fi
}

# preload VAR=VALUE... -- COMMAND...: COMMAND under libsock with the variables.
preload() {
    local vars=()
    while [ "$1" != -- ]; do vars+=("$1"); shift; done
    shift
    env "${vars[@]}" LD_PRELOAD="$LIB" timeout "$T" "$@"
}

# straced PREFIX VAR=VALUE... -- COMMAND...: COMMAND under libsock and under
# strace -ff -k (strace itself not preloaded); output files PREFIX.<tid>.
straced() {
    local prefix=$1 vars=()
    shift
    while [ "$1" != -- ]; do vars+=("$1"); shift; done
    shift
    env "${vars[@]}" timeout "$T" strace -ff -qq -k -o "$prefix" \
        -e trace=%network,close,dup2,dup3,close_range -E LD_PRELOAD="$LIB" "$@"
}

# --- build ---------------------------------------------------------------------
build() {
    local cflags=(-O2 -Wall -Wextra -Werror -D_GNU_SOURCE)
    "$CC" "${cflags[@]}" -D_FORTIFY_SOURCE=2 -o "$BUILD/calls" "$SRC/calls.c"
    "$CC" "${cflags[@]}" -pthread -o "$BUILD/stress" "$SRC/stress.c"
    "$CC" "${cflags[@]}" -o "$BUILD/forker" "$SRC/forker.c"
    "$CC" "${cflags[@]}" -o "$BUILD/errno" "$SRC/errno.c"
    "$CC" "${cflags[@]}" -o "$BUILD/oddaddr" "$SRC/oddaddr.c"
    "$CC" "${cflags[@]}" -o "$BUILD/daemon" "$SRC/daemon.c"
    # calls.c's fortified recv and recvfrom must reach libsock as the _chk variants
    nm -u "$BUILD/calls" | grep -q ' __recv_chk' && nm -u "$BUILD/calls" | grep -q ' __recvfrom_chk'
}
check build build
[ "$failed" = 0 ] || finish

# --- calls.c: every call, exactly -----------------------------------------------
calls_run() { # FORMAT: trace to a file, compare with what calls.c did
    local d="$WORK/calls-$1"
    mkdir -p "$d"
    preload LIBSOCK_TRACE="$d/trace" LIBSOCK_TRACE_FORMAT="$1" -- "$BUILD/calls" "$d" >"$d/expected"
    $CHECK expect "$1" "$d/expected" "$d/trace"
}
calls_text() { calls_run text; }
calls_json() { calls_run json; }
calls_stderr() { # LIBSOCK_TRACE=1: the same lines, on stderr
    local d="$WORK/calls-stderr"
    mkdir -p "$d"
    preload LIBSOCK_TRACE=1 -- "$BUILD/calls" "$d" >"$d/expected" 2>"$d/stderr"
    $CHECK expect text "$d/expected" "$d/stderr"
    preload LIBSOCK_TRACE=stderr LIBSOCK_TRACE_FORMAT=json -- "$BUILD/calls" "$d" \
        >"$d/expected" 2>"$d/stderr"
    $CHECK expect json "$d/expected" "$d/stderr"
}
calls_strace() { # strace's view of the same run: one trace line per syscall, nothing else
    local d="$WORK/calls-strace"
    mkdir -p "$d"
    straced "$d/st" LIBSOCK_TRACE="$d/trace" -- "$BUILD/calls" "$d" >"$d/expected"
    $CHECK strace text "$d/trace" "$d/st" "$LIB" strict
    $CHECK expect text "$d/expected" "$d/trace"
}
check calls-text calls_text
check calls-json calls_json
check calls-stderr calls_stderr
check calls-strace calls_strace

odd_addresses() { # one intact line per call whatever the address holds
    local d="$WORK/odd" fmt n
    mkdir -p "$d"
    for fmt in text json; do
        rm -f "$d/trace"
        n=$(preload LIBSOCK_TRACE="$d/trace" LIBSOCK_TRACE_FORMAT=$fmt -- "$BUILD/oddaddr" "$d")
        $CHECK oddaddr $fmt "$d/trace" "$n" "$d/odd"$'\n'"name.sock"
    done
}
check odd-addresses odd_addresses

daemon_fds() { # a program that closes the descriptors it did not open
    local d="$WORK/daemon"
    mkdir -p "$d"
    timeout "$T" "$BUILD/daemon" >"$d/native"
    preload LIBSOCK_TRACE="$d/trace" -- "$BUILD/daemon" >"$d/out" 2>"$d/err"
    local bad=0
    if ! diff "$d/native" "$d/out"; then
        echo "the output differs with LIBSOCK_TRACE=FILE (< native, > traced): libsock's own"
        echo "descriptor for the trace file takes a number the program would have had"
        bad=1
    fi
    if [ -s "$d/err" ]; then
        echo "stderr is not empty:"
        cat "$d/err"
        bad=1
    fi
    if [ "$(wc -l <"$d/trace")" != 10 ]; then
        echo "10 calls made, $(wc -l <"$d/trace") traced:"
        cat "$d/trace"
        bad=1
    fi
    return "$bad"
}
check daemon-fds daemon_fds

# --- curl <- python3 -m http.server ---------------------------------------------
# http_run FORMAT STRACE(0|1)
http_run() {
    local fmt=$1 use_strace=$2 d="$WORK/http-$1"
    mkdir -p "$d/www"
    head -c 1500000 /dev/urandom >"$d/www/blob.bin"
    local vars=(LIBSOCK_TRACE="$d/server.trace" LIBSOCK_TRACE_FORMAT="$fmt")
    if [ "$use_strace" = 1 ]; then
        (cd "$d/www" && exec env "${vars[@]}" timeout "$T" strace -ff -qq -k -o "$d/st-server" \
            -e trace=%network,close,dup2,dup3,close_range -E LD_PRELOAD="$LIB" \
            "$PY" -u -m http.server --bind 127.0.0.1 0 >"$d/server.out" 2>"$d/server.err") &
    else
        (cd "$d/www" && exec env "${vars[@]}" LD_PRELOAD="$LIB" timeout "$T" \
            "$PY" -u -m http.server --bind 127.0.0.1 0 >"$d/server.out" 2>"$d/server.err") &
    fi
    local bg=$!
    background "$bg"
    wait_for "$d/server.out" 'port [0-9]+'
    local port
    port=$(sed -n 's/.* port \([0-9]*\).*/\1/p;T;q' "$d/server.out")
    local curl=(curl -sS --fail -o "$d/got.bin" -w '%{size_download} %{size_header} %{size_request}\n'
        "http://127.0.0.1:$port/blob.bin")
    if [ "$use_strace" = 1 ]; then
        straced "$d/st-curl" LIBSOCK_TRACE="$d/curl.trace" LIBSOCK_TRACE_FORMAT="$fmt" -- \
            "${curl[@]}" >"$d/curl.sizes"
    else
        preload LIBSOCK_TRACE="$d/curl.trace" LIBSOCK_TRACE_FORMAT="$fmt" -- \
            "${curl[@]}" >"$d/curl.sizes"
    fi
    cmp "$d/www/blob.bin" "$d/got.bin"
    # Stop the server the way a user does (^C): it closes its socket and exits.
    # ($bg is timeout; under it strace, under that the server)
    local server
    server=$(pgrep -P "$bg" | head -1)
    [ "$use_strace" = 0 ] || server=$(pgrep -P "$server" | head -1)
    kill -INT "$server"
    wait "$bg" || true
    read -r down head req <"$d/curl.sizes"
    [ "$down" = 1500000 ]
    $CHECK http "$fmt" "$d/server.trace" "$d/curl.trace" "$port" "$down" "$head" "$req"
    if [ "$use_strace" = 1 ]; then
        $CHECK strace "$fmt" "$d/curl.trace" "$d/st-curl" "$LIB"
        $CHECK strace "$fmt" "$d/server.trace" "$d/st-server" "$LIB"
    fi
}
http_text() { http_run text 1; }
http_json() { http_run json 0; }
check http-text-strace http_text
check http-json http_json

refused() {
    local d="$WORK/refused" port rc
    mkdir -p "$d"
    port=$(free_port) # nothing listens on it
    rc=0
    preload LIBSOCK_TRACE="$d/curl.trace" -- curl -sS "http://127.0.0.1:$port/" 2>"$d/curl.err" || rc=$?
    [ "$rc" = 7 ] || { echo "curl exited $rc, not 7"; return 1; }
    $CHECK refused text "$d/curl.trace" "$port" curl
    rc=0
    preload LIBSOCK_TRACE="$d/socat.trace" LIBSOCK_TRACE_FORMAT=json -- \
        socat -T1 - "TCP:127.0.0.1:$port" </dev/null 2>"$d/socat.err" || rc=$?
    [ "$rc" = 1 ] || { echo "socat exited $rc, not 1"; return 1; }
    $CHECK refused json "$d/socat.trace" "$port" socat
}
check refused refused

# --- socat ------------------------------------------------------------------------
socat_tcp() { # TCP echo through cat; both sides under strace
    local d="$WORK/socat-tcp"
    mkdir -p "$d"
    head -c 200000 /dev/urandom >"$d/data"
    env LIBSOCK_TRACE="$d/server.trace" timeout "$T" strace -ff -qq -k -o "$d/st-server" \
        -e trace=%network,close,dup2,dup3,close_range -E LD_PRELOAD="$LIB" \
        socat -T5 TCP-LISTEN:0,bind=127.0.0.1,reuseaddr EXEC:cat 2>"$d/server.err" &
    background $!
    local bg=$!
    wait_for "$d/server.trace" 'getsockname\(.*addr=127\.0\.0\.1:[0-9]+'
    local port
    port=$(sed -n 's/.*getsockname(.*addr=127\.0\.0\.1:\([0-9]*\).*/\1/p;T;q' "$d/server.trace")
    straced "$d/st-client" LIBSOCK_TRACE="$d/client.trace" -- \
        socat -t2 - "TCP:127.0.0.1:$port" <"$d/data" >"$d/echoed"
    wait "$bg" || true
    cmp "$d/data" "$d/echoed"
    $CHECK socat-tcp text "$d/server.trace" "$d/client.trace"
    $CHECK strace text "$d/client.trace" "$d/st-client" "$LIB"
    $CHECK strace text "$d/server.trace" "$d/st-server" "$LIB"
}
socat_udp() { # one datagram echoed through cat; JSON
    local d="$WORK/socat-udp" port
    mkdir -p "$d"
    head -c 1200 /dev/urandom >"$d/data"
    port=$(free_port udp)
    preload LIBSOCK_TRACE="$d/server.trace" LIBSOCK_TRACE_FORMAT=json -- \
        socat -T2 "UDP-RECVFROM:$port,bind=127.0.0.1" EXEC:cat 2>"$d/server.err" &
    background $!
    local bg=$!
    wait_for "$d/server.trace" "\"call\":\"bind\".*127\\.0\\.0\\.1:$port"
    preload LIBSOCK_TRACE="$d/client.trace" LIBSOCK_TRACE_FORMAT=json -- \
        socat -T1 - "UDP:127.0.0.1:$port" <"$d/data" >"$d/echoed"
    wait "$bg" || true
    cmp "$d/data" "$d/echoed"
    $CHECK socat-udp json "$d/server.trace" "$d/client.trace" "$port" 1200
}
check socat-tcp-strace socat_tcp
check socat-udp socat_udp

# --- processes and files ------------------------------------------------------
pid_files() {
    local d="$WORK/pid-files"
    mkdir -p "$d"
    preload LIBSOCK_TRACE="$d/trace.%p.txt" -- "$BUILD/forker" 4 pids >"$d/out"
    mapfile -t pids < <(sed -n 's/.*pid \([0-9]*\)$/\1/p' "$d/out")
    [ "${#pids[@]}" = 5 ]
    $CHECK pidfiles "$d/trace.%p.txt" "${pids[@]}"
    $CHECK forker text <(cat "$d"/trace.*.txt) "$d/out"
}
check pid-files pid_files

unwritable() {
    local d="$WORK/unwritable" path rc
    mkdir -p "$d"
    timeout "$T" "$BUILD/forker" 3 >"$d/native.out"
    for path in /proc/nonexistent/x /proc/nonexistent/x.%p /dev/full "$d"; do
        rc=0
        preload LIBSOCK_TRACE="$path" -- "$BUILD/forker" 3 >"$d/out" 2>"$d/err" || rc=$?
        [ "$rc" = 0 ] || { echo "$path: exit $rc"; cat "$d/err"; return 1; }
        cmp "$d/native.out" "$d/out" || { echo "$path: the output changed"; return 1; }
        if [ "$(wc -l <"$d/err")" != 1 ] || ! grep -q "^libsock: .*${path%%%p}" "$d/err"; then
            echo "$path: stderr should be one line naming the path:"
            cat "$d/err"
            return 1
        fi
        echo "note: LIBSOCK_TRACE=$path: $(cat "$d/err")"
    done
}
check unwritable unwritable

threads() {
    local d="$WORK/threads"
    mkdir -p "$d"
    preload LIBSOCK_TRACE="$d/trace" -- "$BUILD/stress" 16 500 20 >"$d/out"
    [ "$(grep -c '^child ' "$d/out")" = 20 ]
    $CHECK stress "$d/trace" 16 500
    # the forked children: 3 lines each, their own pid
    local p
    for p in $(sed -n 's/^child //p' "$d/out"); do
        [ "$(grep -c "^\[$p\] " "$d/trace")" = 3 ] || { echo "child $p: lines missing"; return 1; }
    done
    # JSON, every line through json.loads, the exact count
    preload LIBSOCK_TRACE="$d/trace.json" LIBSOCK_TRACE_FORMAT=json -- "$BUILD/stress" 16 200 >/dev/null
    [ "$($CHECK lines json "$d/trace.json" | sed -n 's/^tracecheck: \([0-9]*\) .*/\1/p')" = 16000 ]
    echo "note: JSON: 16000 lines from 16 threads, each parsed"
}
check threads threads

python_procs() {
    local d="$WORK/python-procs"
    mkdir -p "$d"
    preload LIBSOCK_TRACE="$d/trace" LIBSOCK_TRACE_FORMAT=json -- \
        "$PY" "$(realpath "$SRC/procs.py")" >"$d/out" 2>"$d/err"
    local bad=0
    $CHECK procs json "$d/trace" "$d/out" || bad=1
    if [ -s "$d/err" ]; then
        echo "stderr is not empty:"
        cat "$d/err"
        bad=1
    fi
    return "$bad"
}
check python-procs python_procs

shell_chain() {
    local d="$WORK/shell-chain" f="$BUILD/forker"
    mkdir -p "$d"
    preload LIBSOCK_TRACE="$d/trace" -- \
        sh -c "$f 2 pids; $f 1 pids | cat; sh -c '$f 1 pids && $f 2 pids' | cat; exec $f 1 pids" \
        >"$d/out"
    $CHECK forker text "$d/trace" "$d/out"
}
check shell-chain shell_chain

# --- errno ----------------------------------------------------------------------
errno_kept() {
    local d="$WORK/errno"
    mkdir -p "$d"
    timeout "$T" "$BUILD/errno" >"$d/native"
    preload -- "$BUILD/errno" >"$d/preload"
    preload LIBSOCK_TRACE="$d/trace" -- "$BUILD/errno" >"$d/traced"
    preload LIBSOCK_TRACE=1 LIBSOCK_TRACE_FORMAT=json -- "$BUILD/errno" >"$d/traced-json" 2>"$d/trace.json"
    preload LIBSOCK_STATS="$d/stats" LIBSOCK_TRACE="$d/trace2" -- "$BUILD/errno" >"$d/stats-out"
    local run
    for run in preload traced traced-json stats-out; do
        diff "$d/native" "$d/$run" || { echo "errno.c's output differs under $run"; return 1; }
    done
    $CHECK errno text "$d/native" "$d/trace"
    $CHECK errno json "$d/native" "$d/trace.json"
    local pid
    pid=$(sed -n 's/^\[\([0-9]*\)\].*/\1/p;T;q' "$d/trace2")
    $CHECK stats "$d/stats" "$d/trace2" "$pid" socket=4/2 bind=4/3 recv=3/2/1/0 send=2/1/0/1 close=6/2
    echo "note: $(grep -c ' -1 ' "$d/native") failing calls; output identical natively, preloaded, traced (text file, JSON on stderr) and with stats"
}
check errno errno_kept

# --- stats ----------------------------------------------------------------------
# stats_py MODE OUT: stats.py with stats (OUT: 1 or a file) and a trace
stats_py() {
    local mode=$1 out=$2 d="$WORK/stats-$1-$(basename "$2")"
    mkdir -p "$d"
    local dest=$out
    [ "$out" = 1 ] || dest="$d/stats"
    preload LIBSOCK_STATS="$dest" LIBSOCK_TRACE="$d/trace" -- \
        "$PY" "$(realpath "$SRC/stats.py")" "$mode" >"$d/out" 2>"$d/err"
    [ "$out" = 1 ] && dest="$d/err"
    local pid
    pid=$(cat "$d/out")
    $CHECK stats "$dest" "$d/trace" "$pid" \
        socketpair=1/0 send=3/0/0/300 'recv=*/0/300/0' bind=1/0 connect=1/1
}
stats_exit() { stats_py exit 1; }
stats__exit() { stats_py _exit 1; }
stats_file() { stats_py _exit file; }
stats_threads() { # counters under 16 threads, and forked children's own tables
    local d="$WORK/stats-threads"
    mkdir -p "$d"
    preload LIBSOCK_STATS="$d/stats" LIBSOCK_TRACE="$d/trace" -- "$BUILD/stress" 16 500 5 >"$d/out"
    local pid
    pid=$(sed -n 's/^\[\([0-9]*\)\/.*/\1/p;T;q' "$d/trace")
    $CHECK stats "$d/stats" "$d/trace" "$pid" \
        socketpair=8000/0 send=8000/0/0/512000 recv=8000/0/512000/0 close=16000/0
    for pid in $(sed -n 's/^child //p' "$d/out"); do
        $CHECK stats "$d/stats" "$d/trace" "$pid" socketpair=1/0 close=2/0
    done
}
check stats-exit stats_exit
check stats-_exit stats__exit
check stats-file stats_file
check stats-threads stats_threads

finish
