"""CPython's test_select and test_selectors with ``select.select`` replaced
by ``libsock.select``, compared test by test with the native outcome.

    python3 python/tests/cpython_select.py      (from the repository root)

Three runs, each a fresh interpreter: native (no libsock); ``libsock.select``
through ctypes (the ppoll wait); and ``libsock.select`` with libsock
preloaded (``LD_PRELOAD``: the epoll wait, libsock's descriptor in the
process's table). In the last two, ``select.select`` is replaced before
``selectors`` is imported, so ``selectors.SelectSelector`` waits through
libsock too. Every test must have the same outcome (pass, fail or skip) as
natively, and the replacement must have served the waits. The library is
``LIBSOCK_LIB``, else the build tree's ``target/release/libsock.so``.
The last line reads ``cpython-select: N passed, M failed``: N runs whose
every test matched the native outcome, M that did not.
"""

from __future__ import annotations

# Nothing here may import selectors (subprocess does): the child replaces
# select.select before that. The parent imports what it needs in main().
import json
import os
import sys
from pathlib import Path
from typing import Any, Callable, Dict, Optional

HERE = Path(__file__).resolve().parent
PYTHON_DIR = HERE.parent
REPO = PYTHON_DIR.parent
SUITES = ("test.test_select", "test.test_selectors")


def child(mode: str, out: str) -> None:
    """One run in this interpreter: the suites' outcomes as JSON in `out`."""
    import select

    calls = [0]
    if mode == "libsock":
        libsock_select: Optional[Callable[..., Any]] = None

        class LibsockSelect:
            """``select.select`` as libsock answers it. An instance, not a
            function: ``SelectSelector._select = select.select`` is a class
            attribute, and a function there would bind as a method."""

            def __call__(self, *args: Any, **kwargs: Any) -> Any:
                calls[0] += 1
                assert libsock_select is not None
                return libsock_select(*args, **kwargs)

        replacement = LibsockSelect()
        assert "selectors" not in sys.modules, "selectors imported before the replacement"
        setattr(select, "select", replacement)
        sys.path.insert(0, str(PYTHON_DIR))
        import libsock  # imports socket, which imports selectors

        libsock_select = libsock.select
        import selectors

        assert getattr(selectors.SelectSelector, "_select") is replacement, "SelectSelector kept select.select"

    import importlib
    import traceback
    import unittest

    from test import support  # type: ignore[import-not-found]

    support.use_resources = ["network", "cpu"]
    outcomes: Dict[str, str] = {}

    class Result(unittest.TestResult):
        def addSuccess(self, test):  # type: ignore[no-untyped-def]
            outcomes.setdefault(test.id(), "pass")

        def addFailure(self, test, err):  # type: ignore[no-untyped-def]
            outcomes[test.id()] = "fail"
            print(f"FAIL {test.id()}:\n{''.join(traceback.format_exception(*err))}", file=sys.stderr)

        def addError(self, test, err):  # type: ignore[no-untyped-def]
            outcomes[test.id()] = "fail"
            print(f"ERROR {test.id()}:\n{''.join(traceback.format_exception(*err))}", file=sys.stderr)

        def addSkip(self, test, reason):  # type: ignore[no-untyped-def]
            outcomes[test.id()] = "skip"

        def addExpectedFailure(self, test, err):  # type: ignore[no-untyped-def]
            outcomes[test.id()] = "pass"

        def addUnexpectedSuccess(self, test):  # type: ignore[no-untyped-def]
            outcomes[test.id()] = "fail"

        def addSubTest(self, test, subtest, err):  # type: ignore[no-untyped-def]
            if err is not None:
                outcomes[test.id()] = "fail"
                print(f"FAIL {subtest.id()}:\n{''.join(traceback.format_exception(*err))}", file=sys.stderr)

    suite = unittest.TestSuite()
    loader = unittest.defaultTestLoader
    for name in SUITES:
        suite.addTest(loader.loadTestsFromModule(importlib.import_module(name)))
    suite.run(Result())
    with open(out, "w") as f:
        json.dump({"outcomes": outcomes, "calls": calls[0]}, f)


def run(label: str, mode: str, env: Dict[str, str], tmp: str) -> Dict[str, object]:
    import subprocess

    out = os.path.join(tmp, f"{label}.json")
    log = os.path.join(tmp, f"{label}.log")
    with open(log, "w") as f:
        proc = subprocess.run(
            [sys.executable, __file__, "--child", mode, out],
            env=env,
            stdout=f,
            stderr=subprocess.STDOUT,
            timeout=900,
            cwd=tmp,
        )
    if proc.returncode != 0 or not os.path.exists(out):
        sys.exit(f"cpython-select: the {label} run failed (exit {proc.returncode}):\n{Path(log).read_text()}")
    with open(out) as f:
        data: Dict[str, object] = json.load(f)
    data["log"] = Path(log).read_text()
    return data


def main() -> int:
    import tempfile

    lib = Path(os.environ.get("LIBSOCK_LIB") or REPO / "target" / "release" / "libsock.so").resolve()
    if not lib.is_file():
        sys.exit(f"cpython-select: no {lib}: run make")
    base = {k: v for k, v in os.environ.items() if k not in ("LD_PRELOAD", "PYTHONPATH")}
    base["LIBSOCK_LIB"] = str(lib)
    runs = {
        "native": ("native", dict(base)),
        "ctypes": ("libsock", dict(base)),
        "preloaded": ("libsock", dict(base, LD_PRELOAD=str(lib))),
    }
    passed = failed = 0
    with tempfile.TemporaryDirectory(prefix="cpython-select-") as tmp:
        results = {label: run(label, mode, env, tmp) for label, (mode, env) in runs.items()}
        native: Dict[str, str] = results["native"]["outcomes"]  # type: ignore[assignment]
        counts = {o: sum(1 for v in native.values() if v == o) for o in ("pass", "fail", "skip")}
        print(
            f"cpython-select: native: {len(native)} tests, {counts['pass']} pass, "
            f"{counts['fail']} fail, {counts['skip']} skip"
        )
        for label in ("ctypes", "preloaded"):
            got: Dict[str, str] = results[label]["outcomes"]  # type: ignore[assignment]
            calls = results[label]["calls"]
            differ = sorted(t for t in set(native) | set(got) if native.get(t) != got.get(t))
            if differ or not calls:
                failed += 1
                print(f"FAIL cpython-select: {label}: {len(differ)} tests differ, {calls} libsock.select calls")
                for t in differ:
                    print(f"  {t}: native {native.get(t)}, {label} {got.get(t)}")
                print(results[label]["log"])
            else:
                passed += 1
                print(
                    f"ok   cpython-select: {label}: all {len(got)} tests as native; "
                    f"select.select served by libsock.select {calls} times"
                )
    print(f"cpython-select: {passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    if len(sys.argv) == 4 and sys.argv[1] == "--child":
        child(sys.argv[2], sys.argv[3])
    else:
        sys.exit(main())
