#!/usr/bin/env python3
"""Checks libsock trace files (LIBSOCK_TRACE) for c-tests/trace/run.sh.

    tracecheck.py lines FORMAT FILE...            every line well-formed
    tracecheck.py expect FORMAT EXPECTED TRACE    the trace is the expected list
    tracecheck.py strace FORMAT TRACE PREFIX LIB  the trace is what strace saw
    tracecheck.py stress FILE THREADS ITERS       the threaded stress test's trace
    tracecheck.py stats STATSFILE TRACE PID CALL=N[/E[/IN[/OUT]]]...  (* for any)
    tracecheck.py stats-all FORMAT STATSFILE TRACE every table = its process's lines
    tracecheck.py errno FORMAT OUTPUT TRACE        errno.c's view is the trace's
    tracecheck.py pidfiles TEMPLATE PID...         one file per process (%p)
    tracecheck.py forker FORMAT TRACE OUTPUT...    forker.c processes all traced
    tracecheck.py procs FORMAT TRACE PIDS_JSON     procs.py's processes all traced
    tracecheck.py oddaddr FORMAT TRACE CALLS PATH   oddaddr.c's awkward addresses
    tracecheck.py http|socat-tcp|socat-udp|refused FORMAT ...  real programs' runs

FORMAT is text or json. Every subcommand prints what it checked and exits 1
on the first kind of failure, after printing the offending lines.
"""

import json
import re
import sys

# The text format: [pid] or [pid/tid], call(args) = ret [ERRNO] [key=value ...] <Nus>
TEXT = re.compile(
    r"^\[(?P<pid>\d+)(?:/(?P<tid>\d+))?\] (?P<call>[a-z_][a-z0-9_]*)\((?P<args>.*)\)"
    r" = (?P<ret>-?\d+)(?P<errno> (?:E[A-Z0-9]+|\d+))?"
    r"(?P<outs>(?: (?:peer|from|addr|fds|asked)=.*?)*) <(?P<us>\d+)us>$"
)
OUT_KEY = re.compile(r" (peer|from|addr|fds|asked)=")

CALLS = {
    "socket", "socketpair", "bind", "listen", "accept", "accept4", "connect", "send",
    "sendto", "sendmsg", "sendmmsg", "recv", "recvfrom", "recvmsg", "recvmmsg",
    "setsockopt", "getsockopt", "getsockname", "getpeername", "shutdown", "close",
    "dup2", "dup3", "close_range",
}

# The arguments of each call in the text form, in order (JSON keys).
ARGS = {
    "socket": ["domain", "type", "protocol"],
    "socketpair": ["domain", "type", "protocol"],
    "bind": ["fd", "addr"],
    "listen": ["fd", "backlog"],
    "accept": ["fd"],
    "accept4": ["fd", "flags"],
    "connect": ["fd", "addr"],
    "send": ["fd", "size", "flags"],
    "recv": ["fd", "size", "flags"],
    "sendto": ["fd", "size", "flags", "addr"],
    "recvfrom": ["fd", "size", "flags"],
    "sendmsg": ["fd", "flags", "addr"],
    "recvmsg": ["fd", "flags"],
    "sendmmsg": ["fd", "vlen", "flags"],
    "recvmmsg": ["fd", "vlen", "flags"],
    "setsockopt": ["fd", "opt", "len"],
    "getsockopt": ["fd", "opt"],
    "getsockname": ["fd"],
    "getpeername": ["fd"],
    "shutdown": ["fd", "how"],
    "close": ["fd"],
    "dup2": ["fd", "newfd"],
    "dup3": ["fd", "newfd", "flags"],
    "close_range": ["first", "last", "flags"],
}
JSON_META = ("ts", "pid", "tid", "us")


def die(msg, lines=()):
    print(f"tracecheck: FAIL: {msg}")
    for line in list(lines)[:15]:
        print(f"    {line}")
    sys.exit(1)


def parse_text(line):
    """A text line as the JSON record it stands for (values as strings), or None."""
    m = TEXT.match(line)
    if not m:
        return None
    rec = {"pid": int(m["pid"]), "tid": int(m["tid"] or m["pid"]), "call": m["call"]}
    names = ARGS.get(m["call"])
    if names is None:
        return None
    args = m["args"].split(", ") if m["args"] else []
    if len(args) > len(names) or len(args) < len(names) - (names[-1] == "addr"):
        return None
    for key, val in zip(names, args):
        if key == "opt":  # LEVEL/OPT[=VALUE]
            level, _, rest = val.partition("/")
            opt, eq, value = rest.partition("=")
            rec["level"], rec["opt"] = level, opt
            if eq:
                rec["value"] = value
        else:
            rec[key] = val
    rec["ret"] = m["ret"]
    if m["errno"]:
        rec["errno"] = m["errno"][1:]
    outs = m["outs"]
    keys = [(k.start(), k.end(), k.group(1)) for k in OUT_KEY.finditer(outs)]
    for i, (_, vstart, key) in enumerate(keys):
        vend = keys[i + 1][0] if i + 1 < len(keys) else len(outs)
        rec[key] = outs[vstart:vend]
    rec["us"] = int(m["us"])
    return rec


