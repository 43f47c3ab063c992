"""The BSD socket calls, through libsock.so, as Python functions.

Each function takes a descriptor (an int, or an object with ``fileno()``),
calls the libsock export of the same name, and either returns the
result in Python's shapes (addresses as in :mod:`socket`, data as bytes) or
raises :class:`OSError` with the errno the call set (Python picks the
subclass: ``ConnectionRefusedError`` for ECONNREFUSED and so on).

Blocking calls that fail with EINTR are retried after Python's signal
handlers have run, as Python's own socket methods do (PEP 475); ``close`` is
never retried (on Linux the descriptor is released even then).

Where an address is taken, its family is read from its shape (a path is
AF_UNIX, a 3- or 4-tuple or an IPv6 literal is AF_INET6, an IPv4 literal is
AF_INET). Only a 2-tuple whose host is ``''`` or a name leaves it open; then
the socket's own family is asked for with ``getsockopt(SO_DOMAIN)``, one
extra call through libsock. Pass ``family=`` to choose it yourself.
"""

from __future__ import annotations

import ctypes
import errno
import select
import socket as _pysocket
from typing import Optional, Tuple, Union, cast

from . import _addr
from ._addr import Address
from ._cstructs import sockaddr_storage, socklen_t
from ._lib import lib
from ._util import (
    INT_MAX,
    INT_MIN,
    FdLike,
    call,
    call_retrying,
    raise_errno,
    readable,
    readable_address,
    to_cint,
    to_fd,
    to_size,
    writable,
)

__all__ = [
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
    "recv",
    "recv_into",
    "recvfrom",
    "recvfrom_into",
    "setsockopt",
    "getsockopt",
    "getsockname",
    "getpeername",
    "shutdown",
    "close",
    "version",
]

#: Largest option buffer getsockopt accepts (the kernel's own limits are far
#: below; this only keeps a typo from allocating gigabytes).
GETSOCKOPT_BUFLEN_MAX = 1 << 20

_DEFAULT_BACKLOG = min(_pysocket.SOMAXCONN, 128)


def version() -> str:
    """libsock's version, from ``libsock_version()`` (e.g. ``"0.1.0"``)."""
    raw: bytes = lib.libsock_version()
    return raw.decode("ascii")


def socket(
    family: int = _pysocket.AF_INET, type: int = _pysocket.SOCK_STREAM, proto: int = 0
) -> int:
    """``socket(2)``: a new socket's descriptor. ``type`` may carry
    ``SOCK_NONBLOCK``/``SOCK_CLOEXEC``."""
    return call(
        lib.socket, to_cint(family, "family"), to_cint(type, "type"), to_cint(proto, "proto")
    )


def socketpair(
    family: int = _pysocket.AF_UNIX, type: int = _pysocket.SOCK_STREAM, proto: int = 0
) -> Tuple[int, int]:
    """``socketpair(2)``: two connected descriptors."""
    pair = (ctypes.c_int * 2)(-1, -1)
    call(
        lib.socketpair,
        to_cint(family, "family"),
        to_cint(type, "type"),
        to_cint(proto, "proto"),
        pair,
    )
    return pair[0], pair[1]


def _socket_family(fd: int) -> int:
    value = ctypes.c_int(0)
    length = socklen_t(ctypes.sizeof(value))
    call(
        lib.getsockopt,
        fd,
        _pysocket.SOL_SOCKET,
        _pysocket.SO_DOMAIN,
        ctypes.byref(value),
        ctypes.byref(length),
    )
    return value.value


def encode_for_socket(
    fd: int, address: object, family: Optional[int]
) -> Tuple[ctypes.Structure, int]:
    """Encode ``address`` for the call on ``fd`` (see the module docstring
    for how the family is chosen)."""
    if family is None:
        family = _addr.infer_family(address)
    if family is None:
        if not isinstance(address, tuple) or len(address) != 2:
            raise TypeError(
                "address must be a (host, port[, flowinfo, scope_id]) tuple, "
                f"a str/bytes path or a (family, bytes) tuple, not {address!r}"
            )
        _addr.check_inet_tuple(address)  # malformed input never reaches C
        family = _socket_family(fd)
    return _addr.encode(address, family)


def bind(fd: FdLike, address: Address, *, family: Optional[int] = None) -> None:
    """``bind(2)`` ``fd`` to ``address``."""
    fd = to_fd(fd)
    sa, length = encode_for_socket(fd, address, family)
    call(lib.bind, fd, _addr.as_sockaddr_p(sa), length)


def listen(fd: FdLike, backlog: int = _DEFAULT_BACKLOG) -> None:
    """``listen(2)``; ``backlog`` is passed as given (the kernel caps it)."""
    call(lib.listen, to_fd(fd), to_cint(backlog, "backlog"))


