"""The C types libsock's calls take, declared with ctypes (Linux, glibc ABI).

Only layout lives here: no behaviour. Byte-order conversions and the
Python <-> C address codec are in ``_addr``; the prototypes that use these
types are in ``_lib``.
"""

from __future__ import annotations

import ctypes

#: ``socklen_t`` is an unsigned 32-bit integer on Linux.
socklen_t = ctypes.c_uint32
#: ``sa_family_t`` is an unsigned short on Linux.
sa_family_t = ctypes.c_ushort

#: ``sizeof(struct sockaddr_un.sun_path)`` on Linux.
SUN_PATH_MAX = 108


class sockaddr(ctypes.Structure):
    """``struct sockaddr``: the generic address header."""

    _fields_ = [("sa_family", sa_family_t), ("sa_data", ctypes.c_ubyte * 14)]


class sockaddr_in(ctypes.Structure):
    """``struct sockaddr_in``; ``sin_port`` and ``sin_addr`` in network order."""

    _fields_ = [
        ("sin_family", sa_family_t),
        ("sin_port", ctypes.c_ubyte * 2),
        ("sin_addr", ctypes.c_ubyte * 4),
        ("sin_zero", ctypes.c_ubyte * 8),
    ]


class sockaddr_in6(ctypes.Structure):
    """``struct sockaddr_in6``; port, flowinfo and address in network order,
    ``sin6_scope_id`` in host order."""

    _fields_ = [
        ("sin6_family", sa_family_t),
        ("sin6_port", ctypes.c_ubyte * 2),
        ("sin6_flowinfo", ctypes.c_ubyte * 4),
        ("sin6_addr", ctypes.c_ubyte * 16),
        ("sin6_scope_id", ctypes.c_uint32),
    ]


class sockaddr_un(ctypes.Structure):
    """``struct sockaddr_un``; ``sun_path`` as raw bytes (abstract names may
    hold NULs)."""

    _fields_ = [("sun_family", sa_family_t), ("sun_path", ctypes.c_ubyte * SUN_PATH_MAX)]


class sockaddr_storage(ctypes.Structure):
    """``struct sockaddr_storage``: 128 bytes, aligned for any address."""

    _fields_ = [
        ("ss_family", sa_family_t),
        ("_ss_padding", ctypes.c_ubyte * 118),
        ("_ss_align", ctypes.c_ulong),
    ]


class iovec(ctypes.Structure):
    """``struct iovec``."""

    _fields_ = [("iov_base", ctypes.c_void_p), ("iov_len", ctypes.c_size_t)]


class msghdr(ctypes.Structure):
    """``struct msghdr`` (glibc: ``msg_iovlen`` and ``msg_controllen`` are
    ``size_t``)."""

    _fields_ = [
        ("msg_name", ctypes.c_void_p),
        ("msg_namelen", socklen_t),
        ("msg_iov", ctypes.POINTER(iovec)),
        ("msg_iovlen", ctypes.c_size_t),
        ("msg_control", ctypes.c_void_p),
        ("msg_controllen", ctypes.c_size_t),
        ("msg_flags", ctypes.c_int),
    ]


class mmsghdr(ctypes.Structure):
    """``struct mmsghdr`` for ``sendmmsg``/``recvmmsg``."""

    _fields_ = [("msg_hdr", msghdr), ("msg_len", ctypes.c_uint)]


class cmsghdr(ctypes.Structure):
    """``struct cmsghdr`` (glibc: ``cmsg_len`` is ``size_t``)."""

    _fields_ = [
        ("cmsg_len", ctypes.c_size_t),
        ("cmsg_level", ctypes.c_int),
        ("cmsg_type", ctypes.c_int),
    ]


class timespec(ctypes.Structure):
    """``struct timespec`` (64-bit ``time_t`` and ``long``)."""

    _fields_ = [("tv_sec", ctypes.c_long), ("tv_nsec", ctypes.c_long)]


class timeval(ctypes.Structure):
    """``struct timeval`` (64-bit ``time_t`` and ``suseconds_t``)."""

    _fields_ = [("tv_sec", ctypes.c_long), ("tv_usec", ctypes.c_long)]


def _check_layout() -> None:
    """Fail loudly at import if ctypes laid a structure out unlike glibc."""
    expected = {
        sockaddr: 16,
        sockaddr_in: 16,
        sockaddr_in6: 28,
        sockaddr_un: 110,
        sockaddr_storage: 128,
        timeval: 16,
    }
    for struct, size in expected.items():
        if ctypes.sizeof(struct) != size:  # pragma: no cover - ABI guard
            raise ImportError(
                f"libsock: unexpected sizeof({struct.__name__}) = "
                f"{ctypes.sizeof(struct)}, expected {size}"
            )


_check_layout()
