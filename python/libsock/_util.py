"""Argument checking, errno handling and buffer access shared by the calls.

Everything a Python caller can get wrong is caught here with a
:class:`TypeError` or :class:`ValueError` before C runs. Values C itself
judges (a closed or negative descriptor, an unknown family or option) are
passed through, so the caller gets exactly the errno glibc gives.
"""

from __future__ import annotations

import _socket
import ctypes
import errno as _errno
import os
import struct
from array import array
from typing import Any, Callable, List, NoReturn, Optional, Protocol, Sequence, Set, Tuple, Union

__all__ = [
    "HasFileno",
    "FdLike",
    "INT_MIN",
    "INT_MAX",
    "to_fd",
    "descriptors",
    "filenos",
    "fd_array",
    "to_cint",
    "to_size",
    "raise_errno",
    "call",
    "call_retrying",
    "readable",
    "readable_address",
    "writable",
]

INT_MIN = -(2**31)
INT_MAX = 2**31 - 1
#: Largest size_t/ssize_t length accepted (ssize_t's maximum).
SIZE_MAX = 2 ** (8 * ctypes.sizeof(ctypes.c_ssize_t) - 1) - 1


class HasFileno(Protocol):
    """Anything with a ``fileno()`` method, e.g. a :class:`socket.socket`."""

    def fileno(self) -> int: ...


FdLike = Union[int, HasFileno]


def to_cint(value: object, what: str) -> int:
    """``value`` as a C int: TypeError if not an integer, ValueError if out
    of range."""
    if not isinstance(value, int):
        raise TypeError(f"{what} must be an int, not {type(value).__name__}")
    if not INT_MIN <= value <= INT_MAX:
        raise ValueError(f"{what} out of range for a C int: {value}")
    return int(value)


def to_fd(fd: object) -> int:
    """A descriptor from an int or an object with ``fileno()``. Negative and
    closed descriptors are left for C to refuse (EBADF, like glibc)."""
    if not isinstance(fd, int):
        fileno = getattr(fd, "fileno", None)
        if fileno is None:
            raise TypeError(
                f"fd must be an int or have a fileno() method, not {type(fd).__name__}"
            )
        fd = fileno()
    return to_cint(fd, "fd")


# The C ``fileno`` of the socket type: every socket object that does not
# override it answers a C int through it.
_SOCKET_FILENO = _socket.socket.fileno


def descriptors(objects: Sequence[Any], negative: bool = True) -> "array[int]":
    """:func:`fd_array` of :func:`filenos`: the descriptor of each object as a
    C int array, with the same errors. When every object is of one socket
    type that keeps the C ``fileno`` (the usual list of sockets), that
    method is mapped over them directly and its ints need no check: a third
    of the cost of the general path, which is what a round of
    :func:`libsock.select` over thousands of sockets mostly pays for. (A
    closed socket's -1 is left for the C call to refuse, after which the
    caller's :func:`check_fds` names it.)"""
    types = {*map(type, objects)}
    if len(types) == 1 and getattr(next(iter(types)), "fileno", None) is _SOCKET_FILENO:
        return _int_array(list(map(_SOCKET_FILENO, objects)))
    return fd_array(filenos(objects, negative, types))


def _int_array(ints: List[int]) -> "array[int]":
    """``array('i', ints)`` built through ``struct.pack`` (one C loop,
    a third of the array constructor's time); struct.error if a value is
    not an int or beyond a C int."""
    out = array("i")
    out.frombytes(struct.pack(f"{len(ints)}i", *ints))
    return out


def filenos(
    objects: Sequence[Any], negative: bool = True, types: Optional[Set[type]] = None
) -> List[int]:
    """The descriptor of each object, in order, as :func:`to_fd` gives it —
    ints as they are, else ``fileno()`` — with no Python-level call per
    object. The values are not checked here: :func:`fd_array` does that in
    bulk. The error raised is the one a one-by-one :func:`to_fd` loop
    raises (checking each value before the next object, and refusing a
    negative one unless ``negative``). ``types``: the objects' types, if
    the caller has them already."""
    if types is None:
        types = {*map(type, objects)}
    if not any(issubclass(t, int) for t in types):
        # No ints: the common case, at the speed of a bare comprehension.
        try:
            return [o.fileno() for o in objects]
        except Exception:
            # Start again one by one for the exact error (the fileno() of
            # the objects before the failing one is then called again).
            pass
    return _filenos_one_by_one(objects, negative)


def _filenos_one_by_one(objects: Sequence[Any], negative: bool) -> List[int]:
    """:func:`filenos` with ints mixed in: each ``fileno()`` called once."""
    fds: List[int] = []
    try:
        # A generator, not a comprehension: after a failure, len(fds) says
        # which object failed.
        fds.extend(o if isinstance(o, int) else o.fileno() for o in objects)
        return fds
    except AttributeError:
        failed = objects[len(fds)]
        check_fds(fds, negative)
        if getattr(failed, "fileno", None) is None:
            to_fd(failed)  # TypeError naming the type
        raise  # raised inside fileno()
    except BaseException:
        check_fds(fds, negative)
        raise


