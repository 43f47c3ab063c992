#!/usr/bin/env bash
# make bench, second table: what interposition costs a program. Two
# workloads of bench/interpose.c, each run three ways, side by side in one
# run:
#   glibc    the program alone (no preload)
#   preload  LD_PRELOAD=libsock.so, nothing configured (pure pass-through)
#   trace    LD_PRELOAD=libsock.so LIBSOCK_TRACE=<file in a temp dir> (text)
# Workloads:
#   eagain    recvfrom(MSG_DONTWAIT) on an empty UDP socket -> -1 EAGAIN
#             (ns per call: the cheapest call there is, so the shim's own
#             cost shows most)
#   pingpong  64-byte request/response over loopback TCP between two
#             threads (µs per round trip: 2 send + 2 recv)
# Noise (2 cores, other jobs): every round runs each mode once per workload,
# in a rotating order, each run timing K batches of ~BATCH_MS; a cell is
# the median of all its batches, and a ratio is the median over rounds of
# (mode / glibc of the same round), so slow drift cancels out.
#
# Environment:
#   LIBDIR                   where libsock.so is (default target/release)
#   CC                       C compiler (default cc)
#   INTERPOSE_ROUNDS         rounds (default 21)
#   INTERPOSE_BATCHES        timed batches per run (default 5)
#   INTERPOSE_BATCH_MS       length of one batch in ms (default 20)
#
# Exit status: 0 unless something failed to build or crashed. A missed
# target is reported, not a failure.
set -euo pipefail
. "$(dirname "$0")/../tests/lib/harness.sh"
harness interpose

given="LIBDIR=${LIBDIR:-target/release}"
for var in CC INTERPOSE_ROUNDS INTERPOSE_BATCHES INTERPOSE_BATCH_MS; do
    if [ -n "${!var+x}" ]; then given="$given $var='${!var}'"; fi
done

LIBDIR=${LIBDIR:-target/release}
CC=${CC:-cc}
ROUNDS=${INTERPOSE_ROUNDS:-21}
K=${INTERPOSE_BATCHES:-5}
BATCH_MS=${INTERPOSE_BATCH_MS:-20}
TARGET=1.03

libdir=$(cd "$LIBDIR" && pwd) || { echo "interpose: no directory $LIBDIR (run make first)" >&2; exit 1; }
lib=$libdir/libsock.so
[ -e "$lib" ] || { echo "interpose: $lib not found (run make first)" >&2; exit 1; }

# No configuration may leak in from the caller.
no_config

scratch tmp interpose
bin=$tmp/interpose
build_cmd=("$CC" -O2 -Wall -Wextra -pthread bench/interpose.c -ldl -o "$bin")
"${build_cmd[@]}"
if ldd "$bin" | grep -q libsock; then
    echo "interpose: the benchmark program is linked with libsock" >&2
    exit 1
fi
trace=$tmp/trace.txt

# run MODE ARGS...: the program in MODE.
run() {
    local mode=$1
    shift
    case $mode in
    glibc) "$bin" "$@" ;;
    preload) env LD_PRELOAD="$lib" "$bin" "$@" ;;
    trace)
        env LD_PRELOAD="$lib" LIBSOCK_TRACE="$trace" "$bin" "$@"
        ;;
    esac
}

# Which definition each mode's calls reach.
for mode in glibc preload trace; do
    want=libsock.so
    [ $mode != glibc ] || want=libc.so.6
    while read -r _ sym got; do
        [ "$got" = "$want" ] || { echo "interpose: $mode: $sym is bound to $got, not $want" >&2; exit 1; }
    done < <(run $mode bound)
done

median() { sort -g | awk '{v[NR] = $1} END {print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2}'; }

# Iterations per batch for each workload and mode, from a short run, so a
# batch lasts about BATCH_MS (slower modes do fewer, never less than 50).
declare -A iters
for w in eagain pingpong; do
    for mode in glibc preload trace; do
        case $w in eagain) probe=20000 ;; pingpong) probe=500 ;; esac
        ns=$(run $mode run $w $probe 3 | awk '$1 == "RESULT" {for (i = 3; i <= NF; i++) print $i}' | median)
        rm -f "$trace"
        iters[$w,$mode]=$(awk -v ns="$ns" -v ms="$BATCH_MS" 'BEGIN {n = int(ms * 1e6 / ns); print (n < 50 ? 50 : n)}')
    done
done

