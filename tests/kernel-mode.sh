#!/usr/bin/env bash
# sockrun's kernel mode, switched on by itself, and what it shows: part of
# `make kernel-test` (after tests/kernel.sh).
#
# c-tests/kernel/visible.c, built static and dynamic, against a native TCP
# listener and UDP receiver on 127.0.0.1 that log what arrives:
#
#   inbound  a static program's created UDP socket and listener, and the
#            connections it accepts, never see the denied peer's datagram
#            or connection (natively they do)
#   when     with --deny and no --kernel, a static binary — and a shell
#            script that starts it — is refused (nothing arrives) without
#            the static-binary warning; --no-kernel is the control (it
#            arrives, with the warning); a static binary asking for --trace
#            alone is traced; a dynamic one without rules is only preloaded;
#            where the kernel cannot (a probe made to fail), rules are exit
#            2 and one line, a static --trace a warning and preload;
#            a daemon the command leaves behind is still supervised after
#            sockrun exits, and the supervisor ends with it
#   trace    the supervisor's lines for a static binary, text and JSON, one
#            per call, denied_by naming the rule (raw sockets and source
#            routes too); a dynamic program under
#            the same rules makes exactly one line per call (libsock's),
#            and its raw syscall(SYS_connect), which libsock cannot see, is
#            traced once, by the supervisor; a %p trace file per process
#   stats    the supervisor's table for a static binary (calls, bytes, the
#            denials); a dynamic program's calls counted once
#   cancel   pthread_cancel ends a thread blocked in a supervised sendmsg
#            of a dynamic program (libsock's marked raw calls are
#            cancellation points, as glibc's wrappers are)
#   options  --nodelay --keepalive --tos --reuseaddr set on a static
#            binary's new socket as getsockopt reads them (natively unset);
#            --bind-addr and --port-map rewrite its bind as libsock rewrites
#            a dynamic program's
#
# Skips with one line where the kernel has no seccomp user notification.
# Run from the repository root after `make`. Environment: CC (default cc),
# KERNEL_BUILD (default target/kernel).
# Last line: "kernel-mode: N passed, M failed"; exit status 0 only if none failed.
set -uo pipefail
. "$(dirname "$0")/lib/harness.sh"
harness kernel-mode
no_config SOCKRUN_TEST_FAIL_PROBE
find_libsock
CC=${CC:-cc}
sockrun=$PWD/target/release/sockrun
[ -x "$sockrun" ] || die "$sockrun missing: run make first"
build_dir BUILD "${KERNEL_BUILD:-target/kernel}"
scratch TMP kernel-mode

"$sockrun" --kernel --deny=192.0.2.1 -- true >"$TMP/probe.out" 2>"$TMP/probe.err"
if [ $? -eq 2 ] && grep -q 'this kernel lacks' "$TMP/probe.err"; then
    skip "the kernel-enforced mode is unavailable here: $(head -1 "$TMP/probe.err")"
    finish
fi

CFLAGS=(-O2 -Wall -Wextra -Werror -D_GNU_SOURCE -pthread)
"$CC" "${CFLAGS[@]}" -static -o "$BUILD/visible.static" c-tests/kernel/visible.c || die "cannot build visible.c static"
"$CC" "${CFLAGS[@]}" -o "$BUILD/visible.dynamic" c-tests/kernel/visible.c || die "cannot build visible.c"
"$CC" "${CFLAGS[@]}" -static -o "$BUILD/kernel.static" c-tests/kernel/kernel.c || die "cannot build kernel.c static"
static=$BUILD/visible.static
dynamic=$BUILD/visible.dynamic

# A native receiver: a TCP listener that logs each connection's peer and a
# UDP socket that logs each datagram's.
tport=$(free_port)
uport=$(free_port)
python3 -u -c "
import selectors, socket, sys
t = socket.socket(); t.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
t.bind(('127.0.0.1', $tport)); t.listen(64)
u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); u.bind(('127.0.0.1', $uport))
sel = selectors.DefaultSelector(); sel.register(t, selectors.EVENT_READ); sel.register(u, selectors.EVENT_READ)
print('ready')
while True:
    for key, _ in sel.select():
        if key.fileobj is t:
            c, peer = t.accept(); print('tcp', peer[0]); c.close()
        else:
            data, peer = u.recvfrom(100); print('udp', peer[0])
" >"$TMP/recv.log" 2>&1 &
background $!
wait_for "$TMP/recv.log" '^ready' 5 >/dev/null || die "the receiver did not start: $(cat "$TMP/recv.log")"

