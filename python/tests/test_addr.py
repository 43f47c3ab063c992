"""The sockaddr codec, against the kernel and Python's own socket module."""

from __future__ import annotations

import ctypes
import os
import socket
import tempfile
import unittest

from _support import SocketTestCase, requires_ipv6

import libsock
from libsock import _addr
from libsock._cstructs import sockaddr_in, sockaddr_in6, sockaddr_storage, sockaddr_un


class EncodeTest(unittest.TestCase):
    def test_inet_layout(self) -> None:
        sa, length = _addr.encode(("192.0.2.1", 0x1234), socket.AF_INET)
        self.assertEqual(length, ctypes.sizeof(sockaddr_in))
        raw = ctypes.string_at(ctypes.addressof(sa), length)
        family = socket.AF_INET.to_bytes(2, "little")
        self.assertEqual(raw, family + b"\x12\x34" + bytes([192, 0, 2, 1]) + bytes(8))

    def test_inet_special_hosts(self) -> None:
        for host, packed in (("", bytes(4)), ("<broadcast>", b"\xff" * 4), (b"127.0.0.1", b"\x7f\0\0\x01")):
            with self.subTest(host=host):
                sa, _ = _addr.encode((host, 1), socket.AF_INET)
                self.assertEqual(bytes(sa.sin_addr), packed)

    def test_inet_name_is_resolved(self) -> None:
        sa, _ = _addr.encode(("localhost", 80), socket.AF_INET)
        self.assertEqual(bytes(sa.sin_addr)[:1], b"\x7f")

    def test_inet6_layout(self) -> None:
        sa, length = _addr.encode(("2001:db8::1", 443, 0xABCDE, 7), socket.AF_INET6)
        self.assertEqual(length, ctypes.sizeof(sockaddr_in6))
        raw = ctypes.string_at(ctypes.addressof(sa), length)
        self.assertEqual(raw[2:4], b"\x01\xbb")
        self.assertEqual(raw[4:8], (0xABCDE).to_bytes(4, "big"))
        self.assertEqual(raw[8:24], socket.inet_pton(socket.AF_INET6, "2001:db8::1"))
        self.assertEqual(int.from_bytes(raw[24:28], "little"), 7)

    def test_inet6_zone(self) -> None:
        index = socket.if_nametoindex("lo")
        for host in ("fe80::1%lo", f"fe80::1%{index}"):
            with self.subTest(host=host):
                sa, _ = _addr.encode((host, 0), socket.AF_INET6)
                self.assertEqual(sa.sin6_scope_id, index)

    def test_unix_lengths(self) -> None:
        offset = sockaddr_un.sun_path.offset
        cases = [
            ("/tmp/x", offset + 7),  # path + NUL, as CPython passes it
            (b"\0abstract", offset + 9),  # abstract: exact
            (b"", offset),  # autobind
            ("p" * 107, offset + 108),
            (b"\0" + b"a" * 107, offset + 108),
        ]
        for address, length in cases:
            with self.subTest(address=address):
                self.assertEqual(_addr.encode(address, socket.AF_UNIX)[1], length)

    def test_infer_family(self) -> None:
        cases = [
            (("127.0.0.1", 1), socket.AF_INET),
            (("::1", 1), socket.AF_INET6),
            (("fe80::1%lo", 1), socket.AF_INET6),
            (("localhost", 1, 0, 0), socket.AF_INET6),
            (("localhost", 1), None),
            (("", 1), None),
            ("/path", socket.AF_UNIX),
            (b"\0name", socket.AF_UNIX),
            ((socket.AF_PACKET, b"raw"), socket.AF_PACKET),
        ]
        for address, family in cases:
            with self.subTest(address=address):
                self.assertEqual(_addr.infer_family(address), family)

    def test_raw_family_round_trip(self) -> None:
        sa, length = _addr.encode((12345, b"opaque"), 12345)
        assert isinstance(sa, sockaddr_storage)
        self.assertEqual(length, 8)
        self.assertEqual(_addr.decode(sa, length), (12345, b"opaque"))

    def test_decode_empty_is_none(self) -> None:
        storage, _ = _addr.new_storage()
        self.assertIsNone(_addr.decode(storage, 0))


class KernelAgreesTest(SocketTestCase):
    """Bind through libsock, read back through Python's socket module (and
    the other way round): both codecs describe the same address."""

    def python_view(self, fd: int) -> socket.socket:
        view = socket.socket(fileno=fd)
        self.addCleanup(view.detach)
        return view

    def test_unix_path_with_non_utf8_bytes(self) -> None:
        with tempfile.TemporaryDirectory() as directory:
            path = os.path.join(directory, "s\udcff")  # surrogateescape'd byte 0xff
            fd = self.sock(socket.AF_UNIX, socket.SOCK_DGRAM)
            libsock.bind(fd, path)
            self.assertEqual(libsock.getsockname(fd), path)
            self.assertEqual(self.python_view(fd).getsockname(), path)

    def test_unix_longest_path(self) -> None:
        with tempfile.TemporaryDirectory() as directory:
            path = os.path.join(directory, "")
            path += "p" * (107 - len(os.fsencode(path)))
            fd = self.sock(socket.AF_UNIX, socket.SOCK_DGRAM)
            libsock.bind(fd, path)
            self.assertEqual(libsock.getsockname(fd), path)
            self.assertEqual(self.python_view(fd).getsockname(), path)

    def test_abstract_with_embedded_nul(self) -> None:
        name = b"\0libsock\0addr-" + os.urandom(6).hex().encode()
        fd = self.sock(socket.AF_UNIX, socket.SOCK_DGRAM)
        libsock.bind(fd, name)
        self.assertEqual(libsock.getsockname(fd), name)
        self.assertEqual(self.python_view(fd).getsockname(), name)

    def test_python_bound_address_decodes_the_same(self) -> None:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            s.bind(("127.0.0.1", 0))
            self.assertEqual(libsock.getsockname(s), s.getsockname())

    @requires_ipv6
    def test_ipv6_flowinfo_and_scope_decode(self) -> None:
        receiver = self.sock(socket.AF_INET6, socket.SOCK_DGRAM)
        libsock.bind(receiver, ("::1", 0))
        address = libsock.getsockname(receiver)
        self.assertEqual(address, self.python_view(receiver).getsockname())
        self.assertEqual(len(address), 4)
        sender = self.sock(socket.AF_INET6, socket.SOCK_DGRAM)
        libsock.bind(sender, ("::1", 0, 0, 0))
        libsock.sendto(sender, b"6", address)
        _, source = libsock.recvfrom(receiver, 10)
        self.assertEqual(source, libsock.getsockname(sender))


if __name__ == "__main__":
    unittest.main()
