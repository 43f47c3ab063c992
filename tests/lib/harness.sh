# What every shell test driver shares (bash; source it, do not run it):
#
#     . "$(dirname "$0")/../lib/harness.sh"    # the path from the driver
#     harness NAME                              # first: counters, cleanup, cd
#
# Reporting (counted; the closing line is the driver's verdict):
#     ok MSG              "ok   MSG"; one check passed
#     bad MSG [TEXT...]   "FAIL MSG", then each TEXT's lines indented; one
#                         check failed
#     skip MSG            "SKIP MSG"; a check that cannot run here (counted
#                         apart: not a pass, not a failure)
#     excerpt N FILE...   the first N lines of each FILE, indented (for bad)
#     die MSG             the driver cannot run at all: MSG on stderr, the
#                         closing line with this counted as a failure, exit 2
#     finish              the closing line, "NAME: N passed, M failed" (and
#                         ", K skipped" when K > 0); exit 0 only if M is 0
# Cleanup, run once at exit however the driver ends (last registered first):
#     on_exit CMD         run CMD (a string, eval'd)
#     background PID      kill PID (a server, a strace) and wait for it
#     scratch VAR NAME    VAR := a new directory $TMPDIR/libsock-NAME.XXXXXX,
#                         removed at exit
#     build_dir VAR DIR   DIR (build outputs, kept) made if missing; VAR := its
#                         absolute path
# Environment and tools:
#     no_config [VAR...]  unset every LIBSOCK_* variable, LD_PRELOAD and VARs:
#                         nothing leaks in from the caller
#     find_libsock        libdir := $LIBDIR (default target/release) made
#                         absolute, lib := $libdir/libsock.so; die if missing
#     need TOOL...        die unless each TOOL is on PATH
#     project_version     the version in Cargo.toml
#     free_port [udp]     a loopback port nothing is bound to right now
#     wait_for FILE RE [SECONDS]
#                         until FILE has a line matching the extended regex
#                         RE (default 10 s); else say so, show FILE, return 1
#     elapsed T0          seconds since T0 (from `date +%s.%N`), "%.1f"
#     machine [EXTRA]     the line a benchmark prints about where it ran:
#                         "machine: nproc N, kernel K, CPU, load average L[, EXTRA]"
#     only_std_fds        close every descriptor above 2 in this (sub)shell,
#                         so a program starts with 0, 1 and 2 only
# `harness` changes to the repository root: paths in drivers (and a relative
# LIBDIR) are relative to it, wherever the driver was started from.

HARNESS_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)

harness() {
    HARNESS_NAME=$1
    passed=0
    failed=0
    skipped=0
    HARNESS_CLEANUP=()
    HARNESS_PIDS=()
    trap _harness_exit EXIT
    cd "$HARNESS_ROOT"
}

ok() {
    passed=$((passed + 1))
    echo "ok   $*"
}

bad() {
    failed=$((failed + 1))
    echo "FAIL $1"
    shift
    [ $# -eq 0 ] || printf '%s\n' "$@" | sed 's/^/    /'
}

skip() {
    skipped=$((skipped + 1))
    echo "SKIP $*"
}

excerpt() {
    local n=$1 f
    shift
    for f in "$@"; do
        [ -f "$f" ] && sed 's/^/    /' "$f" | head -n "$n"
    done
    return 0
}

die() {
    echo "$HARNESS_NAME: $*" >&2
    failed=$((failed + 1))
    _harness_closing_line
    exit 2
}

finish() {
    _harness_closing_line
    [ "$failed" -eq 0 ] && exit 0
    exit 1
}

_harness_closing_line() {
    local skips=
    [ "$skipped" -eq 0 ] || skips=", $skipped skipped"
    echo "$HARNESS_NAME: $passed passed, $failed failed$skips"
}

on_exit() {
    HARNESS_CLEANUP+=("$1")
}

background() {
    HARNESS_PIDS+=("$1")
}

scratch() {
    local dir
    dir=$(mktemp -d "${TMPDIR:-/tmp}/libsock-$2.XXXXXX")
    on_exit "rm -rf '$dir'"
    printf -v "$1" '%s' "$dir"
}

build_dir() {
    mkdir -p "$2"
    printf -v "$1" '%s' "$(cd "$2" && pwd)"
}

_harness_exit() {
    local status=$? i p
    for p in "${HARNESS_PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
    for p in "${HARNESS_PIDS[@]}"; do wait "$p" 2>/dev/null || true; done
    for ((i = ${#HARNESS_CLEANUP[@]} - 1; i >= 0; i--)); do
        eval "${HARNESS_CLEANUP[$i]}" || true
    done
    exit "$status"
}

no_config() {
    local var
    while IFS= read -r var; do unset "$var"; done < <(compgen -e | grep '^LIBSOCK_' || true)
    unset LD_PRELOAD "$@"
}

find_libsock() {
    local dir=${LIBDIR:-target/release}
    [ -f "$dir/libsock.so" ] || die "$dir/libsock.so not found (run make first)"
    libdir=$(cd "$dir" && pwd)
    lib=$libdir/libsock.so
}

need() {
    local tool
    for tool in "$@"; do
        command -v "$tool" >/dev/null || die "$tool is needed and not found"
    done
}

project_version() {
    sed -n 's/^version = "\(.*\)"/\1/p' "$HARNESS_ROOT/Cargo.toml" | head -1
}

free_port() {
    local type=SOCK_STREAM
    [ "${1:-}" != udp ] || type=SOCK_DGRAM
    "${PYTHON:-python3}" -c "import socket; s = socket.socket(type=socket.$type); s.bind(('127.0.0.1', 0)); print(s.getsockname()[1])"
}

wait_for() {
    local file=$1 re=$2 tries=$((${3:-10} * 20))
    while [ "$tries" -gt 0 ]; do
        grep -qE -- "$re" "$file" 2>/dev/null && return 0
        sleep 0.05
        tries=$((tries - 1))
    done
    echo "no '$re' in $file:"
    cat "$file" 2>/dev/null || true
    return 1
}

machine() {
    local cpu
    cpu=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1)
    echo "machine: nproc $(nproc), kernel $(uname -r), ${cpu:-unknown CPU}, load average $(cut -d' ' -f1-3 /proc/loadavg)${1:+, $1}"
}

elapsed() {
    awk -v a="$1" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }'
}

only_std_fds() {
    local f n
    for f in /proc/$BASHPID/fd/*; do
        n=${f##*/}
        if [ "$n" -gt 2 ] 2>/dev/null; then eval "exec $n>&-"; fi
    done
}
