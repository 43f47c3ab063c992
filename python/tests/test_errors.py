"""Failures raise OSError with glibc's errno; malformed Python input raises
TypeError/ValueError before anything reaches C.

Every errno case is checked three ways: the expected constant, glibc called
directly with the same C arguments (the reference), and — where it can say
anything — Python's own socket module.
"""

from __future__ import annotations

import ctypes
import errno
import os
import socket
import unittest

from _support import SocketTestCase, c_call, glibc, requires_ipv6

import libsock
from libsock._cstructs import sockaddr, socklen_t


class ErrnoTest(SocketTestCase):
    def assertSameAsGlibc(self, name: str, *args: object) -> int:
        """libsock's raw export and glibc's, on the same arguments, give the
        same result and errno; returns that errno."""
        ours = c_call(getattr(libsock.lib, name), *args)
        theirs = c_call(getattr(glibc, name), *args)
        self.assertEqual(ours, theirs, f"{name}{args}: libsock {ours}, glibc {theirs}")
        return ours[1]

    def test_ebadf_on_closed_and_negative_descriptors(self) -> None:
        for fd in (self.closed_fd(), -1, 2**30):
            with self.subTest(fd=fd):
                self.assertErrno(errno.EBADF, libsock.send, fd, b"x")
                self.assertErrno(errno.EBADF, libsock.recv, fd, 1)
                self.assertErrno(errno.EBADF, libsock.bind, fd, ("127.0.0.1", 0))
                self.assertErrno(errno.EBADF, libsock.bind, fd, ("", 0))  # asks SO_DOMAIN
                self.assertErrno(errno.EBADF, libsock.listen, fd, 1)
                self.assertErrno(errno.EBADF, libsock.getsockname, fd)
                self.assertErrno(errno.EBADF, libsock.getsockopt, fd, socket.SOL_SOCKET, socket.SO_TYPE)
                self.assertErrno(errno.EBADF, libsock.shutdown, fd, socket.SHUT_RDWR)
                self.assertErrno(errno.EBADF, libsock.close, fd)
                self.assertErrno(errno.EBADF, libsock.sendall, fd, b"")
                self.assertEqual(self.assertSameAsGlibc("close", fd), errno.EBADF)
                self.assertEqual(self.assertSameAsGlibc("listen", fd, 1), errno.EBADF)
        with self.assertRaises(OSError) as caught:
            socket.socket(fileno=self.closed_fd())
        self.assertEqual(caught.exception.errno, errno.EBADF)

    def test_enotsock_on_a_pipe(self) -> None:
        r, w = self.pipe()
        self.assertErrno(errno.ENOTSOCK, libsock.bind, r, ("127.0.0.1", 0))
        self.assertErrno(errno.ENOTSOCK, libsock.bind, r, ("", 0))
        self.assertErrno(errno.ENOTSOCK, libsock.connect, w, ("127.0.0.1", 9))
        self.assertErrno(errno.ENOTSOCK, libsock.listen, r)
        self.assertErrno(errno.ENOTSOCK, libsock.accept, r)
        self.assertErrno(errno.ENOTSOCK, libsock.send, w, b"x")
        self.assertErrno(errno.ENOTSOCK, libsock.recv, r, 1)
        self.assertErrno(errno.ENOTSOCK, libsock.getsockopt, r, socket.SOL_SOCKET, socket.SO_TYPE)
        self.assertErrno(errno.ENOTSOCK, libsock.getpeername, r)
        self.assertErrno(errno.ENOTSOCK, libsock.shutdown, r, socket.SHUT_RD)
        self.assertEqual(self.assertSameAsGlibc("listen", r, 1), errno.ENOTSOCK)
        self.assertEqual(self.assertSameAsGlibc("shutdown", r, 0), errno.ENOTSOCK)
        with self.assertRaises(OSError) as caught:
            socket.socket(fileno=r)
        self.assertEqual(caught.exception.errno, errno.ENOTSOCK)

    def test_eafnosupport_on_an_unknown_family(self) -> None:
        self.assertErrno(errno.EAFNOSUPPORT, libsock.socket, 12345, socket.SOCK_STREAM)
        self.assertEqual(
            self.assertSameAsGlibc("socket", 12345, socket.SOCK_STREAM, 0), errno.EAFNOSUPPORT
        )
        with self.assertRaises(OSError) as caught:
            socket.socket(12345, socket.SOCK_STREAM)
        self.assertEqual(caught.exception.errno, errno.EAFNOSUPPORT)

    def test_unknown_socket_type(self) -> None:
        err = self.assertSameAsGlibc("socket", socket.AF_INET, 999, 0)
        self.assertErrno(err, libsock.socket, socket.AF_INET, 999)
        self.assertEqual(err, errno.EINVAL)

    def _refused(self, family: int, host: str) -> None:
        # A bound socket that does not listen: the kernel answers the SYN with
        # a RST, so connect is refused (no race with another binder).
        closed = self.sock(family, socket.SOCK_STREAM)
        libsock.bind(closed, (host, 0))
        address = libsock.getsockname(closed)
        client = self.sock(family, socket.SOCK_STREAM)
        with self.assertRaises(ConnectionRefusedError) as caught:
            libsock.connect(client, address)
        self.assertEqual(caught.exception.errno, errno.ECONNREFUSED)
        with socket.socket(family, socket.SOCK_STREAM) as reference:
            self.assertEqual(reference.connect_ex(address), errno.ECONNREFUSED)

    def test_econnrefused_ipv4(self) -> None:
        self._refused(socket.AF_INET, "127.0.0.1")

    @requires_ipv6
    def test_econnrefused_ipv6(self) -> None:
        self._refused(socket.AF_INET6, "::1")

    def test_listen_on_udp(self) -> None:
        # Linux refuses listen on a datagram socket with EOPNOTSUPP (not
        # EINVAL): inet_dgram_ops.listen is sock_no_listen.
        udp = self.sock(socket.AF_INET, socket.SOCK_DGRAM)
        self.assertErrno(errno.EOPNOTSUPP, libsock.listen, udp, 5)
        self.assertEqual(self.assertSameAsGlibc("listen", udp, 5), errno.EOPNOTSUPP)
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as reference:
            with self.assertRaises(OSError) as caught:
                reference.listen(5)
            self.assertEqual(caught.exception.errno, errno.EOPNOTSUPP)

    def test_einval_on_a_second_bind(self) -> None:
        fd = self.sock(socket.AF_INET, socket.SOCK_STREAM)
        libsock.bind(fd, ("127.0.0.1", 0))
        self.assertErrno(errno.EINVAL, libsock.bind, fd, ("127.0.0.1", 0))

    def test_eaddrinuse(self) -> None:
        first = self.sock(socket.AF_INET, socket.SOCK_STREAM)
        libsock.bind(first, ("127.0.0.1", 0))
        libsock.listen(first)
        second = self.sock(socket.AF_INET, socket.SOCK_STREAM)
        self.assertErrno(errno.EADDRINUSE, libsock.bind, second, libsock.getsockname(first))

    def test_enotconn(self) -> None:
        fd = self.sock(socket.AF_INET, socket.SOCK_STREAM)
        self.assertErrno(errno.ENOTCONN, libsock.getpeername, fd)
        self.assertErrno(errno.ENOTCONN, libsock.recv, fd, 1)
        self.assertErrno(errno.ENOTCONN, libsock.shutdown, fd, socket.SHUT_RDWR)
        # The failed shutdown still marks the socket shut (Linux sets the
        # flags before it checks the state): recv now returns 0 bytes, as it
        # does on Python's own socket after the same steps.
        self.assertEqual(libsock.recv(fd, 1), b"")
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as reference:
            with self.assertRaises(OSError):
                reference.shutdown(socket.SHUT_RDWR)
            self.assertEqual(reference.recv(1), b"")
        other = self.sock(socket.AF_INET, socket.SOCK_STREAM)
        self.assertEqual(self.assertSameAsGlibc("shutdown", other, socket.SHUT_RDWR), errno.ENOTCONN)

    def test_enoprotoopt(self) -> None:
        fd = self.sock(socket.AF_INET, socket.SOCK_STREAM)
        self.assertErrno(errno.ENOPROTOOPT, libsock.getsockopt, fd, socket.SOL_SOCKET, 9999)
        self.assertErrno(errno.ENOPROTOOPT, libsock.setsockopt, fd, 9999, 1, 1)

    def test_efault_from_raw_calls_matches_glibc(self) -> None:
        # Bad pointers are the kernel's to judge: libsock passes them on.
        fd = self.sock(socket.AF_INET, socket.SOCK_DGRAM)
        bad = ctypes.cast(ctypes.c_void_p(8), ctypes.POINTER(sockaddr))
        self.assertEqual(self.assertSameAsGlibc("bind", fd, bad, 16), errno.EFAULT)
        self.assertEqual(self.assertSameAsGlibc("getsockname", fd, None, None), errno.EFAULT)

    def test_oserror_subclass_and_message(self) -> None:
        with self.assertRaises(OSError) as caught:
            libsock.close(self.closed_fd())
        self.assertEqual(caught.exception.strerror, os.strerror(errno.EBADF))
        self.assertEqual(caught.exception.args, (errno.EBADF, os.strerror(errno.EBADF)))

    def test_errno_survives_a_successful_call(self) -> None:
        # glibc leaves errno alone on success; so does libsock.
        a, _ = self.pair()
        ctypes.set_errno(errno.EDOM)
        value = ctypes.c_int()
        size = socklen_t(4)
        self.assertEqual(
            libsock.lib.getsockopt(a, socket.SOL_SOCKET, socket.SO_TYPE, ctypes.byref(value), ctypes.byref(size)),
            0,
        )
        self.assertEqual(ctypes.get_errno(), errno.EDOM)


