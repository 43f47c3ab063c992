#!/usr/bin/env python3
"""Writes the seed corpus of the trace and sockset targets and the trace
regression inputs. Their input is read through arbitrary::Unstructured, so
a file is an encoding of choices (see src/check/{trace,sockset}.rs): when a
target changes how it reads its input, rerun this script so the files keep
their meaning. addr and config inputs are plain files.

Encoding (arbitrary 1.x): int_in_range(a..=b) takes one byte per byte of
(b - a), big-endian, modulo the range size; bool is a byte's low bit;
integers are little-endian; ratio(n, d) is int_in_range(1..=d) <= n.
Run from fuzz/: python3 make_seeds.py
"""
import struct

AF_UNIX, AF_INET, AF_INET6 = 1, 2, 10
NR_OPEN_WORD = 1 << 14  # not used for encoding: targets read nr_open at run time


def i32(v): return struct.pack('<i', v)
def u32(v): return struct.pack('<I', v)
def i64(v): return struct.pack('<q', v)
def u64(v): return struct.pack('<Q', v)
def b(v): return bytes([v])


# --- sockset ------------------------------------------------------------
# op byte % 10: 0/1 add, 2 add_many, 3 add_existing, 4/5 remove, 6 reset,
# 7 replace_with, 8/9 next+contains. fd: kind byte % 32, then its bytes.
def small(fd): return b(0) + b(fd + 8)                   # -8..=200
def edge(k, d): return b(18) + b(k) + b(d + 1)             # k*64 + d
def top(d): return b(26) + b(d + 2)                        # nr_open + d
def topword(d): return b(27) + b(d + 65)                   # last word + d
def extreme(i): return b(28) + b(i)                        # MIN, -1, MAX, MAX-1
def add(fd): return b(0) + fd
def add_many(*fds): return b(2) + b(len(fds)) + b''.join(fds)
def add_existing(fd): return b(3) + fd
def remove(fd): return b(4) + b(1) + fd
def reset(): return b(6)
def nxt(after, probe): return b(8) + after + probe


def replace(*words):
    out = b(7) + b(len(words))
    for w in words:
        out += {0: b(0), -1: b(1)}.get(w) or (b(2) + u64(w))
    return out


SOCKSET = {
    'basics': add(small(3)) + add(small(3)) + add(small(130))
    + add_many(small(63), small(64), small(65)) + remove(small(3))
    + nxt(small(-1), small(130)) + reset() + add_existing(small(64))
    + nxt(small(0), small(64)),
    'ceiling': add(top(0)) + add(top(1)) + add_many(small(1), top(1))
    + add_existing(top(-1)) + nxt(topword(-65), top(0)) + add(extreme(2))
    + remove(extreme(0)) + nxt(extreme(2), extreme(1)) + add_existing(topword(63)),
    'replace': add_many(small(0), small(1), small(63), small(64), small(200))
    + replace(-1, 0, 0x8000000000000001, -1, -1, 5) + nxt(small(-8), small(63))
    + reset() + replace(1 << 63),
    'word-edges': add(edge(1, -1)) + add(edge(1, 0)) + add(edge(1, 1))
    + add(edge(40, 1)) + remove(edge(1, 0)) + nxt(edge(1, -1), edge(40, 1))
    + add_many() + add_many(edge(2, 0), extreme(1)),
}

# --- trace --------------------------------------------------------------
CALLS = ["socket", "socketpair", "bind", "listen", "accept", "accept4", "connect", "send",
         "sendto", "sendmsg", "sendmmsg", "recv", "recvfrom", "recvmsg", "recvmmsg",
         "setsockopt", "getsockopt", "getsockname", "getpeername", "shutdown", "close", "dup2",
         "dup3", "close_range"]


KEYS = ["fd", "domain", "type", "protocol", "fds", "addr", "asked", "backlog", "flags", "peer",
        "size", "vlen", "from", "opt", "len", "how", "newfd", "first", "last"]