# arrivals: lines the receiver logged since the last call of `mark`.
mark() { seen=$(wc -l <"$TMP/recv.log"); }
arrivals() {
    sleep 0.2
    tail -n +$((seen + 1)) "$TMP/recv.log" | grep -c '^\(tcp\|udp\) '
}
# run CMD...: keeps $status, $TMP/out and $TMP/err.
run() {
    timeout 60 "$@" >"$TMP/out" 2>"$TMP/err"
    status=$?
}
refused="connect ret=-1 errno=EPERM
sendto ret=-1 errno=EPERM"
through="connect ret=0 errno=0
sendto ret=1 errno=0"

# --- when ---------------------------------------------------------------------
mark
run "$sockrun" --deny=127.0.0.1 -- "$static" calls 127.0.0.1 "$tport" "$uport"
n=$(arrivals)
if [ "$status" -eq 0 ] && [ "$(cat "$TMP/out")" = "$refused" ] && [ "$n" -eq 0 ] && [ ! -s "$TMP/err" ]; then
    ok "static, --deny without --kernel: the kernel mode is on by itself (both calls EPERM, nothing arrived, no warning)"
else
    bad "static, --deny without --kernel: not held" "status $status, $n arrived" "$(cat "$TMP/out" "$TMP/err")"
fi

mark
run "$sockrun" --deny=127.0.0.1 -- sh -c '"$0" calls 127.0.0.1 "$1" "$2"' "$static" "$tport" "$uport"
n=$(arrivals)
if [ "$status" -eq 0 ] && [ "$(cat "$TMP/out")" = "$refused" ] && [ "$n" -eq 0 ]; then
    ok "a shell script that starts a static binary, --deny: held too"
else
    bad "a script starting a static binary: not held" "status $status, $n arrived" "$(cat "$TMP/out" "$TMP/err")"
fi

mark
run "$sockrun" --no-kernel --deny=127.0.0.1 -- "$static" calls 127.0.0.1 "$tport" "$uport"
n=$(arrivals)
if [ "$(cat "$TMP/out")" = "$through" ] && [ "$n" -eq 2 ] && grep -q 'statically linked' "$TMP/err"; then
    ok "control, --no-kernel --deny: the static binary's calls arrive, with the static-binary warning"
else
    bad "control, --no-kernel: unexpected" "$n arrived" "$(cat "$TMP/out" "$TMP/err")"
fi

run "$sockrun" -- sh -c 'echo "${LIBSOCK_SUPERVISOR:-none}"; cat /proc/self/status' 
if [ "$status" -eq 0 ] && [ "$(head -1 "$TMP/out")" = none ] && grep -q '^Seccomp:[[:space:]]*0' "$TMP/out"; then
    ok "no rules, dynamic target: preload only (no filter, no supervisor)"
else
    bad "no rules: the kernel mode was on" "$(head -3 "$TMP/out")" "$(grep Seccomp "$TMP/out")"
fi
run "$sockrun" --deny=192.0.2.1 -- sh -c 'grep "^Seccomp:" /proc/self/status'
if [ "$status" -eq 0 ] && grep -q '^Seccomp:[[:space:]]*2' "$TMP/out"; then
    ok "rules, dynamic target: under the filter too"
else
    bad "rules, dynamic target: no filter" "$(cat "$TMP/out" "$TMP/err")"
fi

# sockrun under sockrun (a script run with rules that calls sockrun): a
# process has one supervisor. The inner one with the same rules runs its
# command preloaded, held by the outer supervisor (a static target is
# refused, without a warning); with other rules it refuses to run.
run "$sockrun" --deny=127.0.0.1 -- "$sockrun" -- "$static" calls 127.0.0.1 "$tport" "$uport"
if [ "$status" -eq 0 ] && [ "$(cat "$TMP/out")" = "$refused" ] && [ ! -s "$TMP/err" ]; then
    ok "sockrun under sockrun, the same rules: the outer supervisor holds them (static: EPERM), no warning"
else
    bad "nested sockrun, same rules: status $status" "$(cat "$TMP/out" "$TMP/err")"
fi
run "$sockrun" --deny=127.0.0.1 -- "$sockrun" --deny=127.0.0.2 -- "$static" calls 127.0.0.1 "$tport" "$uport"
if [ "$status" -eq 2 ] && [ ! -s "$TMP/out" ] && [ "$(wc -l <"$TMP/err")" -eq 1 ] &&
    grep -q "already under another sockrun's kernel mode.*--no-kernel" "$TMP/err"; then
    ok "sockrun under sockrun, other rules: exit 2, one line"
