"""Data round trips over loopback and Unix sockets, through libsock."""

from __future__ import annotations

import array
import fcntl
import os
import socket
import tempfile
import unittest
from typing import Tuple

from _support import SocketTestCase, requires_ipv6

import libsock

MSG_WAITFORONE = 0x10000  # Linux; Python's socket module lacks it
V4 = (socket.AF_INET, "127.0.0.1")
V6 = (socket.AF_INET6, "::1")


class TcpTest(SocketTestCase):
    def _connected(self, family: int, host: str) -> Tuple[int, int, int, libsock.Address]:
        server = self.sock(family, socket.SOCK_STREAM)
        libsock.bind(server, (host, 0))
        libsock.listen(server, 8)
        address = libsock.getsockname(server)
        client = self.sock(family, socket.SOCK_STREAM)
        libsock.connect(client, address)
        conn, peer = libsock.accept(server)
        self.track(conn)
        return server, client, conn, peer

    def _round_trip(self, family: int, host: str) -> None:
        server, client, conn, peer = self._connected(family, host)
        self.assertEqual(peer, libsock.getsockname(client))
        self.assertEqual(libsock.getpeername(client), libsock.getsockname(server))
        self.assertEqual(libsock.getpeername(conn), peer)
        self.assertEqual(libsock.send(client, b"ping"), 4)
        self.assertEqual(libsock.recv(conn, 100), b"ping")
        payload = os.urandom(1 << 20)
        libsock.sendall(conn, payload)
        libsock.shutdown(conn, socket.SHUT_WR)
        received = bytearray()
        while True:
            chunk = libsock.recv(client, 65536)
            if not chunk:
                break
            received += chunk
        self.assertEqual(bytes(received), payload)

    def test_ipv4(self) -> None:
        self._round_trip(*V4)

    @requires_ipv6
    def test_ipv6(self) -> None:
        self._round_trip(*V6)

    def test_accept4_flags(self) -> None:
        server = self.sock(socket.AF_INET, socket.SOCK_STREAM)
        libsock.bind(server, ("127.0.0.1", 0))
        libsock.listen(server)
        client = self.sock(socket.AF_INET, socket.SOCK_STREAM)
        libsock.connect(client, libsock.getsockname(server))
        conn, peer = libsock.accept4(server, socket.SOCK_NONBLOCK | socket.SOCK_CLOEXEC)
        self.track(conn)
        self.assertEqual(peer, libsock.getsockname(client))
        self.assertTrue(fcntl.fcntl(conn, fcntl.F_GETFL) & os.O_NONBLOCK)
        self.assertTrue(fcntl.fcntl(conn, fcntl.F_GETFD) & fcntl.FD_CLOEXEC)
        self.assertErrno(11, libsock.recv, conn, 10)  # EAGAIN: nothing sent yet

    def test_recv_into_and_peek(self) -> None:
        _, client, conn, _ = self._connected(*V4)
        libsock.sendall(client, b"hello world")
        self.assertEqual(libsock.recv(conn, 5, socket.MSG_PEEK | socket.MSG_WAITALL), b"hello")
        buffer = bytearray(16)
        self.assertEqual(libsock.recv_into(conn, buffer, 11, socket.MSG_WAITALL), 11)
        self.assertEqual(bytes(buffer[:11]), b"hello world")

    def test_interoperates_with_python_sockets(self) -> None:
        server = self.sock(socket.AF_INET, socket.SOCK_STREAM)
        libsock.bind(server, ("127.0.0.1", 0))
        libsock.listen(server)
        address = libsock.getsockname(server)
        assert isinstance(address, tuple)
        with socket.create_connection((str(address[0]), int(address[1])), timeout=10) as client:
            conn, peer = libsock.accept(server)
            self.track(conn)
            self.assertEqual(peer, client.getsockname())
            client.sendall(b"from python")
            self.assertEqual(libsock.recv(conn, 64), b"from python")
            libsock.send(conn, b"from libsock")
            self.assertEqual(client.recv(64), b"from libsock")

    def test_socket_objects_are_accepted_as_descriptors(self) -> None:
        a, b = socket.socketpair()
        with a, b:
            libsock.send(a, b"x")
            self.assertEqual(libsock.recv(b, 1), b"x")


class UdpTest(SocketTestCase):
    def _round_trip(self, family: int, host: str) -> None:
        receiver = self.sock(family, socket.SOCK_DGRAM)
        libsock.bind(receiver, (host, 0))
        sender = self.sock(family, socket.SOCK_DGRAM)
        libsock.bind(sender, (host, 0))
        target = libsock.getsockname(receiver)
        self.assertEqual(libsock.sendto(sender, b"datagram", target), 8)
        data, source = libsock.recvfrom(receiver, 100)
        self.assertEqual(data, b"datagram")
        self.assertEqual(source, libsock.getsockname(sender))
        # truncation: the rest of a datagram is dropped, as with recvfrom(2)
        libsock.sendto(sender, b"0123456789", target)
        data, _ = libsock.recvfrom(receiver, 4)
        self.assertEqual(data, b"0123")
        # connected UDP with send/recv
        libsock.connect(sender, target)
        libsock.send(sender, bytearray(b"again"))
        self.assertEqual(libsock.recv(receiver, 100), b"again")
        buffer = bytearray(8)
        libsock.send(sender, memoryview(b"into"))
        self.assertEqual(libsock.recvfrom_into(receiver, buffer), (4, source))
        self.assertEqual(bytes(buffer[:4]), b"into")

    def test_ipv4(self) -> None:
        self._round_trip(*V4)

    @requires_ipv6
    def test_ipv6(self) -> None:
        self._round_trip(*V6)

    def test_sendmmsg_recvmmsg(self) -> None:
        receiver = self.sock(socket.AF_INET, socket.SOCK_DGRAM)
        libsock.bind(receiver, ("127.0.0.1", 0))
        sender = self.sock(socket.AF_INET, socket.SOCK_DGRAM)
        libsock.bind(sender, ("127.0.0.1", 0))
        target = libsock.getsockname(receiver)
        messages = [(b"one", target), (b"two", target), (bytearray(b"three"), target)]
        self.assertEqual(libsock.sendmmsg(sender, messages), 3)
        got = libsock.recvmmsg(receiver, 8, 64, MSG_WAITFORONE)
        self.assertEqual([data for data, _ in got], [b"one", b"two", b"three"])
        source = libsock.getsockname(sender)
        self.assertEqual({address for _, address in got}, {source})


