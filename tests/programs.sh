#!/usr/bin/env bash
# Unmodified programs from Debian's packages, preloaded with libsock, on
# loopback: the bytes must arrive intact, and the dynamic linker's own log
# (LD_DEBUG=bindings) must show their socket calls binding to libsock.
#
#   curl  <- python3 -m http.server   (HTTP, both preloaded)
#   socat <- socat TCP echo            (both preloaded)
#   socat <- socat UDP echo            (both preloaded)
set -euo pipefail
. "$(dirname "$0")/lib/harness.sh"
harness programs
find_libsock
py=${PYTHON:-python3}
scratch work programs

# bound_to_libsock LOGPREFIX SYMBOL...: every symbol was bound to libsock by
# some process whose LD_DEBUG log starts with LOGPREFIX.
bound_to_libsock() {
    local logs=$1; shift
    for sym in "$@"; do
        grep -qF "to $lib [0]: normal symbol \`$sym'" "$logs".* ||
            die "FAIL: $(basename "$logs"): \`$sym' did not bind to libsock"
    done
}

# --- curl fetching from python3 -m http.server -------------------------------
mkdir "$work/www"
head -c 3000000 /dev/urandom >"$work/www/blob.bin"
printf 'hello from libsock\n' >"$work/www/index.txt"
(cd "$work/www" && LD_PRELOAD=$lib LD_DEBUG=bindings LD_DEBUG_OUTPUT=$work/ld-server \
    exec "$py" -u -m http.server --bind 127.0.0.1 0 >"$work/server.out" 2>"$work/server.err") &
background $!
wait_for "$work/server.out" 'port [0-9]+' 5 || die "FAIL: the server did not say its port"
port=$(sed -n 's/.* port \([0-9]*\).*/\1/p' "$work/server.out" | head -1)
for f in blob.bin index.txt; do
    LD_PRELOAD=$lib LD_DEBUG=bindings LD_DEBUG_OUTPUT=$work/ld-curl \
        timeout 30 curl -sS --fail -o "$work/got-$f" "http://127.0.0.1:$port/$f"
    cmp "$work/www/$f" "$work/got-$f" || die "FAIL: curl: $f differs"
done
status=$(LD_PRELOAD=$lib timeout 30 curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port/missing")
[ "$status" = 404 ] || die "FAIL: curl: expected 404 for a missing file, got $status"
bound_to_libsock "$work/ld-curl" socket connect send recv getsockopt
bound_to_libsock "$work/ld-server" socket bind listen send recv
ok "curl <- python3 -m http.server: bytes intact, socket calls bound to libsock"

# --- socat TCP echo ------------------------------------------------------------
port=$(free_port)
head -c 1000000 /dev/urandom >"$work/tcp.in"
LD_PRELOAD=$lib LD_DEBUG=bindings LD_DEBUG_OUTPUT=$work/ld-socat-tcp-server \
    timeout 60 socat "TCP-LISTEN:$port,bind=127.0.0.1,reuseaddr,fork" EXEC:cat &
background $!
for _ in $(seq 100); do socat -u /dev/null "TCP:127.0.0.1:$port" 2>/dev/null && break; sleep 0.05; done
LD_PRELOAD=$lib LD_DEBUG=bindings LD_DEBUG_OUTPUT=$work/ld-socat-tcp-client \
    timeout 30 socat -t 5 - "TCP:127.0.0.1:$port,shut-down" <"$work/tcp.in" >"$work/tcp.out"
cmp "$work/tcp.in" "$work/tcp.out" || die "FAIL: socat TCP echo: bytes differ"
bound_to_libsock "$work/ld-socat-tcp-server" socket bind listen accept setsockopt
bound_to_libsock "$work/ld-socat-tcp-client" socket connect
ok "socat TCP echo: bytes intact, socket calls bound to libsock"

# --- socat UDP echo ------------------------------------------------------------
port=$(free_port)
LD_PRELOAD=$lib LD_DEBUG=bindings LD_DEBUG_OUTPUT=$work/ld-socat-udp-server \
    timeout 60 socat "UDP-RECVFROM:$port,bind=127.0.0.1,fork" EXEC:cat &
background $!
sleep 0.2
printf 'datagram through libsock\n' >"$work/udp.in"
LD_PRELOAD=$lib LD_DEBUG=bindings LD_DEBUG_OUTPUT=$work/ld-socat-udp-client \
    timeout 30 socat -T 2 - "UDP:127.0.0.1:$port" <"$work/udp.in" >"$work/udp.out"
cmp "$work/udp.in" "$work/udp.out" || die "FAIL: socat UDP echo: bytes differ"
bound_to_libsock "$work/ld-socat-udp-server" socket bind recvfrom
bound_to_libsock "$work/ld-socat-udp-client" socket connect
ok "socat UDP echo: bytes intact, socket calls bound to libsock"
finish
