#!/usr/bin/env bash
# make bench, third table: what access rules cost a checked call. connect
# and sendto (bench/access.c) run four ways, side by side in one run:
#   glibc    the program alone
#   preload  LD_PRELOAD=libsock.so, nothing configured
#   active   + LIBSOCK_STATS=/dev/null: libsock's configured path, no rules
#            (what any setting costs a call, so the rules' own share shows)
#   deny10   + LIBSOCK_DENY with 10 networks that do not match the peer
#   deny1000 + LIBSOCK_DENY with 1,000 such networks
# so every call is checked (a binary search per prefix length, not a scan
# of the rules) and then made. sendto's datagram also meets the receiving
# socket's filter in the kernel (its rules run per packet, in the sender's
# time on loopback). Each round runs every mode once per workload in a
# rotating order; a cell is the median of all its batches, a ratio the
# median over rounds of (mode / glibc of the same round).
#
# Environment: LIBDIR (default target/release), CC (default cc),
# ACCESS_ROUNDS (default 11), ACCESS_BATCHES (default 5), ACCESS_ITERS
# (calls per batch, default 20000).
set -euo pipefail
. "$(dirname "$0")/../tests/lib/harness.sh"
harness access-bench

CC=${CC:-cc}
ROUNDS=${ACCESS_ROUNDS:-11}
K=${ACCESS_BATCHES:-5}
ITERS=${ACCESS_ITERS:-20000}
PYTHON=${PYTHON:-python3}

find_libsock
no_config
scratch tmp access-bench
bin=$tmp/access
# The checkout-relative name of a path (printed, so a quoted run names no
# temporary directory).
rel() { case $1 in "$HARNESS_ROOT"/*) echo "${1#"$HARNESS_ROOT"/}" ;; *) echo "$1" ;; esac; }
build_cmd=("$CC" -O2 -Wall -Wextra bench/access.c -o "$bin")
"${build_cmd[@]}"

rules() { for i in $(seq 0 $(($1 - 1))); do printf '10.%d.%d.0/24,' $((i / 250)) $((i % 250)); done | sed 's/,$//'; }
deny10=$(rules 10)
deny1000=$(rules 1000)

run() {
    local mode=$1
    shift
    case $mode in
    glibc) "$bin" "$@" ;;
    preload) env LD_PRELOAD="$lib" "$bin" "$@" ;;
    active) env LD_PRELOAD="$lib" LIBSOCK_STATS=/dev/null "$bin" "$@" ;;
    deny10) env LD_PRELOAD="$lib" LIBSOCK_DENY="$deny10" "$bin" "$@" ;;
    deny1000) env LD_PRELOAD="$lib" LIBSOCK_DENY="$deny1000" "$bin" "$@" ;;
    esac
}

# The rules are really in force: a denied peer is refused.
if env LD_PRELOAD="$lib" LIBSOCK_DENY="$deny1000" "$PYTHON" -c '
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
try:
    s.sendto(b"x", ("10.3.231.7", 9)); sys.exit(1)
except PermissionError:
    pass' 2>/dev/null; then :; else
    echo "access-bench: 1,000 rules were not in force" >&2
    exit 1
fi

modes=(glibc preload active deny10 deny1000)
results=$tmp/results
: >"$results"
echo "access-bench: $ROUNDS rounds x 2 workloads x 5 modes ..." >&2
for ((r = 0; r < ROUNDS; r++)); do
    for w in connect sendto; do
        for ((j = 0; j < 5; j++)); do
            mode=${modes[$(((r + j) % 5))]}
            line=$(run $mode run $w "$ITERS" "$K")
            echo "$r $w $mode ${line#RESULT "$w" }" >>"$results"
        done
    done
done

echo "libsock access rules: the cost of a checked call ($(rel "$lib"))"
machine
echo "each cell: ns per call, median of $ROUNDS rounds x $K batches of $ITERS calls; modes interleaved in a rotating order"
echo "ratio: median over rounds of (mode / glibc in the same round)"
echo
awk -v rounds="$ROUNDS" '
function med(list,   n, a, i, j, t) {
    n = split(list, a, " ")
    for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++) if (a[j] + 0 < a[i] + 0) { t = a[i]; a[i] = a[j]; a[j] = t }
    return (n % 2) ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
}
{
    r = $1; w = $2; m = $3; one = ""
    for (i = 4; i <= NF; i++) { all[w, m] = all[w, m] " " $i; one = one " " $i }
    runmed[r, w, m] = med(one)
}
END {
    split("connect sendto", ws, " ")
    split("glibc preload active deny10 deny1000", ms, " ")
    label["connect"] = "connect, UDP, 127.0.0.1 (ns/call)"
    label["sendto"] = "sendto 16 B, UDP, 127.0.0.1 (ns/call)"
    printf "%-38s | %8s | %-16s | %-16s | %-16s | %-16s\n", "", "", " LD_PRELOAD", " LIBSOCK_STATS", " 10 deny rules", " 1000 deny rules"
    printf "%-38s | %8s | %8s %7s | %8s %7s | %8s %7s | %8s %7s\n", "workload", "glibc", "nothing", "ratio", "no rules", "ratio", "", "ratio", "", "ratio"
    print "---------------------------------------+----------+------------------+------------------+------------------+------------------"
    for (x = 1; x <= 2; x++) {
        w = ws[x]
        printf "%-38s | %8.1f", label[w], med(all[w, "glibc"])
        for (mi = 2; mi <= 5; mi++) {
            m = ms[mi]; rl = ""
            for (r = 0; r < rounds; r++) rl = rl " " runmed[r, w, m] / runmed[r, w, "glibc"]
            printf " | %8.1f %6.2fx", med(all[w, m]), med(rl)
        }
        printf "\n"
    }
}' "$results"
echo
echo "produced by: bash bench/access.sh   (from the checkout's root${MAKELEVEL:+, via make bench})"
echo "  built:  ${build_cmd[*]/#"$tmp"/<scratch>}"
echo "  rules:  LIBSOCK_DENY=10.0.0.0/24,10.0.1.0/24,... (10 or 1000 networks; the peer is 127.0.0.1)"
