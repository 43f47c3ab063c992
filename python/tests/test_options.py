"""Socket options, names and shutdown, checked against Python's own socket
module looking at the same descriptor."""

from __future__ import annotations

import socket
import struct
import unittest
from typing import Tuple

from _support import SocketTestCase, requires_ipv6

import libsock


class OptionsTest(SocketTestCase):
    def python_view(self, fd: int) -> socket.socket:
        """A Python socket object over ``fd`` that does not own it."""
        view = socket.socket(fileno=fd)
        self.addCleanup(view.detach)
        return view

    def test_reuseaddr_round_trip(self) -> None:
        fd = self.sock(socket.AF_INET, socket.SOCK_STREAM)
        view = self.python_view(fd)
        self.assertEqual(libsock.getsockopt(fd, socket.SOL_SOCKET, socket.SO_REUSEADDR), 0)
        libsock.setsockopt(fd, socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.assertEqual(libsock.getsockopt(fd, socket.SOL_SOCKET, socket.SO_REUSEADDR), 1)
        self.assertEqual(view.getsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR), 1)
        view.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 0)
        self.assertEqual(libsock.getsockopt(fd, socket.SOL_SOCKET, socket.SO_REUSEADDR), 0)
        # bytes in, bytes out
        libsock.setsockopt(fd, socket.SOL_SOCKET, socket.SO_REUSEADDR, struct.pack("i", 1))
        raw = libsock.getsockopt(fd, socket.SOL_SOCKET, socket.SO_REUSEADDR, 4)
        self.assertEqual(raw, struct.pack("i", 1))
        self.assertEqual(raw, view.getsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 4))

    def test_reuseaddr_lets_a_second_socket_bind(self) -> None:
        first = self.sock(socket.AF_INET, socket.SOCK_STREAM)
        libsock.setsockopt(first, socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        libsock.bind(first, ("127.0.0.1", 0))
        address = libsock.getsockname(first)
        self.close(first)  # not listening: nothing in TIME_WAIT to wait for
        second = self.sock(socket.AF_INET, socket.SOCK_STREAM)
        libsock.setsockopt(second, socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        libsock.bind(second, address)
        self.assertEqual(libsock.getsockname(second), address)

    def test_read_only_options(self) -> None:
        fd = self.sock(socket.AF_INET6 if socket.has_ipv6 else socket.AF_INET, socket.SOCK_DGRAM)
        view = self.python_view(fd)
        for option in (socket.SO_TYPE, socket.SO_DOMAIN, socket.SO_PROTOCOL, socket.SO_ERROR):
            with self.subTest(option=option):
                self.assertEqual(
                    libsock.getsockopt(fd, socket.SOL_SOCKET, option),
                    view.getsockopt(socket.SOL_SOCKET, option),
                )
        self.assertEqual(libsock.getsockopt(fd, socket.SOL_SOCKET, socket.SO_TYPE), socket.SOCK_DGRAM)

    def test_struct_option(self) -> None:
        fd = self.sock(socket.AF_INET, socket.SOCK_STREAM)
        linger = struct.pack("ii", 1, 7)
        libsock.setsockopt(fd, socket.SOL_SOCKET, socket.SO_LINGER, linger)
        self.assertEqual(libsock.getsockopt(fd, socket.SOL_SOCKET, socket.SO_LINGER, 8), linger)
        # a larger buffer comes back cut to what the kernel wrote
        self.assertEqual(libsock.getsockopt(fd, socket.SOL_SOCKET, socket.SO_LINGER, 64), linger)

    def test_unsigned_int_value(self) -> None:
        fd = self.sock(socket.AF_INET, socket.SOCK_STREAM)
        libsock.setsockopt(fd, socket.SOL_SOCKET, socket.SO_RCVBUF, 65536)
        self.assertEqual(
            libsock.getsockopt(fd, socket.SOL_SOCKET, socket.SO_RCVBUF),
            self.python_view(fd).getsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF),
        )

    def test_tcp_nodelay(self) -> None:
        fd = self.sock(socket.AF_INET, socket.SOCK_STREAM)
        libsock.setsockopt(fd, socket.IPPROTO_TCP, socket.TCP_NODELAY, True)
        self.assertEqual(libsock.getsockopt(fd, socket.IPPROTO_TCP, socket.TCP_NODELAY), 1)


class NamesTest(SocketTestCase):
    def _names(self, family: int, host: str) -> None:
        server = self.sock(family, socket.SOCK_STREAM)
        libsock.bind(server, (host, 0))
        libsock.listen(server)
        address = libsock.getsockname(server)
        view = socket.socket(fileno=server)
        self.addCleanup(view.detach)
        self.assertEqual(address, view.getsockname())
        client = self.sock(family, socket.SOCK_STREAM)
        libsock.connect(client, address)
        conn, peer = libsock.accept(server)
        self.track(conn)
        self.assertEqual(libsock.getpeername(client), address)
        self.assertEqual(libsock.getpeername(conn), peer)
        self.assertEqual(libsock.getsockname(client), peer)
        self.assertEqual(libsock.getsockname(conn), libsock.getpeername(client))

    def test_ipv4(self) -> None:
        self._names(socket.AF_INET, "127.0.0.1")

    @requires_ipv6
    def test_ipv6(self) -> None:
        self._names(socket.AF_INET6, "::1")

    def test_wildcard_takes_the_sockets_family(self) -> None:
        for family, any_host in ((socket.AF_INET, "0.0.0.0"), (socket.AF_INET6, "::")):
            if family == socket.AF_INET6 and not socket.has_ipv6:
                continue
            with self.subTest(family=family):
                fd = self.sock(family, socket.SOCK_DGRAM)
                libsock.bind(fd, ("", 0))
                self.assertEqual(libsock.getsockname(fd)[0], any_host)

    def test_unbound(self) -> None:
        fd = self.sock(socket.AF_INET, socket.SOCK_STREAM)
        self.assertEqual(libsock.getsockname(fd), ("0.0.0.0", 0))


class ShutdownTest(SocketTestCase):
    def _connected(self) -> Tuple[int, int]:
        server = self.sock(socket.AF_INET, socket.SOCK_STREAM)
        libsock.bind(server, ("127.0.0.1", 0))
        libsock.listen(server)
        client = self.sock(socket.AF_INET, socket.SOCK_STREAM)
        libsock.connect(client, libsock.getsockname(server))
        conn, _ = libsock.accept(server)
        return client, self.track(conn)

    def test_shut_wr_is_eof_for_the_peer(self) -> None:
        client, conn = self._connected()
        libsock.send(client, b"last words")
        libsock.shutdown(client, socket.SHUT_WR)
        self.assertEqual(libsock.recv(conn, 100, socket.MSG_WAITALL), b"last words")
        self.assertEqual(libsock.recv(conn, 100), b"")
        # the other direction still works
        libsock.send(conn, b"reply")
        self.assertEqual(libsock.recv(client, 100), b"reply")
        # sending after SHUT_WR is EPIPE (MSG_NOSIGNAL: no SIGPIPE)
        self.assertErrno(32, libsock.send, client, b"x", socket.MSG_NOSIGNAL)

    def test_shut_rdwr(self) -> None:
        client, conn = self._connected()
        libsock.shutdown(conn, socket.SHUT_RDWR)
        self.assertEqual(libsock.recv(client, 10), b"")
        self.assertEqual(libsock.recv(conn, 10), b"")

    def test_bad_how(self) -> None:
        client, _ = self._connected()
        self.assertErrno(22, libsock.shutdown, client, 7)  # EINVAL


if __name__ == "__main__":
    unittest.main()