def _named(storage: sockaddr_storage, length: int) -> Address:
    """Decode the address of a bound or connected socket. Linux always
    reports at least its family for getsockname/getpeername/accept (an
    unnamed Unix socket is ``''``), so the ``None`` of a zero length, which
    :func:`_addr.decode` keeps for CPython's sake, does not occur here."""
    return cast(Address, _addr.decode(storage, length))


def accept(fd: FdLike) -> Tuple[int, Address]:
    """``accept(2)``: the new descriptor and the peer's address."""
    fd = to_fd(fd)
    storage, length = _addr.new_storage()
    new = call_retrying(lib.accept, fd, _addr.as_sockaddr_p(storage), ctypes.byref(length))
    return new, _named(storage, length.value)


def accept4(fd: FdLike, flags: int = 0) -> Tuple[int, Address]:
    """``accept4(2)`` with ``SOCK_NONBLOCK``/``SOCK_CLOEXEC`` ``flags``."""
    fd = to_fd(fd)
    flags = to_cint(flags, "flags")
    storage, length = _addr.new_storage()
    new = call_retrying(
        lib.accept4, fd, _addr.as_sockaddr_p(storage), ctypes.byref(length), flags
    )
    return new, _named(storage, length.value)


def connect(fd: FdLike, address: Address, *, family: Optional[int] = None) -> None:
    """``connect(2)`` ``fd`` to ``address``.

    A blocking connect interrupted by a signal (EINTR) goes on in the kernel;
    as Python's ``socket.connect`` does, this then waits for it to finish
    and reports its outcome (``SO_ERROR``) instead of failing.
    """
    fd = to_fd(fd)
    sa, length = encode_for_socket(fd, address, family)
    if lib.connect(fd, _addr.as_sockaddr_p(sa), length) != -1:
        return
    err = ctypes.get_errno()
    if err != errno.EINTR:
        raise_errno(err)
    _wait_connected(fd)


def _wait_connected(fd: int) -> None:
    """Wait for a connect that EINTR interrupted, then report its outcome."""
    poller = select.poll()
    poller.register(fd, select.POLLOUT)
    poller.poll()  # Python retries this on EINTR itself (PEP 475)
    err = getsockopt(fd, _pysocket.SOL_SOCKET, _pysocket.SO_ERROR)
    if err:
        raise_errno(int(err))


def send(fd: FdLike, data: object, flags: int = 0) -> int:
    """``send(2)``: the number of bytes sent."""
    fd = to_fd(fd)
    buffer, length = readable(data)
    return call_retrying(lib.send, fd, buffer, length, to_cint(flags, "flags"))


def sendall(fd: FdLike, data: object, flags: int = 0) -> None:
    """``send(2)`` until every byte of ``data`` is sent (like
    ``socket.sendall``); raises on the first error."""
    fd = to_fd(fd)
    flags = to_cint(flags, "flags")
    base, length, keepalive = readable_address(data)
    offset = 0
    while True:  # at least one send, so b"" still reports a bad descriptor
        offset += call_retrying(
            lib.send, fd, ctypes.c_void_p(base + offset), length - offset, flags
        )
        if offset >= length:
            break
    del keepalive  # kept alive until every byte is sent


def sendto(
    fd: FdLike,
    data: object,
    address: Address,
    flags: int = 0,
    *,
    family: Optional[int] = None,
) -> int:
    """``sendto(2)``: send ``data`` to ``address``; the number of bytes sent."""
    fd = to_fd(fd)
    buffer, length = readable(data)
    flags = to_cint(flags, "flags")
    sa, salen = encode_for_socket(fd, address, family)
    return call_retrying(
        lib.sendto, fd, buffer, length, flags, _addr.as_sockaddr_p(sa), salen
    )


def _recv_buffer(bufsize: object) -> Tuple[ctypes.Array[ctypes.c_char], int]:
    size = to_size(bufsize, "buffersize")
    return ctypes.create_string_buffer(max(size, 1)), size


def recv(fd: FdLike, bufsize: int, flags: int = 0) -> bytes:
    """``recv(2)``: up to ``bufsize`` bytes (``b''`` at end of stream)."""
    fd = to_fd(fd)
    buffer, size = _recv_buffer(bufsize)
    received = call_retrying(lib.recv, fd, buffer, size, to_cint(flags, "flags"))
    return ctypes.string_at(buffer, min(received, size))


def recv_into(fd: FdLike, buffer: object, nbytes: int = 0, flags: int = 0) -> int:
    """``recv(2)`` into a writable ``buffer`` (the whole of it when
    ``nbytes`` is 0); the number of bytes received."""
    fd = to_fd(fd)
    target, size = writable(buffer, nbytes)
    return call_retrying(lib.recv, fd, target, size, to_cint(flags, "flags"))


