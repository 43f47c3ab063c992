#!/usr/bin/env bash
# sockrun's kernel-enforced mode (`sockrun --kernel`): `make kernel-test`.
#
# Static programs (gcc -static: no LD_PRELOAD can reach them) and a dynamic
# one's raw system calls, under `sockrun --kernel` with access rules, against
# receivers run natively that log what arrives:
#
#   spellings  c-tests/spelling/spelling.c, static: without rules every
#              spelling of 127.0.0.1 and ::1 arrives; with --deny naming them
#              (or --allow not naming them) every one is -1 EPERM through
#              connect, sendto, sendmsg and sendmmsg, nothing arrives, no SYN
#              reached a listener, the allowed peer arrives; --no-kernel
#              (control) lets them through, with the static-binary warning
#   race       threads send through a sockaddr another thread flips between
#              an allowed and a denied peer: not one datagram at the denied
#   calls      c-tests/kernel/kernel.c: a raw syscall(SYS_connect) from a
#              dynamic (preloaded) program refused; io_uring_setup ENOSYS;
#              raw and packet sockets EPERM; SOCK_NONBLOCK/SOCK_CLOEXEC kept
#              and the filter locked; 3 MB through sendmsg and sendto intact;
#              SCM_RIGHTS and a relative Unix path still work; a thread
#              blocked in a supervised call stalls no other; a socket
#              inherited from sockrun's caller is filtered
#   signals    c-tests/kernel/kernel.c intr-connect / intr-send: SIGALRM
#              during a supervised call that blocks (a TCP connect to a
#              listener whose backlog is full, a sendmsg on a full Unix
#              datagram socket), without SA_RESTART (EINTR), with it (the
#              call restarted, completing once the peer makes room), with
#              SO_SNDTIMEO (EINTR whatever SA_RESTART; its expiry:
#              EINPROGRESS, EAGAIN): the program's line under
#              `sockrun --kernel` is the native one, a send is never made
#              after the program saw EINTR nor twice after a restart (the
#              datagrams counted at the receiver); and again with
#              SOCKRUN_TEST_FAIL_PROBE=wait-killable (the filter without
#              WAIT_KILLABLE_RECV, as before Linux 5.19): the same except
#              that SO_SNDTIMEO no longer stops a restart
#   Go         c-tests/kernel/go (CGO_ENABLED=0): a dial and a UDP send to
#              the denied peer EPERM; 200 goroutines dialling at once under
#              preemption all connect; net/http GETs 3 MB of random bytes
#              from a native python3 -m http.server: under --deny of another
#              address the byte count and sha256 are sha256sum's (as
#              natively), under --deny of the server's address the GET is
#              EPERM and the server logs no request (skipped without go on
#              PATH)
#   resolvers  glibc's own DNS queries (internal calls libsock cannot see)
#              and Go's (its own system calls) to a nameserver the rules
#              deny: refused under --kernel, sent under --no-kernel (the
#              control; needs root for the bind mount)
#   sockrun    exit statuses and signal deaths pass through; SIGTERM to
#              sockrun reaches the command; a probe failure
#              (SOCKRUN_TEST_FAIL_PROBE) is exit 2 and one line with rules,
#              a warning without
#
# Skips with one line where the kernel has no seccomp user notification.
# Run from the repository root after `make`. Environment: CC (default cc),
# KERNEL_BUILD (default target/kernel), RACE_SECONDS (default 2),
# KERNEL_NO_KILLABLE=1 (every run as on a kernel before 5.19: the filter
# without WAIT_KILLABLE_RECV; the signals check then expects the fallback's
# documented difference).
# Last line: "kernel: N passed, M failed"; exit status 0 only if none failed.
set -uo pipefail
. "$(dirname "$0")/lib/harness.sh"
harness kernel
no_config SOCKRUN_TEST_FAIL_PROBE
if [ "${KERNEL_NO_KILLABLE:-}" = 1 ]; then
    export SOCKRUN_TEST_FAIL_PROBE=wait-killable
fi
find_libsock
CC=${CC:-cc}
RACE_SECONDS=${RACE_SECONDS:-2}
sockrun=$PWD/target/release/sockrun
[ -x "$sockrun" ] || die "$sockrun missing: run make first"
build_dir BUILD "${KERNEL_BUILD:-target/kernel}"
scratch TMP kernel

# Can this kernel do it at all?
"$sockrun" --kernel --deny=192.0.2.1 -- true >"$TMP/probe.out" 2>"$TMP/probe.err"
probe=$?
if [ $probe -eq 2 ] && grep -q 'this kernel lacks' "$TMP/probe.err"; then
    skip "the kernel-enforced mode is unavailable here: $(head -1 "$TMP/probe.err")"
    finish
