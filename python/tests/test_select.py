"""libsock.select and libsock.SocketSet: select.select without FD_SETSIZE.

Past descriptor 1023, where select.select raises ValueError, libsock.select
answers; below it, it answers exactly as select.select on a randomized mix
of ready and idle sockets. These run in whatever way the library is loaded:
through ctypes alone (closes unseen: the ppoll path) and, in `make test`,
again under LD_PRELOAD (closes seen: the epoll path).
"""

from __future__ import annotations

import errno
import os
import random
import resource
import select
import signal
import socket
import time
import unittest
from typing import List, Tuple

from _support import SocketTestCase

import libsock


def raise_nofile(at_least: int) -> None:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < at_least:
        if hard != resource.RLIM_INFINITY and hard < at_least:
            raise unittest.SkipTest(f"RLIMIT_NOFILE hard limit {hard} < {at_least}")
        resource.setrlimit(resource.RLIMIT_NOFILE, (at_least, hard))


class PastFdSetsizeTest(SocketTestCase):
    def setUp(self) -> None:
        super().setUp()
        raise_nofile(4096)
        self.pairs: List[Tuple[socket.socket, socket.socket]] = []
        for _ in range(700):  # 1400 descriptors: well past 1023
            a, b = socket.socketpair()
            self.pairs.append((a, b))
            self.addCleanup(a.close)
            self.addCleanup(b.close)
        self.high = self.pairs[-1][0]
        self.assertGreater(self.high.fileno(), 1023)

    def test_select_select_refuses_and_libsock_answers(self) -> None:
        with self.assertRaises(ValueError):
            select.select([self.high], [], [], 0)
        readers = [a for a, _ in self.pairs]
        self.assertEqual(libsock.select(readers, [], [], 0), ([], [], []))
        self.pairs[-1][1].send(b"x")
        self.assertEqual(libsock.select(readers, [], [], 5), ([self.high], [], []))
        self.assertEqual(self.high.recv(1), b"x")
        # Ints work as well as objects, and writability past 1023 too.
        fds = [b.fileno() for _, b in self.pairs]
        r, w, x = libsock.select([], fds, [], 0)
        self.assertEqual(w, fds)

    def test_reuse_after_close_past_1023(self) -> None:
        readers = [a for a, _ in self.pairs]
        self.assertEqual(libsock.select(readers, [], [], 0), ([], [], []))
        victim, peer = self.pairs[-1]
        number = victim.fileno()
        victim.close()  # Python closes through glibc: libsock may not see it
        peer.close()
        c, d = socket.socketpair()
        self.addCleanup(c.close)
        self.addCleanup(d.close)
        fresh = c if c.fileno() == number else d
        self.assertEqual(fresh.fileno(), number, "the number is reused")
        other = d if fresh is c else c
        other.send(b"new")
        readers[-1] = fresh
        self.assertEqual(libsock.select(readers, [], [], 5)[0], [fresh])


class LikeSelectSelectTest(SocketTestCase):
    """The same answers as select.select below 1024."""

    def test_randomized_mix(self) -> None:
        rng = random.Random(1125)
        socks: List[socket.socket] = []
        for i in range(60):
            a, b = socket.socketpair()
            self.addCleanup(a.close)
            self.addCleanup(b.close)
            kind = rng.randrange(4)
            if kind == 1:
                b.send(b"data")
            elif kind == 2:
                b.close()  # EOF
            elif kind == 3:
                a.setblocking(False)
                try:
                    while True:
                        a.send(b"\0" * 65536)  # fill: not writable
                except BlockingIOError:
                    pass
            socks.append(a)
        for _ in range(50):
            r, w, x = ([s for s in socks if rng.random() < 0.4] for _ in range(3))
            self.assertEqual(libsock.select(r, w, x, 0), select.select(r, w, x, 0))

    def test_shapes_and_order(self) -> None:
        a, b = socket.socketpair()
        self.addCleanup(a.close)
        self.addCleanup(b.close)
        b.send(b"!")
        r, w, x = libsock.select([b, a, a.fileno()], (b,), [], 1)
        self.assertEqual((r, w, x), ([a, a.fileno()], [b], []))
        self.assertEqual(libsock.select([], [], [], 0), ([], [], []))

    def test_errors_match(self) -> None:
        closed = self.closed_fd()
        for r, w in (([closed], []), ([], [closed])):
            with self.assertRaises(OSError) as ours:
                libsock.select(r, w, [], 0)
            with self.assertRaises(OSError) as theirs:
                select.select(r, w, [], 0)
            self.assertEqual(ours.exception.errno, theirs.exception.errno)
            self.assertEqual(ours.exception.errno, errno.EBADF)
        bad: object
        for bad in (-1, "x", object()):
            with self.assertRaises((ValueError, TypeError)) as refused:
                libsock.select([bad], [], [], 0)
            with self.assertRaises((ValueError, TypeError)) as reference:
                select.select([bad], [], [], 0)  # type: ignore[type-var]
            self.assertIs(type(refused.exception), type(reference.exception), repr(bad))
        for timeout in (-1, -0.5):
            self.assertRaises(ValueError, libsock.select, [], [], [], timeout)
            self.assertRaises(ValueError, select.select, [], [], [], timeout)
        self.assertRaises(TypeError, libsock.select, [], [], [], "1")
        self.assertRaises(TypeError, select.select, [], [], [], "1")

    def test_timeout_waits(self) -> None:
        a, b = socket.socketpair()
        self.addCleanup(a.close)
        self.addCleanup(b.close)
        start = time.monotonic()
        self.assertEqual(libsock.select([a], [], [], 0.2), ([], [], []))
        self.assertGreaterEqual(time.monotonic() - start, 0.19)