def check_json(line):
    """A JSON line parsed and checked, or None."""
    try:
        rec = json.loads(line)
    except ValueError:
        return None
    if not isinstance(rec, dict):
        return None
    types = {"ts": float, "pid": int, "tid": int, "call": str, "ret": int, "us": int}
    for key, ty in types.items():
        if not isinstance(rec.get(key), ty) or isinstance(rec.get(key), bool):
            return None
    if rec["call"] not in CALLS:
        return None
    if (rec["ret"] < 0) != ("errno" in rec):
        return None
    if "errno" in rec and not isinstance(rec["errno"], str):
        return None
    return rec


def read_lines(path):
    with open(path, "rb") as f:
        data = f.read()
    if data and not data.endswith(b"\n"):
        die(f"{path}: the last line is cut (no newline at the end)", [data[-200:]])
    # only "\n" ends a line (str.splitlines would also split at \x1c, \x85, ...)
    return [l.decode("utf-8", errors="replace") for l in data.split(b"\n")[:-1]]


def parse_file(fmt, path):
    """Every line of a trace file, parsed; fails on any malformed line."""
    recs, bad = [], []
    for n, line in enumerate(read_lines(path), 1):
        if fmt == "text" and re.search(r"[\x00-\x1f\x7f]", line):
            bad.append(f"{path}:{n}: raw control bytes: {line!r}")
            continue
        rec = check_json(line) if fmt == "json" else parse_text(line)
        if rec is None and fmt == "text" and TEXT.match(line):
            # Well-formed, but the arguments do not split as this checker
            # expects (an address with ", " in it): keep the line's frame.
            m = TEXT.match(line)
            rec = {"pid": int(m["pid"]), "tid": int(m["tid"] or m["pid"]),
                   "call": m["call"], "ret": m["ret"], "unsplit": True}
            if m["errno"]:
                rec["errno"] = m["errno"][1:]
        if rec is None or rec["call"] not in CALLS:
            bad.append(f"{path}:{n}: {line!r}")
            continue
        if fmt == "text" and (int(rec["ret"]) < 0) != ("errno" in rec):
            bad.append(f"{path}:{n}: errno iff ret < 0: {line!r}")
            continue
        recs.append(rec)
    if bad:
        die(f"{len(bad)} malformed line(s) in {path}", bad)
    return recs


def cmd_lines(fmt, *paths):
    total = 0
    pids = set()
    for path in paths:
        recs = parse_file(fmt, path)
        total += len(recs)
        pids.update(r["pid"] for r in recs)
    print(f"tracecheck: {total} well-formed {fmt} lines from {len(pids)} process(es)")
    print("pids: " + " ".join(str(p) for p in sorted(pids)))


def strings(rec):
    """A record with its values as the text format shows them."""
    out = {}
    for key, val in rec.items():
        if key in JSON_META:
            continue
        if isinstance(val, list):
            val = "[" + ", ".join(str(v) for v in val) + "]"
        out[key] = str(val)
    return out


def cmd_expect(fmt, expected_path, trace_path):
    """The trace holds exactly the records the program expected, in order."""
    with open(expected_path) as f:
        expected = [json.loads(line) for line in f if line.startswith("{")]
    got = parse_file(fmt, trace_path)
    if not expected:
        die(f"{expected_path} holds no expectations")
    for i, (exp, rec) in enumerate(zip(expected, got)):
        if fmt == "json":
            have = {k: v for k, v in rec.items() if k not in JSON_META}
            want = exp
        else:
            have, want = strings(rec), strings(exp)
        # JSON: the same keys in the same (record) order; text: the same fields.
        if have != want or (fmt == "json" and list(have) != list(want)):
            die(f"record {i + 1} differs from what the program did",
                [f"expected: {json.dumps(want)}", f"traced:   {json.dumps(have)}"])
    if len(expected) != len(got):
        extra = expected[len(got):] if len(expected) > len(got) else got[len(expected):]
        die(f"{len(expected)} calls made, {len(got)} traced",
            [json.dumps(e) for e in extra])
    print(f"tracecheck: all {len(expected)} calls traced in order with the right"
          f" arguments, results and out-values ({fmt})")


