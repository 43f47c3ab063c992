#!/usr/bin/env bash
# Exit: however a process ends, its LIBSOCK_STATS table is written once and
# whole, and no exit waits on it longer than the stated limit (issue 9).
#   race-*     exit_race.c pair|many|last|exits, EXIT_RUNS times each, preloaded
#              and linked, stats to a file per run: every file must hold
#              exactly one table, with its socketpair/send/recv rows and the
#              total line (threads racing through exit, _exit and _Exit,
#              and two threads in exit at once).
#   stuck-*    stuck_stats.c: stderr is a full pipe nobody reads and stats go
#              to stderr (preloaded, linked), or the stats file is a FIFO
#              nobody opens: the exit must come with the program's own
#              status within the limit (2 s) plus slack, never hang.
# Run from the repository root after `make`. Environment: LIBDIR, CC,
# EXIT_RUNS (default 200). Last line: "exit: N passed, M failed".
set -euo pipefail
. "$(dirname "$0")/../../tests/lib/harness.sh"
harness exit
no_config
find_libsock
need timeout awk mkfifo
cc=${CC:-cc}
runs=${EXIT_RUNS:-200}
out=target/c-tests/exit
build_dir out "$out"
scratch work exit

cflags=(-O2 -g -Wall -Wextra -Werror -pthread)
for prog in exit_race stuck_stats; do
    "$cc" "${cflags[@]}" "c-tests/exit/$prog.c" -o "$out/$prog"
    "$cc" "${cflags[@]}" "c-tests/exit/$prog.c" -L"$libdir" -lsock -Wl,-rpath,"$libdir" -o "$out/$prog-linked"
done

# whole_table FILE: one table, with the rows every thread's calls make.
whole_table() {
    [ "$(grep -c "^libsock stats for pid " "$1" 2>/dev/null)" = 1 ] &&
        grep -q '^  socketpair ' "$1" && grep -q '^  send ' "$1" &&
        grep -q '^  recv ' "$1" && grep -q '^  total ' "$1" &&
        [ "$(tail -n 1 "$1" | awk '{ print $1 }')" = total ]
}

# race NAME MODE BINARY [ENV...]: EXIT_RUNS runs, every table whole.
race() {
    local name=$1 mode=$2 bin=$3
    shift 3
    local lost=0 status=0 i
    rm -rf "$work/$name"
    mkdir -p "$work/$name"
    for ((i = 0; i < runs; i++)); do
        env "$@" LIBSOCK_STATS="$work/$name/s.$i" timeout 20 "$bin" "$mode" || status=$?
        [ "$status" = 0 ] || break
        whole_table "$work/$name/s.$i" || lost=$((lost + 1))
    done
    if [ "$status" != 0 ]; then
        bad "$name: run $i exited with status $status"
    elif [ "$lost" != 0 ]; then
        bad "$name: $lost of $runs runs left no whole stats table"
    else
        ok "$name: $runs runs, every stats table whole"
    fi
}

for mode in pair many last exits; do
    race "race-$mode-preload" "$mode" "$out/exit_race" LD_PRELOAD="$lib"
    race "race-$mode-linked" "$mode" "$out/exit_race-linked"
done

# stuck NAME BINARY ARG ENV...: stuck_stats, whose stderr is a FIFO this
# shell holds open at both ends and never reads (with ARG "fill" the program
# fills it); the exit must come with status 7, within the limit and slack.
limit=2
slack=6
mkfifo "$work/stderr" "$work/stats-fifo"
stuck() {
    local name=$1 bin=$2 arg=$3 status=0 t0 t1 secs
    shift 3
    # A FIFO's contents go when its last end closes: each run starts empty.
    [ -p "$work/stderr" ] && exec 3<>"$work/stderr"
    t0=$(date +%s%N)
    env "$@" timeout 30 "$bin" "$arg" 2>"$work/stderr" || status=$?
    t1=$(date +%s%N)
    [ -p "$work/stderr" ] && exec 3<&-
    secs=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f", (b - a) / 1e9 }')
    if [ "$status" != 7 ]; then
        bad "$name: status $status, expected 7 (124: it hung until the timeout)"
    elif awk -v s="$secs" -v m=$((limit + slack)) 'BEGIN { exit !(s > m) }'; then
        bad "$name: the exit took ${secs}s, beyond the ${limit}s limit and ${slack}s of slack"
    else
        ok "$name: the exit went on after ${secs}s (limit ${limit}s)"
    fi
}
stuck stuck-stderr-preload "$out/stuck_stats" fill LD_PRELOAD="$lib" LIBSOCK_STATS=1
stuck stuck-stderr-linked "$out/stuck_stats-linked" fill LIBSOCK_STATS=1
# The stats FIFO has no reader; stderr is an ordinary file, and must say so.
rm -f "$work/stderr"
stuck stuck-fifo-preload "$out/stuck_stats" - LD_PRELOAD="$lib" LIBSOCK_STATS="$work/stats-fifo"
if grep -q "^libsock: cannot write the stats to $work/stats-fifo: " "$work/stderr"; then
    ok "stuck-fifo-message: $(head -n 1 "$work/stderr")"
else
    bad "stuck-fifo-message: no 'cannot write the stats' line on stderr" "$(head -c 300 "$work/stderr")"
fi

finish
