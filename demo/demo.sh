#!/usr/bin/env bash
# make demo: libsock in its three loading modes, on loopback, with real
# programs. Run from the repository root after `make`.
set -euo pipefail
. "$(dirname "$0")/../tests/lib/harness.sh"
harness demo
find_libsock
py=${PYTHON:-python3}
out=target/demo
build_dir out "$out"
scratch work demo
server=
on_exit '[ -z "$server" ] || kill "$server" 2>/dev/null'

say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

version=$("$py" -c "import ctypes; f = ctypes.CDLL('$lib').libsock_version; f.restype = ctypes.c_char_p; print(f().decode())")
say "libsock $version: one C program, three ways to load it"
cc -O2 -Wall -Wextra demo/hello.c -o "$out/hello-native"
cc -O2 -Wall -Wextra demo/hello.c -L"$libdir" -lsock -Wl,-rpath,"$libdir" -o "$out/hello-linked"
printf '  %-34s' "native (glibc):";            "$out/hello-native"
printf '  %-34s' "linked (cc ... -lsock):";      "$out/hello-linked"
printf '  %-34s' "preloaded (LD_PRELOAD=...):";  LD_PRELOAD=$lib "$out/hello-native"

say "SocketSet: one thread, one sockset_select per round, ${CLIENTS:=3000} clients at once (FD_SETSIZE is 1024)"
cc -O2 -Wall -Wextra -Iinclude demo/echo_server.c -L"$libdir" -lsock -Wl,-rpath,"$libdir" -o "$out/echo_server"
cc -O2 -Wall -Wextra demo/echo_load.c -o "$out/echo_load"
"$out/echo_server" "$CLIENTS" >"$work/echo.out" &
echo_pid=$!
wait_for "$work/echo.out" '^port ' 5 >/dev/null || true
echo_port=$(sed -n 's/^port //p' "$work/echo.out")
printf '  '; timeout 60 "$out/echo_load" "$echo_port" "$CLIENTS" 5
wait "$echo_pid"
printf '  '; grep '^server:' "$work/echo.out"

say "Unmodified binaries under LD_PRELOAD: curl fetching from python3 -m http.server"
mkdir "$work/www"
head -c 1048576 /dev/urandom >"$work/www/random.bin"
(cd "$work/www" && LD_PRELOAD=$lib exec "$py" -u -m http.server --bind 127.0.0.1 0 \
    >"$work/server.out" 2>/dev/null) &
server=$!
wait_for "$work/server.out" ' port ' 5 >/dev/null || true
port=$(sed -n 's/.* port \([0-9]*\).*/\1/p' "$work/server.out")
LD_PRELOAD=$lib LD_DEBUG=bindings LD_DEBUG_OUTPUT=$work/ld \
    curl -sS -o "$work/got.bin" "http://127.0.0.1:$port/random.bin"
if cmp -s "$work/www/random.bin" "$work/got.bin"; then
    echo "  curl received $(stat -c %s "$work/got.bin") bytes from 127.0.0.1:$port, identical to the file served"
else
    echo "  curl's bytes differ from the file served"; exit 1
fi
calls=$(grep -ohE "to $lib \[0\]: normal symbol \`[a-z_0-9]+'" "$work"/ld.* |
        sed "s/.*\`\(.*\)'/\1/" | sort -u | paste -sd' ')
echo "  in curl's process the dynamic linker bound these calls to libsock: $calls"

sockrun=target/release/sockrun
say "sockrun --trace: the same curl, every socket call decoded (payload never shown)"
"$sockrun" --trace="$work/curl.trace" -- curl -sS -o /dev/null "http://127.0.0.1:$port/random.bin"
grep -vE '\] (close|dup2)\(' "$work/curl.trace" | grep -v 'getsockopt' | head -12 | sed 's/^/  /'
echo "  ... $(wc -l <"$work/curl.trace") lines in all; with --json each is a JSON object"

say "sockrun --deny / --allow: access rules on the same curl"
rc=0
"$sockrun" --deny=127.0.0.1 --trace="$work/deny.trace" -- \
    curl -sS -o /dev/null "http://127.0.0.1:$port/random.bin" 2>"$work/deny.err" || rc=$?
