"""One mode of the Python table of `make bench` (bench/python.sh runs it
through ctypes only and again with libsock preloaded).

A round, as in the C table: write one byte to the peer of one watched
socket, wait, check that the answer is exactly that socket, read the byte
back. Measured in this one process, batches of each contender interleaved:

  poll      select.poll().poll() over N sockets registered once (outside the timing)
  select    select.select(objects, [], []) (only where every fd < 1024)
  libsock   libsock.select(objects, [], []): fileno() of each object, the
            fill, the wait and the answer, all inside the timing

Prints lines "CELL <n> <contender> <median µs> <min µs> <max µs>",
"RATIO <n> <median> <min> <max>" (libsock / the reference, per pair of
batches run back to back) and "MODE <close is libsock's: yes|no> <libsock
files mapped> <how the package found it> <libsock path>".

BENCH_PY_SMALL=0 leaves the small case out.
"""

from __future__ import annotations

import ctypes
import os
import resource
import select
import socket
import statistics
import sys
import time
from pathlib import Path
from typing import Callable, List, Tuple

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "python"))

import libsock  # noqa: E402
from libsock._lib import lib_origin, mapped_file  # noqa: E402

BATCH_S = float(os.environ.get("BENCH_BATCH_MS", "50")) / 1000
BATCHES = int(os.environ.get("BENCH_BATCHES", "7"))
BIG = int(os.environ.get("BENCH_PY_BIG", "9000"))
SMALL = int(os.environ.get("BENCH_PY_SMALL", "400"))

Pairs = List[Tuple[socket.socket, socket.socket]]


def pairs(n: int) -> Pairs:
    return [socket.socketpair() for _ in range(n)]


def rounds(watched: Pairs, wait: Callable[[socket.socket], None]) -> Callable[[int], None]:
    """A function doing `count` rounds, the active socket moving each round."""
    n = len(watched)

    def run(count: int) -> None:
        for i in range(count):
            a, b = watched[(i * 7919) % n]
            b.send(b"x")
            wait(a)
            a.recv(1)

    return run


def libsock_round(objects: List[socket.socket]) -> Callable[[socket.socket], None]:
    def wait(a: socket.socket) -> None:
        r, w, x = libsock.select(objects, [], [])
        if r != [a] or w or x:
            raise SystemExit(f"libsock.select answered {r!r}, expected [{a!r}]")

    return wait


def select_round(objects: List[socket.socket]) -> Callable[[socket.socket], None]:
    def wait(a: socket.socket) -> None:
        r, w, x = select.select(objects, [], [])
        if r != [a]:
            raise SystemExit(f"select.select answered {r!r}")

    return wait


def poll_round(objects: List[socket.socket]) -> Callable[[socket.socket], None]:
    p = select.poll()
    for o in objects:
        p.register(o, select.POLLIN)

    def wait(a: socket.socket) -> None:
        ready = p.poll()
        if len(ready) != 1 or ready[0][0] != a.fileno():
            raise SystemExit(f"poll answered {ready!r}")

    return wait


def calibrate(run: Callable[[int], None]) -> int:
    """Rounds in a batch of about BATCH_S seconds."""
    run(3)  # warm up (libsock: the first round registers everything)
    count, start = 1, time.perf_counter()
    while time.perf_counter() - start < BATCH_S / 4:
        run(count)
        count *= 2
    elapsed = time.perf_counter() - start
    return max(1, int((count - 1) / elapsed * BATCH_S))  # ran 1 + 2 + ... + count/2


def batch(run: Callable[[int], None], count: int) -> float:
    start = time.perf_counter()
    run(count)
    return (time.perf_counter() - start) / count * 1e6


def measure(
    n: int, ref_name: str, ref: Callable[[int], None], ours: Callable[[int], None]
) -> None:
    """BATCHES pairs of batches, the reference's and libsock's back to back
    (in alternating order, so drift in the machine's load cancels): per
    contender the median µs per round, and the median of the pairs' ratios."""
    counts = (calibrate(ref), calibrate(ours))
    times: Tuple[List[float], List[float]] = ([], [])
    ratios: List[float] = []
    for i in range(BATCHES):
        order = (0, 1) if i % 2 == 0 else (1, 0)
        pair = [0.0, 0.0]
        for k in order:
            pair[k] = batch((ref, ours)[k], counts[k])
            times[k].append(pair[k])
        ratios.append(pair[1] / pair[0])
    for name, values in ((ref_name, times[0]), ("libsock", times[1])):
        print(
            f"CELL {n} {name} {statistics.median(values):.2f} {min(values):.2f} {max(values):.2f}"
        )
    print(f"RATIO {n} {statistics.median(ratios):.3f} {min(ratios):.3f} {max(ratios):.3f}")


def main() -> None:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    need = 2 * (BIG + SMALL) + 64
    if soft < need:
        if hard != resource.RLIM_INFINITY and hard < need:
            raise SystemExit(f"needs {need} descriptors, RLIMIT_NOFILE hard limit is {hard}")
        resource.setrlimit(resource.RLIMIT_NOFILE, (need, hard))
    small = pairs(SMALL)  # first: their numbers stay below 1024
    if small and max(b.fileno() for _, b in small) >= 1024:
        raise SystemExit("the small set does not fit below 1024")
    big = pairs(BIG)
    small_objs = [a for a, _ in small]
    big_objs = [a for a, _ in big]
    measure(BIG, "poll", rounds(big, poll_round(big_objs)), rounds(big, libsock_round(big_objs)))
    if small:
        measure(
            SMALL,
            "select",
            rounds(small, select_round(small_objs)),
            rounds(small, libsock_round(small_objs)),
        )
    where = mapped_file(ctypes.CDLL(None).close) or "unknown"
    seen = "yes" if where == libsock.lib_path else "no"
    with open("/proc/self/maps") as maps:
        fields = [line.split(None, 5) for line in maps]
    files = {f[5].strip() for f in fields if len(f) == 6}
    copies = sum(1 for f in files if os.path.basename(f).startswith("libsock"))
    print(f"MODE {seen} {copies} {lib_origin.replace(' ', '_')} {libsock.lib_path}")


if __name__ == "__main__":
    main()