else
    bad "nested sockrun, other rules: status $status" "$(cat "$TMP/out" "$TMP/err")"
fi

# The kernel cannot (a probe made to fail): with rules, sockrun refuses to
# run — exit 2, one line naming what is missing and --no-kernel; a static
# target asking only for tracing runs preloaded, with a warning.
SOCKRUN_TEST_FAIL_PROBE=addfd run "$sockrun" --deny=127.0.0.1 -- "$static" options
if [ "$status" -eq 2 ] && [ ! -s "$TMP/out" ] && [ "$(wc -l <"$TMP/err")" -eq 1 ] &&
    grep -q '^sockrun: kernel mode: this kernel lacks .*ADDFD.*; --no-kernel runs with preload only$' "$TMP/err"; then
    ok "rules, the kernel mode unavailable: exit 2 and one line ($(cat "$TMP/err"))"
else
    bad "rules, probe failed: status $status" "$(cat "$TMP/out" "$TMP/err")"
fi
SOCKRUN_TEST_FAIL_PROBE=addfd run "$sockrun" --trace -- "$static" options
if [ "$status" -eq 0 ] && grep -q 'nodelay=0' "$TMP/out" &&
    grep -q 'warning: kernel mode: this kernel lacks .*running with preload only' "$TMP/err" &&
    grep -q 'statically linked' "$TMP/err"; then
    ok "no rules, static --trace, the kernel mode unavailable: runs preloaded, warned twice (no kernel mode, static target)"
else
    bad "no rules, probe failed: status $status" "$(cat "$TMP/out" "$TMP/err")"
fi

# A daemon: the command leaves a background job behind and exits at once;
# sockrun exits with it, and the job's calls a second later are still
# judged (a supervisor that ended with sockrun would leave them ENOSYS).
mark
start=$(date +%s%N)
run "$sockrun" --deny="127.0.0.1:$uport" -- sh -c \
    '(sleep 1; "$0" calls 127.0.0.1 "$1" "$2" >"$3" 2>&1) </dev/null >/dev/null 2>&1 & exit 5' \
    "$static" "$tport" "$uport" "$TMP/daemon.out"
took=$(( ($(date +%s%N) - start) / 1000000 ))
for _ in $(seq 50); do [ -s "$TMP/daemon.out" ] && [ "$(wc -l <"$TMP/daemon.out")" -ge 2 ] && break; sleep 0.1; done
n=$(arrivals)
left=1
for _ in $(seq 50); do pgrep -f "$TMP/daemon.out" >/dev/null || { left=0; break; }; sleep 0.1; done
if [ "$status" -eq 5 ] && [ "$took" -lt 900 ] &&
    [ "$(cat "$TMP/daemon.out")" = "connect ret=0 errno=0
sendto ret=-1 errno=EPERM" ] && [ "$n" -eq 1 ] && [ "$left" -eq 0 ]; then
    ok "a daemon outliving the command (and sockrun, which exited with 5 in ${took} ms): its calls still judged (connect ok, sendto EPERM, 1 arrived); the supervisor ends with it"
else
    bad "daemon: status $status after ${took} ms, $n arrived, supervisor left: $left" "$(cat "$TMP/daemon.out" "$TMP/err")"
fi

# Inbound: a static program's own UDP socket and TCP listener (created by
# the supervisor, filtered and locked) and the connections it accepts
# (which inherit the listener's filter), against native senders on
# distinct loopback addresses: the denied one's datagram and SYN never
# arrive, the other's do.
inbound() {
    local out=$1 iu it
    shift
    iu=$(free_port)
    it=$(free_port)
    timeout 20 "$@" inbound "$iu" "$it" 3 >"$TMP/$out" 2>&1 &
    local pid=$!
    wait_for "$TMP/$out" '^ready' 5 >/dev/null || { kill $pid; return; }
    python3 - "$iu" "$it" <<'EOF'
import socket, sys
udp, tcp = int(sys.argv[1]), int(sys.argv[2])
for src in ("127.0.0.2", "127.0.0.3"):
    u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); u.bind((src, 0))
    u.sendto(b"x" * 7, ("127.0.0.1", udp))
    t = socket.socket(); t.bind((src, 0)); t.settimeout(1)
    try:
        t.connect(("127.0.0.1", tcp)); t.sendall(b"y" * 5)
    except OSError:
        pass
EOF
    wait $pid
}
inbound in-native "$static"
inbound in-kernel "$sockrun" --deny=127.0.0.2 -- "$static"
native=$(grep -v ready "$TMP/in-native" | sort | tr '\n' ' ')
kernel_in=$(grep -v ready "$TMP/in-kernel" | sort | tr '\n' ' ')
if [ "$native" = "tcp 127.0.0.2 5 tcp 127.0.0.3 5 udp 127.0.0.2 7 udp 127.0.0.3 7 " ] &&
    [ "$kernel_in" = "tcp 127.0.0.3 5 udp 127.0.0.3 7 " ]; then
    ok "static, --deny=127.0.0.2, inbound: on its created UDP socket and listener (and the accepted connection) only 127.0.0.3 arrives (natively both)"