@unittest.skipUnless(hasattr(signal, "setitimer"), "needs setitimer")
class EintrTest(SocketTestCase):
    def setUp(self) -> None:
        super().setUp()
        previous = signal.getsignal(signal.SIGALRM)
        self.addCleanup(signal.signal, signal.SIGALRM, previous)
        self.addCleanup(signal.setitimer, signal.ITIMER_REAL, 0)

    def test_handlers_run_and_the_wait_resumes(self) -> None:
        calls = []
        signal.signal(signal.SIGALRM, lambda *_: calls.append(1))
        a, b = socket.socketpair()
        self.addCleanup(a.close)
        self.addCleanup(b.close)
        signal.setitimer(signal.ITIMER_REAL, 0.05, 0.05)
        start = time.monotonic()
        self.assertEqual(libsock.select([a], [], [], 0.4), ([], [], []))
        signal.setitimer(signal.ITIMER_REAL, 0)
        self.assertGreaterEqual(time.monotonic() - start, 0.39, "the full timeout")
        self.assertGreater(len(calls), 1)

    def test_a_raising_handler_ends_the_wait(self) -> None:
        class Stop(Exception):
            pass

        def stop(*_: object) -> None:
            raise Stop

        signal.signal(signal.SIGALRM, stop)
        a, b = socket.socketpair()
        self.addCleanup(a.close)
        self.addCleanup(b.close)
        signal.setitimer(signal.ITIMER_REAL, 0.05)
        with self.assertRaises(Stop):
            libsock.select([a], [], [], None)


class SocketSetTest(SocketTestCase):
    def test_membership(self) -> None:
        s = libsock.SocketSet([5, 3])
        self.addCleanup(s.close)
        s.add(1000)
        s.add(3)
        self.assertEqual(len(s), 3)
        self.assertEqual(list(s), [3, 5, 1000])
        self.assertIn(1000, s)
        self.assertNotIn(4, s)
        self.assertNotIn("x", s)
        self.assertEqual(s.max(), 1000)
        s.remove(1000)
        s.remove(77)
        self.assertEqual(list(s), [3, 5])
        s.update(range(10, 13))
        self.assertEqual(list(s), [3, 5, 10, 11, 12])
        s.reset()
        self.assertEqual((len(s), list(s), s.max()), (0, [], -1))

    def test_objects_and_errors(self) -> None:
        a, b = socket.socketpair()
        self.addCleanup(a.close)
        self.addCleanup(b.close)
        with libsock.SocketSet() as s:
            s.add(a)
            self.assertIn(a, s)
            self.assertIn(a.fileno(), s)
            self.assertErrno(errno.EINVAL, s.add, -1)
            self.assertErrno(errno.EINVAL, s.update, [7, -1])
            self.assertEqual(list(s), [a.fileno()], "update adds none when one is bad")
            self.assertRaises(TypeError, s.add, "x")
        self.assertRaises(ValueError, len, s)

    def test_the_c_api_through_handles(self) -> None:
        a, b = socket.socketpair()
        self.addCleanup(a.close)
        self.addCleanup(b.close)
        r = libsock.SocketSet([a])
        self.addCleanup(r.close)
        b.send(b"!")
        self.assertEqual(libsock.lib.sockset_select(r.handle, None, None, None), 1)
        self.assertEqual(list(r), [a.fileno()])


if __name__ == "__main__":
    unittest.main()