def check_fds(fds: Sequence[object], negative: bool = True) -> None:
    """Raises what :func:`to_fd` (and, unless ``negative``, a refusal of
    negative numbers) raises for the first bad value of ``fds``."""
    for fd in fds:
        fd = to_cint(fd, "fd")
        if not negative and fd < 0:
            raise ValueError(f"file descriptor cannot be a negative integer ({fd})")


_INT = {int}


def fd_array(fds: List[int]) -> "array[int]":
    """``fds`` as a C int array (``array('i')``, for ``from_buffer``),
    checked as :func:`to_fd` checks each: TypeError for a value that is not
    an int, ValueError for one beyond a C int. Negative numbers pass, for C
    to judge."""
    if not {*map(type, fds)} <= _INT:
        check_fds(fds)  # raises, unless they are int subclasses (bool)
        fds = [int(fd) for fd in fds]
    try:
        return _int_array(fds)
    except struct.error as e:
        check_fds(fds)  # ValueError naming the value beyond a C int
        raise OverflowError(str(e)) from e


def to_size(value: object, what: str) -> int:
    """A non-negative size: TypeError if not an integer, ValueError if
    negative or beyond ``ssize_t``."""
    if not isinstance(value, int):
        raise TypeError(f"{what} must be an int, not {type(value).__name__}")
    if value < 0:
        raise ValueError(f"negative {what}: {value}")
    if value > SIZE_MAX:
        raise ValueError(f"{what} too large: {value}")
    return int(value)


def raise_errno(err: int) -> NoReturn:
    """Raise ``OSError(err, strerror(err))``; Python picks the subclass
    (ConnectionRefusedError for ECONNREFUSED, …)."""
    raise OSError(err, os.strerror(err))


def call(function: Callable[..., int], *args: Any) -> int:
    """Call a C function; its result, or OSError with the errno it set."""
    result = function(*args)
    if result == -1:
        raise_errno(ctypes.get_errno())
    return result


def call_retrying(function: Callable[..., int], *args: Any) -> int:
    """Like :func:`call`, retrying on EINTR as Python does (PEP 475). The
    signal handlers run between attempts, since the interpreter checks for
    pending signals when the call returns to Python; one that raises ends
    the loop with its exception."""
    while True:
        result = function(*args)
        if result != -1:
            return result
        err = ctypes.get_errno()
        if err != _errno.EINTR:
            raise_errno(err)


def _byte_view(data: object) -> memoryview:
    view = memoryview(data)  # type: ignore[arg-type]  # TypeError if not a buffer
    if not view.c_contiguous:
        raise ValueError("buffer must be C-contiguous")
    if view.format != "B" or view.ndim != 1:
        view = view.cast("B")
    return view


def readable(data: object) -> Tuple[Union[bytes, ctypes.Array[ctypes.c_char]], int]:
    """A pointer-convertible object for a bytes-like ``data`` and its length
    in bytes. ``bytes`` are passed without a copy; writable buffers are shared
    in place; other read-only buffers are copied."""
    if isinstance(data, bytes):
        return data, len(data)
    view = _byte_view(data)
    if view.readonly:
        copy = view.tobytes()
        return copy, len(copy)
    return (ctypes.c_char * view.nbytes).from_buffer(view), view.nbytes


def readable_address(data: object) -> Tuple[int, int, object]:
    """Address and length of a bytes-like ``data``, and the object that must
    stay alive while C reads from it (for ``iovec``)."""
    buffer, length = readable(data)
    if isinstance(buffer, bytes):
        pointer = ctypes.c_char_p(buffer)  # points into the bytes, no copy
        address = ctypes.cast(pointer, ctypes.c_void_p).value or 0
        return address, length, (buffer, pointer)
    return ctypes.addressof(buffer), length, buffer


def writable(buffer: object, nbytes: int) -> Tuple[ctypes.Array[ctypes.c_char], int]:
    """A ctypes view of a writable bytes-like ``buffer`` and the number of
    bytes to receive into it (``nbytes``, or the whole buffer when 0)."""
    view = _byte_view(buffer)
    if view.readonly:
        raise TypeError(f"buffer must be writable, {type(buffer).__name__} is read-only")
    nbytes = to_size(nbytes, "nbytes")
    if nbytes == 0:
        nbytes = view.nbytes
    elif nbytes > view.nbytes:
        raise ValueError(f"buffer too small ({view.nbytes} bytes) for {nbytes} bytes")
    return (ctypes.c_char * view.nbytes).from_buffer(view), nbytes
