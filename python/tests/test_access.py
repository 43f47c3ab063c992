"""The package's calls obey LIBSOCK_ALLOW/LIBSOCK_DENY: they go through libsock.

The rules are read once per process, at libsock's first call, so each case
runs in a child Python with the rules in its environment (and LD_PRELOAD as
this process has it, so it holds in both runs of ``make python-test``).
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import textwrap
import unittest
from typing import Dict

from _support import PYTHON_DIR


def _run(env_update: Dict[str, str], code: str) -> "subprocess.CompletedProcess[str]":
    env = {k: v for k, v in os.environ.items() if not k.startswith("LIBSOCK_") or k == "LIBSOCK_LIB"}
    env.update(env_update)
    env["PYTHONPATH"] = str(PYTHON_DIR)
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


OUTBOUND = """
    import errno, socket, libsock
    def refused(f, *a):
        try:
            f(*a)
        except OSError as e:
            return e.errno == errno.EPERM
        return False
    fd = libsock.socket(socket.AF_INET, socket.SOCK_STREAM)
    print("connect", refused(libsock.connect, fd, ("127.0.0.2", 9)))
    u = libsock.socket(socket.AF_INET, socket.SOCK_DGRAM)
    print("sendto", refused(libsock.sendto, u, b"x", ("127.0.0.2", 9)))
    print("sendmsg", refused(libsock.sendmsg, u, [b"x"], [], 0, ("127.0.0.2", 9)))
    u6 = libsock.socket(socket.AF_INET6, socket.SOCK_DGRAM)
    print("mapped", refused(libsock.sendto, u6, b"x", ("::ffff:127.0.0.2", 9)))
    r = libsock.socket(socket.AF_INET, socket.SOCK_DGRAM)
    libsock.bind(r, ("127.0.0.3", 0))
    print("allowed", libsock.sendto(u, b"ok", libsock.getsockname(r)) == 2)
"""

RAW = """
    import socket, libsock
    try:
        libsock.close(libsock.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP))
        print("raw created")
    except OSError as e:
        print("raw refused", e.errno)
"""

INBOUND = """
    import socket, time, libsock
    r = libsock.socket(socket.AF_INET, socket.SOCK_DGRAM)
    libsock.bind(r, ("127.0.0.1", 0))
    port = libsock.getsockname(r)[1]
    for src in ("127.0.0.2", "127.0.0.3"):
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.bind((src, 0))
        s.sendto(src.encode(), ("127.0.0.1", port))
        s.close()
    time.sleep(0.1)
    got = []
    while True:
        try:
            got.append(libsock.recvfrom(r, 64, socket.MSG_DONTWAIT))
        except BlockingIOError:
            break
    print([(d.decode(), a[0]) for d, a in got])
"""


FAIL_CLOSED = """
    import errno, socket, libsock
    u = libsock.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        libsock.sendto(u, b"x", ("127.0.0.1", 9))
        print("sent")
    except OSError as e:
        print("refused", errno.errorcode[e.errno])
    a, b = libsock.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
    libsock.send(a, b"u")
    print("unix", libsock.recv(b, 1))
"""


SPELLINGS = """
    import errno, socket, struct, sys, libsock
    u4, u6, t4 = (int(p) for p in sys.argv[1:4])
    def attempt(name, f, *a):
        try:
            f(*a)
            print(name, "sent")
        except OSError as e:
            print(name, errno.errorcode[e.errno])
    u = libsock.socket(socket.AF_INET, socket.SOCK_DGRAM)
    attempt("sendto-any", libsock.sendto, u, b"sendto-any", ("0.0.0.0", u4))
    attempt("sendmsg-any", libsock.sendmsg, u, [b"sendmsg-any"], [], 0, ("0.0.0.0", u4))
    d = libsock.socket(socket.AF_INET6, socket.SOCK_DGRAM)
    attempt("v6-any", libsock.sendto, d, b"v6-any", ("::", u6))
    attempt("mapped-any", libsock.sendto, d, b"mapped-any", ("::ffff:0.0.0.0", u4))
    t = libsock.socket(socket.AF_INET, socket.SOCK_STREAM)
    # A SYN whose answer a filter drops would retry for minutes: 2 s.
    libsock.setsockopt(t, socket.SOL_SOCKET, socket.SO_SNDTIMEO, struct.pack("ll", 2, 0))
    attempt("connect-any", libsock.connect, t, ("0.0.0.0", t4))
