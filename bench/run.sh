#!/usr/bin/env bash
# make bench: the cost of one wait round with N idle descriptors and one
# active — select(2), poll(2), a persistent epoll set, and sockset_select in a
# linked and in a preloaded program — measured side by side in one run, as
# one table. Ratios are computed from this run's numbers only.
#
# Environment:
#   LIBDIR          where libsock.so is (default target/release)
#   CC              C compiler (default cc)
#   BENCH_NS        descriptor counts (default "16 64 256 1000 4000 9000")
#   BENCH_BATCH_MS  length of one timed batch in ms (default 50)
#   BENCH_BATCHES   batches per cell; the median is reported (default 7)
#
# Exit status: 0 unless something failed to build or crashed (a wrong answer
# aborts the program). A missed target is reported, not a failure.
set -euo pipefail
. "$(dirname "$0")/../tests/lib/harness.sh"
harness bench

# What the caller set, for the "produced by" line.
given="LIBDIR=${LIBDIR:-target/release}"
for var in CC BENCH_NS BENCH_BATCH_MS BENCH_BATCHES; do
    if [ -n "${!var+x}" ]; then given="$given $var='${!var}'"; fi
done

LIBDIR=${LIBDIR:-target/release}
CC=${CC:-cc}
NS=${BENCH_NS:-16 64 256 1000 4000 9000}
export BENCH_BATCH_MS=${BENCH_BATCH_MS:-50}
export BENCH_BATCHES=${BENCH_BATCHES:-7}
# Targets from the issue, checked at the largest N.
MAX_RATIO=1.5
MIN_POLL_SPEEDUP=50
TRACE_R1=100
TRACE_R2=1100

libdir=$(cd "$LIBDIR" && pwd) || { echo "bench: no directory $LIBDIR (run make first)" >&2; exit 1; }
lib=$libdir/libsock.so
[ -e "$lib" ] || { echo "bench: $lib not found (run make first)" >&2; exit 1; }

scratch tmp bench
linked=$tmp/sockset_bench_linked
preload=$tmp/sockset_bench_preload
cflags=(-O2 -Wall -Wextra -Iinclude)
linked_cmd=("$CC" "${cflags[@]}" bench/sockset_bench.c -L"$libdir" -lsock -Wl,-rpath,"$libdir" -o "$linked")
preload_cmd=("$CC" "${cflags[@]}" -DVIA_DLSYM bench/sockset_bench.c -ldl -o "$preload")
"${linked_cmd[@]}"
"${preload_cmd[@]}"
# The preloaded program must not have libsock among its own dependencies.
if ldd "$preload" | grep -q libsock; then
    echo "bench: the preloaded program is linked with libsock" >&2
    exit 1
fi
pre() { env LD_PRELOAD="$lib" "$preload" "$@"; }

results=$tmp/results
: >"$results"
for n in $NS; do
    echo "bench: N=$n ..." >&2
    "$linked" cells "$n" select poll epoll adds sockset | sed 's/^CELL /L /' >>"$results"
    pre cells "$n" epoll adds sockset | sed 's/^CELL /P /' >>"$results"
done
mem=$("$linked" mem | awk '$1 == "MEM" {print $2}')
version=$("$linked" version | awk '$1 == "VERSION" {print $2}')

# Which wait each mode really makes, from strace -c: two runs of R1 and R2
# rounds at the largest N; the difference is R2 - R1 steady-state rounds.
# The largest N that was measured (an N that does not fit RLIMIT_NOFILE is skipped).
largest=$(awk '$1 == "L" && $4 != "-" {print $2}' "$results" | sort -n | tail -1)
trace_syscalls=epoll_create1,epoll_ctl,epoll_pwait2,epoll_wait,epoll_pwait,ppoll,poll,select,pselect6
count_calls() { # file syscall
    awk -v s="$2" '$NF == s && $4 ~ /^[0-9]+$/ {c = $4} END {print c + 0}' "$1"
}
trace_mode() { # label command...
    local label=$1; shift
    local r a b
    for r in $TRACE_R1 $TRACE_R2; do
        if ! strace -f --seccomp-bpf -c -o "$tmp/strace.$label.$r" -e trace=$trace_syscalls \
            "$@" trace "$largest" "$r" >/dev/null; then
            echo "bench: $label program failed under strace" >&2
            exit 1
        fi
    done
    local out="$label"
    for s in epoll_create1 epoll_ctl epoll_pwait2 epoll_wait epoll_pwait ppoll poll select pselect6; do
        a=$(count_calls "$tmp/strace.$label.$TRACE_R1" $s)
        b=$(count_calls "$tmp/strace.$label.$TRACE_R2" $s)
        out="$out $s:$a:$b"
    done
    echo "$out"
}
# strace needs ptrace (a container may forbid it): then the check is skipped.
if [ -n "$largest" ] && command -v strace >/dev/null && strace -f -o /dev/null true 2>/dev/null; then
    echo "bench: strace -c at N=$largest ..." >&2
    trace_linked=$(trace_mode linked "$linked") || exit 1
    trace_preload=$(trace_mode preloaded env LD_PRELOAD="$lib" "$preload") || exit 1
