"""procs.py — socket calls from a Python parent, a subprocess, and
multiprocessing children started by fork and by spawn; the parent calls
again after all of them. Prints {"role": pid, ...} as its last line.

c-tests/trace/run.sh runs it with one trace file for every process and checks
that each process's calls are there, with its pid, on intact lines.
"""

import json
import multiprocessing as mp
import os
import socket
import subprocess
import sys


def work(tag, queue):
    a, b = socket.socketpair()
    a.send(tag.encode())
    b.recv(100)
    a.close()
    b.close()
    queue.put(os.getpid())


def main():
    pids = {"parent": os.getpid()}
    socket.socket().close()
    child = ("import os, socket; a, b = socket.socketpair(); a.close(); b.close();"
             " print(os.getpid())")
    out = subprocess.run([sys.executable, "-c", child], capture_output=True, text=True,
                         check=True, timeout=30)
    pids["subprocess"] = int(out.stdout)
    if out.stderr:
        print(f"procs: the subprocess's stderr is not empty: {out.stderr!r}", file=sys.stderr)
    for method in ("fork", "spawn"):
        ctx = mp.get_context(method)
        queue = ctx.Queue()
        proc = ctx.Process(target=work, args=(method, queue))
        proc.start()
        pids[method] = queue.get(timeout=30)
        proc.join(30)
        if proc.exitcode != 0:
            sys.exit(f"procs: the {method} child failed ({proc.exitcode})")
    a, b = socket.socketpair()
    a.send(b"after")
    b.recv(10)
    a.close()
    b.close()
    print(json.dumps(pids))


if __name__ == "__main__":
    main()
