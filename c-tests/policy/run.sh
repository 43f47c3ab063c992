#!/usr/bin/env bash
# The LIBSOCK_* socket policy (SPEC.md, "Runtime configuration"), observed
# from outside libsock, on loopback only:
#
#   1. c-tests/policy/readback.c creates TCP/UDP sockets of both INET
#      families and Unix sockets, binds, listens, connects, accepts, and
#      prints every option of interest as the kernel reports it. It runs once
#      without libsock (the baseline) and preloaded with each variable; every
#      key must equal the baseline except those the variable is documented to
#      change, which must have exactly the expected value. Its -o mode sets
#      the options itself after libsock did: the program must win, and an
#      accepted socket must still get the policy.
#   2. Each invalid value: exactly one stderr line
#      `libsock: VAR="value" ignored: expected ...`, no effect, the
#      program's exit status unchanged; one line per process even when
#      threads race to the first socket call (c-tests/policy/first_use.c).
#   3. Unmodified programs: python3's socket module (NODELAY, TOS, REUSEADDR,
#      BIND_ADDR), python3 -m http.server and socat with a trace (BIND_ADDR +
#      PORT_MAP, bytes really arrive on the mapped port).
#   4. A python3 server that never sets SO_REUSEADDR, killed with -9 while a
#      client holds its connection open (the server side is left in
#      FIN-WAIT-2): restarting on the port fails with EADDRINUSE without
#      LIBSOCK_REUSEADDR and succeeds at once with it.
#
# Run from anywhere after `make`:   bash c-tests/policy/run.sh
# Environment: LIBDIR (default target/release), CC (default cc),
#              PYTHON (default python3).
# Last line: "policy: N passed, M failed"; exit status 0 only if M is 0.
set -euo pipefail
. "$(dirname "$0")/../../tests/lib/harness.sh"
harness policy

LIBDIR=${LIBDIR:-target/release}
CC=${CC:-cc}
PY=${PYTHON:-python3}
T=15 # seconds any single program may take

find_libsock
need "$CC" "$PY" timeout flock ss curl socat

# Nothing may leak in from the caller.
no_config LD_DEBUG LD_LIBRARY_PATH

# Concurrent runs of this script would pick the same fixed ports: one at a time.
exec 9>"${TMPDIR:-/tmp}/libsock-policy.lock"
flock -w 120 9 || die "another c-tests/policy/run.sh has held the lock for 120 s"

scratch work policy

rb=$work/readback
"$CC" -O2 -Wall -Wextra -Werror -o "$rb" c-tests/policy/readback.c
"$CC" -O2 -Wall -Wextra -Werror -pthread -o "$work/first_use" c-tests/policy/first_use.c

# show FILE...: for messages; never fails (a command substitution that fails
# in an assignment would end the script under set -e).
show() { cat "$@" 2>/dev/null || true; }

# Ports: free for TCP and UDP on both families right now, below the
# ephemeral range (so nothing else picks them meanwhile).
mapfile -t PORTS < <("$PY" - <<'EOF'
import random, socket
lo, _ = map(int, open("/proc/sys/net/ipv4/ip_local_port_range").read().split())
found = []
for p in random.sample(range(20000, min(lo, 32768) - 1), 2000):
    try:
        socks = []
        for fam, typ in ((socket.AF_INET, socket.SOCK_STREAM), (socket.AF_INET, socket.SOCK_DGRAM),
                         (socket.AF_INET6, socket.SOCK_STREAM), (socket.AF_INET6, socket.SOCK_DGRAM)):
            s = socket.socket(fam, typ)
            socks.append(s)
            if fam == socket.AF_INET6:
                s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
            s.bind(("::" if fam == socket.AF_INET6 else "0.0.0.0", p))
        found.append(p)
    except OSError:
        pass
    finally:
        for s in socks:
            s.close()
    if len(found) == 40:
        break
print("\n".join(map(str, found)))
EOF
)
[ "${#PORTS[@]}" -eq 40 ] || die "could not find 40 free ports"
next_port=0
port() { # sets $P to a fresh port
    P=${PORTS[$next_port]}
    next_port=$((next_port + 1))
}

# ---- 1. readback --------------------------------------------------------------

# rb_run NAME [VAR=VALUE...] -- [readback args]: the readback program preloaded
# with the variables (none: LD_PRELOAD alone). NAME.out, NAME.err, NAME.rc.
rb_run() {
    local name=$1 rc=0
    shift
    local envs=()
    while [ "$1" != -- ]; do envs+=("$1"); shift; done
    shift
    env "${envs[@]}" LD_PRELOAD="$lib" timeout "$T" "$rb" "$@" \
        >"$work/$name.out" 2>"$work/$name.err" || rc=$?
    echo "$rc" >"$work/$name.rc"
}

