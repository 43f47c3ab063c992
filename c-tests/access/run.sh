#!/usr/bin/env bash
# Access rules (LIBSOCK_ALLOW / LIBSOCK_DENY) with real sockets on loopback
# and real programs: `make access-test`.
#
#   offsets     the socket filter's offsets, natively (what the compiler uses)
#   access.c    every outbound and inbound path, dual stack, inherited
#               sockets, a thousand rules, fail closed, locked filters, raw
#               and packet sockets: preloaded AND linked
#   control     the same inbound checks without libsock must fail (so they
#               can fail)
#   traces      text and JSON traces name the rule; stats count denials
#   programs    curl refused with EPERM; a Python and a socat UDP server
#               never see a denied sender; a TCP server never accepts one
#
# Run from the repository root after `make`. Environment: LIBDIR (default
# target/release), CC (default cc), ACCESS_BUILD (default target/access).
# Last line: "access: N passed, M failed"; exit status 0 only if none failed.
set -uo pipefail
. "$(dirname "$0")/../../tests/lib/harness.sh"
harness access
no_config
find_libsock
CC=${CC:-cc}
BUILD=${ACCESS_BUILD:-target/access}
PYTHON=${PYTHON:-python3}
LIB=$lib
ABS_LIBDIR=$libdir
[ -e "$ABS_LIBDIR/libsock.so.0" ] || ln -sf libsock.so "$ABS_LIBDIR/libsock.so.0"
build_dir BUILD "$BUILD"
scratch TMP access

CFLAGS=(-O2 -Wall -Wextra -Werror -D_GNU_SOURCE)
"$CC" "${CFLAGS[@]}" -o "$BUILD/offsets" c-tests/access/offsets.c || die "cannot build offsets.c"
"$CC" "${CFLAGS[@]}" -c -o "$BUILD/access.o" c-tests/access/access.c || die "cannot build access.c"
"$CC" -o "$BUILD/access.native" "$BUILD/access.o" || die "cannot link access.c"
"$CC" -o "$BUILD/access.linked" "$BUILD/access.o" -L"$ABS_LIBDIR" -lsock -Wl,-rpath,"$ABS_LIBDIR" ||
    die "cannot link access.c against libsock"
ldd "$BUILD/access.linked" | grep -q libsock || die "the linked binary has no libsock"

# check NAME CMD...: the command must exit 0 with no FAIL line and at least
# one ok line (a program that checked nothing proves nothing).
check() {
    local name=$1
    shift
    if "$@" >"$TMP/out" 2>"$TMP/err" && ! grep -q '^FAIL' "$TMP/out" && grep -q '^ok' "$TMP/out"; then
        ok "$name ($(grep -c '^ok' "$TMP/out") checks)"
    else
        bad "$name"
        sed 's/^/    /' "$TMP/out" "$TMP/err" | grep -v '^    ok' | head -30
    fi
}

# run MODE SUBCOMMAND [VAR=VALUE...]: the test program preloaded or linked.
run() {
    local mode=$1 sub=$2
    shift 2
    case $mode in
    preload) env "$@" LD_PRELOAD="$LIB" "$BUILD/access.native" "$sub" ;;
    linked) env "$@" "$BUILD/access.linked" "$sub" ;;
    esac
}

check "offsets: transport header at 0, IP header at SKF_NET_OFF (native)" "$BUILD/offsets"

INBOUND_DENY='127.0.0.2,[::1]:41999,127.0.0.5:41998,[::1]:41997'
INBOUND_ALLOW='127.0.0.1,127.0.0.3,127.0.0.5:0-41997,127.0.0.5:41999-65535,[::1]:0-41996,[::1]:41998,[::1]:42000-65535'
# A thousand rules: 996 networks nowhere near loopback, then the four.
THOUSAND=$(for i in $(seq 0 995); do printf '10.%d.%d.0/24,' $((i / 250)) $((i % 250)); done)$INBOUND_DENY
[ "$(tr ',' '\n' <<<"$THOUSAND" | wc -l)" -eq 1000 ] || { echo "access: not 1000 rules" >&2; exit 2; }

