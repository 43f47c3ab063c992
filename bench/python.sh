#!/usr/bin/env bash
# make bench, the Python table: libsock.select against the standard
# library's waits, in the ways Python gets libsock — through ctypes only
# (libsock cannot see Python's closes: the SocketSet waits with ppoll), with
# libsock preloaded (it sees them: epoll), and with a copy of libsock
# preloaded from another directory while LIBSOCK_LIB names the build's
# (issue 15: import libsock uses the preloaded copy, no second one, so it
# gets epoll too) — each mode one process in which the reference and
# libsock.select are measured side by side (bench/python_bench.py). Ratios
# come from this run only. Paths are printed relative to the checkout.
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
# The checkout-relative name of a path; the scratch directory as <scratch>.
rel() {
    case $1 in
    "$tmp"/*) echo "<scratch>/${1#"$tmp"/}" ;;
    "$HARNESS_ROOT"/*) echo "${1#"$HARNESS_ROOT"/}" ;;
    *) echo "$1" ;;
    esac
}
mkdir "$tmp/other"
other=$tmp/other/libsock.so
cp "$lib" "$other"
echo "bench: Python, through ctypes only ..." >&2
env LIBSOCK_LIB="$lib" "$PYTHON" bench/python_bench.py | sed 's/^/C /' >"$tmp/results"
echo "bench: Python, preloaded ..." >&2
env LD_PRELOAD="$lib" LIBSOCK_LIB="$lib" "$PYTHON" bench/python_bench.py | sed 's/^/P /' >>"$tmp/results"
echo "bench: Python, another copy preloaded, LIBSOCK_LIB naming the build's ..." >&2
env LD_PRELOAD="$other" LIBSOCK_LIB="$lib" BENCH_PY_SMALL=0 "$PYTHON" bench/python_bench.py |
    sed 's/^/O /' >>"$tmp/results"

echo "libsock Python benchmark — libsock.select against the standard library ($("$PYTHON" -c 'import platform; print("Python", platform.python_version())'), $(rel "$lib"))"
machine
echo "one round: send 1 byte to the peer of one watched socket (a different one each round), wait, check that the answer is exactly that socket, read the byte back"
echo "each cell: µs per round, median of $BENCH_BATCHES batches of ~$BENCH_BATCH_MS ms; ratio: libsock / reference, median over $BENCH_BATCHES pairs of batches run back to back"
echo
awk -v big="$BENCH_PY_BIG" -v small="$BENCH_PY_SMALL" -v tb="$BIG_PRELOADED" -v tc="$BIG_CTYPES" -v ts="$SMALL_BOTH" \
    -v lib="$lib" -v other="$other" -v rlib="$(rel "$lib")" -v rother="$(rel "$other")" '
$2 == "CELL" { v[$1, $3, $4] = $5 }
$2 == "RATIO" { r[$1, $3] = $4; rmin[$1, $3] = $5; rmax[$1, $3] = $6 }
$2 == "MODE" { seen[$1] = $3; copies[$1] = $4; origin[$1] = $5; path[$1] = $6 }
function row(mode, label, n, ref, name) {
    printf "%-32s %6s  %-22s | %9.1f %9.1f %6.2fx  (%.2f-%.2f)\n", label, n, name,
        v[mode, n, ref], v[mode, n, "libsock"], r[mode, n], rmin[mode, n], rmax[mode, n]
}
function verdict(x, t) { return x <= t ? "PASS" : "MISS" }
function shown(p) { return p == lib ? rlib : (p == other ? rother : p) }
function backend(mode, label) {
    printf "  %-30s close is libsock\047s: %-3s  libsock files mapped: %s  in use: %s (%s)\n", label, seen[mode], \
        copies[mode], shown(path[mode]), origin[mode]
}
END {
    printf "%-32s %6s  %-22s | %9s %9s %7s  %11s\n", "mode", "N", "reference", "reference", "libsock", "ratio", "(range)"
    print "-------------------------------- ------  -----------------------+-----------------------------------------"
    row("C", "through ctypes only (ppoll)", big, "poll", "select.poll().poll()")
    row("C", "", small, "select", "select.select()")
    row("P", "preloaded, LD_PRELOAD (epoll)", big, "poll", "select.poll().poll()")
    row("P", "", small, "select", "select.select()")
    row("O", "another copy preloaded (epoll)", big, "poll", "select.poll().poll()")
    print ""
    print "reference  select.poll().poll() over the N sockets, registered once outside the timing;"
    print "           select.select(objects, [], []) (only where every fd < 1024)"
    print "libsock    libsock.select(objects, [], []): the N fileno() calls, the fill, the wait and the answer"
    print "modes      through ctypes only:     LIBSOCK_LIB=" rlib
    print "           preloaded:               LD_PRELOAD=" rlib ", LIBSOCK_LIB the same"
    print "           another copy preloaded:  LD_PRELOAD=" rother " (a copy of it), LIBSOCK_LIB=" rlib
    print "backend    (epoll needs the program\047s close to be the libsock in use):"
    backend("C", "ctypes only:")
    backend("P", "preloaded:")
    backend("O", "another copy preloaded:")
    print ""
    print "targets (issues 10 and 15):"
    printf "  N=%s, preloaded:   libsock.select <= %.2f x poll().poll():   %5.2f   %s\n", big, tb, r["P", big], verdict(r["P", big], tb)
    printf "  N=%s, other copy:  libsock.select <= %.2f x poll().poll():   %5.2f   %s\n", big, tb, r["O", big], verdict(r["O", big], tb)
    printf "  N=%s, ctypes only: libsock.select <= %.2f x poll().poll():   %5.2f   %s\n", big, tc, r["C", big], verdict(r["C", big], tc)
    printf "  N=%s,  ctypes only: libsock.select <= %.2f x select.select(): %5.2f   %s\n", small, ts, r["C", small], verdict(r["C", small], ts)
    printf "  N=%s,  preloaded:   libsock.select <= %.2f x select.select(): %5.2f   %s\n", small, ts, r["P", small], verdict(r["P", small], ts)
    if (seen["C"] != "no" || seen["P"] != "yes" || seen["O"] != "yes" || path["O"] != other || \
        copies["C"] != 1 || copies["P"] != 1 || copies["O"] != 1)
        print "  backend: UNEXPECTED (see the backend lines)"
}' "$tmp/results"
echo
echo "produced by: $given bash bench/python.sh   (from the checkout's root${MAKELEVEL:+, via make})"
echo "  ran:    LIBSOCK_LIB=$(rel "$lib") $PYTHON bench/python_bench.py"
echo "          LD_PRELOAD=$(rel "$lib") LIBSOCK_LIB=$(rel "$lib") $PYTHON bench/python_bench.py"
echo "          LD_PRELOAD=$(rel "$other") LIBSOCK_LIB=$(rel "$lib") BENCH_PY_SMALL=0 $PYTHON bench/python_bench.py"
