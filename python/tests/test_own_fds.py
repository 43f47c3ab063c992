"""libsock.select against the program's own descriptor hygiene.

libsock holds descriptors of its own in the process's table (preloaded:
the epoll instance behind the sets ``libsock.select`` uses). These check,
each in a fresh interpreter started with this one's environment (so
preloaded when the suite is, through ctypes otherwise), that:

- a member closed before or after the first wait is EBADF, with a zero and
  with no timeout (CPython's ``test_select.test_errno``);
- libsock's own numbers are never a member, and are kept high;
- after every way a Python program closes everything above 2
  (``os.closerange``, an ``os.close`` loop, ``os.dup2`` over libsock's
  number, ``close_range`` through ctypes), new sockets are answered right,
  idle and ready.

A fresh interpreter each: closing every descriptor would take pytest's own.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import unittest

from _support import PYTHON_DIR

PRELUDE = textwrap.dedent(
    """
    import ctypes, errno, os, resource, select, signal, socket, sys
    sys.path.insert(0, {python_dir!r})
    import libsock

    def fail(what):
        print("FAIL:", what)
        sys.exit(1)

    def expect_ebadf(what, *args):
        signal.alarm(10)  # a wait that hangs fails the test, not the suite
        try:
            got = libsock.select(*args)
        except OSError as e:
            if e.errno != errno.EBADF:
                fail(f"{{what}}: {{e!r}}")
        else:
            fail(f"{{what}}: {{got!r}}, not EBADF")
        finally:
            signal.alarm(0)

    def own_epolls():
        found = []
        for name in os.listdir("/proc/self/fd"):
            try:
                if os.readlink(f"/proc/self/fd/{{name}}") == "anon_inode:[eventpoll]":
                    found.append(int(name))
            except OSError:
                pass
        return found

    def idle_and_ready(what):
        a, b = socket.socketpair()
        c, d = socket.socketpair()
        for timeout in (0, 0.02, 0.02):
            got = libsock.select([a, c], [], [], timeout)
            if got != ([], [], []):
                fail(f"{{what}}: idle gives {{got!r}}")
        d.send(b"x")
        signal.alarm(10)
        got = libsock.select([a, c], [], [], None)
        signal.alarm(0)
        if got != ([c], [], []):
            fail(f"{{what}}: ready gives {{got!r}}")
        with libsock.SocketSet([a, c]) as s:
            if libsock.select(s.members(), [], [], 0)[0] != [c.fileno()]:
                fail(f"{{what}}: through a SocketSet's members")
        for x in (a, b, c, d):
            x.close()

    limit = min(resource.getrlimit(resource.RLIMIT_NOFILE)[0], 65536)
    """
)


def run(body: str) -> None:
    """Runs PRELUDE + body in a fresh interpreter with this environment."""
    script = PRELUDE.format(python_dir=str(PYTHON_DIR)) + textwrap.dedent(body) + "\nprint('ok')\n"
    proc = subprocess.run(
        [sys.executable, "-c", script],
        env=os.environ.copy(),
        capture_output=True,
        text=True,
        timeout=120,
    )
    out = proc.stdout + proc.stderr
    if proc.returncode != 0 or not proc.stdout.endswith("ok\n"):
        raise AssertionError(f"exit {proc.returncode}:\n{out}")


class ClosedMembers(unittest.TestCase):
    def test_closed_file_before_the_first_wait(self) -> None:
        # CPython's test_select.test_errno, as the process's first wait.
        run(
            """
            with open(sys.executable, "rb") as f:
                fd = f.fileno()
            expect_ebadf("closed file, zero timeout", [fd], [], [], 0)
            expect_ebadf("closed file, no timeout", [fd], [], [], None)
            """
        )

    def test_closed_socket_after_the_first_wait(self) -> None:
        run(
            """
            a, b = socket.socketpair()
            if libsock.select([a], [], [], 0) != ([], [], []):
                fail("idle")
            fd = a.fileno()
            a.close()
            expect_ebadf("closed socket, zero timeout", [fd], [], [], 0)
            expect_ebadf("closed socket, no timeout", [fd], [], [], None)
            expect_ebadf("closed socket in the write list", [], [fd], [], None)
            idle_and_ready("after the EBADFs")
            """
        )

    def test_own_numbers_are_high_and_never_members(self) -> None:
        run(
            """
            idle_and_ready("first")
            floor = min(896, limit - limit // 8)
            for fd in own_epolls():
                if fd < floor:
                    fail(f"libsock's epoll at {fd}, below {floor}")
                a, b = socket.socketpair()
                expect_ebadf(f"libsock's own {fd} as a member", [a, fd], [], [], 0)
                a.close(); b.close()
            """
        )


class Subprocesses(unittest.TestCase):
    def test_subprocess_children_leave_libsocks_numbers_alone(self) -> None:
        # subprocess's vfork child closes everything above 2 (close_range,
        # through libsock when preloaded) in its own table, not ours.
        run(
            """
            import subprocess
            idle_and_ready("before")
            before = own_epolls()
            for _ in range(5):
                subprocess.run([sys.executable, "-c", ""], check=True)
                idle_and_ready("after a child")
            if own_epolls() != before:
                fail(f"libsock's epoll instances {before} became {own_epolls()}")
            """
        )


class ClosingEverything(unittest.TestCase):
    def check(self, closing: str) -> None:
        before = 'idle_and_ready("before")\nbefore = own_epolls()\n'
        after = 'idle_and_ready("after")\nidle_and_ready("again")\n'
        run(before + textwrap.dedent(closing) + "\n" + after)

    def test_closerange_256(self) -> None:
        self.check("os.closerange(3, 256)")

    def test_closerange_everything(self) -> None:
        self.check("os.closerange(3, limit)")

    def test_close_loop(self) -> None:
        self.check(
            """
            for fd in range(3, limit):
                try:
                    os.close(fd)
                except OSError:
                    pass
            """
        )

    def test_close_range_through_ctypes(self) -> None:
        # Preloaded this is libsock's close_range; through ctypes, glibc's.
        self.check(
            """
            libc = ctypes.CDLL(None, use_errno=True)
            if libc.close_range(3, ctypes.c_uint(~0 & 0xFFFFFFFF), 0) != 0:
                fail(f"close_range: {ctypes.get_errno()}")
            """
        )

    def test_dup2_over_own_numbers(self) -> None:
        self.check(
            """
            a, b = socket.socketpair()
            for fd in before:
                os.dup2(a.fileno(), fd)
                got = libsock.select([fd], [], [], 0)
                if got != ([], [], []):
                    fail(f"the program's socket at {fd}, idle: {got!r}")
                b.send(b"x")
                if libsock.select([fd], [], [], 5) != ([fd], [], []):
                    fail(f"the program's socket at {fd}, ready")
                a.recv(1)
                os.close(fd)
            a.close(); b.close()
            """
        )

    def test_dup2_over_every_low_number(self) -> None:
        self.check(
            """
            top = min(limit, 1032) - 8
            import fcntl
            a, b = socket.socketpair()
            sock = fcntl.fcntl(a.fileno(), fcntl.F_DUPFD_CLOEXEC, top + 4)
            peer = fcntl.fcntl(b.fileno(), fcntl.F_DUPFD_CLOEXEC, top + 4)
            a.close(); b.close()
            nums = list(range(3, top))
            for fd in nums:
                os.dup2(sock, fd)
            if libsock.select(nums, [], [], 0) != ([], [], []):
                fail("every low number, idle")
            os.write(peer, b"x")
            if libsock.select(nums, [], [], 5)[0] != nums:
                fail("every low number, ready")
            os.closerange(3, top)
            os.close(sock); os.close(peer)
            """
        )


if __name__ == "__main__":
    unittest.main()
