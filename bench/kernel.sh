#!/usr/bin/env bash
# make bench, last table: what sockrun's kernel-enforced mode costs a call,
# next to what preloading costs and what strace costs, in one run.
#
# C rows: c-tests/kernel/kernel.c bench, 1-byte datagrams to a UDP sink on
# loopback that never reads (the kernel drops them once its buffer is full):
#   sendto-addr     sendto with an address (supervised in kernel mode: one
#                   notification round trip, the copy, the check, the call
#                   made by sockrun)
#   connect-udp     connect of a UDP socket to the sink, repeated (supervised;
#                   a UDP connect sends nothing, so this is the round trip)
#   send-connected  send on the connected socket (let through by the seccomp
#                   filter: no round trip)
# Go rows: a static Go net/http client (c-tests/kernel/go, CGO_ENABLED=0)
# against its own `serve` run natively (64-byte body), requests per second
# for KERNEL_HTTP_REQUESTS sequential GETs:
#   http-keepalive  over one keep-alive connection (one supervised socket and
#                   connect in all)
#   http-close      a new connection per GET (a supervised socket and connect
#                   each)
# Modes, columns of the table:
#   native   the static program alone
#   preload  the same C program built dynamic, LD_PRELOAD=libsock.so
#            LIBSOCK_DENY=192.0.2.0/24 (rules checked, not matched; libsock
#            cannot reach the static Go binary: "-")
#   kernel   sockrun --kernel, no rules
#   deny     sockrun --kernel --deny=192.0.2.0/24 (checked, not matched)
#   strace   strace -f -e trace=connect,sendto,sendmsg (the usual per-call
#            tracer), for scale
# Before timing, a denial is checked in the preload and deny modes (the
# rules are really in force). Each round runs every mode once, in a rotating
# order; a cell is the median over rounds (ns per call, or GETs per second),
# a ratio the median over rounds of (mode / native in the same round).
# Targets (a MISS is reported, not a failure): send on the connected socket
# within 1.3x of native in kernel mode; a supervised call cheaper than under
# strace.
# Environment: CC (default cc), KERNEL_ROUNDS (default 5), KERNEL_ITERS
# (calls per C row and run, default 20000), KERNEL_HTTP_REQUESTS (GETs per Go
# row and run, default 2000), KERNEL_BUILD (the Go build cache, default
# target/kernel).
set -euo pipefail
. "$(dirname "$0")/../tests/lib/harness.sh"
harness kernel-bench
no_config
find_libsock
CC=${CC:-cc}
ROUNDS=${KERNEL_ROUNDS:-5}
ITERS=${KERNEL_ITERS:-20000}
REQUESTS=${KERNEL_HTTP_REQUESTS:-2000}
TARGET=1.3
RULE=192.0.2.0/24
sockrun=$PWD/target/release/sockrun
[ -x "$sockrun" ] || die "$sockrun missing: run make first"
scratch tmp kernel-bench
build_dir BUILD "${KERNEL_BUILD:-target/kernel}"
"$CC" -O2 -D_GNU_SOURCE -pthread -static -o "$tmp/kernel.static" c-tests/kernel/kernel.c
"$CC" -O2 -D_GNU_SOURCE -pthread -o "$tmp/kernel.dynamic" c-tests/kernel/kernel.c
python3 -c "
import socket, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(('127.0.0.1', 0))
print(s.getsockname()[1], flush=True)
time.sleep(3600)" >"$tmp/port" &
background $!
wait_for "$tmp/port" '^[0-9]+$' 5 >/dev/null || die "no sink"
port=$(cat "$tmp/port")

gobin=
if command -v go >/dev/null; then
    (cd c-tests/kernel/go && CGO_ENABLED=0 GOCACHE="$BUILD/gocache" GOPATH="$BUILD/gopath" GOFLAGS=-mod=mod \
        go build -o "$BUILD/gobench" main.go) || die "cannot build the Go target"
    gobin=$BUILD/gobench
    "$gobin" serve 127.0.0.1:0 >"$tmp/serve.out" 2>&1 &
    background $!
    wait_for "$tmp/serve.out" '^serve http' 5 >/dev/null || die "the Go server did not start"
    url=$(sed -n 's/^serve //p' "$tmp/serve.out")
