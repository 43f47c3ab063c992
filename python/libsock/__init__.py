"""libsock for Python: the BSD socket calls through ``libsock.so``, over ctypes.

>>> import libsock, socket
>>> fd = libsock.socket(socket.AF_INET, socket.SOCK_DGRAM)
>>> libsock.bind(fd, ("127.0.0.1", 0))
>>> libsock.getsockname(fd)
('127.0.0.1', ...)
>>> libsock.close(fd)

Every function calls the libsock export of the same name and raises
:class:`OSError` with its errno on failure; addresses and options take the
shapes of Python's :mod:`socket` module, whose constants (``AF_INET``,
``SOL_SOCKET``, ``MSG_PEEK``, …) are the ones to use. Descriptors are plain
ints (objects with ``fileno()`` are accepted too): close what you open.

``libsock.lib`` is the raw :class:`ctypes.CDLL`, every export declared with
glibc's prototype, and ``libsock.lib_path`` the real path of the file it is
mapped from. One libsock per process: a libsock the process already holds
(preloaded, or linked into the program) is the one used, even when
``LIBSOCK_LIB`` names another file; otherwise it is found through
``LIBSOCK_LIB``, the library the wheel bundles, the build tree, the system
(see ``libsock._lib``).

Layout, one concern per module: ``_lib`` (finding and loading the library),
``_cstructs`` (C structures), ``_addr`` (the sockaddr codec), ``_util``
(argument checks, errno, buffers), ``_calls`` (the BSD calls), ``_msg``
(sendmsg/recvmsg and the batch calls), ``_sockset`` (the SocketSet and
``select``, a drop-in for :func:`select.select` without its 1024 limit).
"""

from __future__ import annotations

from ._addr import Address
from ._calls import (
    accept,
    accept4,
    bind,
    close,
    connect,
    getpeername,
    getsockname,
    getsockopt,
    listen,
    recv,
    recv_into,
    recvfrom,
    recvfrom_into,
    send,
    sendall,
    sendto,
    setsockopt,
    shutdown,
    socket,
    socketpair,
    version,
)
from ._lib import LibsockNotFoundError, lib, lib_path
from ._msg import AncData, recvmmsg, recvmsg, sendmmsg, sendmsg
from ._sockset import SocketSet, select
from ._util import FdLike, HasFileno

__version__ = "0.1.0"

__all__ = [
    # the library
    "lib",
    "lib_path",
    "version",
    "LibsockNotFoundError",
    # select() without FD_SETSIZE
    "select",
    "SocketSet",
    # the BSD calls
    "socket",
    "socketpair",
    "bind",
    "listen",
    "accept",
    "accept4",
    "connect",
    "send",
    "sendall",
    "sendto",
    "sendmsg",
    "sendmmsg",
    "recv",
    "recv_into",
    "recvfrom",
    "recvfrom_into",
    "recvmsg",
    "recvmmsg",
    "setsockopt",
    "getsockopt",
    "getsockname",
    "getpeername",
    "shutdown",
    "close",
    # types
    "Address",
    "AncData",
    "FdLike",
    "HasFileno",
]