for mode in preload linked; do
    check "$mode outbound, deny list" run $mode outbound LIBSOCK_DENY=127.0.0.2,127.0.0.4:7000-7010
    check "$mode outbound, allow list" run $mode outbound \
        LIBSOCK_ALLOW=127.0.0.1,127.0.0.3,127.0.0.4:7011-65535,::1
    check "$mode inbound, deny list" run $mode inbound "LIBSOCK_DENY=$INBOUND_DENY"
    check "$mode inbound, deny list with a v4-mapped rule" run $mode inbound \
        "LIBSOCK_DENY=::ffff:${INBOUND_DENY}"
    check "$mode inbound, allow list" run $mode inbound "LIBSOCK_ALLOW=$INBOUND_ALLOW"
    check "$mode inbound, a thousand deny rules" run $mode inbound "LIBSOCK_DENY=$THOUSAND"
    check "$mode peer unreadable (seccomp denies process_vm_readv): fail closed" run $mode unreadable \
        LIBSOCK_DENY=127.0.0.2
    case $mode in
    preload) check "$mode inherited sockets" env ACCESS_PRELOAD="$LIB" "$BUILD/access.native" inherit ;;
    linked) check "$mode inherited sockets" "$BUILD/access.linked" inherit ;;
    esac
    # A filter too large for net.core.optmem_max (per network namespace: a
    # new one, loopback up, a 4 KiB limit): inherited sockets drop everything.
    if unshare -n true 2>/dev/null; then
        small_optmem=(unshare -n sh -c 'ip link set lo up && echo 4096 >/proc/sys/net/core/optmem_max && exec "$@"' sh
            env ACCESS_CHILD_DENY="$THOUSAND" ACCESS_EXPECT_DROP_ALL=1)
        case $mode in
        preload) check "$mode inherited sockets, filter over optmem_max: drop-all fallback" \
            "${small_optmem[@]}" ACCESS_PRELOAD="$LIB" "$BUILD/access.native" inherit ;;
        linked) check "$mode inherited sockets, filter over optmem_max: drop-all fallback" \
            "${small_optmem[@]}" "$BUILD/access.linked" inherit ;;
        esac
    elif [ "$(id -u)" -ne 0 ]; then
        echo "note: not root: no network namespace for the optmem_max check (skipped)"
    else
        bad "$mode: cannot make a network namespace (unshare -n) for the optmem_max check"
    fi
    # Fail closed: one stderr line naming the variable and what was expected.
    too_many=$(for i in $(seq 1 2100); do printf '10.0.%d.%d,' $((i / 256)) $((i % 256)); done)
    for bad in "LIBSOCK_DENY=10.0.0.0/33" "LIBSOCK_ALLOW=loclhost" "LIBSOCK_DENY=127.0.0.1,,::1" \
        "LIBSOCK_DENY=${too_many%,}"; do
        var=${bad%%=*}
        short=${bad:0:40}
        check "$mode fail closed: $short" run $mode failclosed "$bad"
        lines=$(wc -l <"$TMP/err")
        if [ "$lines" -eq 1 ] && grep -q "^libsock: $var" "$TMP/err" && grep -q 'expected' "$TMP/err" &&
            grep -q 'all INET/INET6 traffic is denied' "$TMP/err"; then
            ok "$mode fail closed: $short: one stderr line"
        else
            bad "$mode fail closed: $short: stderr was:"
            head -3 "$TMP/err" | cut -c1-300
        fi
    done
done

# Control: without libsock the inbound checks see the denied peers.
"$BUILD/access.native" inbound >"$TMP/control.out" 2>/dev/null
if grep -q '^FAIL.*from 127.0.0.3 only' "$TMP/control.out"; then
    ok "control: natively the same checks fail"
else
    bad "control: natively the inbound checks passed (they cannot tell)"
fi

# Control: as root, natively, the raw and packet sockets refused above are
# created (otherwise the kernel refuses them too and the check is skipped).
if [ "$(id -u)" -eq 0 ]; then
    check "control: natively, root creates raw and packet sockets" "$BUILD/access.native" raw-native
else
    echo "note: not root: raw and packet socket checks skipped"
fi

# Control: without libsock the seccomp'd program reaches 127.0.0.2.
"$BUILD/access.native" unreadable >"$TMP/control.out" 2>/dev/null
if grep -q '^ok.*process_vm_readv fails with EPERM' "$TMP/control.out" &&
    grep -q '^FAIL.*connect 127.0.0.2 (denied): EPERM' "$TMP/control.out"; then
    ok "control: natively the seccomp'd connects go through"
else
    bad "control: natively the unreadable checks passed (they cannot tell)"
fi

# ---- traces and stats -------------------------------------------------------
run preload outbound LIBSOCK_DENY=127.0.0.2,127.0.0.4:7000-7010 LIBSOCK_TRACE="$TMP/trace.txt" \
    LIBSOCK_STATS="$TMP/stats.txt" >/dev/null 2>&1