else
    trace_linked="linked unavailable"
    trace_preload="preloaded unavailable"
fi

# ---- the report ----
echo "libsock SocketSet benchmark — libsock $version ($lib)"
machine "RLIMIT_NOFILE hard $(ulimit -Hn)"
echo "one round: write 1 byte to the peer of one watched socket, wait, check the one ready member, read it back"
echo "each cell: µs per round, median of $BENCH_BATCHES batches of ~$BENCH_BATCH_MS ms; N watched AF_UNIX sockets (N socketpairs: 2N open)"
echo
awk -v maxr="$MAX_RATIO" -v minp="$MIN_POLL_SPEEDUP" -v ns="$NS" '
function cellv(mode, n, m) { return ((mode SUBSEP n SUBSEP m) in v) ? v[mode, n, m] : "" }
function dash(w,   s) { s = ""; while (length(s) < w - 1) s = s " "; return s "\342\200\224" }
function num(x, w, d) { return (x == "" || x == "-") ? dash(w) : sprintf("%" w "." d "f", x) }
function rat(x, w, d, suffix) { return x == "" ? dash(w) : sprintf("%" (w - length(suffix)) "." d "f", x) suffix }
$1 == "SKIP" { skip[$2] = "needs " $4 " descriptors, RLIMIT_NOFILE is " $NF }
$1 == "L" || $1 == "P" {
    v[$1, $2, $3] = $4
    if ($4 != "-" && $4 > 0) { sp = ($8 - $7) / $4; spreads[++nsp] = sp; if (sp > worst) { worst = sp; wcell = $1 " N=" $2 " " $3 } }
}
END {
    printf "%6s | %8s %8s | %-38s | %-38s | %7s %7s\n", "", "", "", \
        "linked program (L)", "preloaded program (P)", "", ""
    printf "%6s | %8s %8s | %8s %8s %9s %9s | %8s %8s %9s %9s | %7s %7s\n", "N", "select", "poll", \
        "epoll", "adds", "sockset", "S/(E+A)", "epoll", "adds", "sockset", "S/(E+A)", "poll/L", "poll/P"
    print "-------+-------------------+----------------------------------------+----------------------------------------+----------------"
    k = split(ns, list, " ")
    for (i = 1; i <= k; i++) {
        n = list[i]
        sel = cellv("L", n, "select"); po = cellv("L", n, "poll")
        le = cellv("L", n, "epoll"); la = cellv("L", n, "adds"); ls = cellv("L", n, "sockset")
        pe = cellv("P", n, "epoll"); pa = cellv("P", n, "adds"); ps = cellv("P", n, "sockset")
        if (po == "" || le == "" || la == "" || ls == "" || pe == "" || pa == "" || ps == "") {
            printf "%6s | not measured: %s\n", n, (n in skip ? skip[n] : "no result")
            continue
        }
        rl = ls / (le + la); rp = ps / (pe + pa); pl = po / ls; pp = po / ps
        printf "%6s | %s %s | %s %s %s %s | %s %s %s %s | %s %s\n", n,
            num(sel, 8, 2), num(po, 8, 2),
            num(le, 8, 2), num(la, 8, 2), num(ls, 9, 2), rat(rl, 9, 2, ""),
            num(pe, 8, 2), num(pa, 8, 2), num(ps, 9, 2), rat(rp, 9, 2, ""),
            rat(pl, 7, 1, "x"), rat(pp, 7, 1, "x")
        last = n; lrl = rl; lrp = rp; lpl = pl; lpp = pp
    }
    print ""
    print "µs per round. Every column includes the round\047s write + read."
    print "select   FD_ZERO + N x FD_SET + select(2) + FD_ISSET walk (only where every watched fd < 1024)"
    print "poll     poll(2) over a kept pollfd array + revents walk"
    print "epoll    E: epoll_wait on a persistent epoll set (registered once, outside the timing)"
    print "adds     A: the user\047s own sockset_reset + N x sockset_add alone, no wait"
    print "sockset  S: the user\047s full round: sockset_reset + N x sockset_add + sockset_select + sockset_next walk"
    print "         L: cc ... -lsock; P: built without -lsock, API via dlsym(RTLD_DEFAULT), LD_PRELOAD=libsock.so"
    print "poll/L, poll/P: poll column / sockset column (how many times faster sockset is than poll)"
    if (nsp > 0) {
        # the median spread of the batches, a measure of how noisy this run was
        for (i = 1; i <= nsp; i++) for (j = i + 1; j <= nsp; j++) if (spreads[j] < spreads[i]) { t = spreads[i]; spreads[i] = spreads[j]; spreads[j] = t }
        printf "noise: (max - min) / median over a cell\047s batches: typically %.0f%%, at worst %.0f%% (%s)\n", \
            100 * spreads[int((nsp + 1) / 2)], 100 * worst, wcell
    }
    if (last != "") {
        print ""
        printf "targets at N=%s (from the issue):\n", last
        printf "  sockset round <= %.1f x (epoll_wait round + adds), linked:    %6.2f   %s\n", maxr, lrl, (lrl <= maxr ? "PASS" : "MISS")
        printf "  sockset round <= %.1f x (epoll_wait round + adds), preloaded: %6.2f   %s\n", maxr, lrp, (lrp <= maxr ? "PASS" : "MISS")
        printf "  sockset round >= %dx faster than poll, linked:                %5.1fx   %s\n", minp, lpl, (lpl >= minp ? "PASS" : "MISS")
        printf "  sockset round >= %dx faster than poll, preloaded:             %5.1fx   %s\n", minp, lpp, (lpp >= minp ? "PASS" : "MISS")
    }
}' "$results"