# rb_base NAME [readback args]: without libsock.
rb_base() {
    local name=$1 rc=0
    shift
    timeout "$T" "$rb" "$@" >"$work/$name.out" 2>"$work/$name.err" || rc=$?
    echo "$rc" >"$work/$name.rc"
    if [ "$rc" != 0 ] || [ -s "$work/$name.err" ] || grep -qE 'ERR|FAILED|MISMATCH' "$work/$name.out"; then
        local freebind_probe_only
        freebind_probe_only=$(grep -vE '^freebind[46]\.bind=ERR:EADDRNOTAVAIL$' "$work/$name.out" |
            grep -cE 'ERR|FAILED|MISMATCH' || true)
        if [ "$rc" != 0 ] || [ -s "$work/$name.err" ] || [ "$freebind_probe_only" != 0 ]; then
            die "baseline run '$name' ($*) went wrong: rc=$rc $(cat "$work/$name.err") $(grep -E 'ERR|FAILED|MISMATCH' "$work/$name.out")"
        fi
    fi
}

# compare NAME BASE [GLOB=VALUE...]: every key of NAME.out equals BASE's, except
# keys matching a GLOB (first match wins), which must equal its VALUE (@base:
# the baseline's, to shield keys from later GLOBs). Each GLOB must match some
# key. Sets $why to the differences; status 0 if none.
compare() {
    local name=$1 base=$2
    shift 2
    local -A b=() o=() used=()
    local k v e g want found
    why=()
    while IFS='=' read -r k v; do b[$k]=$v; done <"$work/$base.out"
    while IFS='=' read -r k v; do o[$k]=$v; done <"$work/$name.out"
    for k in "${!b[@]}"; do [ -v "o[$k]" ] || why+=("missing: $k (baseline ${b[$k]})"); done
    for k in $(printf '%s\n' "${!o[@]}" | sort); do
        found=0
        for e in "$@"; do
            g=${e%%=*}
            # shellcheck disable=SC2053 # $g is a glob on purpose
            if [[ $k == $g ]]; then
                want=${e#*=}
                found=1
                used[$g]=1
                break
            fi
        done
        if [ $found = 0 ]; then
            if [ ! -v "b[$k]" ]; then
                why+=("unexpected: $k=${o[$k]}")
                continue
            fi
            want=${b[$k]}
        fi
        [ "$want" != @base ] || want=${b[$k]-none}
        [ "${o[$k]}" = "$want" ] || why+=("$k=${o[$k]}, expected $want (baseline ${b[$k]-none})")
    done
    for e in "$@"; do
        g=${e%%=*}
        [ -v "used[$g]" ] || why+=("expectation $e matched no key")
    done
    [ ${#why[@]} -eq 0 ]
}

# check LABEL NAME BASE [GLOB=VALUE...]: compare, plus a clean run (status 0,
# nothing on stderr, getsockopt agreeing with the raw system call).
check() {
    local label=$1 name=$2 base=$3
    shift 3
    local extra=()
    [ "$(cat "$work/$name.rc")" = 0 ] || extra+=("exit status $(cat "$work/$name.rc")")
    [ ! -s "$work/$name.err" ] || extra+=("stderr: $(head -3 "$work/$name.err")")
    ! grep -q MISMATCH "$work/$name.out" || extra+=("getsockopt differs from the kernel's answer: $(grep MISMATCH "$work/$name.out" | head -3)")
    if compare "$name" "$base" "$@" && [ ${#extra[@]} -eq 0 ]; then
        ok "$label"
    else
        bad "$label" "${extra[@]}" "${why[@]:0:12}"
    fi
}

rb_base base
rb_base base_o -o
rb_base base_free -f 192.0.2.1 -F 2001:db8::1
port; P4=$P; port; P6=$P
rb_base base_fixed -p "$P4" -q "$P6"

rb_run none --
check "preloaded, nothing configured: every option as without libsock" none base

# A variable set to 0 or empty is off: no change, no message.
rb_run off LIBSOCK_NODELAY=0 LIBSOCK_REUSEADDR=0 LIBSOCK_KEEPALIVE=0 LIBSOCK_TOS= LIBSOCK_RCVBUF= --
check "NODELAY=0 REUSEADDR=0 KEEPALIVE=0 TOS= RCVBUF=: all off, silent" off base

rb_run nodelay LIBSOCK_NODELAY=1 --
check "NODELAY=1: TCP_NODELAY on created (listener, client, SOCK_NONBLOCK|SOCK_CLOEXEC) and accepted TCP sockets" \
    nodelay base 'tcp*.nodelay=1'

rb_run nodelay_o LIBSOCK_NODELAY=1 -- -o
check "NODELAY=1 -o: the program's TCP_NODELAY=0 wins; accepted still gets 1" \
    nodelay_o base_o 'tcp*.set.nodelay=0' 'tcp*.nodelay=1'

rb_run reuseaddr LIBSOCK_REUSEADDR=1 --
check "REUSEADDR=1: SO_REUSEADDR set before every INET bind (TCP, UDP, v4, v6), not at creation" \
    reuseaddr base 'tcp*.bound.reuseaddr=1' 'udp*.bound.reuseaddr=1'

rb_run reuseport LIBSOCK_REUSEPORT=1 --
check "REUSEPORT=1: SO_REUSEPORT set before every INET bind" \
    reuseport base 'tcp*.bound.reuseport=1' 'udp*.bound.reuseport=1'

rb_run freebind LIBSOCK_FREEBIND=1 -- -f 192.0.2.1 -F 2001:db8::1
if grep -qx 'freebind4.bind=ERR:EADDRNOTAVAIL' "$work/base_free.out" &&
    grep -qx 'freebind6.bind=ERR:EADDRNOTAVAIL' "$work/base_free.out"; then
    check "FREEBIND=1: IP(V6)_FREEBIND before bind; binding non-local 192.0.2.1 / 2001:db8::1 now succeeds" \
        freebind base_free '*.bound.freebind=1' 'freebind4.bind=ok' 'freebind6.bind=ok'
else
    # ip_nonlocal_bind is on here: a non-local bind proves nothing.
    check "FREEBIND=1: IP(V6)_FREEBIND before bind (non-local bind allowed anyway on this host)" \
        freebind base_free '*.bound.freebind=1'
fi

rb_run keep1 LIBSOCK_KEEPALIVE=1 --
check "KEEPALIVE=1: SO_KEEPALIVE on TCP sockets, system timings kept, UDP untouched" \
    keep1 base 'tcp*.keepalive=1'
rb_run keep45 LIBSOCK_KEEPALIVE=45 --
check "KEEPALIVE=45: SO_KEEPALIVE + TCP_KEEPIDLE=45" \
    keep45 base 'tcp*.keepalive=1' 'tcp*.keepidle=45'
rb_run keep3 LIBSOCK_KEEPALIVE=30,5,3 --
check "KEEPALIVE=30,5,3: SO_KEEPALIVE + TCP_KEEPIDLE/INTVL/CNT" \
    keep3 base 'tcp*.keepalive=1' 'tcp*.keepidle=30' 'tcp*.keepintvl=5' 'tcp*.keepcnt=3'

# The kernel keeps the two ECN bits of a TCP socket's TOS/TCLASS clear.
for spec in low-delay:16 throughput:8 reliability:4 low-cost:2 184:184 0xb8:184 255:255; do
    name=${spec%%:*} v=${spec##*:} vt=$((${spec##*:} & ~3))
    rb_run "tos_$name" LIBSOCK_TOS="$name" --
    check "TOS=$name: IP_TOS=$v on IPv4, IPV6_TCLASS=$v on IPv6 (created, client, accepted; TCP reads $vt)" \
        "tos_$name" base "tcp4*.tos=$vt" "udp4.*.tos=$v" "tcp6.*.tclass=$vt" "udp6.*.tclass=$v"
done

rb_run rcvbuf LIBSOCK_RCVBUF=100000 --
check "RCVBUF=100000: SO_RCVBUF reads 200000 (kernel doubles) on INET sockets, created and accepted" \
    rcvbuf base 'tcp*.rcvbuf=200000' 'udp*.rcvbuf=200000'
rb_run sndbuf LIBSOCK_SNDBUF=50000 --
check "SNDBUF=50000: SO_SNDBUF reads 100000 on INET sockets, created and accepted" \
    sndbuf base 'tcp*.sndbuf=100000' 'udp*.sndbuf=100000'

port; P4=$P; port; P6=$P
rb_run bind4 LIBSOCK_BIND_ADDR=127.0.0.1 -- -p "$P4" -q "$P6"
check "BIND_ADDR=127.0.0.1: 0.0.0.0:$P4 binds end up on 127.0.0.1:$P4; dual-stack [::]:$P6 on [::ffff:127.0.0.1]:$P6" \
    bind4 base_fixed 'tcp4*.bound.addr=127.0.0.1' 'udp4.bound.addr=127.0.0.1' \
    'tcp6.bound.addr=::ffff:127.0.0.1' 'udp6.bound.addr=::ffff:127.0.0.1'
port; P4=$P; port; P6=$P
rb_run bind6 LIBSOCK_BIND_ADDR=::1 -- -p "$P4" -q "$P6"
check "BIND_ADDR=::1: [::]:$P6 binds end up on [::1]:$P6; IPv4 untouched" \
    bind6 base_fixed 'tcp6.bound.addr=::1' 'udp6.bound.addr=::1'
port; P4=$P; port; P6=$P
rb_run bind46 LIBSOCK_BIND_ADDR=::1,127.0.0.1 -- -p "$P4" -q "$P6"
check "BIND_ADDR=::1,127.0.0.1: both families confined to loopback" \
    bind46 base_fixed 'tcp4*.bound.addr=127.0.0.1' 'udp4.bound.addr=127.0.0.1' \
    'tcp6.bound.addr=::1' 'udp6.bound.addr=::1'

port; P4=$P; port; P6=$P; port; Q4=$P; port; Q6=$P
rb_run portmap LIBSOCK_PORT_MAP="$P4:$Q4,$P6:$Q6" -- -p "$P4" -q "$P6"
check "PORT_MAP=$P4:$Q4,$P6:$Q6: binds to $P4 land on $Q4, to $P6 on $Q6 (TCP and UDP, v4 and v6)" \
    portmap base_fixed "tcp4*.bound.port=$Q4" "udp4.bound.port=$Q4" "tcp6.bound.port=$Q6" "udp6.bound.port=$Q6"
port; Q=$P
rb_run portmap0 LIBSOCK_PORT_MAP="0:$Q" --
check "PORT_MAP=0:$Q: binds to port 0 land on $Q" portmap0 base "*.bound.port=$Q"
rb_run portmap_other LIBSOCK_PORT_MAP="1:2,3:4" --
check "PORT_MAP=1:2,3:4: other ports untouched" portmap_other base
port; P4=$P; port; P6=$P; port; Q=$P
rb_run bindmap LIBSOCK_BIND_ADDR=127.0.0.1 LIBSOCK_PORT_MAP="$P4:$Q" -- -p "$P4" -q "$P6"
check "BIND_ADDR=127.0.0.1 + PORT_MAP=$P4:$Q: 0.0.0.0:$P4 becomes 127.0.0.1:$Q, dual-stack [::] on ::ffff:127.0.0.1" \
    bindmap base_fixed 'tcp4*.bound.addr=127.0.0.1' 'udp4.bound.addr=127.0.0.1' \
    'tcp6.bound.addr=::ffff:127.0.0.1' 'udp6.bound.addr=::ffff:127.0.0.1' \
    "tcp4*.bound.port=$Q" "udp4.bound.port=$Q"

# Everything at once; Unix sockets and socketpairs must stay untouched (no
# glob below matches a unix.* or pair.* key).
ALL=(LIBSOCK_REUSEADDR=1 LIBSOCK_REUSEPORT=1 LIBSOCK_FREEBIND=1 LIBSOCK_NODELAY=1
    LIBSOCK_KEEPALIVE=30,5,3 LIBSOCK_TOS=low-delay LIBSOCK_RCVBUF=100000 LIBSOCK_SNDBUF=50000
    LIBSOCK_BIND_ADDR=127.0.0.1,::1)
ALL_EXPECT=('tcp*.nodelay=1' 'tcp*.keepalive=1' 'tcp*.keepidle=30' 'tcp*.keepintvl=5' 'tcp*.keepcnt=3'
    'tcp4*.tos=16' 'udp4.*.tos=16' 'tcp6.*.tclass=16' 'udp6.*.tclass=16'
    'tcp*.rcvbuf=200000' 'udp*.rcvbuf=200000' 'tcp*.sndbuf=100000' 'udp*.sndbuf=100000'
    '*.bound.reuseaddr=1' '*.bound.reuseport=1' '*.bound.freebind=1'
    'tcp4*.bound.addr=127.0.0.1' 'udp4.bound.addr=127.0.0.1' 'tcp6.bound.addr=::1' 'udp6.bound.addr=::1')
rb_run all "${ALL[@]}" --
check "all variables at once: each applied; Unix sockets and socketpairs untouched" all base \
    'unix.*=@base' 'pair.*=@base' "${ALL_EXPECT[@]}"

# The program's own setsockopt after libsock's wins (set.*: after socket(),
# rebound.*: after bind()); an accepted socket still gets the policy although
# its listener had it switched off (so it is not merely inherited).
rb_run all_o "${ALL[@]}" -- -o
check "all variables, -o: the program's own setsockopt wins; getsockopt tells the truth; accepted get the policy" \
    all_o base_o 'unix.*=@base' 'pair.*=@base' \
    'tcp*.set.nodelay=0' '*.set.keepalive=0' '*.set.tos=0' '*.set.tclass=0' \
    '*.set.rcvbuf=8192' '*.set.sndbuf=16384' '*.rebound.*=0' "${ALL_EXPECT[@]}"

# ---- 2. invalid values --------------------------------------------------------

# invalid VAR VALUE WORD: one line `libsock: VAR="VALUE" ignored: expected ...`
# (containing WORD), no effect, exit status 7 kept.
invalid() {
    local var=$1 value=$2 word=$3 name=inv$((passed + failed)) msgs=()
    rb_run "$name" "$var=$value" -- -x 7
    local rc lines first
    rc=$(cat "$work/$name.rc")
    lines=$(wc -l <"$work/$name.err")
    first=$(head -1 "$work/$name.err")
    [ "$rc" = 7 ] || msgs+=("exit status $rc, expected the program's 7")
    [ "$lines" = 1 ] || msgs+=("$lines stderr lines: $(head -3 "$work/$name.err")")
    [[ $first == "libsock: $var=\"$value\" ignored: expected "?* ]] ||
        msgs+=("stderr line: '$first'")
    [[ $first == *"$word"* ]] || msgs+=("stderr line does not mention '$word': '$first'")
    compare "$name" base || msgs+=("${why[@]:0:6}")
    if [ ${#msgs[@]} -eq 0 ]; then
        ok "invalid $var=\"$value\": one line, no effect, exit status kept"
    else
        bad "invalid $var=\"$value\"" "${msgs[@]}"
    fi
}
for v in yes 2 true on -1 ' 1'; do invalid LIBSOCK_REUSEADDR "$v" '1 (on) or 0 (off)'; done
invalid LIBSOCK_REUSEPORT on '1 (on) or 0 (off)'
invalid LIBSOCK_FREEBIND yes '1 (on) or 0 (off)'
for v in 2 yes 01; do invalid LIBSOCK_NODELAY "$v" '1 (on) or 0 (off)'; done
for v in 0,5 30,5,3,1 30,5,128 -1 abc 30, 40000 ,5; do invalid LIBSOCK_KEEPALIVE "$v" 'IDLE[,INTVL[,CNT]]'; done
for v in 256 fast 0x100 -1 Low-Delay 1e2; do invalid LIBSOCK_TOS "$v" 'low-delay'; done
for v in 0 64k 2147483648 -5 ' 100'; do invalid LIBSOCK_RCVBUF "$v" 'bytes'; done
invalid LIBSOCK_SNDBUF 1.5 'bytes'
for v in localhost 1.2.3.4,5.6.7.8 127.0.0.1:80 ::1,::2 '[::1]' 127.0.0.256; do
    invalid LIBSOCK_BIND_ADDR "$v" 'IPv4'
done
for v in 80 80:70000 80:1,80:2 80:8080, :80 80:-1 'a:b'; do invalid LIBSOCK_PORT_MAP "$v" 'FROM:TO'; done

# Threads racing to make the process's first socket call: still one line
# (the configuration may be read by several of them at once). Runs with
# only bad values (nothing active) and with a good one too.
msgs=()
for envs in "LIBSOCK_TOS=fast" "LIBSOCK_NODELAY=1 LIBSOCK_TOS=fast"; do
    counts=()
    for _ in $(seq 50); do
        # shellcheck disable=SC2086 # $envs is a list of assignments
        n=$(env $envs LD_PRELOAD="$lib" timeout "$T" "$work/first_use" 8 2>&1 >/dev/null | wc -l)
        [ "$n" = 1 ] || counts+=("$n")
    done
    [ ${#counts[@]} -eq 0 ] ||
        msgs+=("$envs: ${#counts[@]} of 50 runs printed more than one line (line counts: ${counts[*]})")
done
if [ ${#msgs[@]} -eq 0 ]; then
    ok "8 threads making the first socket call at once: one warning line per process (100 runs)"
else
    bad "8 threads making the first socket call at once: one warning line per process" "${msgs[@]}"
fi

# A value with a newline or a quote is escaped: still one line.
escaped() { # TAG VALUE SHOWN
    local tag=$1 value=$2 shown=$3 msgs=()
    rb_run "esc_$tag" LIBSOCK_TOS="$value" -- -x 5
    [ "$(cat "$work/esc_$tag.rc")" = 5 ] || msgs+=("exit status $(cat "$work/esc_$tag.rc")")
    [ "$(wc -l <"$work/esc_$tag.err")" = 1 ] || msgs+=("stderr: $(show "$work/esc_$tag.err")")
    [[ $(head -1 "$work/esc_$tag.err") == "libsock: LIBSOCK_TOS=$shown ignored: expected "* ]] ||
        msgs+=("stderr line: $(head -1 "$work/esc_$tag.err")")
    compare "esc_$tag" base || msgs+=("${why[@]:0:6}")
    if [ ${#msgs[@]} -eq 0 ]; then
        ok "invalid LIBSOCK_TOS with a $tag: one line, the value escaped as $shown"
    else
        bad "invalid LIBSOCK_TOS with a $tag" "${msgs[@]}"
    fi
}
escaped newline $'1\n2' '"1\n2"'
escaped quote 'a"b' '"a\"b"'

# A bad value leaves the other variables working.
rb_run mixed LIBSOCK_NODELAY=1 LIBSOCK_TOS=fast LIBSOCK_RCVBUF=64k -- -x 3
msgs=()
[ "$(cat "$work/mixed.rc")" = 3 ] || msgs+=("exit status $(cat "$work/mixed.rc")")
[ "$(wc -l <"$work/mixed.err")" = 2 ] || msgs+=("stderr: $(cat "$work/mixed.err")")
grep -qx 'libsock: LIBSOCK_TOS="fast" ignored: expected .*' "$work/mixed.err" || msgs+=("no TOS line")
grep -qx 'libsock: LIBSOCK_RCVBUF="64k" ignored: expected .*' "$work/mixed.err" || msgs+=("no RCVBUF line")
compare mixed base 'tcp*.nodelay=1' || msgs+=("${why[@]:0:6}")
if [ ${#msgs[@]} -eq 0 ]; then
    ok "NODELAY=1 TOS=fast RCVBUF=64k: one line per bad variable, NODELAY still applied"
else
    bad "NODELAY=1 with bad TOS and RCVBUF" "${msgs[@]}"
fi

# ---- 3. unmodified programs -------------------------------------------------

# py NAME [VAR=VALUE...] -- CODE [ARGS]: python3 -c CODE, preloaded.
py() {
    local name=$1 rc=0
    shift
    local envs=()
    while [ "$1" != -- ]; do envs+=("$1"); shift; done
    shift
    env "${envs[@]}" LD_PRELOAD="$lib" timeout "$T" "$PY" -c "$@" \
        >"$work/$name.out" 2>"$work/$name.err" || rc=$?
    echo "$rc" >"$work/$name.rc"
}

# expect_out LABEL NAME TEXT: the python program printed TEXT, exited 0, said
# nothing on stderr.
expect_out() {
    local label=$1 name=$2 want=$3 got
    got=$(cat "$work/$name.out")
    if [ "$got" = "$want" ] && [ "$(cat "$work/$name.rc")" = 0 ] && [ ! -s "$work/$name.err" ]; then
        ok "$label"
    else
        bad "$label" "printed '$got', expected '$want'" "exit status $(cat "$work/$name.rc")" \
            "stderr: $(head -5 "$work/$name.err")"
    fi
}

OPTS_PY='
import socket as S
l = S.socket(); l.bind(("127.0.0.1", 0)); l.listen()
c = S.create_connection(l.getsockname()); a, _ = l.accept()
u = S.socket(S.AF_INET, S.SOCK_DGRAM); u6 = S.socket(S.AF_INET6, S.SOCK_DGRAM); t6 = S.socket(S.AF_INET6)
print("nodelay", l.getsockopt(S.IPPROTO_TCP, S.TCP_NODELAY), c.getsockopt(S.IPPROTO_TCP, S.TCP_NODELAY),
      a.getsockopt(S.IPPROTO_TCP, S.TCP_NODELAY))
print("tos", c.getsockopt(S.IPPROTO_IP, S.IP_TOS), a.getsockopt(S.IPPROTO_IP, S.IP_TOS),
      u.getsockopt(S.IPPROTO_IP, S.IP_TOS), t6.getsockopt(S.IPPROTO_IPV6, S.IPV6_TCLASS),
      u6.getsockopt(S.IPPROTO_IPV6, S.IPV6_TCLASS))
print("reuseaddr", l.getsockopt(S.SOL_SOCKET, S.SO_REUSEADDR), c.getsockopt(S.SOL_SOCKET, S.SO_REUSEADDR))
c.setsockopt(S.IPPROTO_TCP, S.TCP_NODELAY, 0); u.setsockopt(S.IPPROTO_IP, S.IP_TOS, 0)
print("own", c.getsockopt(S.IPPROTO_TCP, S.TCP_NODELAY), u.getsockopt(S.IPPROTO_IP, S.IP_TOS))
'
py py_plain -- "$OPTS_PY"
expect_out "python3 socket module, nothing configured: kernel defaults" py_plain \
    "$(printf 'nodelay 0 0 0\ntos 0 0 0 0 0\nreuseaddr 0 0\nown 0 0')"
py py_opts LIBSOCK_NODELAY=1 LIBSOCK_TOS=throughput LIBSOCK_REUSEADDR=1 -- "$OPTS_PY"
expect_out "python3 under NODELAY=1 TOS=throughput REUSEADDR=1: getsockopt sees them (REUSEADDR only where bound); its own setsockopt wins" \
    py_opts "$(printf 'nodelay 1 1 1\ntos 8 8 8 8 8\nreuseaddr 1 0\nown 0 0')"

port; P4=$P; port; P6=$P
BIND_PY='
import socket as S, sys
p4, p6 = int(sys.argv[1]), int(sys.argv[2])
s = S.socket(); s.bind(("0.0.0.0", p4)); print(*s.getsockname())
s6 = S.socket(S.AF_INET6); s6.bind(("::", p6)); print(*s6.getsockname()[:2])
u6 = S.socket(S.AF_INET6, S.SOCK_DGRAM); u6.bind(("::", 0)); print(u6.getsockname()[0])
o6 = S.socket(S.AF_INET6); o6.setsockopt(S.IPPROTO_IPV6, S.IPV6_V6ONLY, 1); o6.bind(("::", 0)); print(o6.getsockname()[0])
'
py py_bind4 LIBSOCK_BIND_ADDR=127.0.0.1 -- "$BIND_PY" "$P4" "$P6"
expect_out "python3 binding 0.0.0.0:$P4 under BIND_ADDR=127.0.0.1 is on 127.0.0.1:$P4; dual-stack [::] on ::ffff:127.0.0.1; a V6ONLY socket untouched" \
    py_bind4 "$(printf '127.0.0.1 %s\n::ffff:127.0.0.1 %s\n::ffff:127.0.0.1\n::' "$P4" "$P6")"
port; P4=$P; port; P6=$P
py py_bind6 LIBSOCK_BIND_ADDR=::1 -- "$BIND_PY" "$P4" "$P6"
expect_out "python3 binding [::]:$P6 under BIND_ADDR=::1 is on [::1]:$P6; IPv4 untouched" \
    py_bind6 "$(printf '0.0.0.0 %s\n::1 %s\n::1\n::1' "$P4" "$P6")"

# python3 -m http.server asked for 0.0.0.0:P, under BIND_ADDR + PORT_MAP: it
# serves on 127.0.0.1:Q only, says so itself, and curl gets the file there.
port; HP=$P; port; HQ=$P
mkdir "$work/www"
head -c 100000 /dev/urandom >"$work/www/blob"
(cd "$work/www" && LIBSOCK_BIND_ADDR=127.0.0.1 LIBSOCK_PORT_MAP="$HP:$HQ" LD_PRELOAD=$lib \
    exec timeout 30 "$PY" -u -m http.server --bind 0.0.0.0 "$HP" >"$work/http.out" 2>"$work/http.err") &
hpid=$!
background "$hpid"
wait_for "$work/http.out" 'Serving' 5 >/dev/null || true
msgs=()
grep -q "Serving HTTP on 127.0.0.1 port $HQ " "$work/http.out" || msgs+=("server said: $(show "$work/http.out")")
listening=$(ss -Htln "( sport = :$HP or sport = :$HQ )" | awk '{print $4}' | sort | tr '\n' ' ')
[ "$listening" = "127.0.0.1:$HQ " ] || msgs+=("ss shows listeners on: '$listening', expected 127.0.0.1:$HQ only")
timeout "$T" curl -sS --fail -o "$work/got" "http://127.0.0.1:$HQ/blob" 2>>"$work/curl.err" ||
    msgs+=("curl: $(show "$work/curl.err")")
cmp -s "$work/www/blob" "$work/got" || msgs+=("the file fetched differs")
if [ ${#msgs[@]} -eq 0 ]; then
    ok "python3 -m http.server --bind 0.0.0.0 $HP under BIND_ADDR=127.0.0.1 PORT_MAP=$HP:$HQ serves on 127.0.0.1:$HQ"
else
    bad "http.server under BIND_ADDR + PORT_MAP" "${msgs[@]}"
fi
kill "$hpid" 2>/dev/null || true

# socat listening on 0.0.0.0:P under PORT_MAP + BIND_ADDR, traced: the bytes
# arrive through 127.0.0.1:Q and the trace shows both addresses.
port; SP=$P; port; SQ=$P
head -c 200000 /dev/urandom >"$work/socat.in"
LIBSOCK_PORT_MAP="$SP:$SQ" LIBSOCK_BIND_ADDR=127.0.0.1 LIBSOCK_NODELAY=1 LIBSOCK_TRACE="$work/socat.trace" \
    LD_PRELOAD=$lib timeout 30 socat -u "TCP4-LISTEN:$SP,bind=0.0.0.0" "OPEN:$work/socat.out,creat,trunc" \
    2>"$work/socat.err" &
spid=$!
background "$spid"
for _ in $(seq 100); do ss -Htln "( sport = :$SQ )" | grep -q . && break; sleep 0.05; done
msgs=()
timeout "$T" socat -u "OPEN:$work/socat.in" "TCP4:127.0.0.1:$SQ" 2>"$work/socat-client.err" ||
    msgs+=("client: $(show "$work/socat-client.err")")
wait "$spid" || msgs+=("server exit status $?: $(show "$work/socat.err")")
cmp -s "$work/socat.in" "$work/socat.out" || msgs+=("bytes differ")
grep -qE "^\[[0-9]+\] bind\([0-9]+, 127\.0\.0\.1:$SQ\) = 0 asked=0\.0\.0\.0:$SP " "$work/socat.trace" 2>/dev/null ||
    msgs+=("no rewritten bind in the trace: $(show "$work/socat.trace" | grep bind || true)")
# libsock's own setsockopt (TCP_NODELAY here) is not the program's call: not traced.
! grep -q 'TCP_NODELAY' "$work/socat.trace" 2>/dev/null ||
    msgs+=("libsock's own setsockopt appears in the trace: $(show "$work/socat.trace" | grep NODELAY || true)")
if [ ${#msgs[@]} -eq 0 ]; then
    ok "socat TCP4-LISTEN:$SP,bind=0.0.0.0 under PORT_MAP=$SP:$SQ BIND_ADDR=127.0.0.1: data via 127.0.0.1:$SQ, trace shows the rewrite"
else
    bad "socat under PORT_MAP + BIND_ADDR" "${msgs[@]}"
fi

# ---- 4. restart after kill -9 -------------------------------------------------

# A server that never sets SO_REUSEADDR: accepts one client, answers it, then
# sits. Prints "ready" once listening, "bind <errno>" (exit 3) on failure.
SERVER_PY='
import socket, sys, time
s = socket.socket()
try:
    s.bind(("127.0.0.1", int(sys.argv[1])))
except OSError as e:
    print("bind", __import__("errno").errorcode[e.errno], flush=True)
    sys.exit(3)
s.listen()
print("ready", s.getsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR), flush=True)
c, _ = s.accept()
c.sendall(b"pong:" + c.recv(100))
print("served", flush=True)
time.sleep(60)
'
# A client that talks once and then holds the connection open (so the
# killed server's side stays in FIN-WAIT-2, not closed by a RST).
CLIENT_PY='
import socket, sys, time
c = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
c.sendall(b"ping")
print(c.recv(100).decode(), flush=True)
time.sleep(float(sys.argv[2]))
'

# serve_and_kill NAME REUSE: a fresh port $KP; the server (LIBSOCK_REUSEADDR=REUSE,
# empty: unset) answers a client that then holds the connection open; kill
# -9; the server's side must be left in FIN-WAIT-2. Appends problems to msgs.
serve_and_kill() {
    local name=$1 reuse=$2 envs=() spid state=""
    port; KP=$P
    [ -z "$reuse" ] || envs=(LIBSOCK_REUSEADDR="$reuse")
    # No timeout(1) in between: kill -9 must hit the server itself (it
    # exits on its own after 60 s; the trap ends it before).
    env "${envs[@]}" LD_PRELOAD="$lib" "$PY" -c "$SERVER_PY" "$KP" >"$work/$name.s1" 2>&1 &
    spid=$!
    background "$spid"
    wait_for "$work/$name.s1" '^ready' 5 >/dev/null || msgs+=("first server: $(show "$work/$name.s1")")
    "$PY" -c "$CLIENT_PY" "$KP" 30 >"$work/$name.c1" 2>&1 &
    KCLIENT=$!
    background "$KCLIENT"
    wait_for "$work/$name.c1" '^pong:ping' 5 >/dev/null || msgs+=("client: $(show "$work/$name.c1")")
    wait_for "$work/$name.s1" '^served' 5 >/dev/null || msgs+=("first server: $(show "$work/$name.s1")")
    kill -9 "$spid"
    wait "$spid" 2>/dev/null || true
    for _ in $(seq 100); do
        state=$(ss -Htan "( sport = :$KP )" | awk '{print $1}' | sort -u | tr '\n' ' ')
        [[ $state == *FIN-WAIT-2* ]] && break
        sleep 0.02
    done
    [[ $state == *FIN-WAIT-2* ]] || msgs+=("server side not in FIN-WAIT-2 but '$state'")
}

# restart NAME REUSE: the server again on $KP. Sets RESTART to its first line
# ("bind EADDRINUSE", or "ready <SO_REUSEADDR>" once a new client got its
# answer from it).
restart() {
    local name=$1 reuse=$2 envs=() spid
    [ -z "$reuse" ] || envs=(LIBSOCK_REUSEADDR="$reuse")
    env "${envs[@]}" LD_PRELOAD="$lib" "$PY" -c "$SERVER_PY" "$KP" >"$work/$name" 2>&1 &
    spid=$!
    background "$spid"
    wait_for "$work/$name" '^(ready|bind)' 5 >/dev/null || true
    RESTART=$(head -1 "$work/$name")
    if [[ $RESTART == ready* ]]; then
        timeout "$T" "$PY" -c "$CLIENT_PY" "$KP" 0 >"$work/$name.c" 2>&1 || true
        [ "$(cat "$work/$name.c")" = pong:ping ] || RESTART="$RESTART, but a new client got '$(cat "$work/$name.c")'"
        kill "$spid" 2>/dev/null || true
    fi
    wait "$spid" 2>/dev/null || true
}

msgs=()
serve_and_kill noreuse ""
restart noreuse.s2 ""
[ "$RESTART" = "bind EADDRINUSE" ] || msgs+=("restart without LIBSOCK_REUSEADDR said '$RESTART', expected 'bind EADDRINUSE'")
kill "$KCLIENT" 2>/dev/null || true
wait "$KCLIENT" 2>/dev/null || true
if [ ${#msgs[@]} -eq 0 ]; then
    ok "server killed -9 with a connection open (FIN-WAIT-2): restart without LIBSOCK_REUSEADDR fails with EADDRINUSE"
else
    bad "restart without LIBSOCK_REUSEADDR" "${msgs[@]}"
fi

# With it on both runs: the kernel lets the bind through only if the socket
# still holding the port had SO_REUSEADDR too, so the first run needs it as
# well. Same port, same moment: first without the variable (must still
# fail), then with it (must succeed and serve).
msgs=()
serve_and_kill reuse 1
restart reuse.s2 ""
[ "$RESTART" = "bind EADDRINUSE" ] || msgs+=("control restart without the variable said '$RESTART', expected 'bind EADDRINUSE'")
restart reuse.s3 1
[ "$RESTART" = "ready 1" ] || msgs+=("restart under LIBSOCK_REUSEADDR=1 said '$RESTART', expected 'ready 1'")
kill "$KCLIENT" 2>/dev/null || true
wait "$KCLIENT" 2>/dev/null || true
if [ ${#msgs[@]} -eq 0 ]; then
    ok "server killed -9 with a connection open: restarts at once under LIBSOCK_REUSEADDR=1 and serves (not without, same port, same moment)"
else
    bad "restart under LIBSOCK_REUSEADDR=1" "${msgs[@]}"
fi

finish
