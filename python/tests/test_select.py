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
import threading
import time
import unittest
from typing import Any, List, Tuple

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


class Movable:
    """An object whose fileno() is whatever socket it holds now, counting
    its calls."""

    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock
        self.calls = 0

    def fileno(self) -> int:
        self.calls += 1
        return self.sock.fileno()


class Failing:
    def __init__(self, exc: BaseException) -> None:
        self.exc = exc
        self.calls = 0

    def fileno(self) -> int:
        self.calls += 1
        raise self.exc


class Returning:
    def __init__(self, value: object) -> None:
        self.value = value

    def fileno(self) -> object:
        return self.value


class Fd(int):
    """An int subclass with a fileno() of its own: as for select.select,
    the int value counts, not fileno()."""

    def fileno(self) -> int:
        raise AssertionError("fileno() of an int must not be called")


class BulkPathsTest(SocketTestCase):
    """The bulk conversion (one pass of fileno(), one C array) and the bulk
    answer (C reports the ready positions): the same answers and errors as
    select.select, round after round."""

    def pairs(self, n: int) -> List[Tuple[socket.socket, socket.socket]]:
        out = []
        for _ in range(n):
            a, b = socket.socketpair()
            self.addCleanup(a.close)
            self.addCleanup(b.close)
            out.append((a, b))
        return out

    def reuse_number(
        self, pairs: List[Tuple[socket.socket, socket.socket]], index: int
    ) -> Tuple[socket.socket, socket.socket]:
        """Closes pair ``index`` and makes a new pair whose first socket has
        the closed one's number: (that socket, its peer)."""
        victim, peer = pairs[index]
        number = victim.fileno()
        victim.close()
        peer.close()
        c, d = socket.socketpair()
        self.addCleanup(c.close)
        self.addCleanup(d.close)
        fresh, other = (c, d) if c.fileno() == number else (d, c)
        self.assertEqual(fresh.fileno(), number, "the number is reused")
        return fresh, other

    def test_closed_number_reused_between_rounds(self) -> None:
        pairs = self.pairs(20)
        readers = [a for a, _ in pairs]
        for _ in range(3):  # rounds that register everything (epoll when preloaded)
            self.assertEqual(libsock.select(readers, [], [], 0), ([], [], []))
        for victim_index in (5, 12):
            fresh, other = self.reuse_number(pairs, victim_index)
            readers[victim_index] = fresh
            pairs[victim_index] = (fresh, other)
            # Idle: not ready (a stale registration would not say otherwise,
            # so then make it ready and see it answered).
            self.assertEqual(libsock.select(readers, [], [], 0), select.select(readers, [], [], 0))
            other.send(b"!")
            expected = select.select(readers, [], [], 0)
            self.assertEqual(expected, ([fresh], [], []))
            self.assertEqual(libsock.select(readers, [], [], 5), expected)
            fresh.recv(1)
        # And as ints: the same number, a new socket behind it.
        fds = [a.fileno() for a, _ in pairs]
        fresh, other = self.reuse_number(pairs, 0)
        other.send(b"!")
        self.assertEqual(libsock.select(fds, [], [], 5), ([fds[0]], [], []))

    def test_fileno_changes_between_rounds(self) -> None:
        (a, a_peer), (b, b_peer) = self.pairs(2)
        idle = self.pairs(10)
        moving = Movable(a)
        objects = [x for x, _ in idle[:5]] + [moving] + [x for x, _ in idle[5:]]
        b_peer.send(b"!")
        self.assertEqual(libsock.select(objects, [], [], 0), ([], [], []))
        moving.sock = b  # now a ready socket
        self.assertEqual(libsock.select(objects, [], [], 5), ([moving], [], []))
        moving.sock = a  # and back to the idle one
        self.assertEqual(libsock.select(objects, [], [], 0), ([], [], []))
        a_peer.send(b"!")
        self.assertEqual(libsock.select(objects, [], [], 5), ([moving], [], []))
        self.assertEqual(moving.calls, 4, "fileno() once per round")

    def test_socket_lists_fast_path_keeps_select_semantics(self) -> None:
        # A list of plain sockets takes the C fileno directly; a subclass that
        # overrides fileno(), a closed socket and a mixed list must not.
        pairs = self.pairs(6)
        readers = [a for a, _ in pairs]
        pairs[3][1].send(b"!")
        self.assertEqual(libsock.select(readers, [], [], 5), ([readers[3]], [], []))

        class Redirected(socket.socket):
            target = readers[3]

            def fileno(self) -> int:
                return self.target.fileno()

        odd = Redirected(socket.AF_UNIX, socket.SOCK_STREAM)
        self.addCleanup(odd.close)
        only_odd = [odd]
        self.assertEqual(libsock.select(only_odd, [], [], 5), ([odd], [], []))
        self.assertEqual(select.select(only_odd, [], [], 5), ([odd], [], []))
        mixed = readers[:3] + [odd]
        self.assertEqual(libsock.select(mixed, [], [], 5), select.select(mixed, [], [], 5))
        closed = socket.socket()
        closed.close()
        for objects in ([closed], readers + [closed]):
            with self.assertRaises(ValueError) as want:
                select.select(objects, [], [], 0)
            with self.assertRaises(ValueError) as got:
                libsock.select(objects, [], [], 0)
            self.assertEqual(str(got.exception), str(want.exception))

    def test_fileno_raises(self) -> None:
        (a, b), = self.pairs(1)
        b.send(b"!")
        errors = (RuntimeError("boom"), AttributeError("inside fileno"), OSError(errno.EBADF, "x"))
        for exc in errors:
            bad = Failing(exc)
            cases: List[Tuple[List[Any], List[Any]]] = [
                ([a, bad], []),
                ([a], [a, bad]),
                ([3, a, bad, 4], []),
            ]
            for r, w in cases:
                with self.assertRaises(type(exc)) as ours:
                    libsock.select(r, w, [], 0)
                self.assertIs(ours.exception, exc)
                with self.assertRaises(type(exc)):
                    select.select(r, w, [], 0)
            # The sets are whole again next round.
            self.assertEqual(libsock.select([a], [a], [], 0), ([a], [a], []))
        mixed = Failing(RuntimeError("boom"))
        with self.assertRaises(RuntimeError):
            libsock.select([1, a, 2, mixed], [], [], 0)
        self.assertEqual(mixed.calls, 1, "fileno() called once with ints mixed in")

    def test_bad_values_in_order(self) -> None:
        (a, b), = self.pairs(1)
        bad_values = ((-1, ValueError), (1.5, TypeError), ("3", TypeError), (2**40, ValueError))
        for value, kind in bad_values:
            with self.assertRaises(kind, msg=repr(value)):
                libsock.select([a, Returning(value)], [], [], 0)
            with self.assertRaises(kind, msg=repr(value)):
                libsock.select([a, 1, Returning(value)], [], [], 0)
        # The first bad object decides, as when each is checked in turn.
        with self.assertRaises(ValueError):
            libsock.select([a, Returning(-3), Failing(RuntimeError())], [], [], 0)
        with self.assertRaises(TypeError):
            libsock.select([Returning(1.0), -1], [], [], 0)
        with self.assertRaises(ValueError):
            libsock.select([a, -1, object()], [], [], 0)
        with self.assertRaises(TypeError):
            libsock.select([a, object(), -1], [], [], 0)
        # A number beyond the kernel's limit reaches C: OSError(EINVAL).
        with self.assertRaises(OSError) as limit:
            libsock.select([a, 2**31 - 1], [], [], 0)
        self.assertEqual(limit.exception.errno, errno.EINVAL)

    def test_mixed_duplicates_and_order_like_select_select(self) -> None:
        rng = random.Random(10)
        pairs = self.pairs(40)
        for i, (a, b) in enumerate(pairs):
            if i % 3 == 0:
                b.send(b"x")
        socks = [a for a, _ in pairs]
        for _ in range(40):
            chosen = [rng.choice(socks) for _ in range(rng.randrange(0, 60))]
            # Ints, int subclasses and objects, with duplicates, in any order.
            mixed: List[Any] = [
                s if rng.random() < 0.5 else (s.fileno() if rng.random() < 0.5 else Fd(s.fileno()))
                for s in chosen
            ]
            writers: List[Any] = [*rng.sample(socks, 5), socks[0].fileno()]
            ours = libsock.select(mixed, writers, (), 0)
            theirs = select.select(mixed, writers, [], 0)
            self.assertEqual(ours, theirs)
            for got, want in zip(ours, theirs):
                self.assertEqual([id(o) for o in got], [id(o) for o in want], "the same objects")

    def test_ready_during_the_wait(self) -> None:
        # Nothing is ready when the wait starts (the ppoll backend's
        # non-blocking pass finds nothing and it blocks): data sent later
        # still ends the wait, with the right object.
        pairs = self.pairs(50)
        readers = [a for a, _ in pairs]
        sender = threading.Timer(0.1, pairs[37][1].send, (b"!",))
        sender.start()
        self.addCleanup(sender.join)
        start = time.monotonic()
        self.assertEqual(libsock.select(readers, [], [], 10), ([readers[37]], [], []))
        self.assertLess(time.monotonic() - start, 5)

    def test_any_iterable(self) -> None:
        (a, b), = self.pairs(1)
        b.send(b"!")
        self.assertEqual(libsock.select(iter([a, b]), (x for x in [a]), {a}, 0), ([a], [a], []))

    def test_many_rounds_past_fd_setsize(self) -> None:
        raise_nofile(4096)
        pairs = self.pairs(800)
        readers = [a for a, _ in pairs]
        self.assertGreater(readers[-1].fileno(), 1023)
        for k in (799, 0, 512, 799, 3):
            pairs[k][1].send(b"x")
            self.assertEqual(libsock.select(readers, [], [], 5), ([readers[k]], [], []))
            readers[k].recv(1)


