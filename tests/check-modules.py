#!/usr/bin/env python3
"""The library's modules form no import cycle, and no crate includes another's
files by path.

A module's imports are the `crate::NAME` paths (and `use crate::{...}` groups)
in its code outside comments and its `mod tests`. A cycle (settings -> stats ->
settings, say) means neither module can be read, tested or changed alone.
`#[path = ...]` would compile one crate's files into another: depend on
sock-core instead.
"""
import glob
import os
import re
import subprocess
import sys

root = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
os.chdir(root)

graph = {}
for path in sorted(glob.glob("src/*.rs") + glob.glob("src/ffi/*.rs")):
    text = open(path, encoding="utf-8").read()
    cut = text.find("#[cfg(test)]\nmod tests")
    if cut >= 0:
        text = text[:cut]
    text = "\n".join(l for l in text.splitlines() if not l.strip().startswith("//"))
    name = os.path.splitext(path[len("src/"):])[0].replace("/", "::")
    if name.endswith("::mod"):
        name = name[: -len("::mod")]
    deps = set(re.findall(r"crate::([a-z_]+(?:::(?:api|bsd|exports|sockset))?)\b", text))
    for group in re.findall(r"use crate::\{([^}]*)\}", text):
        deps |= {d.strip().split("::")[0] for d in group.split(",") if d.strip()}
    if name.startswith("ffi::"):
        deps |= {"ffi::" + d for d in re.findall(r"use super::([a-z_]+)", text)}
    deps -= {name, "ffi"}
    graph[name] = deps

cycles = set()


def walk(node, stack):
    for dep in sorted(graph.get(node, ())):
        if dep in stack:
            cycle = stack[stack.index(dep):]
            i = cycle.index(min(cycle))
            cycles.add(" -> ".join(cycle[i:] + cycle[:i] + [min(cycle)]))
        elif len(stack) < len(graph):
            walk(dep, stack + [dep])


for node in graph:
    walk(node, [node])

paths = subprocess.run(
    ["git", "grep", "-n", r"#\[path", "--", "*.rs"], capture_output=True, text=True
).stdout.strip()

if cycles or paths:
    for c in sorted(cycles):
        print(f"check-modules: import cycle: {c}")
    if paths:
        print("check-modules: #[path] includes another crate's files:\n" + paths)
    sys.exit(1)
print(f"check-modules: {len(graph)} modules of src/, no import cycle; no #[path]")
