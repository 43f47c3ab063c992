"""Shared helpers for libsock's Python tests.

Importing this module puts the source tree's package (``python/``) first on
``sys.path``, so both ``python3 -m pytest python/tests`` and
``python3 -m unittest discover -s python/tests`` test the tree's code, then
provides: the library the tests expect to be loaded, glibc itself (to compare
errnos with), and a TestCase base class that closes every descriptor a test
opened.
"""

from __future__ import annotations

import ctypes
import os
import socket
import sys
import unittest
from pathlib import Path
from typing import Any, Callable, Optional, Set, Tuple

HERE = Path(__file__).resolve().parent
PYTHON_DIR = HERE.parent
REPO = PYTHON_DIR.parent

if str(PYTHON_DIR) not in sys.path:
    sys.path.insert(0, str(PYTHON_DIR))

import libsock  # noqa: E402  (needs the path above)

#: glibc itself: ``dlsym`` on its own handle finds glibc's definitions even
#: when libsock is preloaded, so this is the reference the tests compare to.
glibc = ctypes.CDLL("libc.so.6", use_errno=True)


def preloaded_library() -> Optional[Path]:
    """The libsock named in ``LD_PRELOAD`` (its first ``libsock*`` entry),
    resolved; None if there is none."""
    for entry in os.environ.get("LD_PRELOAD", "").replace(":", " ").split():
        if os.path.basename(entry).startswith("libsock") and os.path.isfile(entry):
            return Path(entry).resolve()
    return None


def expected_library() -> Optional[Path]:
    """The libsock.so these tests must be running against: the preloaded one
    (the package uses a libsock already in the process), else LIBSOCK_LIB,
    else the build tree's ``target/release/libsock.so``; None if none."""
    preloaded = preloaded_library()
    if preloaded is not None:
        return preloaded
    env = os.environ.get("LIBSOCK_LIB")
    if env:
        return Path(env).resolve()
    built = REPO / "target" / "release" / "libsock.so"
    return built.resolve() if built.is_file() else None


def c_call(function: Callable[..., int], *args: Any) -> Tuple[int, int]:
    """Call a raw C function with errno cleared first; ``(result, errno)``."""
    ctypes.set_errno(0)
    result = function(*args)
    return result, ctypes.get_errno()


def _have_ipv6_loopback() -> bool:
    if not socket.has_ipv6:
        return False
    try:
        with socket.socket(socket.AF_INET6, socket.SOCK_DGRAM) as probe:
            probe.bind(("::1", 0))
    except OSError:
        return False
    return True


HAVE_IPV6 = _have_ipv6_loopback()
requires_ipv6 = unittest.skipUnless(HAVE_IPV6, "IPv6 loopback (::1) unavailable")


class SocketTestCase(unittest.TestCase):
    """A TestCase whose descriptors (opened through :meth:`sock`,
    :meth:`track` or :meth:`pair`) are closed after each test."""

    def setUp(self) -> None:
        self._open: Set[int] = set()
        self.addCleanup(self._close_all)

    def _close_all(self) -> None:
        for fd in sorted(self._open):
            try:
                os.close(fd)
            except OSError:
                pass
        self._open.clear()

    def track(self, fd: int) -> int:
        """Close ``fd`` at the end of the test (unless :meth:`close`d)."""
        self._open.add(fd)
        return fd

    def close(self, fd: int) -> None:
        """Close ``fd`` through libsock now and stop tracking it."""
        self._open.discard(fd)
        libsock.close(fd)

    def sock(self, family: int, type: int, proto: int = 0) -> int:
        """A new socket through libsock, closed after the test."""
        return self.track(libsock.socket(family, type, proto))

    def pair(self, family: int = socket.AF_UNIX, type: int = socket.SOCK_STREAM) -> Tuple[int, int]:
        """A socketpair through libsock, closed after the test."""
        a, b = libsock.socketpair(family, type)
        return self.track(a), self.track(b)

    def closed_fd(self) -> int:
        """A descriptor number that is not open (nothing else runs in this
        thread to reuse it before the test uses it)."""
        fd = os.open(os.devnull, os.O_RDONLY)
        os.close(fd)
        return fd

    def pipe(self) -> Tuple[int, int]:
        """A pipe (descriptors that are not sockets), closed after the test."""
        r, w = os.pipe()
        return self.track(r), self.track(w)

    def assertErrno(self, expected: int, function: Callable[..., Any], *args: Any, **kw: Any) -> OSError:
        """``function(*args)`` raises OSError with errno ``expected``."""
        with self.assertRaises(OSError) as caught:
            function(*args, **kw)
        self.assertEqual(
            caught.exception.errno,
            expected,
            f"expected {expected} ({os.strerror(expected)}), got {caught.exception!r}",
        )
        return caught.exception