else
    bad "static inbound: wrong" "native: $native" "kernel: $kernel_in"
fi

# --- trace ----------------------------------------------------------------------
mark
run "$sockrun" --trace -- "$static" calls 127.0.0.1 "$tport" "$uport"
calls=$(grep -c '^\[[0-9]*\] \(socket\|connect\|sendto\)(' "$TMP/err")
if [ "$(cat "$TMP/out")" = "$through" ] && [ "$calls" -eq 4 ] && [ "$(wc -l <"$TMP/err")" -eq 4 ] &&
    grep -q "^\[[0-9]*\] connect([0-9]*, 127.0.0.1:$tport) = 0 <[0-9]*us>$" "$TMP/err" &&
    grep -q "^\[[0-9]*\] sendto([0-9]*, 1, 0, 127.0.0.1:$uport) = 1 <[0-9]*us>$" "$TMP/err"; then
    ok "static, --trace alone: the kernel mode traces its 4 calls, one line each, no warning"
else
    bad "static, --trace: lines wrong" "$(cat "$TMP/out" "$TMP/err")"
fi

run "$sockrun" --deny=127.0.0.1 --trace -- "$static" calls 127.0.0.1 "$tport" "$uport"
if grep -q "^\[[0-9]*\] connect([0-9]*, 127.0.0.1:$tport) = -1 EPERM denied_by=LIBSOCK_DENY:127.0.0.1 <[0-9]*us>$" "$TMP/err" &&
    grep -q "^\[[0-9]*\] sendto([0-9]*, 1, 0, 127.0.0.1:$uport) = -1 EPERM denied_by=LIBSOCK_DENY:127.0.0.1" "$TMP/err" &&
    [ "$(wc -l <"$TMP/err")" -eq 4 ]; then
    ok "static, --deny --trace: refusals traced once with denied_by, as in-process"
else
    bad "static, --deny --trace: lines wrong" "$(cat "$TMP/err")"
fi

run "$sockrun" --deny=127.0.0.1 --trace --json -- "$static" calls 127.0.0.1 "$tport" "$uport"
if python3 - "$TMP/err" "$tport" <<'EOF'; then
import json, sys
lines = [json.loads(l) for l in open(sys.argv[1])]
assert [l["call"] for l in lines] == ["socket", "connect", "socket", "sendto"], lines
c = lines[1]
assert c["addr"] == "127.0.0.1:" + sys.argv[2] and c["ret"] == -1 and c["errno"] == "EPERM", c
assert c["denied_by"] == "LIBSOCK_DENY:127.0.0.1", c
assert all({"ts", "pid", "tid", "us"} <= l.keys() for l in lines)
EOF
    ok "static, --json: four JSON objects, the refusal with errno and denied_by"
else
    bad "static, --json: wrong" "$(cat "$TMP/err")"
fi

