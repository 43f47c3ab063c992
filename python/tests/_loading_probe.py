"""What test_loading looks at in a process: the libsock files mapped into it
and its epoll instances. Run as a script (``python3 _loading_probe.py``, the
package on ``PYTHONPATH``) it imports libsock, waits once with
``libsock.select`` and prints, as JSON, where the library came from, what is
mapped, whose ``close`` the program calls, and whether the wait made an
epoll instance: the epoll backend keeps one per set, the ppoll backend
(libsock does not see the program's closes) makes none.

Kept apart from the tests so the probe process imports nothing else.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Set

#: This script, for ``subprocess`` (``sys.executable PROBE``).
PROBE = str(Path(__file__).resolve())


def mapped_libsocks() -> Set[str]:
    """The files named ``libsock*`` mapped into this process (/proc/self/maps)."""
    found: Set[str] = set()
    with open("/proc/self/maps") as maps:
        for line in maps:
            fields = line.split(None, 5)
            if len(fields) == 6 and os.path.basename(fields[5].strip()).startswith("libsock"):
                found.add(fields[5].strip())
    return found


def epoll_instances() -> int:
    """How many epoll instances this process has open (/proc/self/fd)."""
    count = 0
    for name in os.listdir("/proc/self/fd"):
        try:
            if os.readlink(f"/proc/self/fd/{name}") == "anon_inode:[eventpoll]":
                count += 1
        except OSError:
            pass  # the listing's own descriptor, closed by now
    return count


def main() -> None:
    import ctypes
    import json
    import socket

    # Away from where the process started: a relative LD_PRELOAD must not matter.
    os.chdir(os.environ.get("PROBE_CHDIR", "."))

    import libsock
    from libsock import _lib

    a, b = socket.socketpair()
    before = epoll_instances()
    b.send(b"x")
    ready = libsock.select([a], [], [], 5.0)[0] == [a]
    close = _lib.mapped_file(ctypes.CDLL(None).close) or "?"
    report = {
        "lib_path": libsock.lib_path,
        "origin": _lib.lib_origin,
        "mapped": sorted(mapped_libsocks()),
        "close": close,
        "ready": ready,
        "new_epoll": epoll_instances() - before,
    }
    print(json.dumps(report))


if __name__ == "__main__":
    main()