echo "  --deny=127.0.0.1: curl exits $rc: $(head -n 1 "$work/deny.err")"
grep -m 1 ' connect(.*EPERM' "$work/deny.trace" | sed 's/^/  /'
# 0.0.0.0 as a destination is the local host to the kernel: judged as such.
rc=0
"$sockrun" --deny=127.0.0.1 --trace="$work/deny0.trace" -- \
    curl -sS -o /dev/null "http://0.0.0.0:$port/random.bin" 2>"$work/deny0.err" || rc=$?
echo "  the same peer spelt 0.0.0.0: curl exits $rc"
grep -m 1 ' connect(.*EPERM' "$work/deny0.trace" | sed 's/^/  /'
# A static binary (no LD_PRELOAD reaches it) is held in the kernel: with
# rules sockrun runs it under its seccomp supervisor, which traces it too.
if "${CC:-cc}" -O2 -D_GNU_SOURCE -pthread -static -o "$work/visible.static" c-tests/kernel/visible.c 2>/dev/null; then
    "$sockrun" --deny=127.0.0.1 --trace="$work/static.trace" -- \
        "$work/visible.static" calls 127.0.0.1 "$port" "$port" | sed 's/^/  static binary: /'
    grep -m 1 ' connect(' "$work/static.trace" | sed 's/^/  /'
fi
"$sockrun" --allow=localhost -- curl -sS -o /dev/null -w '  --allow=localhost: HTTP %{http_code}\n' \
    "http://127.0.0.1:$port/random.bin"
rc=0
"$sockrun" --allow=localhst -- true 2>"$work/typo.err" || rc=$?
echo "  a typo never opens a hole: exit $rc, $(head -n 1 "$work/typo.err" | cut -c1-90)..."

say "sockrun --reuseaddr: a killed server restarts on its port at once"
# kill_and_restart [SOCKRUN-OPTIONS]: a server that never sets SO_REUSEADDR
# serves a client, is killed with the connection open, and is started again.
kill_and_restart() {
    local rport plain client
    rport=$(free_port)
    "$sockrun" "$@" -- "$py" -u demo/plain_server.py "$rport" >"$work/plain.out" &
    plain=$!
    wait_for "$work/plain.out" listening 5 >/dev/null || true
    exec {client}<>/dev/tcp/127.0.0.1/"$rport"
    read -r -u "$client" _
    kill -9 "$plain"; wait "$plain" 2>/dev/null || true
    printf '  %-12s killed with a client connected; restart: ' "${1:-(plain)}"
    "$sockrun" "$@" -- "$py" demo/plain_server.py "$rport" --probe || true
    exec {client}>&-
}
kill_and_restart
kill_and_restart --reuseaddr

say "Python through ctypes: import libsock"
PYTHONPATH=python "$py" - <<'PY'
import resource, select, socket
import libsock

print(f"  loaded {libsock.lib_path} (libsock {libsock.version()})")
a = libsock.socket(socket.AF_INET, socket.SOCK_DGRAM)
b = libsock.socket(socket.AF_INET, socket.SOCK_DGRAM)
libsock.bind(b, ("127.0.0.1", 0))
libsock.sendto(a, b"ping over libsock", libsock.getsockname(b))
data, peer = libsock.recvfrom(b, 64)
print(f"  UDP round trip: {data!r} from {peer[0]}")
libsock.close(a)
try:
    libsock.close(a)
except OSError as e:
    print(f"  closing twice raises OSError({e.errno}, {e.strerror!r}), glibc's EBADF")
libsock.close(b)

soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, 4096), hard))
pairs = [socket.socketpair() for _ in range(1000)]
readers = [r for r, _ in pairs]
pairs[-1][1].send(b"!")
try:
    select.select(readers, [], [], 0)
except ValueError as e:
    print(f"  select.select over {len(readers)} sockets (up to fd {readers[-1].fileno()}): ValueError: {e}")
ready, _, _ = libsock.select(readers, [], [], 0)
print(f"  libsock.select over the same sockets: ready {[s.fileno() for s in ready]}")
PY
echo
echo "Next: make test (every check; see the README) and make bench (the SocketSet, interposition, Python and access-rules tables)."