fi
[ $probe -eq 0 ] || die "sockrun --kernel -- true failed ($probe): $(cat "$TMP/probe.err")"

CFLAGS=(-O2 -Wall -Wextra -Werror -D_GNU_SOURCE -pthread)
"$CC" "${CFLAGS[@]}" -static -o "$BUILD/spelling.static" c-tests/spelling/spelling.c ||
    die "cannot build spelling.c static (libc6-dev has libc.a)"
"$CC" "${CFLAGS[@]}" -o "$BUILD/spelling.native" c-tests/spelling/spelling.c || die "cannot build spelling.c"
"$CC" "${CFLAGS[@]}" -static -o "$BUILD/kernel.static" c-tests/kernel/kernel.c || die "cannot build kernel.c static"
"$CC" "${CFLAGS[@]}" -o "$BUILD/kernel.dynamic" c-tests/kernel/kernel.c || die "cannot build kernel.c"
for prog in spelling.static kernel.static; do
    ! readelf -l "$BUILD/$prog" | grep -q INTERP || die "$prog is not static"
done

# --- spellings ------------------------------------------------------------------

. c-tests/spelling/verdicts.sh

# session NAME SUBCOMMAND [ARGS] -- SOCKRUN-OPTIONS...: the static sender
# run under sockrun with the options, beside a fresh native receiver;
# leaves NAME.out, NAME.err and NAME.log (the receiver's).
session() {
    local name=$1 args=() opts=()
    shift
    while [ $# -gt 0 ] && [ "$1" != -- ]; do args+=("$1"); shift; done
    [ $# -eq 0 ] || { shift; opts=("$@"); }
    with_receiver "$name" timeout 60 "$sockrun" "${opts[@]}" -- \
        "$BUILD/spelling.static" "${args[0]}" "$TMP/$name" "${args[@]:1}"
}

session plain send -- --kernel
all_arrive plain "static, --kernel"

for rules in --deny=127.0.0.1,::1 --allow=127.0.0.3; do
    name=rules-${rules%%=*}
    name=${name//-/}
    session "$name" send -- --kernel "$rules"
    all_refused "$name" "static, --kernel $rules"
done

# Control: without the kernel mode a static binary ignores the rules.
session control send -- --no-kernel --deny=127.0.0.1,::1
if [ "$(arrived control | wc -l)" -ge 20 ] && grep -q 'statically linked' "$TMP/control.err"; then
    ok "control, --no-kernel: the static binary's spellings arrive (the checks above can fail), with the warning"
else
    bad "control: with --no-kernel the spellings did not arrive" "$(cat "$TMP/control.log" "$TMP/control.err")"
fi

# --- race -----------------------------------------------------------------------
session race race "$RACE_SECONDS" -- --kernel --deny=127.0.0.1
no_race_leak race "static race under --kernel, ${RACE_SECONDS}s"

# --- calls ----------------------------------------------------------------------

# run NAME CMD...: keeps $status, $TMP/out and $TMP/err.
run() {
    timeout 60 "$@" >"$TMP/out" 2>"$TMP/err"
    status=$?
}
# expect NAME LINE...: the last run's stdout is exactly these lines, status 0.
expect() {
    local name=$1
    shift
    if [ "$status" -eq 0 ] && diff <(printf '%s\n' "$@") "$TMP/out" >"$TMP/d"; then
        ok "$name"
    else
        bad "$name" "status $status" "$(cat "$TMP/d" "$TMP/err")"
    fi
}

port=$(free_port)
python3 -c "
import socket, sys, time
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(('127.0.0.1', $port)); s.listen(64); print('ready', flush=True); time.sleep(600)" >"$TMP/listener.log" 2>&1 &
background $!
wait_for "$TMP/listener.log" '^ready' || die "the listener did not start"

run "$sockrun" --kernel --deny=127.0.0.1 -- "$BUILD/kernel.dynamic" raw-connect "$port"
expect "dynamic, --kernel --deny: a raw syscall(SYS_connect) to the denied peer is EPERM" "raw-connect ret=-1 errno=EPERM"
run "$sockrun" --no-kernel --deny=127.0.0.1 -- "$BUILD/kernel.static" raw-connect "$port"
expect "control, --no-kernel: a static binary's connect to the denied peer goes through" "raw-connect ret=0 errno=0"
run "$sockrun" --kernel --deny=127.0.0.2 -- "$BUILD/kernel.static" raw-connect "$port"
expect "static, --kernel, the peer not denied: connect succeeds" "raw-connect ret=0 errno=0"
closed=$(free_port)
run "$sockrun" --kernel --deny=192.0.2.1 -- "$BUILD/kernel.static" raw-connect "$closed"
expect "--kernel: a supervised connect's own errno reaches the program (ECONNREFUSED)" "raw-connect ret=-1 errno=ECONNREFUSED"
run "$sockrun" --kernel -- "$BUILD/kernel.static" uring
expect "--kernel: io_uring_setup is ENOSYS" "io_uring_setup ret=-1 errno=ENOSYS"
run "$sockrun" --kernel -- "$BUILD/kernel.static" x32
expect "--kernel: an x32 system call is ENOSYS" "x32-getpid ret=-1 errno=ENOSYS"
status=$(bash -c '"$0" --kernel -- "$1" int80; echo $?' "$sockrun" "$BUILD/kernel.static" 2>/dev/null)
native=$("$BUILD/kernel.static" int80)
if [ "$status" -eq $((128 + 31)) ] && [ "$native" = "int80 ret=1" ]; then
    ok "--kernel: a call through the i386 ABI (int \$0x80) kills the program with SIGSYS (natively it works)"
else
    bad "--kernel: int \$0x80 gave status $status (natively: $native)"
fi
# Source routes as socket options (every later packet's first hop a peer no
# rule judged) and a protocol whose peers cannot be placed: refused.
run "$sockrun" --kernel --deny=192.0.2.1 -- "$BUILD/kernel.static" source-route
expect "--kernel with rules: IP_OPTIONS with a source route and an IPv6 routing header are EPERM, IP_TOS is not; SCTP is EPERM" \
    "ip-options-lsrr ret=-1 errno=EPERM" "ipv6-rthdr ret=-1 errno=EPERM" "ip-tos ret=0 errno=0" "sctp ret=-1 errno=EPERM"
run "$BUILD/kernel.static" source-route
if grep -qx 'ip-options-lsrr ret=0 errno=0' "$TMP/out" && grep -qx 'ipv6-rthdr ret=0 errno=0' "$TMP/out"; then
    ok "control, natively: both source routes are taken"
else
    bad "control: natively the source routes were refused (the check cannot tell)" "$(cat "$TMP/out")"
fi
# The supervised program runs as sockrun's user: it must not reach
# sockrun's listener (pidfd_getfd, /proc/PID/fd), or it could answer its
# own calls. Only CAP_SYS_PTRACE (root's) reaches a non-dumpable process.
if [ "$(id -u)" = 0 ] && command -v setpriv >/dev/null; then
    no_ptrace=(setpriv --bounding-set=-sys_ptrace --inh-caps=-sys_ptrace --)
    run "${no_ptrace[@]}" "$sockrun" --kernel --deny=127.0.0.2 -- "$BUILD/kernel.static" escape
    expect "--kernel: the program cannot take sockrun's seccomp listener (sockrun is not dumpable)" \
        "escape listener-unreachable"
    run "$sockrun" --kernel --deny=127.0.0.2 -- "$BUILD/kernel.static" escape
    expect "control: with CAP_SYS_PTRACE (root) it can (the README's boundary)" "escape took-the-listener"
else
    skip "the supervisor out of the program's reach: needs root and setpriv to drop CAP_SYS_PTRACE"
fi
run "$sockrun" --kernel --deny=192.0.2.1 -- "$BUILD/kernel.static" raw-sockets
expect "--kernel with rules: raw and packet sockets are EPERM" \
    "socket-inet-raw ret=-1 errno=EPERM" "socket-packet ret=-1 errno=EPERM"
run "$sockrun" --kernel --deny=192.0.2.1 -- "$BUILD/kernel.static" flags "$port"
expect "--kernel: a supervised socket keeps SOCK_NONBLOCK and SOCK_CLOEXEC (and a plain one neither), connects non-blocking, its filter is locked" \
    "flags nonblock=1 cloexec=1" "plain nonblock=0 cloexec=0" "nonblocking-connect EINPROGRESS" \
    "detach-filter ret=-1 errno=EPERM"
run "$sockrun" --kernel -- "$BUILD/kernel.static" scm
expect "--kernel: a descriptor passed with SCM_RIGHTS through a supervised sendmsg arrives and works" "scm ok"
run "$sockrun" --kernel --deny=192.0.2.1 -- "$BUILD/kernel.static" stall "$port"
expect "--kernel: a thread blocked in a supervised sendmsg stalls no other thread's connect and sendmsg" "stall ok"
# A UDP socket inherited from sockrun's caller: filtered before the command
# runs (a datagram from the denied peer is dropped; from another, read).
inherited_py=$(cat <<'PY'
import socket, subprocess, sys, time
sockrun, rule, prog = sys.argv[1:]
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("127.0.0.1", 0))
p = subprocess.Popen([sockrun, "--kernel", rule, "--", prog, "inherited", str(s.fileno())],
                     pass_fds=[s.fileno()])
time.sleep(0.5)
t = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
t.bind(("127.0.0.1", 0))
t.sendto(b"hello", s.getsockname())
sys.exit(p.wait())
PY
)
run python3 -c "$inherited_py" "$sockrun" --deny=127.0.0.1 "$BUILD/kernel.static"
expect "--kernel --deny: a socket inherited from sockrun's caller is filtered before the command runs" "inherited nothing"
run python3 -c "$inherited_py" "$sockrun" --deny=127.0.0.2 "$BUILD/kernel.static"
expect "control: the same socket under rules not naming the peer gets the datagram" "inherited got 5"
# A program that drops its privileges keeps them dropped for the calls
# sockrun performs: a Unix socket only root may reach stays out of reach,
# the peer sees the program's uid, INET still works.
if [ "$(id -u)" = 0 ]; then
    mkdir -p "$TMP/rootonly" "$TMP/open"
    chmod 700 "$TMP/rootonly"
    chmod 755 "$TMP" "$TMP/open"
    cat >"$TMP/unixsrv.py" <<'PY'
import socket, struct, sys
socks = []
for path in sys.argv[1:]:
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.bind(path); s.listen(8); socks.append(s)
import os; os.chmod(sys.argv[2], 0o777)
print("ready", flush=True)
while True:
    c, _ = socks[1].accept()
    pid, uid, gid = struct.unpack("3i", c.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, 12))
    c.sendall(b"uid=%d" % uid); c.close()
PY
    python3 "$TMP/unixsrv.py" "$TMP/rootonly/s" "$TMP/open/s" >"$TMP/unixsrv.log" 2>&1 &
    background $!
    wait_for "$TMP/unixsrv.log" '^ready' 5 >/dev/null
    want=("dropped-unix-denied ret=-1 errno=EACCES" "dropped-unix-open ret=0 errno=0" "peer uid=65534"
        "dropped-inet ret=0 errno=0")
    run "$BUILD/kernel.static" dropped "$port" "$TMP/rootonly/s" "$TMP/open/s"
    expect "control, natively: a program dropped to uid 65534 cannot reach a root-only Unix socket" "${want[@]}"
    run "$sockrun" --kernel --deny=192.0.2.1 -- "$BUILD/kernel.static" dropped "$port" "$TMP/rootonly/s" "$TMP/open/s"
    expect "--kernel: after the program drops to uid 65534, sockrun's connects are made with its credentials (root-only socket EACCES, peer uid 65534; INET works)" "${want[@]}"
else
    skip "dropped privileges: needs root"
fi
mkdir -p "$TMP/unix"
run "$sockrun" --kernel -- "$BUILD/kernel.static" unix-relative "$TMP/unix"
expect "--kernel: a supervised connect to a relative Unix path resolves in the program's directory" "unix-relative ok"

# 3 MB through supervised sendmsg (three iovecs) and sendto, hashed at both ends.
mkdir -p "$TMP/sink"
"$BUILD/kernel.static" sink "$TMP/sink" >"$TMP/sink.out" 2>&1 &
sink=$!
wait_for "$TMP/sink/port" '^[0-9]+$' || die "the sink did not start"
run "$sockrun" --kernel --deny=10.0.0.0/8 -- "$BUILD/kernel.static" source "$(cat "$TMP/sink/port")" 3000000
wait $sink
src=$(cut -d' ' -f2- "$TMP/out")
dst=$(cut -d' ' -f2- "$TMP/sink.out")
if [ "$status" -eq 0 ] && [ -n "$src" ] && [ "$src" = "$dst" ]; then
    ok "--kernel: 3 MB sent through supervised sendmsg and sendto arrive intact ($dst)"
else
    bad "--kernel: the data did not arrive intact" "sent: $src" "received: $dst" "$(cat "$TMP/err")"
fi

# Without root: sockrun and the program as an ordinary user (nobody).
if [ "$(id -u)" = 0 ] && command -v setpriv >/dev/null; then
    as_nobody=(setpriv --reuid=65534 --regid=65534 --clear-groups)
    run "${as_nobody[@]}" "$sockrun" --kernel -- "$BUILD/kernel.static" raw-connect "$port"
    expect "--kernel as an ordinary user, no rules: the supervised socket and connect work" "raw-connect ret=0 errno=0"
    run "${as_nobody[@]}" "$sockrun" --kernel --deny=127.0.0.1 -- "$BUILD/kernel.static" raw-connect "$port"
    if [ "$status" -eq 2 ] && grep -q "cannot attach the rules' socket filter" "$TMP/err"; then
        skip "--kernel as an ordinary user with rules: this kernel will not let it attach socket filters ($(cat "$TMP/err"))"
    else
        expect "--kernel as an ordinary user, --deny: the connect is EPERM" "raw-connect ret=-1 errno=EPERM"
    fi
else
    skip "as an ordinary user: needs root and setpriv to become one"
fi

# --- signals ---------------------------------------------------------------------
# A signal to the program while the supervisor performs its blocked call.
# intr VARIANT KIND MODE: runs intr-KIND MODE natively (VARIANT native),
# under sockrun --kernel (kernel) or with the killable wait refused
# (fallback), into $TMP/intr.VARIANT.KIND.MODE; a connect gets a fresh
# full-listener accepting after 2 s.
intr() {
    local variant=$1 kind=$2 mode=$3 out=$TMP/intr.$1.$2.$3 dir lp=
    local prefix=() args=()
    case $variant in
    kernel) prefix=("$sockrun" --kernel --deny=192.0.2.1 --) ;;
    fallback) prefix=(env SOCKRUN_TEST_FAIL_PROBE=wait-killable "$sockrun" --kernel --deny=192.0.2.1 --) ;;
    esac
    if [ "$kind" = connect ]; then
        dir=$TMP/full.$variant.$mode
        mkdir -p "$dir"
        "$BUILD/kernel.static" full-listener "$dir" 2 &
        lp=$!
        wait_for "$dir/port" '^[0-9]+$' 5 >/dev/null
        args=("$(cat "$dir/port")")
    fi
    timeout 30 "${prefix[@]}" "$BUILD/kernel.static" "intr-$kind" "$mode" "${args[@]}" >"$out" 2>&1
    if [ -n "$lp" ]; then
        kill $lp
        wait $lp 2>/dev/null
    fi
}
intr_modes=(eintr restart timeo-restart timeo)
for variant in native kernel fallback; do
    runs=()
    for kind in connect send; do
        for mode in "${intr_modes[@]}"; do
            intr $variant $kind "$mode" &
            runs+=($!)
        done
    done
    wait "${runs[@]}"