fi

modes=(native preload kernel deny)
have_strace=
if command -v strace >/dev/null; then
    modes+=(strace)
    have_strace=1
fi

# prefix MODE [RULE]: the command words put before the program in MODE (the
# preload mode's are for the dynamic build).
prefix() {
    case $1 in
    native) ;;
    preload) echo env LD_PRELOAD="$lib" LIBSOCK_DENY="${2:-$RULE}" ;;
    kernel) echo "$sockrun" --kernel -- ;;
    deny) echo "$sockrun" --kernel --deny="${2:-$RULE}" -- ;;
    strace) echo strace -f -e trace=connect,sendto,sendmsg -o /dev/null ;;
    esac
}
cprog() { if [ "$1" = preload ]; then echo "$tmp/kernel.dynamic"; else echo "$tmp/kernel.static"; fi; }

# The rules are in force: with the sink's address denied, the bench's first
# sendto (C) or GET (Go) fails.
for mode in preload deny; do
    # shellcheck disable=SC2046
    if $(prefix $mode 127.0.0.1) "$(cprog $mode)" bench 1 "$port" >/dev/null 2>&1; then
        die "$mode: --deny=127.0.0.1 did not refuse the C bench's sendto"
    fi
done
if [ -n "$gobin" ]; then
    # shellcheck disable=SC2046
    if $(prefix deny 127.0.0.1) "$gobin" bench "$url" 1 >"$tmp/denied.out" 2>&1 ||
        ! grep -q 'operation not permitted' "$tmp/denied.out"; then
        die "deny: --deny=127.0.0.1 did not refuse the Go client's GET: $(cat "$tmp/denied.out")"
    fi
fi

