"""Checks a stress run's trace and stats against what the program says it did.

    check_trace.py OUT TRACE-GLOB STATS-GLOB text|json

OUT holds the program's "proc PID calls N out B in B" lines, one per
process. Every trace line must be whole and well-formed (text: strace-like,
json: one object with the documented keys); the lines of each process must
number exactly the calls it made to libsock's exports, and its stats
summary ("total" row) must give the same calls and bytes out and in.
Prints one line; exit status 1 on any mismatch.
"""

import collections
import glob
import json
import re
import sys

TEXT = re.compile(
    r"^\[(\d+)(?:/(\d+))?\] ([a-z_0-9]+)\(.*\) = (-?\d+)( E[A-Z0-9]+)?(?: [a-z]+=\S.*)? <\d+us>$"
)
JSON_KEYS = {"ts", "pid", "tid", "call", "ret", "us"}


def main() -> int:
    out_path, trace_glob, stats_glob, fmt = sys.argv[1:5]
    problems = []
    prog = {}
    for line in open(out_path, encoding="utf-8"):
        m = re.match(r"proc (\d+) calls (\d+) out (\d+) in (\d+)$", line.strip())
        if m:
            prog[int(m[1])] = tuple(int(x) for x in m.groups()[1:])

    traced = collections.Counter()
    lines = 0
    for path in sorted(glob.glob(trace_glob)):
        with open(path, "rb") as f:
            data = f.read()
        if data and not data.endswith(b"\n"):
            problems.append(f"{path}: last line is cut: {data[-80:]!r}")
        for raw in data.split(b"\n")[:-1]:
            lines += 1
            try:
                text = raw.decode("utf-8")
            except UnicodeDecodeError:
                problems.append(f"{path}: not UTF-8: {raw[:120]!r}")
                continue
            if fmt == "text":
                m = TEXT.match(text)
                if not m:
                    problems.append(f"{path}: malformed line: {text[:200]!r}")
                    continue
                traced[int(m[1])] += 1
            else:
                try:
                    obj = json.loads(text)
                except ValueError as e:
                    problems.append(f"{path}: not JSON ({e}): {text[:200]!r}")
                    continue
                if not isinstance(obj, dict) or not JSON_KEYS <= obj.keys():
                    problems.append(f"{path}: JSON without {JSON_KEYS}: {text[:200]!r}")
                    continue
                if (obj["ret"] < 0) != ("errno" in obj):
                    problems.append(f"{path}: ret/errno disagree: {text[:200]!r}")
                traced[obj["pid"]] += 1

    stats = {}
    pid = None
    for path in sorted(glob.glob(stats_glob)):
        for line in open(path, encoding="utf-8"):
            m = re.match(r"libsock stats for pid (\d+):$", line.rstrip("\n"))
            if m:
                pid = int(m[1])
                continue
            m = re.match(r"\s+total\s+(\d+)\s+(\d+)\s+(\d+)\s+(\d+)$", line.rstrip("\n"))
            if m:
                if pid in stats:
                    problems.append(f"pid {pid}: two stats summaries")
                # calls, bytes out, bytes in — the order of the program's line
                stats[pid] = (int(m[1]), int(m[4]), int(m[3]))

    if not prog:
        problems.append("the program reported no processes")
    for pid, (calls, sent, received) in sorted(prog.items()):
        if traced[pid] != calls:
            problems.append(f"pid {pid}: made {calls} calls, {traced[pid]} traced")
        if stats.get(pid) != (calls, sent, received):
            problems.append(
                f"pid {pid}: made {calls} calls, sent {sent}, received {received}; "
                f"stats say {stats.get(pid)}"
            )
    for pid in set(traced) - set(prog):
        problems.append(f"pid {pid}: {traced[pid]} trace lines from a process that did not report")

    for p in problems[:20]:
        print(f"  {p}")
    if len(problems) > 20:
        print(f"  ... {len(problems) - 20} more")
    print(
        f"trace: {lines} {fmt} lines from {len(traced)} processes, "
        f"{len(stats)} stats summaries, {len(prog)} processes reported: "
        + ("ok" if not problems else f"{len(problems)} problems")
    )
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
