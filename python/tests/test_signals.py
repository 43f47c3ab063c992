"""Blocking calls and signals: EINTR is retried after Python's handlers run
(PEP 475), and a handler that raises ends the call with its exception."""

from __future__ import annotations

import signal
import socket
import threading
import time
import unittest

from _support import SocketTestCase

import libsock


@unittest.skipUnless(hasattr(signal, "setitimer"), "needs setitimer")
class EintrTest(SocketTestCase):
    def setUp(self) -> None:
        super().setUp()
        self.calls = 0
        previous = signal.getsignal(signal.SIGALRM)
        self.addCleanup(signal.signal, signal.SIGALRM, previous)
        self.addCleanup(signal.setitimer, signal.ITIMER_REAL, 0)

    def _count(self, signum: int, frame: object) -> None:
        self.calls += 1

    def test_recv_resumes_after_the_handler(self) -> None:
        a, b = self.pair()
        signal.signal(signal.SIGALRM, self._count)
        signal.setitimer(signal.ITIMER_REAL, 0.05, 0.05)
        sender = threading.Timer(0.5, libsock.send, (a, b"late"))
        sender.start()
        self.addCleanup(sender.join)
        self.assertEqual(libsock.recv(b, 10), b"late")
        signal.setitimer(signal.ITIMER_REAL, 0)
        self.assertGreater(self.calls, 1)

    def test_accept_resumes_after_the_handler(self) -> None:
        server = self.sock(socket.AF_INET, socket.SOCK_STREAM)
        libsock.bind(server, ("127.0.0.1", 0))
        libsock.listen(server)
        address = libsock.getsockname(server)
        signal.signal(signal.SIGALRM, self._count)
        signal.setitimer(signal.ITIMER_REAL, 0.05, 0.05)
        client = socket.socket()
        self.addCleanup(client.close)
        connector = threading.Timer(0.5, client.connect, (address,))
        connector.start()
        self.addCleanup(connector.join)
        conn, _ = libsock.accept(server)
        self.track(conn)
        signal.setitimer(signal.ITIMER_REAL, 0)
        self.assertGreater(self.calls, 1)

    def test_a_raising_handler_interrupts(self) -> None:
        _, b = self.pair()

        class Interrupted(Exception):
            pass

        def raise_(signum: int, frame: object) -> None:
            raise Interrupted

        signal.signal(signal.SIGALRM, raise_)
        signal.setitimer(signal.ITIMER_REAL, 0.1)
        started = time.monotonic()
        with self.assertRaises(Interrupted):
            libsock.recv(b, 10)
        self.assertLess(time.monotonic() - started, 5)


if __name__ == "__main__":
    unittest.main()


@unittest.skipUnless(hasattr(signal, "setitimer"), "needs setitimer")
class ReentrantSelectTest(SocketTestCase):
    """A signal handler that calls libsock.select while another select of
    the same thread waits must not change what the interrupted one waits on
    and answers."""

    def test_select_in_a_handler_leaves_the_interrupted_one_alone(self) -> None:
        a, b = self.pair()
        c, d = self.pair()
        libsock.send(c, b"!")  # d is ready from the start: the handler finds it
        seen = []

        def handler(signum: int, frame: object) -> None:
            seen.append(libsock.select([d], [], [], 0))

        previous = signal.signal(signal.SIGALRM, handler)
        self.addCleanup(signal.signal, signal.SIGALRM, previous)
        self.addCleanup(signal.setitimer, signal.ITIMER_REAL, 0)
        signal.setitimer(signal.ITIMER_REAL, 0.05)
        sender = threading.Timer(0.4, libsock.send, (a, b"x"))
        sender.start()
        self.addCleanup(sender.join)
        ready = libsock.select([b], [], [], 5.0)
        self.assertEqual(seen, [([d], [], [])])
        self.assertEqual(ready, ([b], [], []))