# results: "ROUND MODE ROW VALUE" lines.
results=$tmp/results
: >"$results"
t0=$(date +%s.%N)
echo "kernel-bench: $ROUNDS rounds x ${#modes[@]} modes ..." >&2
for ((r = 0; r < ROUNDS; r++)); do
    for ((j = 0; j < ${#modes[@]}; j++)); do
        mode=${modes[$(((r + j) % ${#modes[@]}))]}
        # shellcheck disable=SC2046
        $(prefix "$mode") "$(cprog "$mode")" bench "$ITERS" "$port" >"$tmp/out" || die "$mode: the C bench failed"
        awk -v r="$r" -v m="$mode" '{ print r, m, $1, $2 }' "$tmp/out" >>"$results"
        if [ -n "$gobin" ] && [ "$mode" != preload ]; then
            # shellcheck disable=SC2046
            $(prefix "$mode") "$gobin" bench "$url" "$REQUESTS" >"$tmp/out" ||
                die "$mode: the Go bench failed: $(cat "$tmp/out")"
            awk -v r="$r" -v m="$mode" '{ print r, m, $1, $2 }' "$tmp/out" >>"$results"
        fi
    done
done
took=$(elapsed "$t0")

echo "sockrun's kernel-enforced mode: what a call costs (rules: $RULE, checked, not matched)"
machine
echo "C: $ITERS calls per row and run; Go: $REQUESTS GETs per row and run; a cell is the median of $ROUNDS rounds" \
    "(modes in a rotating order; ${took}s in all)"
echo
awk -v rounds="$ROUNDS" -v modes="${modes[*]}" -v target="$TARGET" -v have_go="${gobin:+1}" \
    -v have_strace="$have_strace" '
function med(list,   n, a, i, j, t) {
    n = split(list, a, " ")
    if (n == 0) return ""
    for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++) if (a[j] + 0 < a[i] + 0) { t = a[i]; a[i] = a[j]; a[j] = t }
    return (n % 2) ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
}
function cell(m, row) { return med(all[m, row]) }
# median over rounds of (m / native) for row
function ratio(m, row,   r, l) {
    l = ""
    for (r = 0; r < rounds; r++) if ((r, m, row) in v && v[r, "native", row] > 0) l = l " " v[r, m, row] / v[r, "native", row]
    return med(l)
}
function line(label, row,   i, c) {
    printf "%-46s", label
    for (i = 1; i <= nm; i++) { c = cell(ms[i], row); printf " | %9s", (c == "" ? "-" : sprintf("%.0f", c)) }
    printf "\n"
}
function header(title,   i) {
    printf "%-46s", title
    for (i = 1; i <= nm; i++) printf " | %9s", ms[i]
    printf "\n"
    printf "%s", "----------------------------------------------"
    for (i = 1; i <= nm; i++) printf "-+----------"
    printf "\n"
}
{ v[$1, $2, $3] = $4; all[$2, $3] = all[$2, $3] " " $4 }
END {
    nm = split(modes, ms, " ")
    header("ns per call (1-byte UDP, 127.0.0.1)")
    line("sendto with an address (supervised)", "sendto-addr")
    line("connect, UDP socket (supervised)", "connect-udp")
    line("send on the connected socket (not supervised)", "send-connected")
    if (have_go) {
        print ""
        header("Go net/http GETs per second (64-byte body)")
        line("keep-alive (one socket + connect in all)", "http-keepalive")
        line("new connection each (socket + connect each)", "http-close")
    }
    print ""
    print "ratios, mode / native (median over rounds of the same round'"'"'s pair; for GETs per second below 1 is slower):"
    printf "  %-66s %6.2fx (kernel, no rules %.2fx; preload %.2fx)\n", "sendto with an address, kernel --deny:", ratio("deny", "sendto-addr"), ratio("kernel", "sendto-addr"), ratio("preload", "sendto-addr")
    printf "  %-66s %6.2fx (kernel, no rules %.2fx; preload %.2fx)\n", "connect, UDP, kernel --deny:", ratio("deny", "connect-udp"), ratio("kernel", "connect-udp"), ratio("preload", "connect-udp")
    if (have_go) {
        printf "  %-66s %6.2fx", "Go GETs per second over keep-alive, kernel --deny:", ratio("deny", "http-keepalive")
        printf (have_strace ? " (strace %.2fx)\n" : "\n"), ratio("strace", "http-keepalive")
        printf "  %-66s %6.2fx", "Go GETs per second, a new connection each, kernel --deny:", ratio("deny", "http-close")
        printf (have_strace ? " (strace %.2fx)\n" : "\n"), ratio("strace", "http-close")
    }
    print ""
    print "targets:"
    d = ratio("deny", "send-connected"); k = ratio("kernel", "send-connected")
    printf "  %-66s %6.2fx   %s\n", "send on the connected socket, kernel --deny <= " target "x native:", d, (d <= target ? "PASS" : "MISS")
    printf "  %-66s %6.2fx   %s\n", "send on the connected socket, kernel (no rules) <= " target "x native:", k, (k <= target ? "PASS" : "MISS")
    if (have_strace) {
        split("sendto-addr connect-udp", rows, " ")
        names["sendto-addr"] = "sendto with an address"; names["connect-udp"] = "connect, UDP"
        for (x = 1; x <= 2; x++) {
            row = rows[x]; d = cell("deny", row); s = cell("strace", row)
            printf "  %-66s %6.2fx   %s\n", names[row] ", kernel --deny cheaper than strace -f:", d / s, (d < s ? "PASS" : "MISS")
        }
    }
}' "$results"
echo
echo "produced by: bash bench/kernel.sh   (from the checkout's root${MAKELEVEL:+, via make})"
echo "  built:  $CC -O2 -D_GNU_SOURCE -pthread [-static] c-tests/kernel/kernel.c${gobin:+; CGO_ENABLED=0 go build c-tests/kernel/go/main.go}"
echo "  ran:    [mode prefix] kernel.{static,dynamic} bench $ITERS PORT${gobin:+; [mode prefix] gobench bench URL $REQUESTS (server: gobench serve 127.0.0.1:0, native)}"
[ -n "$gobin" ] || echo "  (no go on PATH: the Go rows were not run)"
ok "kernel-bench: table above"
finish
