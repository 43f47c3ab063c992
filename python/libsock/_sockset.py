"""The SocketSet and ``select`` without FD_SETSIZE, over libsock's C API.

:func:`select` is a drop-in for :func:`select.select` — the same arguments,
the same return shape, :class:`OSError` with errno on failure, EINTR retried
after the signal handlers run (PEP 475) — that takes descriptors past 1023,
where :func:`select.select` raises ``ValueError: filedescriptor out of
range``. Each set costs one ctypes call (``sockset_add_many``), not one per
descriptor.

Loaded through ctypes, libsock does not see the program's ``close`` (Python
calls glibc's), so ``sockset_select`` waits with ``ppoll`` over the members:
always correct — a closed descriptor whose number is reused is watched
afresh — at poll's cost. Run Python under ``LD_PRELOAD=libsock.so`` and
libsock sees every close: the wait is then epoll-backed, one ``epoll_wait``
per round for an unchanged set of descriptors.
"""

from __future__ import annotations

import ctypes
import errno
import math
import threading
import time
import weakref
from typing import Any, Iterable, Iterator, List, Optional, Sequence, Tuple, TypeVar

from ._lib import lib
from ._cstructs import timeval
from ._util import FdLike, raise_errno, to_fd

__all__ = ["SocketSet", "select"]

T = TypeVar("T")


def _fd_array(fds: Sequence[int]) -> "ctypes.Array[ctypes.c_int]":
    return (ctypes.c_int * len(fds))(*fds)


class SocketSet:
    """A set of descriptors with no FD_SETSIZE limit (libsock's ``SocketSet``).

    Members are ints; :meth:`add` also takes objects with ``fileno()``. The
    C set is freed when this object is garbage-collected or :meth:`close`\\ d.
    A set may be used by one thread at a time.
    """

    __slots__ = ("_handle", "_finalizer", "__weakref__")

    def __init__(self, fds: Iterable[FdLike] = ()) -> None:
        handle = lib.sockset_new()
        if not handle:
            raise_errno(ctypes.get_errno())
        self._handle: int = handle
        self._finalizer = weakref.finalize(self, lib.sockset_free, handle)
        members = [to_fd(fd) for fd in fds]
        if members:
            self.update(members)

    @property
    def handle(self) -> int:
        """The ``SocketSet *`` for passing to ``libsock.lib`` functions."""
        if not self._finalizer.alive:
            raise ValueError("SocketSet is closed")
        return self._handle

    def close(self) -> None:
        """Frees the C set now; the object is unusable afterwards."""
        self._finalizer()

    def __enter__(self) -> "SocketSet":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def add(self, fd: FdLike) -> None:
        """Adds ``fd``. A negative number or one above the kernel's limit
        gives ``OSError(EINVAL)``, as the C API does."""
        if lib.sockset_add(self.handle, to_fd(fd)) != 0:
            raise_errno(ctypes.get_errno())

    def update(self, fds: Iterable[FdLike]) -> None:
        """Adds every descriptor of ``fds`` in one C call — all, or none if
        one is invalid (``OSError(EINVAL)``)."""
        members = [to_fd(fd) for fd in fds]
        if members and lib.sockset_add_many(self.handle, _fd_array(members), len(members)) != 0:
            raise_errno(ctypes.get_errno())

    def remove(self, fd: FdLike) -> None:
        """Removes ``fd`` (absent is fine)."""
        lib.sockset_remove(self.handle, to_fd(fd))

    discard = remove

    def reset(self) -> None:
        """Empties the set, keeping its memory."""
        lib.sockset_reset(self.handle)

    def max(self) -> int:
        """The highest member, -1 if empty."""
        return int(lib.sockset_max(self.handle))

    def __contains__(self, fd: object) -> bool:
        try:
            number = to_fd(fd)
        except (TypeError, ValueError):
            return False
        return bool(lib.sockset_is_set(self.handle, number))

    def __len__(self) -> int:
        return int(lib.sockset_count(self.handle))

    def __iter__(self) -> Iterator[int]:
        handle = self.handle
        fd = lib.sockset_next(handle, -1)
        while fd >= 0:
            yield fd
            fd = lib.sockset_next(handle, fd)

    def __repr__(self) -> str:
        if not self._finalizer.alive:
            return "<libsock.SocketSet closed>"
        return f"<libsock.SocketSet {list(self)!r}>"


