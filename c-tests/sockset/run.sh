#!/usr/bin/env bash
# The SocketSet C tests in each way a program can get libsock:
#   linked      cc … -lsock: libsock sees close, the wait is epoll-backed;
#   preloaded   LD_PRELOAD=libsock.so, the API looked up with dlopen: same;
#   dlopen      RTLD_LOCAL, as ctypes loads it: closes unseen, the ppoll path.
# Runs on any glibc since 2.17 (make distro-test runs it on Debian 11's 2.31).
set -euo pipefail
. "$(dirname "$0")/../../tests/lib/harness.sh"
harness sockset
find_libsock
out=target/c-tests/sockset
build_dir out "$out"
cflags=(-O2 -g -Wall -Wextra -Werror -Iinclude)
linked=(-L"$libdir" -lsock -Wl,-rpath,"$libdir")
cc=${CC:-cc}

"$cc" "${cflags[@]}" c-tests/sockset/sockset_test.c "${linked[@]}" -o "$out/sockset_test"
"$cc" "${cflags[@]}" c-tests/sockset/differential.c "${linked[@]}" -o "$out/differential"
"$cc" "${cflags[@]}" -DVIA_DLOPEN c-tests/sockset/differential.c -ldl -o "$out/differential-dlopen"
"$cc" "${cflags[@]}" c-tests/sockset/own_fds.c "${linked[@]}" -o "$out/own_fds"
"$cc" "${cflags[@]}" -DVIA_DLOPEN c-tests/sockset/own_fds.c -ldl -o "$out/own_fds-dlopen"

# run NAME COMMAND...: one program; the first failure ends the suite.
run() {
    local name=$1; shift
    if timeout 120 "$@" >"$out/$name.log" 2>&1; then
        ok "$name: $(tail -1 "$out/$name.log")"
    else
        bad "$name" "$(cat "$out/$name.log")"
        finish
    fi
}
run linked-api "$out/sockset_test"
run linked-differential "$out/differential"
run preloaded-differential env LD_PRELOAD="$lib" LIBSOCK_LIB="$lib" "$out/differential-dlopen"
run dlopen-differential env LIBSOCK_LIB="$lib" "$out/differential-dlopen"
# libsock's own descriptors: never a member, and rebuilt whatever closes them.
run linked-own-fds "$out/own_fds"
run preloaded-own-fds env LD_PRELOAD="$lib" LIBSOCK_LIB="$lib" "$out/own_fds-dlopen"
# The same with a low limit on descriptors: libsock's number within it.
run linked-own-fds-low-limit bash -c 'ulimit -n 64 && exec "$0"' "$out/own_fds"
# Tracing to a file: the trace file is libsock's own too, and the close loops
# take it from under the sink, which reopens it.
rm -f "$out/own_fds.trace"
run linked-own-fds-traced env LIBSOCK_TRACE="$out/own_fds.trace" OWN_FDS_TRACE="$out/own_fds.trace" "$out/own_fds"
# Which wait each mode really uses, from the system calls it makes: the epoll
# wait is epoll_pwait2 where glibc has it (2.35), else epoll_pwait (Debian 11).
glibc=$(getconf GNU_LIBC_VERSION | awk '{print $2}')
epoll=epoll_pwait2
[ "$(printf '2.35\n%s\n' "$glibc" | sort -V | head -1)" = 2.35 ] || epoll=epoll_pwait
waits=epoll_pwait,epoll_wait,ppoll
strace -e trace=epoll_pwait2 -o /dev/null true 2>/dev/null && waits=epoll_pwait2,$waits # an older strace lacks the name
backend() {
    local want=$1; shift
    local calls
    calls=$(timeout 120 strace -f -c -e trace="$waits" -o /dev/stdout "$@" 2>/dev/null |
            awk '$NF ~ /^(epoll_pwait2|epoll_pwait|epoll_wait|ppoll)$/ {print $NF}' | sort -u | paste -sd' ')
    [ "$calls" = "$want" ] || { bad "backend: $* waits with '$calls', expected '$want'"; finish; }
    ok "backend: $want"
}
backend "$epoll" "$out/differential"
backend "$epoll" env LD_PRELOAD="$lib" LIBSOCK_LIB="$lib" "$out/differential-dlopen"
backend ppoll env LIBSOCK_LIB="$lib" "$out/differential-dlopen"
for seed in 1 2 3; do
    run "linked-differential-seed$seed" env SEED=$seed "$out/differential"
done
finish
