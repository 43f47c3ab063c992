"""The socket address codec: Python address objects <-> C ``sockaddr``.

Addresses take the shapes of Python's :mod:`socket` module:

* ``AF_INET``: ``(host, port)``; ``host`` an IPv4 literal, ``''`` (any),
  ``'<broadcast>'`` or a name resolved with :func:`socket.getaddrinfo`.
* ``AF_INET6``: ``(host, port[, flowinfo[, scope_id]])``; ``host`` an IPv6
  literal (``'fe80::1%eth0'`` carries its scope), ``''`` (any) or a name.
* ``AF_UNIX``: a path as ``str`` (encoded with :func:`os.fsencode`) or
  bytes-like; a leading NUL byte names Linux's abstract namespace, and an
  empty address asks the kernel to pick an abstract one (autobind).
* any other family: ``(family, data)`` with the raw bytes that follow
  ``sa_family``; decoded addresses of unknown families come back this way.

Malformed input raises :class:`TypeError` or :class:`ValueError` here,
before anything reaches C. Decoding follows CPython's ``makesockaddr``: a
zero length gives ``None``, a path comes back as ``str`` and an abstract
name as ``bytes``.
"""

from __future__ import annotations

import ctypes
import os
import socket as _pysocket
from typing import Optional, Tuple, Union

from ._cstructs import (
    SUN_PATH_MAX,
    sockaddr,
    sockaddr_in,
    sockaddr_in6,
    sockaddr_storage,
    sockaddr_un,
    socklen_t,
)

__all__ = [
    "Address",
    "BytesLike",
    "infer_family",
    "check_inet_tuple",
    "encode",
    "decode",
    "new_storage",
]

AF_UNIX = _pysocket.AF_UNIX
AF_INET = _pysocket.AF_INET
AF_INET6 = _pysocket.AF_INET6

BytesLike = Union[bytes, bytearray, memoryview]
Host = Union[str, bytes, bytearray]
#: Every address shape this module accepts or returns.
Address = Union[
    Tuple[Host, int],
    Tuple[Host, int, int],
    Tuple[Host, int, int, int],
    Tuple[int, BytesLike],
    str,
    BytesLike,
]

#: offsetof(struct sockaddr_un, sun_path)
_SUN_PATH_OFFSET = sockaddr_un.sun_path.offset
#: sizeof(sa_family_t): the length of an unnamed Unix socket's address
_FAMILY_SIZE = ctypes.sizeof(ctypes.c_ushort)
_SA_DATA_MAX = ctypes.sizeof(sockaddr_storage) - _FAMILY_SIZE

SockaddrStruct = Union[sockaddr_in, sockaddr_in6, sockaddr_un, sockaddr_storage]


def _is_bytes_like(value: object) -> bool:
    return isinstance(value, (bytes, bytearray, memoryview))


def _literal_family(host: object) -> Optional[int]:
    """AF_INET/AF_INET6 if ``host`` is an address literal, else None."""
    if isinstance(host, (bytes, bytearray)):
        try:
            host = bytes(host).decode("ascii")
        except UnicodeDecodeError:
            return None
    if not isinstance(host, str):
        return None
    if host == "<broadcast>":
        return AF_INET
    for family in (AF_INET, AF_INET6):
        try:
            _pysocket.inet_pton(family, host.split("%", 1)[0] if family == AF_INET6 else host)
        except (OSError, ValueError):
            continue
        return family
    return None


def infer_family(address: object) -> Optional[int]:
    """The family an address is written for, or None if its shape leaves it
    open (a 2-tuple whose host is ``''`` or a name: Python decides that by
    the socket's family, and so must the caller)."""
    if isinstance(address, str) or _is_bytes_like(address):
        return AF_UNIX
    if isinstance(address, tuple):
        if len(address) == 2 and isinstance(address[0], int) and _is_bytes_like(address[1]):
            return int(address[0])
        if len(address) in (3, 4):
            return AF_INET6
        if len(address) == 2:
            return _literal_family(address[0])
    return None


def _check_int(value: object, what: str, low: int, high: int) -> int:
    if not isinstance(value, int):
        raise TypeError(f"{what} must be an int, not {type(value).__name__}")
    if not low <= value <= high:
        raise ValueError(f"{what} must be {low}-{high}, got {value}")
    return value


