"""make dist-test, inside a fresh venv holding only the installed wheel:
the package loads the library it bundles (no LIBSOCK_LIB), a UDP datagram
goes there and back through it, and libsock.select answers for descriptors
past 1023. Prints one line per check."""

import os
import resource
import socket
import sys
import time
from pathlib import Path

import libsock

assert "LIBSOCK_LIB" not in os.environ, "run without LIBSOCK_LIB"
bundled = Path(libsock.__file__).resolve().parent / "libsock.so"
assert Path(libsock.lib_path).resolve() == bundled, (libsock.lib_path, bundled)
assert Path(sys.prefix).resolve() in bundled.parents, f"{bundled} is not in {sys.prefix}"
print(f"smoke: libsock {libsock.version()} loaded from {bundled}")

a = libsock.socket(socket.AF_INET, socket.SOCK_DGRAM)
b = libsock.socket(socket.AF_INET, socket.SOCK_DGRAM)
libsock.bind(a, ("127.0.0.1", 0))
libsock.bind(b, ("127.0.0.1", 0))
libsock.sendto(a, b"ping", libsock.getsockname(b))
data, sender = libsock.recvfrom(b, 64)
assert (data, sender) == (b"ping", libsock.getsockname(a)), (data, sender)
libsock.sendto(b, b"pong", sender)
data, _ = libsock.recvfrom(a, 64)
assert data == b"pong", data
print("smoke: UDP round trip over 127.0.0.1")

soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
if soft < 4096 <= hard or hard == resource.RLIM_INFINITY:
    resource.setrlimit(resource.RLIMIT_NOFILE, (4096, hard))
high_a = os.dup2(a, 3000)
high_b = os.dup2(b, 3001)
t0 = time.monotonic()
ready = libsock.select([high_a, high_b], [], [], 0.05)
took = time.monotonic() - t0
assert ready == ([], [], []), ready
assert took >= 0.05, f"a 0.05 s select returned after {took:.4f} s"
libsock.sendto(high_a, b"far", libsock.getsockname(high_b))
ready = libsock.select([high_a, high_b], [high_a], [], 5.0)
assert ready == ([high_b], [high_a], []), ready
print(f"smoke: libsock.select on descriptors {high_a} and {high_b} (timeout not early)")
for fd in (a, b, high_a, high_b):
    libsock.close(fd)