def head(names=(0, 1, 6), pid=1234, tid=None, ts=(1700000000, 123456), ret=0,
         errno=None, micros=12):
    """The record's context; errno given means failed (ret is then -1)."""
    out = b''.join(i32(v) for v in names)
    be = lambda v, n: v.to_bytes(n, 'big')
    out += be(pid - 1, 3) + (b(1) if tid is None else b(0) + be(tid - 1, 3))
    out += be(ts[0], 5) + be(ts[1], 3)
    if errno is None:
        out += b(0) + be(ret, 8)
    else:
        out += b(1) + b(1) + b(errno - 1)
    return out + u64(micros)


def shaped(call, fd): return b(1) + b(CALLS.index(call)) + i32(fd)
def free(call, n): return b(0) + b(CALLS.index(call)) + b(n)


def sockaddr(raw, fam=0):
    """An address field: Some, `len` bytes, family forced by fam (0: keep)."""
    return b(1) + b(len(raw)) + b(fam) + raw


def sun(path): return struct.pack('=H', AF_UNIX) + path
def sin(port, ip): return struct.pack('=H', AF_INET) + struct.pack('>H', port) + bytes(ip) + bytes(8)


TRACE = {
    'connect-unix-enoent': head(errno=2) + shaped('connect', 3) + sockaddr(sun(b'/tmp/sock\0')),
    'bind-rewritten': head(tid=1235) + shaped('bind', 4) + b(1)
    + bytes(2) + struct.pack('>H', 8080) + bytes([127, 0, 0, 1]) + bytes(20) + b(1)
    + sockaddr(sin(80, [0, 0, 0, 0])),
    'setsockopt-reuseaddr': head() + shaped('setsockopt', 5) + b(0) + b(0) + b(0) + b(2) + b(1) + i32(1) + u32(4),
    'accept4-peer-v6': head(ret=7) + shaped('accept4', 3) + i32(0x80000) + b(1)
    + sockaddr(struct.pack('=H', AF_INET6) + struct.pack('>HI', 443, 0) + bytes(15) + b'\x01' + u32(0)),
    'recvfrom-abstract-quotes': head(ret=5) + shaped('recvfrom', 6) + u64(4096) + i32(0x42) + b(1)
    + sockaddr(sun(b'\0"q"\\ \xff')),
    # The longest JSON line a real call makes: every MSG_ flag, a 128-byte
    # AF_UNIX address of bytes that each print as \\xNN.
    'sendto-longest-line': head(pid=4194304, ts=(1 << 33, 999999), errno=22, micros=2**64 - 1)
    + shaped('sendto', -2**31) + u64(2**63 - 1) + i32(-1) + b(1) + sockaddr(sun(b'\xff' * 126)),
    'free-form': head(errno=111) + free('sendto', 4)
    + b(KEYS.index('fd')) + b(0) + i64(-1) + b(0)
    + b(KEYS.index('flags')) + b(5) + i32(0x4000 | 0x40) + b(0)
    + b(KEYS.index('opt')) + b(7) + b(0) + b(2) + b(0) + b(2) + b(1) + i32(7) + b(0)
    + b(KEYS.index('peer')) + b(1) + sockaddr(sun(b'/x'), fam=1) + b(1),
}

# Inputs that once crashed (see README.md), re-expressed in this encoding.
TRACE_REGRESSIONS = {
    # getsockname's address is AF_UNIX "\r": the text line held it raw.
    'text-addr-control-byte': head(ret=0) + shaped('getsockname', 3) + b(1)
    + sockaddr(sun(b'\r')),
    # sendto(3, ..., 4096, -1, {AF_UNIX, "\0" + 125 NULs}, 128) = -1 EINVAL:
    # the JSON line overflowed the buffer and was cut.
    'json-line-cut-sendto-all-flags-long-abstract': head(errno=22, micros=3)
    + shaped('sendto', 3) + u64(4096) + i32(-1) + b(1) + sockaddr(sun(b'\0' * 126)),
}

for name, data in TRACE_REGRESSIONS.items():
    open(f'regressions/trace/{name}', 'wb').write(data)
for name, data in SOCKSET.items():
    open(f'corpus/sockset/{name}', 'wb').write(data)
for name, data in TRACE.items():
    open(f'corpus/trace/{name}', 'wb').write(data)