def recvfrom(fd: FdLike, bufsize: int, flags: int = 0) -> Tuple[bytes, Optional[Address]]:
    """``recvfrom(2)``: the data and the sender's address (None when the
    kernel gives none, e.g. on a connected stream)."""
    fd = to_fd(fd)
    buffer, size = _recv_buffer(bufsize)
    storage, length = _addr.new_storage()
    received = call_retrying(
        lib.recvfrom,
        fd,
        buffer,
        size,
        to_cint(flags, "flags"),
        _addr.as_sockaddr_p(storage),
        ctypes.byref(length),
    )
    return ctypes.string_at(buffer, min(received, size)), _addr.decode(storage, length.value)


def recvfrom_into(
    fd: FdLike, buffer: object, nbytes: int = 0, flags: int = 0
) -> Tuple[int, Optional[Address]]:
    """``recvfrom(2)`` into a writable ``buffer``; the number of bytes
    received and the sender's address."""
    fd = to_fd(fd)
    target, size = writable(buffer, nbytes)
    storage, length = _addr.new_storage()
    received = call_retrying(
        lib.recvfrom,
        fd,
        target,
        size,
        to_cint(flags, "flags"),
        _addr.as_sockaddr_p(storage),
        ctypes.byref(length),
    )
    return received, _addr.decode(storage, length.value)


def setsockopt(
    fd: FdLike,
    level: int,
    option: int,
    value: Union[int, bytes, bytearray, memoryview, None],
    optlen: Optional[int] = None,
) -> None:
    """``setsockopt(2)``. ``value`` is an int (passed as a 4-byte C int;
    -2**31 .. 2**32-1), a bytes-like buffer (passed as is), or None with
    ``optlen`` (a NULL pointer of that length, as ``socket.setsockopt``
    allows)."""
    fd = to_fd(fd)
    level = to_cint(level, "level")
    option = to_cint(option, "option")
    if value is None:
        if optlen is None:
            raise TypeError("setsockopt: optlen is required when value is None")
        length = to_size(optlen, "optlen")
        if length > 0xFFFFFFFF:
            raise ValueError(f"optlen too large: {length}")
        call(lib.setsockopt, fd, level, option, None, length)
        return
    if optlen is not None:
        raise TypeError("setsockopt: optlen is only taken with value=None")
    if isinstance(value, int):
        if not INT_MIN <= value <= 0xFFFFFFFF:
            raise ValueError(f"setsockopt: int value out of 32-bit range: {value}")
        number = ctypes.c_int(value if value <= INT_MAX else value - 2**32)
        call(lib.setsockopt, fd, level, option, ctypes.byref(number), ctypes.sizeof(number))
        return
    buffer, size = readable(value)
    call(lib.setsockopt, fd, level, option, buffer, size)


def getsockopt(
    fd: FdLike, level: int, option: int, buflen: Optional[int] = None
) -> Union[int, bytes]:
    """``getsockopt(2)``. Without ``buflen`` the option is read as a C int
    and returned as an int; with it, up to ``buflen`` raw bytes are returned
    (as many as the kernel wrote)."""
    fd = to_fd(fd)
    level = to_cint(level, "level")
    option = to_cint(option, "option")
    if buflen is None:
        number = ctypes.c_int(0)
        length = socklen_t(ctypes.sizeof(number))
        call(lib.getsockopt, fd, level, option, ctypes.byref(number), ctypes.byref(length))
        return number.value
    size = to_size(buflen, "buflen")
    if size > GETSOCKOPT_BUFLEN_MAX:
        raise ValueError(f"buflen too large: {size} > {GETSOCKOPT_BUFLEN_MAX}")
    buffer = ctypes.create_string_buffer(max(size, 1))
    length = socklen_t(size)
    call(lib.getsockopt, fd, level, option, buffer, ctypes.byref(length))
    return ctypes.string_at(buffer, min(length.value, size))


def getsockname(fd: FdLike) -> Address:
    """``getsockname(2)``: the socket's own address."""
    fd = to_fd(fd)
    storage, length = _addr.new_storage()
    call(lib.getsockname, fd, _addr.as_sockaddr_p(storage), ctypes.byref(length))
    return _named(storage, length.value)


def getpeername(fd: FdLike) -> Address:
    """``getpeername(2)``: the connected peer's address."""
    fd = to_fd(fd)
    storage, length = _addr.new_storage()
    call(lib.getpeername, fd, _addr.as_sockaddr_p(storage), ctypes.byref(length))
    return _named(storage, length.value)


def shutdown(fd: FdLike, how: int) -> None:
    """``shutdown(2)`` with ``SHUT_RD``, ``SHUT_WR`` or ``SHUT_RDWR``."""
    call(lib.shutdown, to_fd(fd), to_cint(how, "how"))


def close(fd: FdLike) -> None:
    """``close(2)``. Not retried on EINTR: the descriptor is gone either way,
    and the error is reported as is."""
    call(lib.close, to_fd(fd))