if grep -Eq '\] connect\([0-9]+, 127\.0\.0\.2:[0-9]+\) = -1 EPERM denied_by=LIBSOCK_DENY:127\.0\.0\.2 <' "$TMP/trace.txt" &&
    grep -Eq '\] connect\([0-9]+, 127\.0\.0\.4:7005\) = -1 EPERM denied_by=LIBSOCK_DENY:127\.0\.0\.4:7000-7010 <' "$TMP/trace.txt" &&
    grep -Eq '\] sendmmsg\([0-9]+, 2, 0\) = -1 EPERM denied_by=LIBSOCK_DENY:127\.0\.0\.2 <' "$TMP/trace.txt" &&
    grep -Eq '\] sendmmsg\([0-9]+, 3, 0\) = 1 denied_by=LIBSOCK_DENY:127\.0\.0\.2 <' "$TMP/trace.txt" &&
    grep -Eq '\] sendto\([0-9]+, 1, MSG_FASTOPEN, 127\.0\.0\.2:[0-9]+\) = -1 EPERM denied_by=' "$TMP/trace.txt"; then
    ok "text trace: = -1 EPERM denied_by=LIBSOCK_DENY:<rule>"
else
    bad "text trace"
    grep EPERM "$TMP/trace.txt" | head
fi
if grep -q '^  denied by access rules: connect 4, sendto 3, sendmsg 1, sendmmsg 2$' "$TMP/stats.txt"; then
    ok "stats: denials counted per call"
else
    bad "stats"
    cat "$TMP/stats.txt"
fi
# A peer that cannot be read, and a refused accept: traced and counted.
run preload unreadable LIBSOCK_DENY=127.0.0.2 LIBSOCK_TRACE="$TMP/unreadable.trace" >/dev/null 2>&1
env ACCESS_PRELOAD="$LIB" LIBSOCK_TRACE="$TMP/inherit.trace" LIBSOCK_STATS="$TMP/inherit.stats" \
    "$BUILD/access.native" inherit >/dev/null 2>&1
if [ "$(grep -Ec '\] connect\([0-9]+, .*\) = -1 EPERM denied_by=fail-closed:peer-unreadable <' "$TMP/unreadable.trace")" -eq 2 ] &&
    grep -Eq '\] accept\([0-9]+\) = -1 ECONNABORTED denied_by=LIBSOCK_DENY:127\.0\.0\.2 <' "$TMP/inherit.trace" &&
    grep -q '^  denied by access rules: accept 1$' "$TMP/inherit.stats"; then
    ok "trace: denied_by=fail-closed:peer-unreadable; a refused accept traced and counted"
else
    bad "trace of unreadable peers and refused accepts"
    grep -E 'connect|accept' "$TMP/unreadable.trace" "$TMP/inherit.trace"
    grep denied "$TMP/inherit.stats"
fi
run linked outbound LIBSOCK_ALLOW=127.0.0.1,127.0.0.3,127.0.0.4:7011-65535 LIBSOCK_TRACE="$TMP/trace.json" \
    LIBSOCK_TRACE_FORMAT=json >/dev/null 2>&1
if "$PYTHON" - "$TMP/trace.json" <<'EOF'; then
import json, sys
lines = [json.loads(l) for l in open(sys.argv[1])]
denied = [l for l in lines if l.get("denied_by")]
assert denied, "no denied_by"
for l in denied:
    # A sendmmsg cut before a denied message returns what it sent.
    partial = l["call"] == "sendmmsg" and l["ret"] > 0
    assert partial or (l["ret"] == -1 and l["errno"] == "EPERM"), l
assert any(l["call"] == "connect" and l["denied_by"] == "LIBSOCK_ALLOW:no-match" for l in denied)
assert {l["call"] for l in denied} >= {"connect", "sendto", "sendmsg", "sendmmsg"}, denied
EOF
    ok "JSON trace: \"denied_by\" on every EPERM denial"
else
    bad "JSON trace"
fi

# ---- real programs ------------------------------------------------------------