"""


def _receivers() -> "tuple[list[socket.socket], list[int]]":
    """UDP on 127.0.0.1 and [::1], a TCP listener on 127.0.0.1: this
    process's own, without rules."""
    u4 = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    u4.bind(("127.0.0.1", 0))
    u6 = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
    u6.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
    u6.bind(("::1", 0))
    t4 = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    t4.bind(("127.0.0.1", 0))
    t4.listen(8)
    socks = [u4, u6, t4]
    for s in socks:
        s.setblocking(False)
    return socks, [s.getsockname()[1] for s in socks]


def _arrivals(socks: "list[socket.socket]") -> "list[str]":
    got = []
    for s in socks[:2]:
        while True:
            try:
                got.append(s.recv(64).decode())
            except BlockingIOError:
                break
    while True:
        try:
            c, _ = socks[2].accept()
            c.close()
            got.append("connect-any")
        except BlockingIOError:
            break
    return sorted(got)


class AccessRulesTest(unittest.TestCase):
    def _spell(self, env: Dict[str, str]) -> "tuple[str, list[str]]":
        socks, ports = _receivers()
        try:
            env_all = {k: v for k, v in os.environ.items() if not k.startswith("LIBSOCK_") or k == "LIBSOCK_LIB"}
            env_all.update(env)
            env_all["PYTHONPATH"] = str(PYTHON_DIR)
            r = subprocess.run(
                [sys.executable, "-c", textwrap.dedent(SPELLINGS)] + [str(p) for p in ports],
                env=env_all,
                capture_output=True,
                text=True,
                timeout=60,
            )
            self.assertEqual(r.returncode, 0, r.stderr)
            import time

            time.sleep(0.1)
            return r.stdout, _arrivals(socks)
        finally:
            for s in socks:
                s.close()

    def test_every_spelling_of_a_denied_peer_is_refused(self) -> None:
        """0.0.0.0, :: and ::ffff:0.0.0.0 reach the local host: the package's
        calls judge them as 127.0.0.1 and ::1, and nothing arrives."""
        out, got = self._spell({"LIBSOCK_DENY": "127.0.0.1,::1"})
        self.assertEqual(
            out.split("\n"),
            [f"{n} EPERM" for n in ("sendto-any", "sendmsg-any", "v6-any", "mapped-any", "connect-any")] + [""],
        )
        self.assertEqual(got, [])
        # The control: without rules every spelling arrives.
        out, got = self._spell({})
        self.assertNotIn("EPERM", out)
        self.assertEqual(got, sorted(["sendto-any", "sendmsg-any", "v6-any", "mapped-any", "connect-any"]))

    def test_outbound_calls_are_refused_with_eperm(self) -> None:
        r = _run({"LIBSOCK_DENY": "127.0.0.2"}, OUTBOUND)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(
            r.stdout.split("\n"),
            ["connect True", "sendto True", "sendmsg True", "mapped True", "allowed True", ""],
        )

    # Without CAP_NET_RAW the kernel refuses a raw socket with EPERM anyway:
    # only as root does libsock's refusal show.
    @unittest.skipUnless(os.geteuid() == 0, "a raw socket needs root: otherwise EPERM without libsock")
    def test_raw_sockets_are_refused_while_rules_are_set(self) -> None:
        import errno

        r = _run({"LIBSOCK_DENY": "127.0.0.2"}, RAW)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(r.stdout.strip(), f"raw refused {errno.EPERM}")
        # The control: without rules, root gets the raw socket.
        r = _run({}, RAW)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(r.stdout.strip(), "raw created")

    def test_an_allow_list_refuses_everything_else(self) -> None:
        r = _run({"LIBSOCK_ALLOW": "127.0.0.3"}, OUTBOUND)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("connect True", r.stdout)
        self.assertIn("allowed True", r.stdout)

    def test_a_denied_senders_datagrams_never_arrive(self) -> None:
        r = _run({"LIBSOCK_DENY": "127.0.0.2"}, INBOUND)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(r.stdout.strip(), "[('127.0.0.3', '127.0.0.3')]")
        # The control: without rules both arrive.
        r = _run({}, INBOUND)
        self.assertEqual(r.stdout.strip(), "[('127.0.0.2', '127.0.0.2'), ('127.0.0.3', '127.0.0.3')]")

    def test_an_invalid_rule_fails_closed_with_one_line(self) -> None:
        r = _run({"LIBSOCK_DENY": "10.0.0.0/33"}, FAIL_CLOSED)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(r.stdout.split("\n"), ["refused EPERM", "unix b'u'", ""])
        lines = [l for l in r.stderr.splitlines() if l.startswith("libsock:")]
        self.assertEqual(len(lines), 1, r.stderr)
        self.assertIn("LIBSOCK_DENY", lines[0])
        self.assertIn("expected a prefix length 0-32", lines[0])

if __name__ == "__main__":
    unittest.main()