# The strace verdict.
echo
echo "backend (strace -f -c, N=$largest, sockset rounds only: $TRACE_R1 vs $TRACE_R2 rounds; per round = difference / $((TRACE_R2 - TRACE_R1))):"
for line in "$trace_linked" "$trace_preload"; do
    awk -v r1=$TRACE_R1 -v r2=$TRACE_R2 '
    {
        label = $1
        if ($2 == "unavailable") { printf "  %-9s  strace unavailable: not checked\n", label; exit }
        for (i = 2; i <= NF; i++) { split($i, f, ":"); a[f[1]] = f[2]; b[f[1]] = f[3] }
        d = r2 - r1
        pw = (b["epoll_pwait2"] + b["epoll_wait"] + b["epoll_pwait"] - a["epoll_pwait2"] - a["epoll_wait"] - a["epoll_pwait"]) / d
        ctl = (b["epoll_ctl"] - a["epoll_ctl"]) / d
        other = b["ppoll"] + b["poll"] + b["select"] + b["pselect6"]
        ok = (b["epoll_pwait2"] - a["epoll_pwait2"] == d) && (b["epoll_ctl"] == a["epoll_ctl"]) && other == 0
        printf "  %-9s  epoll_create1 %d, epoll_ctl %d in all (first round), %.2f per round after; epoll_pwait2 %.2f per round; ppoll/poll/select %d   %s\n",
            label, b["epoll_create1"], a["epoll_ctl"], ctl, (b["epoll_pwait2"] - a["epoll_pwait2"]) / d, other, (ok ? "PASS" : "MISS")
    }' <<<"$line"
done

echo
echo "memory of a set whose largest member is 1000000: $mem bytes of heap = $(awk -v m="$mem" 'BEGIN {printf "%.1f kB = %.1f KiB", m / 1000, m / 1024}')"
echo "  (mallinfo2 uordblks + hblkhd before and after sockset_new + sockset_add(s, 1000000); 1000001 bits = 125000 bytes expected)"

echo
echo "produced by: cd $PWD && $given bash bench/run.sh${MAKELEVEL:+   (via make bench)}"
echo "  built:  ${linked_cmd[*]}"
echo "          ${preload_cmd[*]}"
echo "  ran:    for N in $NS: $linked cells N select poll epoll adds sockset;"
echo "                        LD_PRELOAD=$lib $preload cells N epoll adds sockset"
echo "          $linked mem"
echo "          strace -f --seccomp-bpf -c -e trace=$trace_syscalls <each program> trace $largest {$TRACE_R1,$TRACE_R2}"