def _host_str(host: object, family_name: str) -> str:
    if isinstance(host, (bytes, bytearray)):
        try:
            return bytes(host).decode("ascii")
        except UnicodeDecodeError:
            raise ValueError(f"{family_name} host must be ASCII bytes") from None
    if isinstance(host, str):
        if "\0" in host:
            raise ValueError(f"{family_name} host contains a NUL character")
        return host
    raise TypeError(f"{family_name} host must be str or bytes, not {type(host).__name__}")


def check_inet_tuple(address: Tuple[object, object]) -> None:
    """Check a ``(host, port)`` pair's types and ranges, for when its family
    is still to be asked from the socket."""
    _host_str(address[0], "address")
    _check_int(address[1], "port", 0, 0xFFFF)


def _resolve(host: str, family: int) -> Tuple[str, int]:
    """Resolve a name the way CPython's setipaddr does (getaddrinfo with the
    socket's family); returns the literal and, for IPv6, its scope id."""
    infos = _pysocket.getaddrinfo(host, None, family, _pysocket.SOCK_DGRAM)
    sockaddr_tuple = infos[0][4]
    scope = int(sockaddr_tuple[3]) if family == AF_INET6 and len(sockaddr_tuple) > 3 else 0
    return str(sockaddr_tuple[0]), scope


def _encode_inet(address: object) -> Tuple[sockaddr_in, int]:
    if not isinstance(address, tuple) or len(address) != 2:
        raise TypeError("AF_INET address must be a (host, port) tuple")
    host = _host_str(address[0], "AF_INET")
    port = _check_int(address[1], "port", 0, 0xFFFF)
    if host == "":
        packed = bytes(4)
    elif host == "<broadcast>":
        packed = b"\xff\xff\xff\xff"
    else:
        try:
            packed = _pysocket.inet_pton(AF_INET, host)
        except OSError:
            packed = _pysocket.inet_pton(AF_INET, _resolve(host, AF_INET)[0])
    sa = sockaddr_in()
    sa.sin_family = AF_INET
    sa.sin_port[:] = list(port.to_bytes(2, "big"))
    sa.sin_addr[:] = list(packed)
    return sa, ctypes.sizeof(sa)


def _encode_inet6(address: object) -> Tuple[sockaddr_in6, int]:
    if not isinstance(address, tuple) or not 2 <= len(address) <= 4:
        raise TypeError("AF_INET6 address must be a (host, port[, flowinfo[, scope_id]]) tuple")
    host = _host_str(address[0], "AF_INET6")
    port = _check_int(address[1], "port", 0, 0xFFFF)
    flowinfo = _check_int(address[2], "flowinfo", 0, 0xFFFFF) if len(address) > 2 else 0
    scope_id = _check_int(address[3], "scope_id", 0, 0xFFFFFFFF) if len(address) > 3 else 0
    if host == "":
        literal, scope = "::", 0
    elif _literal_family(host) == AF_INET6:
        literal, _, zone = host.partition("%")
        if not zone:
            scope = 0
        elif zone.isdigit():
            scope = int(zone)
        else:
            scope = _pysocket.if_nametoindex(zone)
    else:
        literal, scope = _resolve(host, AF_INET6)
    packed = _pysocket.inet_pton(AF_INET6, literal)
    sa = sockaddr_in6()
    sa.sin6_family = AF_INET6
    sa.sin6_port[:] = list(port.to_bytes(2, "big"))
    sa.sin6_flowinfo[:] = list(flowinfo.to_bytes(4, "big"))
    sa.sin6_addr[:] = list(packed)
    sa.sin6_scope_id = scope_id or scope
    return sa, ctypes.sizeof(sa)