echo "interpose: $ROUNDS rounds x 2 workloads x 3 modes ..." >&2
results=$tmp/results
: >"$results"
modes=(glibc preload trace)
for ((r = 0; r < ROUNDS; r++)); do
    for w in eagain pingpong; do
        for ((j = 0; j < 3; j++)); do
            mode=${modes[$(((r + j) % 3))]}
            n=${iters[$w,$mode]}
            line=$(run $mode run $w "$n" "$K")
            if [ $mode = trace ]; then
                # tracing really happened: a line per timed call at least
                lines=$(grep -c "^\[[0-9]*\] $([ $w = eagain ] && echo recvfrom || echo send)(" "$trace" || true)
                [ "$lines" -ge $((n * K)) ] || { echo "interpose: trace has $lines lines, expected >= $((n * K))" >&2; exit 1; }
                rm -f "$trace"
            fi
            echo "$r $w $mode ${line#RESULT "$w" }" >>"$results"
        done
    done
done

# ---- the report ----
echo "libsock interposition cost ($lib)"
machine
echo "each cell: median of $ROUNDS rounds x $K batches of ~$BATCH_MS ms; the three modes interleaved in a rotating order every round"
echo "ratio: median over rounds of (mode / glibc in the same round)"
echo
awk -v target="$TARGET" -v rounds="$ROUNDS" '
function med(list,   n, a, i, j, t) {
    n = split(list, a, " ")
    for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++) if (a[j] + 0 < a[i] + 0) { t = a[i]; a[i] = a[j]; a[j] = t }
    return (n % 2) ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
}
function pct(list, p,   n, a, i, j, t, k) {
    n = split(list, a, " ")
    for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++) if (a[j] + 0 < a[i] + 0) { t = a[i]; a[i] = a[j]; a[j] = t }
    k = int(p * (n - 1) + 1.5); if (k < 1) k = 1; if (k > n) k = n
    return a[k]
}
{
    r = $1; w = $2; m = $3; one = ""
    for (i = 4; i <= NF; i++) { all[w, m] = all[w, m] " " $i; one = one " " $i }
    runmed[r, w, m] = med(one)
}
END {
    split("eagain pingpong", ws, " ")
    label["eagain"] = "recvfrom EAGAIN, empty UDP socket (ns/call)"
    label["pingpong"] = "64 B TCP loopback ping-pong, 2 threads (us/round trip)"
    scale["eagain"] = 1; scale["pingpong"] = 1000; dec["eagain"] = 1; dec["pingpong"] = 2
    printf "%-56s | %9s | %-18s| %-17s\n", "", "", " LD_PRELOAD", " + LIBSOCK_TRACE"
    printf "%-56s | %9s | %9s %7s | %9s %7s\n", "workload", "glibc", "no config", "ratio", "(text)", "ratio"
    print "---------------------------------------------------------+-----------+-------------------+------------------"
    for (x = 1; x <= 2; x++) {
        w = ws[x]
        for (mi = 1; mi <= 3; mi++) { m = (mi == 1 ? "glibc" : mi == 2 ? "preload" : "trace"); cell[m] = med(all[w, m]) / scale[w] }
        for (mi = 2; mi <= 3; mi++) {
            m = (mi == 2 ? "preload" : "trace"); rl = ""
            for (r = 0; r < rounds; r++) rl = rl " " runmed[r, w, m] / runmed[r, w, "glibc"]
            ratio[w, m] = med(rl)
        }
        # noise: spread of the glibc runs, (p90 - p10) / median
        gl = ""
        for (r = 0; r < rounds; r++) gl = gl " " runmed[r, w, "glibc"]
        noise[w] = (pct(gl, 0.9) - pct(gl, 0.1)) / med(gl)
        f = "%" 9 "." dec[w] "f"
        printf "%-56s | " f " | " f " %6.3fx | " f " %6.2fx\n", label[w], cell["glibc"], cell["preload"], ratio[w, "preload"], cell["trace"], ratio[w, "trace"]
    }
    print ""
    printf "noise: (p90 - p10) / median of the glibc runs: eagain %.1f%%, pingpong %.1f%%\n", 100 * noise["eagain"], 100 * noise["pingpong"]
    print ""
    print "target: no configuration <= " target "x glibc"
    for (x = 1; x <= 2; x++) {
        w = ws[x]
        printf "  %-56s %6.3fx   %s\n", label[w], ratio[w, "preload"], (ratio[w, "preload"] <= target ? "PASS" : "MISS")
    }
}' "$results"

echo
echo "produced by: cd $PWD && $given bash bench/interpose.sh${MAKELEVEL:+   (via make bench)}"
echo "  built:  ${build_cmd[*]}"
echo "  ran:    $ROUNDS rounds of, for W in eagain pingpong, in rotating order:"
echo "            $bin run W ITERS $K"
echo "            LD_PRELOAD=$lib $bin run W ITERS $K"
echo "            LD_PRELOAD=$lib LIBSOCK_TRACE=$trace $bin run W ITERS $K"
echo "          ITERS per workload and mode (glibc/preload/trace, from a calibration run, ~$BATCH_MS ms a batch):$(
    for w in eagain pingpong; do printf ' %s %s/%s/%s' $w "${iters[$w,glibc]}" "${iters[$w,preload]}" "${iters[$w,trace]}"; done)"