# ---------------------------------------------------------------------------
# strace -ff -k: which syscalls went through libsock, and their trace lines.

SOCKET_SYSCALLS = {
    "socket", "socketpair", "bind", "listen", "accept", "accept4", "connect", "sendto",
    "sendmsg", "sendmmsg", "recvfrom", "recvmsg", "recvmmsg", "setsockopt", "getsockopt",
    "getsockname", "getpeername", "shutdown", "close", "dup2", "dup3", "close_range",
}
# The libsock export a syscall came through -> the call name traced.
EXPORT_CALL = {"__recv_chk": "recv", "__recvfrom_chk": "recvfrom"}
# The calls a syscall can be traced as.
SYSCALL_CALLS = {"sendto": {"send", "sendto"}, "recvfrom": {"recv", "recvfrom"}}


def parse_strace(path):
    events, pending = [], {}
    with open(path, errors="replace") as f:
        for raw in f:
            line = raw.rstrip("\n")
            if line.startswith(" > "):
                if events:
                    events[-1]["frames"].append(line[3:].strip())
                continue
            if line.startswith(("---", "+++")) or not line:
                continue
            m = re.match(r"^<\.\.\. (\w+) resumed>(.*)$", line)
            if m and m.group(1) in pending:
                line = pending.pop(m.group(1)) + m.group(2)
            elif line.endswith("<unfinished ...>"):
                name = line.split("(", 1)[0]
                pending[name] = line[: -len("<unfinished ...>")].rstrip()
                continue
            name = line.split("(", 1)[0]
            if " = " not in line:
                continue
            head, _, result = line.rpartition(" = ")
            args = head[len(name) + 1: head.rfind(")")] if ")" in head else ""
            parts = result.split()
            ret = parts[0] if parts else "?"
            err = parts[1] if len(parts) > 1 and parts[1].startswith("E") else None
            events.append({"name": name, "args": args, "ret": ret, "errno": err,
                           "frames": [], "line": line})
    return events


def frame_symbol(frame):
    m = re.search(r"\(([^)+]*)", frame)
    return m.group(1) if m else ""


def classify(ev, exports):
    """('libsock', call) | ('own', sym) | ('libc', sym) | ('loader', sym) | ('other', frame)."""
    frames = ev["frames"]
    for frame in frames:
        if "/libsock.so(" in frame:
            sym = frame_symbol(frame)
            if sym in exports:
                return "libsock", EXPORT_CALL.get(sym, sym)
            if sym.startswith("sock::ffi::bsd::"):
                # A call's own function (what its export runs when something
                # is configured), or a shared body such as `accepted`.
                name = re.sub(r"::h[0-9a-f]{16}$", "", sym[len("sock::ffi::bsd::"):])
                if name in exports:
                    return "libsock", EXPORT_CALL.get(name, name)
                return "libsock", ev["name"]
            return "own", sym
    if not frames:
        return "other", "(no backtrace)"
    if "ld-linux" in frames[0]:
        return "loader", frame_symbol(frames[0])
    if frame_symbol(frames[0]).endswith("_nocancel"):
        # libc's internal entry point, called from inside libc (closedir,
        # which tail-calls it, so the unwinder shows closedir's caller).
        return "libc", frame_symbol(frames[0]) + " (closedir, fclose, ...)"
    if len(frames) > 1 and re.search(r"/libc\.so\.6\(", frames[1]):
        # named by where the program entered libc (getpwuid, say)
        entry = frames[1]
        for frame in frames[1:]:
            if not re.search(r"/libc\.so\.6\(", frame):
                break
            entry = frame
        return "libc", "inside " + frame_symbol(entry)
    return "other", frames[1] if len(frames) > 1 else frames[0]


def strace_addr(args):
    """The first socket address in strace's rendering of the arguments."""
    i = args.find("{sa_family=")
    if i < 0:
        return None
    s = args[i:]
    if s.startswith("{sa_family=AF_INET,"):
        m = re.search(r'sin_port=htons\((\d+)\), sin_addr=inet_addr\("([^"]+)"\)', s)
        return f"{m.group(2)}:{m.group(1)}" if m else None
    if s.startswith("{sa_family=AF_INET6,"):
        p = re.search(r"sin6_port=htons\((\d+)\)", s)
        a = re.search(r'inet_pton\(AF_INET6, "([^"]+)"', s)
        return f"[{a.group(1)}]:{p.group(1)}" if p and a else None
    if s.startswith("{sa_family=AF_UNIX}"):
        return "unnamed"
    m = re.match(r'\{sa_family=AF_UNIX, sun_path=(@?)"((?:[^"\\]|\\.)*)"', s)
    if m:
        return m.group(1) + m.group(2)
    return None


