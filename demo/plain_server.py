"""A TCP server that, like many, never sets SO_REUSEADDR.

    plain_server.py PORT          bind 127.0.0.1:PORT, accept one client, hold it
    plain_server.py PORT --probe  only try to bind, say how it went, exit

Used by `make demo` to show a killed server failing to restart on its port
(EADDRINUSE) and `sockrun --reuseaddr` restarting it at once.
"""

import socket
import sys
import time

port = int(sys.argv[1])
s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
try:
    s.bind(("127.0.0.1", port))
except OSError as e:
    print(f"bind 127.0.0.1:{port} failed: {e.strerror} ({socket.errno.errorcode[e.errno]})", flush=True)
    sys.exit(1)
if "--probe" in sys.argv:
    reuse = s.getsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR)
    print(f"bound 127.0.0.1:{port} at once (SO_REUSEADDR={reuse}: libsock set it, the program did not)", flush=True)
    sys.exit(0)
s.listen(1)
print("listening", flush=True)
conn, _ = s.accept()
conn.sendall(b"hello\n")
time.sleep(60)