class UnixTest(SocketTestCase):
    def test_socketpair_stream(self) -> None:
        a, b = self.pair()
        libsock.sendall(a, b"over the pair")
        self.assertEqual(libsock.recv(b, 100), b"over the pair")
        self.assertEqual(libsock.getsockname(a), "")
        self.assertEqual(libsock.getpeername(a), "")
        libsock.shutdown(a, socket.SHUT_WR)
        self.assertEqual(libsock.recv(b, 100), b"")

    def test_socketpair_datagram(self) -> None:
        a, b = self.pair(socket.AF_UNIX, socket.SOCK_DGRAM)
        libsock.send(a, b"one")
        libsock.send(a, b"two")
        self.assertEqual(libsock.recvfrom(b, 100), (b"one", None))
        self.assertEqual(libsock.recv(b, 100), b"two")

    def test_path_socket(self) -> None:
        with tempfile.TemporaryDirectory() as directory:
            path = os.path.join(directory, "sock")
            server = self.sock(socket.AF_UNIX, socket.SOCK_STREAM)
            libsock.bind(server, path)
            libsock.listen(server)
            self.assertEqual(libsock.getsockname(server), path)
            client = self.sock(socket.AF_UNIX, socket.SOCK_STREAM)
            libsock.connect(client, path.encode())
            conn, peer = libsock.accept(server)
            self.track(conn)
            self.assertEqual(peer, "")  # the client is unnamed
            self.assertEqual(libsock.getpeername(client), path)
            libsock.send(client, b"path")
            self.assertEqual(libsock.recv(conn, 10), b"path")

    def test_abstract_socket(self) -> None:
        name = b"\0libsock-test-" + os.urandom(8).hex().encode()
        server = self.sock(socket.AF_UNIX, socket.SOCK_DGRAM)
        libsock.bind(server, name)
        self.assertEqual(libsock.getsockname(server), name)
        client = self.sock(socket.AF_UNIX, socket.SOCK_DGRAM)
        libsock.bind(client, b"")  # autobind: the kernel picks an abstract name
        auto = libsock.getsockname(client)
        assert isinstance(auto, bytes)
        self.assertTrue(auto.startswith(b"\0"))
        libsock.sendto(client, b"abstract", name)
        self.assertEqual(libsock.recvfrom(server, 100), (b"abstract", auto))

    def test_sendmsg_recvmsg_with_scm_rights(self) -> None:
        a, b = self.pair()
        r, w = self.pipe()
        fds = array.array("i", [r, w])
        sent = libsock.sendmsg(
            a, [b"fd", bytearray(b"s")], [(socket.SOL_SOCKET, socket.SCM_RIGHTS, fds.tobytes())]
        )
        self.assertEqual(sent, 3)
        data, ancdata, flags, address = libsock.recvmsg(
            b, 10, socket.CMSG_SPACE(2 * fds.itemsize)
        )
        self.assertEqual((data, flags, address), (b"fds", 0, None))
        self.assertEqual(len(ancdata), 1)
        level, kind, payload = ancdata[0]
        self.assertEqual((level, kind), (socket.SOL_SOCKET, socket.SCM_RIGHTS))
        received = array.array("i", payload)
        for fd in received:
            self.track(fd)
        self.assertEqual(len(received), 2)
        # the received write end feeds the original read end
        os.write(received[1], b"through the passed fd")
        self.assertEqual(os.read(r, 100), b"through the passed fd")

    def test_recvmsg_control_truncated(self) -> None:
        a, b = self.pair()
        r, _ = self.pipe()
        libsock.sendmsg(
            a, [b"x"], [(socket.SOL_SOCKET, socket.SCM_RIGHTS, array.array("i", [r, r]).tobytes())]
        )
        data, ancdata, flags, _ = libsock.recvmsg(b, 10, socket.CMSG_LEN(4))
        self.assertEqual(data, b"x")
        self.assertTrue(flags & socket.MSG_CTRUNC)
        for _level, _kind, payload in ancdata:
            for fd in array.array("i", payload[: len(payload) // 4 * 4]):
                self.track(fd)

    def test_sendmsg_to_address(self) -> None:
        name = b"\0libsock-msg-" + os.urandom(8).hex().encode()
        server = self.sock(socket.AF_UNIX, socket.SOCK_DGRAM)
        libsock.bind(server, name)
        client = self.sock(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.assertEqual(libsock.sendmsg(client, [b"to", b" name"], address=name), 7)
        data, ancdata, flags, address = libsock.recvmsg(server, 100)
        self.assertEqual((data, ancdata, flags), (b"to name", [], 0))


if __name__ == "__main__":
    unittest.main()