# curl: refused with EPERM, nothing reaches the server.
if command -v curl >/dev/null; then
    p=$(free_port)
    "$PYTHON" -m http.server --bind 127.0.0.1 "$p" >"$TMP/http.log" 2>&1 &
    background $!
    for _ in $(seq 50); do curl -s -o /dev/null "http://127.0.0.1:$p/" && break; sleep 0.1; done
    : >"$TMP/http.log"
    LD_PRELOAD="$LIB" LIBSOCK_DENY=127.0.0.1 LIBSOCK_TRACE="$TMP/curl.trace" \
        curl -sS --max-time 5 "http://127.0.0.1:$p/" >/dev/null 2>"$TMP/curl.err"
    rc=$?
    sleep 0.2
    if [ $rc -eq 7 ] && grep -q "connect([0-9]*, 127.0.0.1:$p) = -1 EPERM denied_by=LIBSOCK_DENY:127.0.0.1" "$TMP/curl.trace" &&
        ! grep -q 'GET' "$TMP/http.log"; then
        ok "curl refused: exit 7, its connect = -1 EPERM, nothing reached the server"
    else
        bad "curl: exit $rc: $(cat "$TMP/curl.err")"
        grep connect "$TMP/curl.trace"
    fi
    # A TCP server (Python's http.server) never accepts a denied peer.
    q=$(free_port)
    LD_PRELOAD="$LIB" LIBSOCK_DENY=127.0.0.2 "$PYTHON" -m http.server --bind 127.0.0.1 "$q" \
        >"$TMP/http2.log" 2>&1 &
    background $!
    for _ in $(seq 50); do curl -s -o /dev/null --interface 127.0.0.3 "http://127.0.0.1:$q/" && break; sleep 0.1; done
    curl -s -o /dev/null --max-time 2 --interface 127.0.0.2 "http://127.0.0.1:$q/"
    denied_rc=$?
    curl -s -o /dev/null --max-time 5 --interface 127.0.0.3 "http://127.0.0.1:$q/"
    allowed_rc=$?
    sleep 0.2
    if [ $denied_rc -ne 0 ] && [ $allowed_rc -eq 0 ] && grep -q '^127.0.0.3 ' "$TMP/http2.log" &&
        ! grep -q '^127.0.0.2 ' "$TMP/http2.log"; then
        ok "http.server preloaded: 127.0.0.2 never accepted (curl exit $denied_rc), 127.0.0.3 served"
    else
        bad "http.server: denied curl exit $denied_rc, allowed exit $allowed_rc"
        cat "$TMP/http2.log"
    fi
else
    bad "curl is not installed (.ci/run installs it)"
fi

# UDP servers: Python and socat, preloaded, never see 127.0.0.2's datagrams.
if command -v socat >/dev/null; then
    p=$(free_port udp)
    LD_PRELOAD="$LIB" LIBSOCK_DENY=127.0.0.2 "$PYTHON" -u -c '
import socket, sys
s = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
s.bind(("::", int(sys.argv[1])))
s.settimeout(3)
try:
    while True:
        data, peer = s.recvfrom(100)
        print(peer[0], data.decode().strip())
except socket.timeout:
    pass
' "$p" >"$TMP/pyudp.log" 2>&1 &
    pyudp=$!
    p2=$(free_port udp)
    LD_PRELOAD="$LIB" LIBSOCK_DENY=127.0.0.2 timeout 3 socat -u "UDP-RECV:$p2,bind=127.0.0.1" - >"$TMP/socat.log" 2>&1 &
    socat_pid=$!
    background $pyudp
    background $socat_pid
    sleep 0.5
    for src in 127.0.0.2 127.0.0.3 127.0.0.2; do
        echo "from-$src" | socat -u - "UDP-SENDTO:127.0.0.1:$p,bind=$src"
        echo "from-$src" | socat -u - "UDP-SENDTO:127.0.0.1:$p2,bind=$src"
    done
    wait $pyudp $socat_pid 2>/dev/null
    if grep -q '::ffff:127.0.0.3 from-127.0.0.3' "$TMP/pyudp.log" && ! grep -q '127.0.0.2' "$TMP/pyudp.log"; then
        ok "Python dual-stack UDP server: only 127.0.0.3's datagram ($(wc -l <"$TMP/pyudp.log") line)"
    else
        bad "Python UDP server saw:"
        cat "$TMP/pyudp.log"
    fi
    if grep -q 'from-127.0.0.3' "$TMP/socat.log" && ! grep -q 'from-127.0.0.2' "$TMP/socat.log"; then
        ok "socat UDP server: only 127.0.0.3's datagram"
    else
        bad "socat UDP server saw:"
        cat "$TMP/socat.log"
    fi
else
    bad "socat is not installed (.ci/run installs it)"
fi

finish