def rec_addr(rec):
    for key in ("peer", "from", "addr"):
        if key in rec:
            return str(rec[key])
    return None


def cmd_strace(fmt, trace_path, prefix, lib, mode="programs"):
    """mode "strict": every socket syscall but the dynamic loader's closes
    and libsock's own (of its trace file's descriptor) must go through
    libsock (a program of ours, calling libc's functions)."""
    import glob
    import os
    import subprocess

    nm = subprocess.run(["nm", "-D", "--defined-only", lib], capture_output=True, text=True,
                        check=True).stdout
    exports = {l.split()[-1].split("@")[0] for l in nm.splitlines() if l.split()[1:2] in (["T"], ["W"], ["i"])}
    traced = {}
    for rec in parse_file(fmt, trace_path):
        traced.setdefault(rec["tid"], []).append(rec)
    files = sorted(glob.glob(prefix + ".*"))
    if not files:
        die(f"no strace output {prefix}.*")
    matched = 0
    untraced = {}
    problems = []
    seen_tids = set()
    for path in files:
        tid = int(path.rsplit(".", 1)[1])
        seen_tids.add(tid)
        via = []
        for ev in parse_strace(path):
            if ev["name"] not in SOCKET_SYSCALLS:
                continue
            kind, what = classify(ev, exports)
            if kind == "libsock":
                via.append((ev, what))
            elif kind == "other" or (mode == "strict" and kind not in ("loader", "own")):
                problems.append(f"{tid}: {ev['line']}  <- called from {what}, not through libsock")
            else:
                key = f"{ev['name']} ({kind}: {what})"
                untraced[key] = untraced.get(key, 0) + 1
        recs = traced.get(tid, [])
        for i, ((ev, call), rec) in enumerate(zip(via, recs)):
            want = f"{tid}: strace: {ev['line']}"
            got = f"{tid}: trace:  {json.dumps(strings(rec))}"
            ok = rec["call"] == call and rec["call"] in SYSCALL_CALLS.get(ev["name"], {ev["name"]})
            ok = ok and str(rec["ret"]) == ev["ret"] and rec.get("errno") == ev["errno"]
            if ok and ev["name"] not in ("socket", "socketpair", "close_range"):
                fd = ev["args"].split(",", 1)[0].strip()
                ok = str(rec.get("fd")) == fd
            if ok and not rec.get("unsplit"):
                saddr, taddr = strace_addr(ev["args"]), rec_addr(rec)
                # recvfrom/recvmsg/accept: strace shows the kernel's answer;
                # when it decodes one, libsock must show the same.
                if saddr is not None and taddr is not None and saddr != taddr:
                    ok = False
                if ev["name"] in ("connect", "bind") and saddr is not None and taddr is None:
                    ok = False
                if ok and ev["name"] in ("sendto", "recvfrom") and "size" in rec:
                    ok = str(rec["size"]) == ev["args"].split(", ")[2]
                if ok and ev["name"] == "socketpair" and ev["ret"] == "0":
                    fds = re.search(r"\[(\d+), (\d+)\]", ev["args"])
                    ok = fds is not None and strings(rec).get("fds") == f"[{fds.group(1)}, {fds.group(2)}]"
            if not ok:
                problems.append(f"call {i + 1} of thread {tid} differs:")
                problems.extend([want, got])
                break
        else:
            if len(via) != len(recs):
                problems.append(f"thread {tid}: strace saw {len(via)} calls through libsock,"
                                f" the trace has {len(recs)}")
                longer = via[len(recs):] if len(via) > len(recs) else recs[len(via):]
                problems.extend(str(x[0]["line"] if isinstance(x, tuple) else x) for x in longer[:5])
            else:
                matched += len(via)
    for tid in sorted(set(traced) - seen_tids):
        problems.append(f"thread {tid} has {len(traced[tid])} trace lines but no strace file")
    if problems:
        die("the trace and strace disagree", problems)
    print(f"tracecheck: {matched} calls through libsock, each with its trace line in order"
          f" (call, fd, result, errno, address, size) across {len(files)} thread(s)")
    for key, n in sorted(untraced.items()):
        print(f"tracecheck:   not through libsock, so not traced: {n} x {key}")


