"""The SocketSet and ``select`` without FD_SETSIZE, over libsock's C API.

:func:`select` is a drop-in for :func:`select.select` — the same arguments,
the same return shape, :class:`OSError` with errno on failure, EINTR retried
after the signal handlers run (PEP 475) — that takes descriptors past 1023,
where :func:`select.select` raises ``ValueError: filedescriptor out of
range``. Per round it costs the objects' ``fileno()`` calls, a few ctypes
calls per set (none per descriptor) and the wait: the descriptors go to C
as one ``array('i')`` (``sockset_add_many``), and C answers with the
positions of the ready objects (``sockset_positions``), so the answer is
built from the ready objects alone.

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
from array import array
from typing import Any, Iterable, Iterator, List, Optional, Sequence, Tuple

from ._lib import lib
from ._cstructs import timeval
from ._util import FdLike, check_fds, descriptors, raise_errno, to_fd

__all__ = ["SocketSet", "select"]

_c_int = ctypes.c_int


def _c_ints(fds: "array[int]") -> "ctypes.Array[ctypes.c_int]":
    """A ctypes view of an ``array('i')``, sharing its memory (no copy)."""
    return (_c_int * len(fds)).from_buffer(fds)


def _sequence(objects: Iterable[Any]) -> Sequence[Any]:
    if type(objects) is list or type(objects) is tuple:
        return objects
    return list(objects)


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
        self.update(fds)

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
        members = descriptors(_sequence(fds))
        if members and lib.sockset_add_many(self.handle, _c_ints(members), len(members)) != 0:
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

    def members(self) -> List[int]:
        """The members, smallest first, read in one C call
        (``sockset_members``). After a ``sockset_select`` on this set, the
        ready descriptors."""
        handle = self.handle
        while True:
            count = int(lib.sockset_count(handle))
            if count == 0:
                return []
            out = array("i", [0]) * count
            total = lib.sockset_members(handle, _c_ints(out), count)
            if total < 0:
                raise_errno(ctypes.get_errno())
            if total <= count:
                return out.tolist()[:total]
            # Grown by another thread in between (a set is for one thread at
            # a time, but never write past the buffer): read again.

    def __iter__(self) -> Iterator[int]:
        """The members, smallest first, as they were when iteration began."""
        return iter(self.members())

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


def _take_sets() -> Tuple[SocketSet, SocketSet, SocketSet]:
    """This thread's three sets, taken out of the thread's slot while a call
    uses them: a signal handler that calls :func:`select` during the wait
    gets fresh ones, instead of emptying the sets the interrupted call will
    wait on again. :func:`select` puts them back when it is done."""
    sets: Optional[Tuple[SocketSet, SocketSet, SocketSet]] = getattr(_local, "sets", None)
    if sets is None:
        return (SocketSet(), SocketSet(), SocketSet())
    _local.sets = None
    return sets


def _fill(target: SocketSet, objects: Iterable[Any]) -> Tuple[Sequence[Any], "array[int]"]:
    """Loads ``objects`` into ``target`` (one C call) and returns them as a
    sequence with their descriptors as an ``array('i')``, in order. Errors
    are those of checking each object in turn: TypeError, ValueError (also
    for a negative descriptor), then OSError from C (EINVAL: beyond the
    kernel's limit)."""
    seq = _sequence(objects)
    fds = descriptors(seq, negative=False)
    target.reset()
    if fds and lib.sockset_add_many(target.handle, _c_ints(fds), len(fds)) != 0:
        err = ctypes.get_errno()
        check_fds(fds, negative=False)  # a negative one: ValueError, as before C
        raise_errno(err)
    return seq, fds


def _ready(s: SocketSet, seq: Sequence[Any], fds: "array[int]") -> List[Any]:
    """The objects of ``seq`` whose descriptor is in ``s`` (the ready ones
    after the wait), in order, duplicates included: C writes their positions
    over ``fds`` (one call), and only those are looked at."""
    if not fds:
        return []
    view = _c_ints(fds)
    found = lib.sockset_positions(s.handle, view, len(fds), view)
    if found < 0:
        raise_errno(ctypes.get_errno())
    del view
    return [seq[i] for i in fds[:found]]


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
    sets = _take_sets()
    try:
        return _select(sets, rlist, wlist, xlist, seconds)
    finally:
        _local.sets = sets


def _select(
    sets: Tuple[SocketSet, SocketSet, SocketSet],
    rlist: Iterable[Any],
    wlist: Iterable[Any],
    xlist: Iterable[Any],
    seconds: Optional[float],
) -> Tuple[List[Any], List[Any], List[Any]]:
    """:func:`select` with the checked timeout, on ``sets``."""
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
            sets[0].handle if given[0][1] else None,
            sets[1].handle if given[1][1] else None,
            sets[2].handle if given[2][1] else None,
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
    return (
        _ready(sets[0], *given[0]),
        _ready(sets[1], *given[1]),
        _ready(sets[2], *given[2]),
    )

