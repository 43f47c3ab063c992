"""stats.py MODE — known socket traffic for LIBSOCK_STATS: a socketpair,
3 sends of 100 bytes and the receives of those 300 bytes, one bind, and one
connect that fails (nothing listens). Prints its pid. MODE "exit" returns
normally (atexit runs); MODE "_exit" leaves through os._exit (it does not).
"""

import os
import socket
import sys

a, b = socket.socketpair()
for _ in range(3):
    a.send(b"x" * 100)
got = 0
while got < 300:
    got += len(b.recv(4096))
listener = socket.socket()
listener.bind(("127.0.0.1", 0))
client = socket.socket()
err = client.connect_ex(listener.getsockname())
print(os.getpid(), flush=True)
if err == 0:
    sys.exit("stats.py: the connect was expected to fail")
if sys.argv[1] == "_exit":
    os._exit(0)