class SocketSetBulkTest(SocketTestCase):
    def test_members_in_one_call(self) -> None:
        with libsock.SocketSet([70000, 5, 1024, 5, 64]) as s:
            self.assertEqual(s.members(), [5, 64, 1024, 70000])
            self.assertEqual(list(s), [5, 64, 1024, 70000])
            self.assertEqual(set(s), {5, 64, 1024, 70000})
            s.reset()
            self.assertEqual(s.members(), [])
            s.update([True, Fd(9)])
            self.assertEqual(s.members(), [1, 9])

    def test_ready_members_after_select(self) -> None:
        a, b = socket.socketpair()
        c, d = socket.socketpair()
        for x in (a, b, c, d):
            self.addCleanup(x.close)
        with libsock.SocketSet([a, c, 1]) as s:
            self.assertEqual(len(s), 3)
            b.send(b"!")
            # fd 1 may be a terminal or a pipe: leave it out of the wait.
            s.remove(1)
            self.assertEqual(libsock.lib.sockset_select(s.handle, None, None, None), 1)
            self.assertEqual(s.members(), [a.fileno()])

    def test_update_errors_like_add(self) -> None:
        with libsock.SocketSet([3]) as s:
            self.assertRaises(TypeError, s.update, [4, "x"])
            self.assertRaises(TypeError, s.update, [4, Returning(2.0)])
            self.assertRaises(ValueError, s.update, [4, 2**40])
            self.assertErrno(errno.EINVAL, s.update, [4, Returning(-2)])
            self.assertRaises(RuntimeError, s.update, [Failing(RuntimeError())])
            self.assertEqual(s.members(), [3], "a failed update adds nothing")


if __name__ == "__main__":
    unittest.main()