done
# The native lines show the calls really blocked and were interrupted (or
# restarted), else the comparisons below prove nothing.
native_ok=1
for want in "connect eintr ret=-1 errno=EINTR handler=1 took=1s" "connect restart ret=0 errno=0 handler=1 took=2s" \
    "connect timeo-restart ret=-1 errno=EINTR handler=1 took=1s" "connect timeo ret=-1 errno=EINPROGRESS handler=0 took=1s" \
    "send eintr ret=-1 errno=EINTR handler=1 took=1s .* markers=0" "send restart ret=1 errno=0 handler=1 took=2s .* markers=1" \
    "send timeo-restart ret=-1 errno=EINTR handler=1 took=1s .* markers=0" "send timeo ret=-1 errno=EAGAIN handler=0 took=1s .* markers=0"; do
    read -r kind mode _ <<<"$want"
    grep -qx "intr-$want" "$TMP/intr.native.$kind.$mode" || native_ok=0
done
intr_lines() { for kind in connect send; do for mode in "${intr_modes[@]}"; do cat "$TMP/intr.$1.$kind.$mode"; done; done; }
# Under KERNEL_NO_KILLABLE=1 the kernel variant is the fallback too.
same_as_native=cat
[ "${KERNEL_NO_KILLABLE:-}" = 1 ] && same_as_native="grep -v ' timeo-restart '"
if [ $native_ok = 1 ]; then
    if diff <(intr_lines native | eval "$same_as_native") <(intr_lines kernel | eval "$same_as_native") >"$TMP/d"; then
        ok "--kernel: SIGALRM during a blocked supervised connect and sendmsg gives what it gives natively: EINTR without SA_RESTART, a restart with it (completing once the peer makes room), EINTR with SO_SNDTIMEO, EINPROGRESS/EAGAIN when it expires; no datagram sent after EINTR, none twice after a restart"
    else
        bad "--kernel: a signal during a blocked supervised call differs from native" "$(cat "$TMP/d")"
    fi
    # Without WAIT_KILLABLE_RECV the program's own wait ends with any
    # signal (-ERESTARTSYS, so SA_RESTART restarts even a call whose socket
    # has SO_SNDTIMEO); everything else holds.
    if diff <(intr_lines native | grep -v ' timeo-restart ') <(intr_lines fallback | grep -v ' timeo-restart ') >"$TMP/d" &&
        grep -qx 'intr-connect timeo-restart ret=0 errno=0 handler=1 took=2s' "$TMP/intr.fallback.connect.timeo-restart" &&
        grep -qx 'intr-send timeo-restart ret=1 errno=0 handler=1 took=2s .* markers=1' "$TMP/intr.fallback.send.timeo-restart"; then
        ok "--kernel without WAIT_KILLABLE_RECV (SOCKRUN_TEST_FAIL_PROBE=wait-killable): the same, except that SO_SNDTIMEO no longer stops a restart under SA_RESTART (the README's difference)"
    else
        bad "--kernel without WAIT_KILLABLE_RECV: not as documented" "$(cat "$TMP/d")" "$(cat "$TMP"/intr.fallback.*.timeo-restart)"
    fi