def cmd_stress(path, threads, iters):
    threads, iters = int(threads), int(iters)
    recs = parse_file("text", path)
    per = {}
    for rec in recs:
        per.setdefault(rec["tid"], []).append(rec)
    workers = [t for t, rs in per.items() if rs and rs[0]["pid"] != t]
    if len(workers) != threads:
        die(f"{threads} threads expected, {len(workers)} seen")
    for tid in workers:
        rs = per[tid]
        if len(rs) != 5 * iters:
            die(f"thread {tid}: {len(rs)} lines, {5 * iters} expected")
        for i in range(0, len(rs), 5):
            sp, snd, rcv, c0, c1 = rs[i: i + 5]
            m = re.fullmatch(r"\[(\d+), (\d+)\]", sp.get("fds", ""))
            ok = sp["call"] == "socketpair" and sp["ret"] == "0" and m
            if ok:
                a, b = m.group(1), m.group(2)
                ok = (snd["call"], snd["fd"], snd["size"], snd["ret"]) == ("send", a, "64", "64") \
                    and (rcv["call"], rcv["fd"], rcv["ret"]) == ("recv", b, "64") \
                    and (c0["call"], c0["fd"], c0["ret"]) == ("close", a, "0") \
                    and (c1["call"], c1["fd"], c1["ret"]) == ("close", b, "0")
            if not ok:
                die(f"thread {tid}: iteration {i // 5} out of sequence",
                    [json.dumps(strings(r)) for r in rs[i: i + 5]])
    print(f"tracecheck: {len(recs)} lines, {threads} threads x {iters} iterations x 5 calls,"
          f" each thread's sequence intact")


def read_tables(stats_path):
    """{pid: {call: (calls, errors, in, out)}} from LIBSOCK_STATS output."""
    tables, cur = {}, None
    with open(stats_path, errors="replace") as f:
        for line in f:
            m = re.match(r"^libsock stats for pid (\d+):$", line.strip())
            if m:
                # a pid can have several tables: one per program it exec'd
                cur = tables.setdefault(int(m.group(1)), {})
                continue
            parts = line.split()
            if cur is not None and len(parts) == 5 and parts[1].isdigit():
                row = [int(p) for p in parts[1:]]
                old = cur.get(parts[0], (0, 0, 0, 0))
                cur[parts[0]] = tuple(a + b for a, b in zip(old, row))
    return tables


def trace_counts(fmt, trace_path):
    """{pid: {call: [calls, errors, in, out]}} from a trace."""
    counted = {}
    for rec in parse_file(fmt, trace_path):
        c = counted.setdefault(rec["pid"], {}).setdefault(rec["call"], [0, 0, 0, 0])
        ret = int(rec["ret"])
        c[0] += 1
        c[1] += ret < 0
        if ret > 0 and rec["call"].startswith("recv") and rec["call"] != "recvmmsg":
            c[2] += ret
        if ret > 0 and rec["call"].startswith("send") and rec["call"] != "sendmmsg":
            c[3] += ret
    return counted


DESCRIPTOR_CALLS = ("close", "dup2", "dup3", "close_range")


def table_problems(table, counted, images=False):
    """images: the pid may have run other programs before (exec), whose
    descriptor-only calls are traced but, by design, not reported (a shell
    that made no socket call prints no table): for those calls the trace may
    hold more than the table."""
    problems = []
    for call, row in table.items():
        if call == "total":
            continue
        want = counted.get(call, [0, 0, 0, 0])
        if images and call in DESCRIPTOR_CALLS and all(t >= r for t, r in zip(want, row)):
            continue
        if list(row) != want:
            problems.append(f"{call}: table {row}, trace {tuple(want)} (calls, errors, in, out)")
    for call in set(counted) - set(table):
        if not (images and call in DESCRIPTOR_CALLS):
            problems.append(f"{call}: traced {counted[call]} but not in the table")
    sums = [sum(r[i] for c, r in table.items() if c != "total") for i in range(4)]
    if list(table.get("total", ())) != sums:
        problems.append(f"total row {table.get('total')} is not the sum {tuple(sums)}")
    return problems


def cmd_stats_all(fmt, stats_path, trace_path):
    """Every process's stats table agrees with its lines in the trace."""
    tables = read_tables(stats_path)
    counted = trace_counts(fmt, trace_path)
    problems = []
    for pid, table in sorted(tables.items()):
        for p in table_problems(table, counted.get(pid, {}), images=True):
            problems.append(f"pid {pid}: {p}")
    if not tables:
        problems.append(f"no stats tables in {stats_path}")
    if problems:
        die("the trace lacks calls the stats counted", problems)
    total = sum(t["total"][0] for t in tables.values())
    print(f"tracecheck: {len(tables)} processes' stats tables ({total} calls) match their"
          f" trace lines call for call (close/dup*: at least, as a pid's earlier programs'"
          f" descriptor calls are traced but not tabled)")


