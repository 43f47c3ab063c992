#!/usr/bin/env bash
# make bench, the Python table: libsock.select against the standard
# library's waits, in the two ways Python gets libsock — through ctypes only
# (libsock cannot see Python's closes: the SocketSet waits with ppoll) and
# with libsock preloaded (it sees them: epoll) — each mode one process in
# which the reference and libsock.select are measured side by side
# (bench/python_bench.py). Ratios come from this run only.
#
# Environment:
#   LIBDIR          where libsock.so is (default target/release)
#   PYTHON          interpreter (default python3)
#   BENCH_BATCH_MS  length of one timed batch in ms (default 50)
#   BENCH_BATCHES   pairs of batches per cell; medians reported (default 15)
#   BENCH_PY_BIG    objects in the large case (default 9000)
#   BENCH_PY_SMALL  objects in the small case, all below fd 1024 (default 400)
#
# Exit status: 0 unless a program failed (a wrong answer aborts it). A missed
# target is reported, not a failure.
set -euo pipefail
. "$(dirname "$0")/../tests/lib/harness.sh"
harness bench-python

given="LIBDIR=${LIBDIR:-target/release}"
for var in PYTHON BENCH_BATCH_MS BENCH_BATCHES BENCH_PY_BIG BENCH_PY_SMALL; do
    if [ -n "${!var+x}" ]; then given="$given $var='${!var}'"; fi
done
LIBDIR=${LIBDIR:-target/release}
PYTHON=${PYTHON:-python3}
export BENCH_BATCH_MS=${BENCH_BATCH_MS:-50}
export BENCH_BATCHES=${BENCH_BATCHES:-15}
export BENCH_PY_BIG=${BENCH_PY_BIG:-9000}
export BENCH_PY_SMALL=${BENCH_PY_SMALL:-400}
BIG_PRELOADED=0.30
BIG_CTYPES=1.25
SMALL_BOTH=2.0

find_libsock
scratch tmp bench-python
echo "bench: Python, through ctypes only ..." >&2
env LIBSOCK_LIB="$lib" "$PYTHON" bench/python_bench.py | sed 's/^/C /' >"$tmp/results"
echo "bench: Python, preloaded ..." >&2
env LD_PRELOAD="$lib" LIBSOCK_LIB="$lib" "$PYTHON" bench/python_bench.py | sed 's/^/P /' >>"$tmp/results"

echo "libsock Python benchmark — libsock.select against the standard library ($("$PYTHON" -c 'import platform; print("Python", platform.python_version())'), $lib)"
machine
echo "one round: send 1 byte to the peer of one watched socket (a different one each round), wait, check that the answer is exactly that socket, read the byte back"
echo "each cell: µs per round, median of $BENCH_BATCHES batches of ~$BENCH_BATCH_MS ms; ratio: libsock / reference, median over $BENCH_BATCHES pairs of batches run back to back"
echo
awk -v big="$BENCH_PY_BIG" -v small="$BENCH_PY_SMALL" -v tb="$BIG_PRELOADED" -v tc="$BIG_CTYPES" -v ts="$SMALL_BOTH" '
$2 == "CELL" { v[$1, $3, $4] = $5 }
$2 == "RATIO" { r[$1, $3] = $4; rmin[$1, $3] = $5; rmax[$1, $3] = $6 }
$2 == "MODE" { seen[$1] = $3 }
function row(n, ref, label) {
    printf "%6s  %-22s | %9.1f %9.1f %6.2fx  (%.2f-%.2f) | %9.1f %9.1f %6.2fx  (%.2f-%.2f)\n", n, label,
        v["C", n, ref], v["C", n, "libsock"], r["C", n], rmin["C", n], rmax["C", n],
        v["P", n, ref], v["P", n, "libsock"], r["P", n], rmin["P", n], rmax["P", n]
}
function verdict(x, t) { return x <= t ? "PASS" : "MISS" }
END {
    printf "%6s  %-22s | %-39s | %-39s\n", "", "", "through ctypes only (ppoll)", "preloaded, LD_PRELOAD (epoll)"
    printf "%6s  %-22s | %9s %9s %7s  %11s | %9s %9s %7s  %11s\n", "N", "reference", "reference", "libsock", "ratio", "(range)", \
        "reference", "libsock", "ratio", "(range)"
    print "------  -----------------------+-----------------------------------------+-----------------------------------------"
    row(big, "poll", "select.poll().poll()")
    row(small, "select", "select.select()")
    print ""
    print "reference  select.poll().poll() over the N sockets, registered once outside the timing;"
    print "           select.select(objects, [], []) (only where every fd < 1024)"
    print "libsock    libsock.select(objects, [], []): the N fileno() calls, the fill, the wait and the answer"
    printf "backend    ctypes only: close is libsock\047s: %s (so ppoll); preloaded: %s (so epoll)\n", seen["C"], seen["P"]
    print ""
    print "targets (issue 10):"
    printf "  N=%s, preloaded:   libsock.select <= %.2f x poll().poll():   %5.2f   %s\n", big, tb, r["P", big], verdict(r["P", big], tb)
    printf "  N=%s, ctypes only: libsock.select <= %.2f x poll().poll():   %5.2f   %s\n", big, tc, r["C", big], verdict(r["C", big], tc)
    printf "  N=%s,  ctypes only: libsock.select <= %.2f x select.select(): %5.2f   %s\n", small, ts, r["C", small], verdict(r["C", small], ts)
    printf "  N=%s,  preloaded:   libsock.select <= %.2f x select.select(): %5.2f   %s\n", small, ts, r["P", small], verdict(r["P", small], ts)
    if (seen["C"] != "no" || seen["P"] != "yes") print "  backend: UNEXPECTED (see the backend line)"
}' "$tmp/results"
echo
echo "produced by: cd $PWD && $given bash bench/python.sh${MAKELEVEL:+   (via make)}"
echo "  ran:    LIBSOCK_LIB=$lib $PYTHON bench/python_bench.py"
echo "          LD_PRELOAD=$lib LIBSOCK_LIB=$lib $PYTHON bench/python_bench.py"