else
    bad "signals: natively the calls did not block and get interrupted as the test needs (the comparisons cannot tell)" \
        "$(intr_lines native)"
fi

# --- Go --------------------------------------------------------------------------
# A static Go binary (CGO_ENABLED=0): its runtime's non-blocking connects,
# epoll and signal preemption, under the supervisor.
if command -v go >/dev/null; then
    if (cd c-tests/kernel/go && CGO_ENABLED=0 GOCACHE="$BUILD/gocache" GOPATH="$BUILD/gopath" GOFLAGS=-mod=mod \
        go build -o "$BUILD/gotest" main.go) >"$TMP/go-build.log" 2>&1; then
        python3 -c "
import socket
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(('127.0.0.1', 0)); s.listen(512)
print(s.getsockname()[1], flush=True)
while True:
    c, _ = s.accept(); c.sendall(b'hello'); c.close()" >"$TMP/greet.port" 2>&1 &
        background $!
        wait_for "$TMP/greet.port" '^[0-9]+$' 5 >/dev/null
        gport=$(cat "$TMP/greet.port")
        run "$BUILD/gotest" dial "127.0.0.1:$gport"
        expect "control, natively: the Go binary dials the peer" "dial ok"
        run "$sockrun" --kernel --deny=127.0.0.1 -- "$BUILD/gotest" dial "127.0.0.1:$gport"
        expect "Go, --kernel --deny: its dial is EPERM" "dial error: dial tcp 127.0.0.1:$gport: connect: operation not permitted"
        run "$sockrun" --kernel --deny=127.0.0.1 -- "$BUILD/gotest" udp 127.0.0.1:9
        if [ "$status" -eq 0 ] && grep -qx 'udp error: write udp .*->127.0.0.1:9: sendto: operation not permitted' "$TMP/out"; then
            ok "Go, --kernel --deny: its unconnected UDP send is EPERM"
        else
            bad "Go, --kernel --deny: its UDP send was not refused" "$(cat "$TMP/out" "$TMP/err")"
        fi
        run "$sockrun" --kernel --deny=127.0.0.2 -- "$BUILD/gotest" udp 127.0.0.1:9
        expect "Go, --kernel, the peer not denied: its UDP send goes" "udp ok"
        run "$sockrun" --kernel --deny=127.0.0.2 -- "$BUILD/gotest" many "127.0.0.1:$gport" 200
        expect "Go, --kernel: 200 goroutines dial at once while others spin (preemption signals): all 200 connect and read" "many ok 200"
        # net/http against a native python3 -m http.server (a fresh port per
        # server) serving 3 MB of random bytes: byte count and sha256 as
        # sha256sum's, natively and under rules naming another address; under
        # rules naming the server's, EPERM and no request in the server's log.
        mkdir -p "$TMP/www"
        head -c 3145728 /dev/urandom >"$TMP/www/blob"
        body_want="get $(stat -c %s "$TMP/www/blob") $(sha256sum "$TMP/www/blob" | cut -d' ' -f1)"
        # http_server NAME: the server, its log in $TMP/NAME.log; sets hurl.
        http_server() {
            local p
            p=$(free_port)
            python3 -u -m http.server --bind 127.0.0.1 --directory "$TMP/www" "$p" >"$TMP/$1.log" 2>&1 &
            background $!
            wait_for "$TMP/$1.log" '^Serving HTTP' 10 >/dev/null || die "the HTTP server did not start: $(cat "$TMP/$1.log")"
            hurl=http://127.0.0.1:$p/blob
        }
        gets() { grep -c '"GET /blob HTTP/1.1" 200' "$TMP/$1.log"; }
        http_server http
        run "$BUILD/gotest" get "$hurl"
        expect "control, natively: Go's net/http client fetches 3 MB from the HTTP server, count and sha256 as sha256sum's" "$body_want"
        run "$sockrun" --kernel --deny=127.0.0.2 -- "$BUILD/gotest" get "$hurl"
        if [ "$status" -eq 0 ] && [ "$(cat "$TMP/out")" = "$body_want" ] && [ "$(gets http)" -eq 2 ]; then
            ok "Go, --kernel --deny=127.0.0.2: net/http fetches the same 3 MB, byte for byte ($body_want)"
        else
            bad "Go, --kernel --deny=127.0.0.2: the fetch differs from the native one" "want: $body_want" "status $status" \
                "$(cat "$TMP/out" "$TMP/err")" "server log:" "$(cat "$TMP/http.log")"
        fi
        http_server http-denied
        run "$sockrun" --kernel --deny=127.0.0.1 -- "$BUILD/gotest" get "$hurl"
        denied_gets=$(gets http-denied)
        # The control: the same server logs a request that reaches it.
        "$BUILD/gotest" get "$hurl" >"$TMP/after.out" 2>&1
        sleep 0.2
        if [ "$status" -eq 1 ] && grep -q '^get error: .*dial tcp 127\.0\.0\.1:[0-9]*: connect: operation not permitted$' "$TMP/out" &&
            [ "$denied_gets" -eq 0 ] && [ "$(cat "$TMP/after.out")" = "$body_want" ] && [ "$(gets http-denied)" -eq 1 ]; then
            ok "Go, --kernel --deny=127.0.0.1: net/http's GET is EPERM and the server logged no request (a native GET after it: logged)"
        else
            bad "Go, --kernel --deny=127.0.0.1: the GET was not refused before reaching the server" "status $status" \
                "$(cat "$TMP/out" "$TMP/err")" "requests logged while denied: $denied_gets" "server log:" "$(cat "$TMP/http-denied.log")"
        fi
    else
        bad "cannot build the Go target" "$(cat "$TMP/go-build.log")"
    fi