def cmd_stats(stats_path, trace_path, pid, *wants):
    """The stats table of process PID: the trace's counts, and the wanted rows."""
    pid = int(pid)
    tables = read_tables(stats_path)
    if pid not in tables:
        die(f"no stats table for pid {pid} in {stats_path} (tables: {sorted(tables)})")
    table = tables[pid]
    if "total" not in table:
        die(f"the table of pid {pid} has no total row")
    # From the trace of the same run: calls, errors, bytes in, bytes out.
    problems = table_problems(table, trace_counts("text", trace_path).get(pid, {}))
    for want in wants:
        call, _, spec = want.partition("=")
        nums = [None if x == "*" else int(x) for x in spec.split("/")]
        row = table.get(call, (0, 0, 0, 0))
        if any(n is not None and n != r for n, r in zip(nums, row)):
            problems.append(f"{call}: table {row}, the program did {tuple(nums)}")
    if problems:
        die(f"stats of pid {pid} do not match", problems)
    print(f"tracecheck: stats of pid {pid}: {len(table) - 1} calls, each row equal to the"
          f" trace's counts; " + ", ".join(wants))


# ---------------------------------------------------------------------------
# Real programs: what their traces must say about the run.

def load(fmt, path):
    return [strings(r) | {"pid": r["pid"], "tid": r["tid"]} for r in parse_file(fmt, path)]


def one(recs, what, **match):
    """The first record with these fields (values as strings)."""
    for rec in recs:
        if all(rec.get(k) == str(v) for k, v in match.items()):
            return rec
    die(f"{what}: no trace line with {match}", [json.dumps(r) for r in recs[:10]])


def moved(recs, calls, fd):
    return sum(int(r["ret"]) for r in recs
               if r["call"] in calls and r.get("fd") == str(fd) and int(r["ret"]) > 0)


def cmd_http(fmt, srv_path, cli_path, port, size_download, size_header, size_request):
    """curl fetched a file from python3 -m http.server on 127.0.0.1:PORT."""
    srv, cli = load(fmt, srv_path), load(fmt, cli_path)
    here = f"127.0.0.1:{port}"
    lsn = one(srv, "server bind", call="bind", addr="127.0.0.1:0", ret=0)
    one(srv, "server getsockname", call="getsockname", fd=lsn["fd"], addr=here, ret=0)
    one(srv, "server listen", call="listen", fd=lsn["fd"], ret=0)
    conn = one(cli, "curl connect", call="connect", addr=here)
    if conn["ret"] != "0" and conn.get("errno") != "EINPROGRESS":
        die("curl's connect failed", [json.dumps(conn)])
    mine = one(cli, "curl getsockname", call="getsockname", fd=conn["fd"])["addr"]
    acc = next((r for r in srv if r["call"] in ("accept", "accept4") and r["fd"] == lsn["fd"]
                and int(r["ret"]) >= 0), None)
    if acc is None or acc.get("peer") != mine:
        die(f"the server's accept does not show curl's address {mine}", [json.dumps(acc)])
    a, c = acc["ret"], conn["fd"]
    body = int(size_download) + int(size_header)
    checks = [
        ("curl sent (send*)", moved(cli, ("send", "sendto", "sendmsg"), c), int(size_request)),
        ("server received (recv*)", moved(srv, ("recv", "recvfrom", "recvmsg"), a), int(size_request)),
        ("server sent (send*)", moved(srv, ("send", "sendto", "sendmsg"), a), body),
        ("curl received (recv*)", moved(cli, ("recv", "recvfrom", "recvmsg"), c), body),
    ]
    bad = [f"{what}: {got} bytes traced, {want} moved" for what, got, want in checks if got != want]
    if bad:
        die("bytes in the trace do not add up", bad)
    print(f"tracecheck: http ({fmt}): server bound {lsn['addr']} -> {here}, curl connected to"
          f" {here} from {mine}, accept's peer {acc['peer']}; bytes: request {size_request},"
          f" response {body} (headers {size_header} + file {size_download}) on both sides")


def cmd_socat_tcp(fmt, srv_path, cli_path):
    srv, cli = load(fmt, srv_path), load(fmt, cli_path)
    lsn = one(srv, "socat listener bind", call="bind", addr="127.0.0.1:0", ret=0)
    here = one(srv, "socat getsockname", call="getsockname", fd=lsn["fd"], ret=0)["addr"]
    conn = one(cli, "socat connect", call="connect", addr=here, ret=0)
    mine = one(cli, "socat client getsockname", call="getsockname", fd=conn["fd"], ret=0)["addr"]
    acc = one(srv, "socat accept", call="accept", fd=lsn["fd"], peer=mine)
    one(srv, "socat getpeername", call="getpeername", fd=acc["ret"], addr=mine, ret=0)
    print(f"tracecheck: socat tcp ({fmt}): listener {here}, client {mine} connected to it,"
          f" accept's peer and getpeername show {mine}")