def _encode_unix(address: object) -> Tuple[sockaddr_un, int]:
    if isinstance(address, str):
        path = os.fsencode(address)
    elif isinstance(address, (bytes, bytearray, memoryview)):
        path = bytes(address)
    else:
        raise TypeError(f"AF_UNIX address must be str or bytes, not {type(address).__name__}")
    sa = sockaddr_un()
    sa.sun_family = AF_UNIX
    if path[:1] in (b"", b"\0"):
        # Abstract namespace (or autobind when empty): the length is exact.
        if len(path) > SUN_PATH_MAX:
            raise ValueError(f"AF_UNIX path too long ({len(path)} > {SUN_PATH_MAX} bytes)")
        length = _SUN_PATH_OFFSET + len(path)
    else:
        # A filesystem path, passed with its terminating NUL as CPython does.
        if len(path) >= SUN_PATH_MAX:
            raise ValueError(f"AF_UNIX path too long ({len(path)} >= {SUN_PATH_MAX} bytes)")
        length = _SUN_PATH_OFFSET + len(path) + 1
    sa.sun_path[: len(path)] = list(path)
    return sa, length


def _encode_raw(family: int, address: object) -> Tuple[sockaddr_storage, int]:
    if (
        not isinstance(address, tuple)
        or len(address) != 2
        or not _is_bytes_like(address[1])
    ):
        raise TypeError(f"address for family {family} must be a (family, bytes) tuple")
    data = bytes(address[1])
    if len(data) > _SA_DATA_MAX:
        raise ValueError(f"address data too long ({len(data)} > {_SA_DATA_MAX} bytes)")
    ss = sockaddr_storage()
    ss.ss_family = family
    ctypes.memmove(ctypes.addressof(ss) + _FAMILY_SIZE, data, len(data))
    return ss, _FAMILY_SIZE + len(data)


def encode(address: object, family: int) -> Tuple[SockaddrStruct, int]:
    """Encode ``address`` for ``family``; returns the C structure (keep it
    alive for the duration of the call) and the length to pass with it."""
    family = _check_int(family, "family", 0, 0xFFFF)
    if family == AF_INET:
        return _encode_inet(address)
    if family == AF_INET6:
        return _encode_inet6(address)
    if family == AF_UNIX:
        return _encode_unix(address)
    return _encode_raw(family, address)


def as_sockaddr_p(struct: ctypes.Structure) -> "ctypes._Pointer[sockaddr]":
    """``(struct sockaddr *)&struct``, typed for the prototypes."""
    return ctypes.cast(ctypes.byref(struct), ctypes.POINTER(sockaddr))


def new_storage() -> Tuple[sockaddr_storage, socklen_t]:
    """A zeroed ``sockaddr_storage`` and a ``socklen_t`` holding its size,
    ready to be filled by accept/recvfrom/getsockname/getpeername."""
    storage = sockaddr_storage()
    return storage, socklen_t(ctypes.sizeof(storage))


def decode(storage: sockaddr_storage, length: int) -> Optional[Address]:
    """Decode the first ``length`` bytes of ``storage`` (clamped to its size,
    as a truncated address may report a larger length)."""
    if length <= 0:
        return None
    raw = ctypes.string_at(ctypes.addressof(storage), min(length, ctypes.sizeof(storage)))
    family = storage.ss_family
    if family == AF_INET and len(raw) >= ctypes.sizeof(sockaddr_in):
        sin = sockaddr_in.from_buffer_copy(raw[: ctypes.sizeof(sockaddr_in)])
        host = _pysocket.inet_ntop(AF_INET, bytes(sin.sin_addr))
        return host, int.from_bytes(bytes(sin.sin_port), "big")
    if family == AF_INET6 and len(raw) >= ctypes.sizeof(sockaddr_in6):
        sin6 = sockaddr_in6.from_buffer_copy(raw[: ctypes.sizeof(sockaddr_in6)])
        host = _pysocket.inet_ntop(AF_INET6, bytes(sin6.sin6_addr))
        return (
            host,
            int.from_bytes(bytes(sin6.sin6_port), "big"),
            int.from_bytes(bytes(sin6.sin6_flowinfo), "big"),
            int(sin6.sin6_scope_id),
        )
    if family == AF_UNIX:
        path = raw[_SUN_PATH_OFFSET:]
        if path[:1] == b"\0":
            return path  # abstract: every byte counts
        return os.fsdecode(path.split(b"\0", 1)[0])
    return family, raw[_FAMILY_SIZE:]