else
    skip "Go: no go on PATH"
fi

# --- resolvers --------------------------------------------------------------------
# glibc's DNS queries go out through glibc-internal calls libsock cannot
# see, Go's through its own system calls: with /etc/resolv.conf naming
# 127.0.0.2 (a bind mount in a mount namespace) and a native DNS stub
# there, --no-kernel --deny=127.0.0.2 lets the queries out (the control),
# --kernel refuses them.
if [ "$(id -u)" = 0 ] && unshare -m true 2>/dev/null; then
    cat >"$TMP/dns.py" <<'PY'
import socket
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("127.0.0.2", 53))
print("ready", flush=True)
while True:
    data, peer = s.recvfrom(2048)
    print("query", flush=True)
    reply = bytearray(data)
    reply[2:4] = b"\x81\x83"  # a response: NXDOMAIN
    s.sendto(bytes(reply), peer)
PY
    echo "nameserver 127.0.0.2" >"$TMP/resolv.conf"
    # resolve LOG OUT SOCKRUN-MODE CMD...: CMD under sockrun MODE
    # --deny=127.0.0.2 with resolv.conf naming the stub; the stub's queries
    # counted in $queries.
    resolve() {
        local log=$1 out=$2 mode=$3 dns
        shift 3
        python3 "$TMP/dns.py" >"$TMP/$log" 2>&1 &
        dns=$!
        wait_for "$TMP/$log" '^ready' 5 >/dev/null
        timeout 30 unshare -m sh -c 'mount --bind "$1" /etc/resolv.conf && shift && exec "$@"' sh \
            "$TMP/resolv.conf" "$sockrun" "$mode" --deny=127.0.0.2 -- "$@" >"$TMP/$out" 2>&1
        sleep 0.3
        kill $dns
        wait $dns 2>/dev/null
        queries=$(grep -c '^query' "$TMP/$log")
    }
    glibc=(python3 -c 'import socket
try: socket.getaddrinfo("example.invalid", 80)
except OSError as e: print(e.errno)')
    resolve dns-preload.log resolve-preload.out --no-kernel "${glibc[@]}"
    queries_preload=$queries
    resolve dns-kernel.log resolve-kernel.out --kernel "${glibc[@]}"
    queries_kernel=$queries
    if [ "$queries_preload" -gt 0 ] && [ "$queries_kernel" -eq 0 ]; then
        ok "glibc's resolver under --kernel --deny=127.0.0.2: no query reached the denied nameserver (getaddrinfo: $(cat "$TMP/resolve-kernel.out")); under --no-kernel $queries_preload did (the control)"
    else
        bad "glibc's resolver: $queries_kernel queries reached the denied nameserver under --kernel ($queries_preload under --no-kernel)" \
            "$(cat "$TMP/resolve-kernel.out" "$TMP/resolve-preload.out")"
    fi
    if [ -x "$BUILD/gotest" ]; then
        resolve dns-go-preload.log resolve-go-preload.out --no-kernel "$BUILD/gotest" resolve example.invalid
        queries_preload=$queries
        resolve dns-go-kernel.log resolve-go-kernel.out --kernel "$BUILD/gotest" resolve example.invalid
        queries_kernel=$queries
        if [ "$queries_preload" -gt 0 ] && [ "$queries_kernel" -eq 0 ] &&
            grep -q 'operation not permitted' "$TMP/resolve-go-kernel.out"; then
            ok "Go's resolver (static, no libc) under --kernel --deny=127.0.0.2: no query reached the denied nameserver; under --no-kernel $queries_preload did (the control)"
        else
            bad "Go's resolver: $queries_kernel queries reached the denied nameserver under --kernel ($queries_preload under --no-kernel)" \
                "$(cat "$TMP/resolve-go-kernel.out" "$TMP/resolve-go-preload.out")"
        fi
    else
        skip "Go's resolver: no Go target built"
    fi
else
    skip "glibc's resolver: needs root and unshare -m (to point /etc/resolv.conf at a local stub)"
fi

# --- sockrun --------------------------------------------------------------------
run "$sockrun" --kernel --deny=192.0.2.1 -- sh -c 'exit 7'
[ "$status" -eq 7 ] && ok "--kernel: the exit status passes through (7)" || bad "--kernel: exit status $status, want 7"
# (In a shell of its own, which reports the death on its stderr.)
status=$(bash -c '"$0" --kernel -- sh -c "kill -USR1 \$\$"; echo $?' "$sockrun" 2>/dev/null)
[ "$status" -eq $((128 + 10)) ] && ok "--kernel: a death by SIGUSR1 is 138 to the shell" ||
    bad "--kernel: a death by SIGUSR1 gave $status, want 138"

"$sockrun" --kernel --deny=192.0.2.1 -- sh -c 'trap "echo got TERM; exit 3" TERM; echo started; while :; do sleep 0.1; done' \
    >"$TMP/term.out" 2>&1 &
srpid=$!
wait_for "$TMP/term.out" '^started' 5 >/dev/null
kill -TERM $srpid
wait $srpid
status=$?
if [ "$status" -eq 3 ] && grep -qx 'got TERM' "$TMP/term.out"; then
    ok "--kernel: SIGTERM to sockrun reaches the command, whose status is sockrun's"
else
    bad "--kernel: SIGTERM not forwarded (status $status)" "$(cat "$TMP/term.out")"
fi

SOCKRUN_TEST_FAIL_PROBE=addfd run "$sockrun" --kernel --deny=127.0.0.1 -- "$BUILD/kernel.static" uring
if [ "$status" -eq 2 ] && [ "$(wc -l <"$TMP/err")" -eq 1 ] && grep -q 'ADDFD.*--no-kernel runs with preload only' "$TMP/err" &&
    [ ! -s "$TMP/out" ]; then
    ok "probe failure with rules: exit 2, one line: $(cat "$TMP/err")"
else
    bad "probe failure with rules: status $status" "$(cat "$TMP/out" "$TMP/err")"
fi
SOCKRUN_TEST_FAIL_PROBE=ptrace run "$sockrun" --kernel --allow=localhost -- true
if [ "$status" -eq 2 ] && [ "$(wc -l <"$TMP/err")" -eq 1 ] && grep -q 'ptrace_scope.*--no-kernel' "$TMP/err"; then
    ok "probe failure (Yama forbids acting on the child) with rules: exit 2, one line"
else
    bad "probe failure (ptrace) with rules: status $status" "$(cat "$TMP/err")"
fi
SOCKRUN_TEST_FAIL_PROBE=pidfd_getfd run "$sockrun" --kernel -- sh -c 'echo ran'
if [ "$status" -eq 0 ] && grep -qx ran "$TMP/out" && grep -q 'warning: --kernel: this kernel lacks pidfd_getfd' "$TMP/err"; then
    ok "probe failure without rules: a warning, and the command runs"
else
    bad "probe failure without rules: status $status" "$(cat "$TMP/out" "$TMP/err")"
fi
run "$sockrun" --no-kernel -- sh -c 'echo $LD_PRELOAD; exit 4'
if [ "$status" -eq 4 ] && grep -q libsock "$TMP/out" && [ ! -s "$TMP/err" ]; then
    ok "--no-kernel: preloaded and exec'd as before"
else
    bad "--no-kernel: status $status" "$(cat "$TMP/out" "$TMP/err")"
fi

finish