def cmd_socat_udp(fmt, srv_path, cli_path, port, size):
    srv, cli = load(fmt, srv_path), load(fmt, cli_path)
    here = f"127.0.0.1:{port}"
    b = one(srv, "socat udp bind", call="bind", addr=here, ret=0)
    conn = one(cli, "socat udp connect", call="connect", addr=here, ret=0)
    mine = one(cli, "socat udp getsockname", call="getsockname", fd=conn["fd"], ret=0)["addr"]
    got = [r for r in srv if r["call"] in ("recvfrom", "recvmsg") and r["fd"] == b["fd"]
           and r.get("from") == mine and "MSG_PEEK" not in r.get("flags", "")]
    sent = [r for r in srv if r["call"] in ("sendto", "sendmsg") and r["fd"] == b["fd"]
            and r.get("addr") == mine]
    if sum(int(r["ret"]) for r in got) != int(size) or sum(int(r["ret"]) for r in sent) != int(size):
        die(f"socat udp: {size} bytes echoed to {mine}; traced in/out differ",
            [json.dumps(r) for r in got + sent])
    print(f"tracecheck: socat udp ({fmt}): bound {here}; client {mine}; recvfrom from={mine}"
          f" and sendto {mine}, {size} bytes each way")


def cmd_refused(fmt, path, port, who):
    recs = load(fmt, path)
    here = f"127.0.0.1:{port}"
    conn = one(recs, f"{who} connect", call="connect", addr=here)
    if who == "curl":  # non-blocking: EINPROGRESS, then SO_ERROR says ECONNREFUSED
        if conn.get("errno") != "EINPROGRESS":
            one(recs, "curl connect refused", call="connect", addr=here, ret=-1, errno="ECONNREFUSED")
        else:
            one(recs, "curl SO_ERROR", call="getsockopt", fd=conn["fd"], opt="SO_ERROR", value=111)
    else:
        one(recs, f"{who} connect refused", call="connect", addr=here, ret=-1, errno="ECONNREFUSED")
    print(f"tracecheck: {who} ({fmt}): connect to closed {here} traced as refused")


def cmd_errno(fmt, out_path, trace_path):
    """errno.c's lines, CALL RET ERRNO, are the trace's, in order."""
    with open(out_path) as f:
        said = [line.split() for line in f]
    recs = parse_file(fmt, trace_path)
    problems = []
    for i, (words, rec) in enumerate(zip(said, recs)):
        call, ret, err = words
        ok = rec["call"] == call and (
            (ret == "fd" and int(rec["ret"]) >= 0) or str(rec["ret"]) == ret)
        ok = ok and rec.get("errno", "EDOM") == err
        if not ok:
            problems.append(f"call {i + 1}: the program saw {' '.join(words)}, the trace says"
                            f" {json.dumps(strings(rec))}")
    if len(said) != len(recs):
        problems.append(f"{len(said)} calls made, {len(recs)} traced")
    if problems:
        die("the trace's results and errnos are not what the program saw", problems)
    fails = sum(1 for w in said if w[1] == "-1")
    print(f"tracecheck: {len(said)} calls ({fails} failing): each traced result and errno is"
          f" what the program saw ({fmt})")


def cmd_pidfiles(template, *pids):
    """One trace file per process, named by its pid, holding only its lines."""
    import glob
    import os

    files = sorted(glob.glob(template.replace("%p", "*")))
    want = sorted(template.replace("%p", p) for p in pids)
    if files != want:
        die("the trace files are not one per process", [f"files: {files}", f"pids:  {want}"])
    for pid, path in zip(pids, (template.replace("%p", p) for p in pids)):
        recs = parse_file("text", path)
        others = [r for r in recs if str(r["pid"]) != pid]
        if not recs or others:
            die(f"{path}: {len(recs)} lines, {len(others)} of another process",
                [json.dumps(strings(r)) for r in others])
    print(f"tracecheck: {len(files)} trace files, one per process ({', '.join(pids)}),"
          f" each with its own lines only")


def forker_pids(out_path):
    """The pids forker.c printed: [(role, pid)], role parent or child."""
    pids = []
    with open(out_path) as f:
        for line in f:
            m = re.match(r"^(parent pid|child \d+: ok pid) (\d+)$", line.strip())
            if m:
                pids.append(("parent" if m.group(1) == "parent pid" else "child", m.group(2)))
    return pids