class ValidationTest(unittest.TestCase):
    """Each call uses descriptor -1: had it reached C, it would be EBADF."""

    def test_addresses(self) -> None:
        cases = [
            (ValueError, ("127.0.0.1", 70000)),
            (ValueError, ("127.0.0.1", -1)),
            (TypeError, ("127.0.0.1", "http")),
            (TypeError, ("127.0.0.1", 1.5)),
            (ValueError, ("::1", 0, 1 << 20)),  # flowinfo is 20 bits
            (ValueError, ("::1", 0, 0, 1 << 32)),
            (TypeError, ("::1", 0, "x")),
            (ValueError, "x" * 108),  # a path needs room for its NUL
            (ValueError, b"\0" + b"x" * 108),
            (TypeError, 3.5),
            (TypeError, None),
            (TypeError, ("127.0.0.1",)),
            (TypeError, (None, 0)),
            (ValueError, ("127.0.0.1\0", 0)),
        ]
        for exception, address in cases:
            with self.subTest(address=address):
                with self.assertRaises(exception):
                    libsock.bind(-1, address)  # type: ignore[arg-type]
                with self.assertRaises(exception):
                    libsock.sendto(-1, b"", address)  # type: ignore[arg-type]

    def test_ambiguous_address_asks_the_socket(self) -> None:
        # ("", port) on a descriptor that cannot say its family: the
        # SO_DOMAIN query fails with the same errno bind would give.
        with self.assertRaises(OSError) as caught:
            libsock.bind(-1, ("", 0))
        self.assertEqual(caught.exception.errno, errno.EBADF)

    def test_other_arguments(self) -> None:
        cases = [
            (TypeError, libsock.send, (-1, "text")),
            (TypeError, libsock.send, ("3", b"x")),
            (TypeError, libsock.send, (None, b"x")),
            (ValueError, libsock.send, (2**40, b"x")),
            (ValueError, libsock.recv, (-1, -1)),
            (TypeError, libsock.recv, (-1, 1.0)),
            (TypeError, libsock.recv_into, (-1, b"read-only")),
            (ValueError, libsock.recv_into, (-1, bytearray(4), 5)),
            (TypeError, libsock.socket, ("inet",)),
            (ValueError, libsock.socket, (2**40,)),
            (TypeError, libsock.listen, (-1, None)),
            (ValueError, libsock.getsockopt, (-1, socket.SOL_SOCKET, socket.SO_TYPE, -1)),
            (ValueError, libsock.setsockopt, (-1, socket.SOL_SOCKET, socket.SO_REUSEADDR, 2**40)),
            (TypeError, libsock.setsockopt, (-1, socket.SOL_SOCKET, socket.SO_REUSEADDR, None)),
            (TypeError, libsock.setsockopt, (-1, socket.SOL_SOCKET, socket.SO_REUSEADDR, "1")),
            (TypeError, libsock.sendmsg, (-1, [b"x"], [(1, 2)])),
            (TypeError, libsock.sendmsg, (-1, ["x"])),
            (ValueError, libsock.recvmsg, (-1, 1, -1)),
            (TypeError, libsock.sendmmsg, (-1, [(b"x",)])),
            (ValueError, libsock.recvmmsg, (-1, 1, 1, 0, -1.0)),
        ]
        for exception, function, args in cases:
            with self.subTest(function=function.__name__, args=args):
                with self.assertRaises(exception):
                    function(*args)  # type: ignore[operator]

    def test_non_contiguous_buffer(self) -> None:
        view = memoryview(bytearray(8))[::2]
        with self.assertRaises(ValueError):
            libsock.send(-1, view)


if __name__ == "__main__":
    unittest.main()