def _timeout(timeout: Optional[float]) -> Optional[float]:
    """select.select's timeout rules: None, or a non-negative real number."""
    if timeout is None:
        return None
    if not isinstance(timeout, (int, float)):
        # Like select.select: numbers (e.g. Decimal) but not strings.
        if not hasattr(type(timeout), "__float__"):
            raise TypeError("timeout must be a float or None")
        timeout = float(timeout)
    if math.isnan(timeout):
        raise ValueError("Invalid value NaN (not a number)")
    if timeout < 0:
        raise ValueError("timeout must be non-negative")
    return float(timeout)


# Three sets per thread, reused round after round: with libsock preloaded the
# first set's epoll instance then stays registered, which is what makes a
# round cost one epoll_wait.
_local = threading.local()


def _sets() -> Tuple[SocketSet, SocketSet, SocketSet]:
    sets: Optional[Tuple[SocketSet, SocketSet, SocketSet]] = getattr(_local, "sets", None)
    if sets is None:
        sets = (SocketSet(), SocketSet(), SocketSet())
        _local.sets = sets
    return sets


def _fill(target: SocketSet, objects: Iterable[T]) -> List[Tuple[T, int]]:
    """Loads ``objects`` into ``target`` (one C call) and returns them with
    their descriptors, in order."""
    pairs: List[Tuple[T, int]] = []
    for obj in objects:
        fd = to_fd(obj)
        if fd < 0:
            raise ValueError(f"file descriptor cannot be a negative integer ({fd})")
        pairs.append((obj, fd))
    target.reset()
    if pairs:
        fds = [fd for _, fd in pairs]
        if lib.sockset_add_many(target.handle, _fd_array(fds), len(fds)) != 0:
            raise_errno(ctypes.get_errno())
    return pairs


def select(
    rlist: Iterable[Any],
    wlist: Iterable[Any],
    xlist: Iterable[Any],
    timeout: Optional[float] = None,
) -> Tuple[List[Any], List[Any], List[Any]]:
    """Waits until some descriptors are ready, like :func:`select.select`,
    without its 1024 limit.

    Each list holds ints or objects with ``fileno()``; the result is three
    lists of the same objects, those ready for reading, writing, and with an
    exceptional condition (urgent data), in the order given. ``timeout`` is
    in seconds (None waits forever, 0 polls). On EINTR the signal handlers
    run and the wait resumes with the time left.
    """
    seconds = _timeout(timeout)
    sets = _sets()
    given = [_fill(s, objs) for s, objs in zip(sets, (rlist, wlist, xlist))]
    deadline = None if seconds is None else time.monotonic() + seconds
    tv = timeval()
    while True:
        if deadline is None:
            tvp = None
        else:
            left = max(0.0, deadline - time.monotonic())
            whole = int(left)
            tv.tv_sec, tv.tv_usec = whole, min(999_999, int(math.ceil((left - whole) * 1e6)))
            tvp = ctypes.byref(tv)
        n = lib.sockset_select(
            sets[0].handle if given[0] else None,
            sets[1].handle if given[1] else None,
            sets[2].handle if given[2] else None,
            tvp,
        )
        if n >= 0:
            break
        err = ctypes.get_errno()
        if err != errno.EINTR:
            raise_errno(err)
        # EINTR: Python's signal handlers run as the call returns here (one
        # that raises ends the wait with its exception).
        # The sets are unchanged after EINTR: wait again for the time left.
    if n == 0:
        return [], [], []
    result: List[List[Any]] = []
    for s, pairs in zip(sets, given):
        if not pairs:
            result.append([])
            continue
        ready = set(s)  # one C call per ready member
        result.append([obj for obj, fd in pairs if fd in ready])
    return result[0], result[1], result[2]