def cmd_forker(fmt, trace_path, *outs):
    """forker.c runs (their outputs): each process's calls in the one trace."""
    recs = parse_file(fmt, trace_path)
    by_pid = {}
    for rec in recs:
        by_pid.setdefault(str(rec["pid"]), []).append(rec["call"])
    pids = [p for out in outs for p in forker_pids(out)]
    if not pids:
        die("no pids in the programs' output")
    problems = []
    for role, pid in pids:
        calls = by_pid.get(pid, [])
        if role == "child" and calls[-3:] != ["socket", "close", "send"]:
            problems.append(f"child {pid}: {calls}")
        if role == "parent" and ("socketpair" not in calls or calls[-2:] != ["close", "close"]):
            problems.append(f"parent {pid}: {calls}")
    if problems:
        die("a process's calls are missing", problems)
    print(f"tracecheck: {len(recs)} intact lines from {len(by_pid)} processes; the calls of all"
          f" {len(pids)} forker processes ({sum(r == 'parent' for r, _ in pids)} parents) traced")


def cmd_oddaddr(fmt, trace_path, calls, path):
    """oddaddr.c: one intact line per call, no raw control bytes, the path
    exact (JSON), no address made of bytes the kernel did not write."""
    with open(trace_path, "rb") as f:
        data = f.read()
    problems = []
    raw = sorted({b for b in data if b < 0x20 and b != 0x0A})
    if raw:
        problems.append(f"raw control bytes in the trace: {[hex(b) for b in raw]}")
    lines = data.split(b"\n")[:-1]
    if len(lines) != int(calls):
        problems.append(f"{calls} calls made, {len(lines)} lines written:")
        problems.extend(repr(l[:160]) for l in lines)
    if b"171.171.171.171" in data:
        problems.append("an address made of the caller's 0xAB filler (bytes the kernel did not"
                        " write): " + repr(next(l for l in lines if b"171.171" in l)))
    if not problems:
        recs = parse_file(fmt, trace_path)
        binds = [r for r in recs if r["call"] == "bind"]
        # A name's bytes that are not printable ASCII are written \xNN (and
        # a backslash doubled), in text and JSON alike: every byte is kept.
        escaped = "".join(
            "\\\\" if c == "\\" else c if " " <= c <= "~" else f"\\x{ord(c):02x}" for c in path
        )
        if fmt == "json" and binds[0].get("addr") != escaped:
            problems.append(f"the path reads {binds[0].get('addr')!r}, not {escaped!r}")
    if problems:
        die(f"awkward addresses ({fmt})", problems)
    print(f"tracecheck: {calls} calls, {calls} intact lines ({fmt}): a path with a newline, an"
          f" abstract name with NULs, a truncated getsockname")


def cmd_procs(fmt, trace_path, pids_json):
    """procs.py: every process's calls, by pid."""
    with open(pids_json) as f:
        pids = json.loads(f.read().strip().splitlines()[-1])
    recs = parse_file(fmt, trace_path)
    by_pid = {}
    for rec in recs:
        by_pid.setdefault(rec["pid"], []).append(strings(rec))
    problems = []
    for role, pid in pids.items():
        mine = by_pid.get(pid, [])
        sizes = [r.get("size") for r in mine if r["call"] == "send"]
        pairs = [r for r in mine if r["call"] == "socketpair" and r["ret"] == "0"]
        if role == "parent":
            # its last calls, made after every child: send(5 bytes)
            ok = "5" in sizes and len(pairs) >= 1
        elif role == "subprocess":
            ok = len(pairs) == 1
        else:  # a multiprocessing child: socketpair, send(len(method)), recv
            ok = len(pairs) >= 1 and str(len(role)) in sizes
        if not ok:
            problems.append(f"{role} (pid {pid}): its calls are missing from the trace:"
                            f" {len(mine)} lines: " + " ".join(r["call"] for r in mine[-12:]))
    if problems:
        die("not every process's calls were traced", problems)
    print(f"tracecheck: {len(recs)} intact lines from {len(by_pid)} processes; calls of "
          + ", ".join(f"{role} {pid}" for role, pid in pids.items()) + " all traced")


def main():
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    cmd, args = sys.argv[1], sys.argv[2:]
    commands = {"lines": cmd_lines, "expect": cmd_expect, "strace": cmd_strace,
                "stress": cmd_stress, "stats": cmd_stats, "http": cmd_http,
                "socat-tcp": cmd_socat_tcp, "socat-udp": cmd_socat_udp, "refused": cmd_refused,
                "errno": cmd_errno, "pidfiles": cmd_pidfiles, "procs": cmd_procs, "forker": cmd_forker,
                "oddaddr": cmd_oddaddr, "stats-all": cmd_stats_all}
    if cmd not in commands:
        sys.exit(__doc__)
    commands[cmd](*args)


if __name__ == "__main__":
    main()