# Refusals the filter itself would make (raw and packet sockets, source
# routes set as options) go to the supervisor when traced, to be shown.
run "$sockrun" --deny=192.0.2.1 --trace -- "$BUILD/kernel.static" raw-sockets
if [ "$(cat "$TMP/out")" = "socket-inet-raw ret=-1 errno=EPERM
socket-packet ret=-1 errno=EPERM" ] &&
    [ "$(grep -c '= -1 EPERM denied_by=access-rules:raw-or-packet-socket' "$TMP/err")" -eq 2 ]; then
    ok "static, --deny --trace: raw and packet sockets refused and traced with denied_by"
else
    bad "static raw sockets: not traced" "$(cat "$TMP/out" "$TMP/err")"
fi
run "$sockrun" --deny=192.0.2.1 --trace -- "$BUILD/kernel.static" source-route
if grep -q '^ip-options-lsrr ret=-1 errno=EPERM$' "$TMP/out" && grep -q '^ip-tos ret=0 errno=0$' "$TMP/out" &&
    [ "$(grep -c 'setsockopt(.*= -1 EPERM denied_by=access-rules:source-route' "$TMP/err")" -eq 2 ]; then
    ok "static, --deny --trace: source routes set as options refused and traced with denied_by (IP_TOS untouched)"
else
    bad "static source routes: not traced" "$(cat "$TMP/out" "$TMP/err")"
fi

# The same rules on a dynamic program: libsock refuses in-process and
# traces; the supervisor judges the calls that reach it and shows none of
# them again.
run "$sockrun" --deny=127.0.0.1 --trace -- "$dynamic" calls 127.0.0.1 "$tport" "$uport"
lines=$(wc -l <"$TMP/err")
if [ "$(cat "$TMP/out")" = "$refused" ] && [ "$lines" -eq 4 ] &&
    [ "$(grep -c 'denied_by=LIBSOCK_DENY:127.0.0.1' "$TMP/err")" -eq 2 ]; then
    ok "dynamic, --deny --trace: one line per call (4), each refusal once"
else
    bad "dynamic, --deny --trace: $lines lines" "$(cat "$TMP/err")"
fi
run "$sockrun" --deny=192.0.2.1 --trace -- "$dynamic" calls 127.0.0.1 "$tport" "$uport"
lines=$(wc -l <"$TMP/err")
if [ "$(cat "$TMP/out")" = "$through" ] && [ "$lines" -eq 4 ]; then
    ok "dynamic, --deny (not matching) --trace: calls the supervisor answered are traced once (4 lines)"
else
    bad "dynamic, allowed calls: $lines lines" "$(cat "$TMP/err")"
fi
run "$sockrun" --deny=127.0.0.1 --trace -- "$dynamic" raw 127.0.0.1 "$tport"
if [ "$(cat "$TMP/out")" = "raw-connect ret=-1 errno=EPERM" ] &&
    [ "$(grep -c "connect([0-9]*, 127.0.0.1:$tport) = -1 EPERM denied_by=LIBSOCK_DENY:127.0.0.1" "$TMP/err")" -eq 1 ]; then
    ok "dynamic, a raw syscall(SYS_connect) libsock cannot see: refused and traced once, by the supervisor"
else
    bad "dynamic raw connect: wrong" "$(cat "$TMP/out" "$TMP/err")"
fi

# A socket no filter can hold (MPTCP's): refused before it is created,
# in-process and under the supervisor alike — one line, with denied_by.
run "$sockrun" --deny=192.0.2.1 --trace -- python3 -c '
import socket
try:
    socket.socket(socket.AF_INET, socket.SOCK_STREAM, 262)
except OSError as e:
    print("mptcp", e.errno)'
if [ "$(cat "$TMP/out")" = "mptcp 1" ] &&
    [ "$(grep -c 'socket(AF_INET, SOCK_STREAM|SOCK_CLOEXEC, 262) = -1 EPERM denied_by=fail-closed:filter-not-attached' "$TMP/err")" -eq 1 ] &&
    [ "$(grep -c ', 262)' "$TMP/err")" -eq 1 ]; then
    ok "an MPTCP socket under rules (no filter holds it): EPERM, one trace line with denied_by"
else
    bad "MPTCP under rules" "$(cat "$TMP/out")" "$(grep 262 "$TMP/err")"
fi

# A script is not static: the kernel mode is asked for.
run "$sockrun" --kernel --trace="$TMP/trace.%p" -- sh -c '"$0" calls 127.0.0.1 "$1" "$2"; "$0" calls 127.0.0.1 "$1" "$2"' \
    "$static" "$tport" "$uport"
files=$(find "$TMP" -name 'trace.*' | wc -l)
per=$(for f in "$TMP"/trace.*; do grep -c '' "$f"; done | sort -u | tr '\n' ' ')
if [ "$files" -eq 2 ] && [ "$per" = "4 " ]; then
    ok "--kernel --trace=FILE.%p on a script: one file per traced process (2 static runs, 4 lines each)"
else
    bad "--trace=%p: $files files, lines per file: $per" "$(ls "$TMP")"
fi

# --- stats ----------------------------------------------------------------------
run "$sockrun" --deny=127.0.0.1 --stats -- "$static" calls 127.0.0.1 "$tport" "$uport"
if grep -q '^libsock stats for pid [0-9]* (calls answered by sockrun --kernel):$' "$TMP/err" &&
    grep -Eq '^  connect +1 +1 +0 +0$' "$TMP/err" && grep -Eq '^  socket +2 +0 +0 +0$' "$TMP/err" &&
    grep -qx '  denied by access rules: connect 1, sendto 1' "$TMP/err"; then
    ok "static, --stats: the supervisor's table counts its calls and the denials"
else
    bad "static, --stats: wrong table" "$(cat "$TMP/err")"
fi
run "$sockrun" --deny=192.0.2.1 --stats -- "$static" calls 127.0.0.1 "$tport" "$uport"
if grep -Eq '^  sendto +1 +0 +0 +1$' "$TMP/err"; then
    ok "static, --stats: bytes sent by a supervised sendto counted"
else
    bad "static, --stats: bytes" "$(cat "$TMP/err")"
fi
run "$sockrun" --deny=192.0.2.1 --stats -- "$dynamic" calls 127.0.0.1 "$tport" "$uport"
if [ "$(grep -c '^libsock stats for pid' "$TMP/err")" -eq 1 ] && grep -Eq '^  connect +1 +0' "$TMP/err"; then
    ok "dynamic, --stats with rules: one table, each call counted once (libsock's)"
else
    bad "dynamic, --stats: counted twice?" "$(cat "$TMP/err")"
fi

# --- cancellation -----------------------------------------------------------------
# libsock makes a supervised call as a raw system call carrying its token:
# still a cancellation point, as glibc's wrapper is.
for opts in "--no-kernel --deny=192.0.2.1" "--deny=192.0.2.1" "--deny=192.0.2.1 --trace=$TMP/cancel.trace"; do
    # shellcheck disable=SC2086
    run "$sockrun" $opts -- "$dynamic" cancel
    if [ "$(cat "$TMP/out")" = "joined: canceled" ]; then
        ok "dynamic, sockrun $opts: a thread blocked in a supervised sendmsg is cancelled by pthread_cancel"
    else
        bad "dynamic, sockrun $opts: pthread_cancel did not end the blocked sendmsg" "$(cat "$TMP/out" "$TMP/err")"
    fi
done

# --- options --------------------------------------------------------------------
run "$static" options
native=$(cat "$TMP/out")
run "$sockrun" --nodelay --keepalive=30 --tos=16 --reuseaddr -- "$static" options
if [ "$native" = "nodelay=0 keepalive=0 keepidle=7200 tos=0 reuseaddr=0" ] &&
    [ "$(cat "$TMP/out")" = "nodelay=1 keepalive=1 keepidle=30 tos=16 reuseaddr=1" ] && [ ! -s "$TMP/err" ]; then
    ok "static, options alone: the kernel mode sets them on its new socket (natively: $native)"
else
    bad "static, options: not set" "native: $native" "$(cat "$TMP/out" "$TMP/err")"
fi
# --bind-addr and --port-map: a static program's bind rewritten by the
# supervisor as the library rewrites a dynamic one's (one trace line each).
from=$(free_port)
to=$(free_port)
run "$static" bind "$from"
native=$(cat "$TMP/out")
run "$sockrun" --bind-addr=127.0.0.1 --port-map="$from:$to" --trace -- "$static" bind "$from"
kernel_out=$(cat "$TMP/out")
kernel_err=$(cat "$TMP/err")
run "$sockrun" --bind-addr=127.0.0.1 --port-map="$from:$to" --trace -- "$dynamic" bind "$from"
if [ "$native" = "bind ret=0 errno=0 bound=0.0.0.0:$from" ] &&
    [ "$kernel_out" = "bind ret=0 errno=0 bound=127.0.0.1:$to" ] && [ "$(cat "$TMP/out")" = "$kernel_out" ] &&
    [ "$(grep -c "bind([0-9]*, 127.0.0.1:$to) = 0 asked=0.0.0.0:$from" <<<"$kernel_err")" -eq 1 ] &&
    [ "$(grep -c "bind(" "$TMP/err")" -eq 1 ] && ! grep -q warning <<<"$kernel_err"; then
    ok "static, --bind-addr --port-map: its bind rewritten by the supervisor as libsock rewrites a dynamic one's (natively $native), traced once each"
else
    bad "static, --bind-addr --port-map: not rewritten alike" "native: $native" "static: $kernel_out" "$kernel_err" \
        "dynamic: $(cat "$TMP/out" "$TMP/err")"
fi

finish
